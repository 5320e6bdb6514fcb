"""Periodic lattice (theory note P.32-P.33): sound jumps, heat equation, reverse Fokker-Planck, negative control."""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from quantum_diffusion.classical_limit.discrete import (
    coherence_leakage,
    diagonal_block,
    master_generator,
    reverse_generator,
)
from quantum_diffusion.classical_limit.lattice import (
    PeriodicGrid,
    apply_heat,
    apply_reverse_fp,
    backward_evolve,
    central_jumps,
    heat_evolve,
    heat_generator,
    heat_rates,
    reverse_fp_generator,
    shift,
    sound_jumps,
)
from quantum_diffusion.conventions import row_to_column_superop
from quantum_diffusion.petz import Lindbladian, petz_generator

GAMMA = 0.8


def smooth_density(grid: PeriodicGrid) -> np.ndarray:
    t = 2 * np.pi * (grid.x - grid.x0) / grid.length
    return np.exp(np.sin(t) + 0.4 * np.cos(2 * t))


def test_shift_convention():
    psi = np.arange(5.0)
    np.testing.assert_array_equal(shift(5) @ psi, np.roll(psi, -1))  # (S psi)_k = psi_{k+1}


def test_sound_dissipator_is_translation_dissipator(atol=1e-10):
    # P.32: D[L1] + D[L2] = gamma/(2h^2) (D[S] + D[S^dag]), built independently with qutip
    g = PeriodicGrid(7, 3.0)
    s = qutip.Qobj(shift(7))
    lhs = sum(qutip.lindblad_dissipator(qutip.Qobj(j)) for j in sound_jumps(g, GAMMA)).full()
    rhs = GAMMA / (2 * g.h**2) * (qutip.lindblad_dissipator(s) + qutip.lindblad_dissipator(s.dag())).full()
    np.testing.assert_allclose(lhs, rhs, atol=atol * np.abs(rhs).max())
    # and the package's Lindbladian agrees with qutip (row-major <-> column stacking)
    S = Lindbladian(np.zeros((7, 7)), sound_jumps(g, GAMMA)).superop()
    np.testing.assert_allclose(row_to_column_superop(S), lhs, atol=atol * np.abs(rhs).max())


@pytest.mark.parametrize("n", [3, 6, 11])
def test_forward_is_discrete_heat_equation_without_leakage(n, rtol=1e-13):
    g = PeriodicGrid.centered(n, 2.5)
    S = Lindbladian(np.zeros((n, n)), sound_jumps(g, GAMMA)).superop()
    H = heat_generator(g, GAMMA)
    np.testing.assert_allclose(diagonal_block(S), H, atol=rtol * np.abs(H).max())
    assert coherence_leakage(S) <= rtol * np.abs(H).max()
    stencil = GAMMA / (2 * g.h**2) * (shift(n) + shift(n).T - 2 * np.eye(n))
    np.testing.assert_allclose(H, stencil, atol=rtol * np.abs(H).max())


@pytest.mark.parametrize(
    "n,kind,theta", [(12, "petz", 0.0), (12, "rotated", 0.7), (12, "rotated", -3.0), (8, "twirled", 0.0)]
)
def test_package_petz_generator_equals_reverse_chain_P33(n, kind, theta, rtol=1e-12):
    g = PeriodicGrid.centered(n, 4.0)
    p = smooth_density(g)
    L = Lindbladian(np.zeros((n, n)), sound_jumps(g, GAMMA))
    S = petz_generator(L, np.diag(p / p.sum()), kind=kind, theta=theta).superop()
    R = reverse_fp_generator(g, p, GAMMA)
    scale = np.abs(R).max()
    np.testing.assert_allclose(diagonal_block(S), R, atol=rtol * scale)
    assert coherence_leakage(S) <= rtol * scale
    # P.33 written out explicitly (independent of the discrete module)
    k = np.arange(n)
    kp, km = (k + 1) % n, (k - 1) % n
    explicit = np.zeros((n, n))
    c = GAMMA / (2 * g.h**2)
    explicit[k, kp] += c * p / p[kp]
    explicit[k, km] += c * p / p[km]
    explicit[k, k] -= c * (p[kp] + p[km]) / p
    np.testing.assert_allclose(R, explicit, atol=rtol * scale)


