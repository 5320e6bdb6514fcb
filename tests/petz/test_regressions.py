"""Regression tests, each named after the issue item it reproduces (each failed on the code before the fix)."""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from quantum_diffusion.conventions import row_to_column_superop
from quantum_diffusion.petz import Lindbladian, local_recovery_map, petz_generator, recover, reference_path
from quantum_diffusion.petz.local import apply_local_recovery_map


def _qobj_super(s: np.ndarray, d: int) -> qutip.Qobj:
    return qutip.Qobj(row_to_column_superop(s), dims=[[[d], [d]], [[d], [d]]], superrep="super")


@pytest.mark.parametrize("kind", ["petz", "twirled"])
def test_issue10_local_recovery_map_qobj_channel_equals_ndarray(systems, rng, kind, atol=1e-12):
    """The same channel as row-major ndarray and as qutip super Qobj gave maps differing by O(0.1-0.7)."""
    sigma = systems.state(rng, 4)
    ch = systems.lindbladian(rng, 2).channel(0.4)
    a = local_recovery_map(ch, sigma, [2, 2], [0], [0, 1], kind=kind)
    b = local_recovery_map(_qobj_super(ch, 2), sigma, [2, 2], [0], [0, 1], kind=kind)
    assert np.max(np.abs(a - b)) < atol


def test_issue10_apply_local_recovery_map_qobj_channel_equals_ndarray(systems, rng, atol=1e-12):
    sigma = systems.state(rng, 4)
    x = systems.state(rng, 4)
    ch = systems.lindbladian(rng, 2).channel(0.4)
    a = apply_local_recovery_map(ch, sigma, [2, 2], [0], [0, 1], x, kind="petz")
    b = apply_local_recovery_map(_qobj_super(ch, 2), sigma, [2, 2], [0], [0, 1], x, kind="petz")
    assert np.max(np.abs(a - b)) < atol


def test_issue13_item2_reference_for_another_T_raises(systems, rng):
    L = systems.lindbladian(rng, 2)
    sigma = systems.state(rng, 2)
    ref = reference_path(L, sigma, 0.1)
    with pytest.raises(ValueError, match="T"):
        recover(L, L.evolve(sigma, 0.5), sigma, 0.5, reference=ref)


def test_issue13_item2_reference_for_another_sigma_raises(systems, rng):
    L = systems.lindbladian(rng, 2)
    sigma, other = systems.state(rng, 2), systems.state(rng, 2)
    ref = reference_path(L, other, 0.5)
    with pytest.raises(ValueError, match="sigma_0"):
        recover(L, L.evolve(sigma, 0.5), sigma, 0.5, reference=ref)


def test_issue13_item2_reference_for_another_lindbladian_raises(systems, rng):
    L, other = systems.lindbladian(rng, 2), systems.lindbladian(rng, 2)
    sigma = systems.state(rng, 2)
    ref = reference_path(other, sigma, 0.5)
    with pytest.raises(ValueError, match="Lindbladian"):
        recover(L, L.evolve(sigma, 0.5), sigma, 0.5, reference=ref)


def test_issue13_item2_reference_path_negative_T_raises(systems, rng):
    with pytest.raises(ValueError, match="T"):
        reference_path(systems.lindbladian(rng, 2), systems.state(rng, 2), -1.0)


@pytest.mark.parametrize("t", [-0.1, 0.6, np.nan])
def test_issue13_item2_reference_times_outside_range_raise(systems, rng, t):
    ref = reference_path(systems.lindbladian(rng, 2), systems.state(rng, 2), 0.5)
    with pytest.raises(ValueError, match="outside"):
        ref(t)


def test_issue13_item7_tiny_diagonal_reference_rejected_like_rotated(systems, rng):
    """A diagonal reference with eigenvalue 1e-300 was accepted (and B(sigma) = -L(sigma) failed at O(1))."""
    L = systems.lindbladian(rng, 2)
    diag = np.diag([1.0 - 1e-300, 1e-300]).astype(complex)
    u = np.linalg.qr(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))[0]
    rotated = u @ diag @ u.conj().T
    for sigma in (diag, rotated):
        with pytest.raises(ValueError, match="rank-deficient"):
            petz_generator(L, sigma)


