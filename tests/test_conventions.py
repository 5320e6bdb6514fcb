"""Conventions: symplectic form, orderings, and the row-major <-> qutip column-stacking map."""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from quantum_diffusion import conventions as cv


@pytest.mark.parametrize("n", [1, 2, 3])
def test_omega_is_a_symplectic_form(n):
    om = cv.omega(n)
    assert np.allclose(om.T, -om)
    assert np.allclose(om @ om, -np.eye(2 * n))
    assert om[0, 1] == 1.0 and om[1, 0] == -1.0  # [Q, P] = i  ->  Omega_{QP} = +1


def test_omega_rejects_bad_mode_number():
    with pytest.raises(ValueError, match="positive integer"):
        cv.omega(0)


def test_orderings_round_trip_and_map_omega():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 6))
    assert np.allclose(cv.xxpp_to_xpxp(cv.xpxp_to_xxpp(a)), a)
    v = np.arange(6)
    assert list(cv.xpxp_to_xxpp(v)) == [0, 2, 4, 1, 3, 5]
    # xxpp symplectic form is [[0, I], [-I, 0]]
    n = 3
    expected = np.block([[np.zeros((n, n)), np.eye(n)], [-np.eye(n), np.zeros((n, n))]])
    assert np.allclose(cv.xpxp_to_xxpp(cv.omega(n)), expected)


@pytest.mark.parametrize("hbar", [1.0, 2.0, 0.5])
def test_thewalrus_vacuum_is_hbar_over_two(hbar):
    cov = cv.hhw_to_thewalrus(np.eye(4), hbar)
    assert np.allclose(cov, hbar / 2 * np.eye(4))
    assert np.allclose(cv.thewalrus_to_hhw(cov, hbar), np.eye(4))


def test_vec_is_row_major_and_spre_post_matches():
    rng = np.random.default_rng(1)
    a, b, x = (rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)) for _ in range(3))
    assert np.allclose(cv.spre_post(a, b) @ cv.vec(x), cv.vec(a @ x @ b))
    assert np.allclose(cv.unvec(cv.vec(x)), x)
    with pytest.raises(ValueError, match="not the vectorisation"):
        cv.unvec(np.zeros(5))


def test_row_to_column_superop_matches_qutip_sprepost():
    rng = np.random.default_rng(2)
    a, b = (rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)) for _ in range(2))
    ours = cv.row_to_column_superop(cv.spre_post(a, b))
    theirs = qutip.sprepost(qutip.Qobj(a), qutip.Qobj(b)).full()
    assert np.allclose(ours, theirs)
    assert np.allclose(cv.row_to_column_superop(ours), cv.spre_post(a, b))  # involution