def test_matrix_free_operators_match_dense(seed=0, rtol=1e-13):
    g = PeriodicGrid(9, 2.0, x0=0.3)
    rng = np.random.default_rng(seed)
    f, p = rng.normal(size=9), rng.uniform(0.2, 1.0, 9)
    np.testing.assert_allclose(apply_heat(f, g, GAMMA), heat_generator(g, GAMMA) @ f, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(
        apply_reverse_fp(f, p, g, GAMMA), reverse_fp_generator(g, p, GAMMA) @ f, rtol=rtol, atol=1e-12
    )
    np.testing.assert_allclose(heat_generator(g, GAMMA), master_generator(heat_rates(g, GAMMA)))
    np.testing.assert_allclose(reverse_fp_generator(g, p, GAMMA), reverse_generator(heat_rates(g, GAMMA), p))


@pytest.mark.parametrize("t", [0.0, 0.003, 0.2, 5.0])
def test_heat_evolve_is_matrix_exponential(t, rtol=1e-12):
    g = PeriodicGrid.centered(10, 3.0)
    f0 = np.exp(-(g.x**2))
    ref = expm(t * heat_generator(g, GAMMA)) @ f0
    np.testing.assert_allclose(heat_evolve(f0, g, GAMMA, t), ref, atol=rtol * f0.max())


def test_heat_evolve_keeps_relative_accuracy_in_tails(rtol=1e-10):
    # semigroup property entry by entry, including tails ~1e-20 where an FFT would leave 1e-17 noise
    g = PeriodicGrid.centered(64, 16.0)
    f0 = np.exp(-(g.x**2) / 0.5)
    a = heat_evolve(heat_evolve(f0, g, GAMMA, 0.01), g, GAMMA, 0.02)
    b = heat_evolve(f0, g, GAMMA, 0.03)
    assert b.min() > 0 and b.min() < 1e-20
    np.testing.assert_allclose(a, b, rtol=rtol)


def test_backward_flow_from_reference_returns_initial_density(rtol=1e-6):
    g = PeriodicGrid.centered(40, 8.0)
    p0 = np.exp(-((g.x - 1.2) ** 2) / 0.5) + 0.6 * np.exp(-((g.x + 1.5) ** 2) / 0.3) + 1e-6
    pT = heat_evolve(p0, g, GAMMA, 1.0)
    _, q = backward_evolve(pT, p0, g, GAMMA, 1.0)
    np.testing.assert_allclose(q[-1], p0, rtol=rtol, atol=rtol * p0.max())


def test_backward_flow_equals_one_shot_bayes_map(seed=1, rtol=1e-6):
    # P.15 in the classical limit: the flow from ANY q_T is the one-shot Bayes map of the whole channel,
    # q0(x) = p0(x) sum_y E(y|x) q_T(y) / p_T(y), with E = exp(T G)
    g = PeriodicGrid.centered(16, 5.0)
    rng = np.random.default_rng(seed)
    p0 = rng.uniform(0.2, 1.0, 16)
    qT = rng.uniform(0.2, 1.0, 16)
    T = 0.7
    E = expm(T * heat_generator(g, GAMMA))
    pT = E @ p0
    bayes = p0 * (E.T @ (qT / pT))
    _, q = backward_evolve(qT, p0, g, GAMMA, T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(q[-1], bayes, rtol=rtol)
    assert q[-1].sum() == pytest.approx(qT.sum(), rel=1e-8)  # trace preservation
    assert np.max(np.abs(bayes - qT)) > 0.05  # the check is not trivially satisfied


def test_backward_flow_matches_dense_time_dependent_integration(seed=2, rtol=1e-6):
    # an independent integrator: dense RK45 on the time-dependent generator built from expm(t G) p0
    g = PeriodicGrid.centered(10, 4.0)
    rng = np.random.default_rng(seed)
    p0, qT, T = rng.uniform(0.3, 1.0, 10), rng.uniform(0.3, 1.0, 10), 0.4
    G = heat_generator(g, GAMMA)
    sol = solve_ivp(lambda s, q: reverse_fp_generator(g, expm((T - s) * G) @ p0, GAMMA) @ q, (0, T - 0.1), qT,
                    rtol=1e-10, atol=1e-12)
    _, q = backward_evolve(qT, p0, g, GAMMA, T, t_end=0.1, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(q[-1], sol.y[:, -1], rtol=rtol)


def test_central_momentum_negative_control_fails(rtol=1e-13):
    # single Hermitian momentum: half the diffusion constant exactly, plus coherences at distance 2
    n = 10
    g = PeriodicGrid.centered(n, 3.0)
    S = Lindbladian(np.zeros((n, n)), central_jumps(g, GAMMA)).superop()
    H = heat_generator(g, GAMMA)
    np.testing.assert_allclose(diagonal_block(S), 0.5 * H, atol=rtol * np.abs(H).max())
    leak = coherence_leakage(S)
    assert leak == pytest.approx(GAMMA / (4 * g.h**2), rel=1e-12)  # O(1/h^2) matrix elements
    assert np.max(np.abs(diagonal_block(S) - H)) > 0.4 * np.abs(H).max()


@pytest.mark.parametrize(
    "kwargs,match",
    [({"n": 2, "length": 1.0}, "n >= 3"), ({"n": 5, "length": -1.0}, "positive"),
     ({"n": 5, "length": np.inf}, "positive")],
)
def test_grid_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PeriodicGrid(**kwargs)


def test_lattice_validation():
    g = PeriodicGrid(5, 1.0)
    with pytest.raises(ValueError, match="gamma"):
        sound_jumps(g, 0.0)
    with pytest.raises(ValueError, match="strictly positive"):
        apply_reverse_fp(np.ones(5), np.array([1, 1, 0, 1, 1.0]), g)
    with pytest.raises(ValueError, match="shape"):
        apply_heat(np.ones(4), g)
    with pytest.raises(ValueError, match="t_end < T"):
        backward_evolve(np.ones(5), np.ones(5), g, 1.0, 1.0, t_end=2.0)
    with pytest.raises(ValueError, match="non-negative"):
        heat_evolve(np.ones(5), g, 1.0, -0.1)


@pytest.mark.parametrize("kind,theta", [("petz", 0.0), ("rotated", 0.9), ("twirled", 0.0)])
def test_package_quantum_flow_equals_lattice_flow(kind, theta, seed=3, atol=1e-10):
    # end to end: quantum_diffusion.petz.recover on the diagonal state of a 10-site lattice stays diagonal and
    # reproduces the classical reverse chain integrated by backward_evolve
    from quantum_diffusion.petz import recover

    n = 10
    g = PeriodicGrid.centered(n, 6.0)
    rng = np.random.default_rng(seed)
    p0, qT = rng.uniform(0.3, 1.0, n), rng.uniform(0.3, 1.0, n)
    p0, qT = p0 / p0.sum(), qT / qT.sum()
    _, q = backward_evolve(qT, p0, g, GAMMA, 0.5, rtol=1e-11, atol=1e-15)
    forward = Lindbladian(np.zeros((n, n)), sound_jumps(g, GAMMA))
    rho = np.asarray(recover(forward, np.diag(qT), np.diag(p0), 0.5, kind=kind, theta=theta, rtol=1e-11, atol=1e-14))
    np.testing.assert_allclose(np.diag(rho).real, q[-1], atol=atol)
    assert np.max(np.abs(rho - np.diag(np.diag(rho)))) < atol
    assert np.max(np.abs(q[-1] - qT)) > 0.01  # something happened