def test_issue13_item7_heisenberg_accepts_what_schrodinger_accepts(systems, rng, atol=1e-6):
    """recover(picture="heisenberg") rejected a sigma_0 with smallest eigenvalue 5e-9 (thresholds differed)."""
    L = systems.lindbladian(rng, 2)
    u = np.linalg.qr(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))[0]
    sigma = u @ np.diag([1 - 5e-9, 5e-9]) @ u.conj().T
    rho_T = L.evolve(sigma, 0.3)
    a = recover(L, rho_T, sigma, 0.3, kind="petz", rtol=1e-10, atol=1e-12, picture="schrodinger")
    b = recover(L, rho_T, sigma, 0.3, kind="petz", picture="heisenberg", rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(a - b)) < atol
    assert np.max(np.abs(b - sigma)) < atol


def test_issue13_item10_mesolve_with_non_increasing_times_matches_expm(systems, rng, atol=1e-8):
    L = systems.lindbladian(rng, 3)
    rho = systems.state(rng, 3)
    ts = [0.3, 0.1, 0.2, 0.1, 0.0]
    a = L.evolve(rho, ts, method="mesolve")
    b = L.evolve(rho, ts, method="expm")
    assert a.shape == (5, 3, 3)
    assert np.max(np.abs(a - b)) < atol


def test_lindbladian_evolve_rejects_empty_times(systems, rng):
    with pytest.raises(ValueError, match="at least one"):
        systems.lindbladian(rng, 2).evolve(np.eye(2) / 2, [])


def test_issue10_reference_must_be_a_reference_path(systems, rng):
    L = systems.lindbladian(rng, 2)
    sigma = systems.state(rng, 2)
    with pytest.raises(TypeError, match="ReferencePath"):
        recover(L, sigma, sigma, 0.5, reference=lambda t: sigma)


def test_lindbladian_is_not_a_channel(systems, rng):
    L = systems.lindbladian(rng, 2)
    with pytest.raises(TypeError, match="generator"):
        local_recovery_map(L, systems.state(rng, 4), [2, 2], [0], [0, 1])


def test_default_kind_is_petz_everywhere(systems, rng, atol=1e-12):
    """``kind`` defaults to "petz" in the local entry points too (it was "twirled" there)."""
    sigma = systems.state(rng, 4)
    ch = systems.lindbladian(rng, 2).channel(0.4)
    a = local_recovery_map(ch, sigma, [2, 2], [0], [0, 1])
    b = local_recovery_map(ch, sigma, [2, 2], [0], [0, 1], kind="petz")
    c = local_recovery_map(ch, sigma, [2, 2], [0], [0, 1], kind="twirled")
    assert np.max(np.abs(a - b)) < atol < np.max(np.abs(a - c))


def test_lindbladian_with_qobj_inputs_equals_ndarray(systems, rng, atol=1e-14):
    L = systems.lindbladian(rng, 3)
    Lq = Lindbladian(qutip.Qobj(L.H), [qutip.Qobj(j) for j in L.jumps])
    assert np.max(np.abs(L.superop() - Lq.superop())) < atol


def test_fuzz_found_huge_theta_rejected_instead_of_nan(systems, rng):
    """The fuzz test found theta = 1.15e308 (finite) giving a NaN generator; it is now a clear error."""
    L = systems.lindbladian(rng, 2)
    with pytest.raises(ValueError, match="theta"):
        petz_generator(L, np.diag([0.3, 0.7]), kind="rotated", theta=1.1524791670277073e308)


def test_fuzz_found_overflowing_operand_is_a_clear_error(systems, rng):
    """The fuzz test found B.apply(X) returning NaN/inf for a finite X with entries near 1e300 (the result
    overflows float64): it now raises, naming X."""
    L = systems.lindbladian(rng, 2)
    B = petz_generator(L, np.diag([6e-12, 1 - 6e-12]))
    x = np.array([[1e300, -0.13], [0.64, 0.1]])
    with pytest.raises(ValueError, match="X: B\\(X\\) overflows"):
        B.apply(x)
    with pytest.raises(ValueError, match="overflows"):
        L.apply(np.array([[1e308, 1e308], [1e308, 1e308]]))
