"""Gaussian Petz recovery: one-shot map and Petz / rotated / twirled backward generators.

Checks: exact reversal of the running reference, compositionality (the backward flow of any state equals the one-shot
map of the whole channel), CP of every generator, rotated(0) = Petz, twirled = theta-average by quadrature, and the
closed forms against the package's finite-dimensional Petz machinery in a truncated Fock space.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from gaussian_helpers import fock_covariance, fock_state, quadratures, random_covariance
from scipy.integrate import quad_vec, solve_ivp
from scipy.linalg import expm
from scipy.special import comb

from quantum_diffusion.gaussian import (
    GaussianChannel,
    GaussianGenerator,
    attenuator,
    bkm_fisher,
    gaussian_petz_map,
    petz_backward_generator,
    petz_backward_mean_rhs,
    squeezed_thermal,
    symplectic_form,
)
from quantum_diffusion.petz import Lindbladian, petz_generator

KINDS = [("petz", 0.0), ("rotated", 0.7), ("rotated", -2.3), ("twirled", 0.0)]


def random_generator(rng: np.random.Generator, n: int, n_jumps: int = 2) -> GaussianGenerator:
    """Random quadratic GKLS generator (Hamiltonian + complex linear jumps), CP by construction."""
    h = rng.normal(size=(2 * n, 2 * n)) * 0.3
    c = (rng.normal(size=(n_jumps, 2 * n)) + 1j * rng.normal(size=(n_jumps, 2 * n))) * 0.5
    return GaussianGenerator.from_lindblad(h + h.T, c)


def backward_flow(forward: GaussianGenerator, gamma0: np.ndarray, start: np.ndarray, T: float, kind: str,
                  theta: float, rtol: float = 1e-11) -> np.ndarray:
    """Integrate d gamma/ds = K_b gamma + gamma K_b^T + D_b, reference gamma_ref(T - s), from ``start`` at s = 0."""
    dim = gamma0.shape[0]

    def rhs(s: float, y: np.ndarray) -> np.ndarray:
        ref = forward.evolve(gamma0, T - s)
        return petz_backward_generator(forward, ref, kind=kind, theta=theta).rhs(y.reshape(dim, dim)).ravel()

    sol = solve_ivp(rhs, (0.0, T), start.ravel(), method="DOP853", rtol=rtol, atol=rtol * 1e-2)
    assert sol.success
    return sol.y[:, -1].reshape(dim, dim)


# ------------------------------------------------------------------ reversal and compositionality
@pytest.mark.parametrize("kind,theta", KINDS)
def test_backward_flow_retraces_the_reference(kind, theta):
    gen = attenuator()
    g0 = squeezed_thermal(1.4, 0.9, 0.2)  # cosh(1.8) = 3.1 > 1.4: the score lift is not CP here
    T = 0.8
    back = backward_flow(gen, g0, gen.evolve(g0, T), T, kind, theta)
    assert np.max(np.abs(back - g0)) < 1e-8


@pytest.mark.parametrize("kind,theta", [("petz", 0.0), ("rotated", 0.9)])
def test_backward_flow_of_any_state_is_the_one_shot_map(rng, kind, theta):
    # P_{sigma0, E_{0->T}} = composition of the one-step maps (P.15, also for a fixed rotation angle): the
    # generator integrated over a finite time must equal the closed-form one-shot channel.
    for n in (1, 2):
        gen = random_generator(rng, n)
        g0 = random_covariance(rng, n, nu_max=2.5)
        T = 0.5
        probe = random_covariance(rng, n, nu_max=2.0)
        back = backward_flow(gen, g0, probe, T, kind, theta)
        one_shot = gaussian_petz_map(gen.channel(T), g0, kind=kind, theta=theta).apply(probe)
        assert np.max(np.abs(back - one_shot)) < 1e-7 * max(1.0, np.max(np.abs(one_shot)))


def test_one_shot_map_recovers_reference_and_is_cp(rng):
    for n in (1, 2, 3):
        gen = random_generator(rng, n)
        v = random_covariance(rng, n, nu_max=3.0, squeeze=0.8)
        ch = gen.channel(0.7)
        for kind, theta in [("petz", 0.0), ("rotated", 1.3)]:
            rec = gaussian_petz_map(ch, v, kind=kind, theta=theta)
            assert np.allclose(rec.apply(ch.apply(v)), v, atol=1e-9)
            assert rec.is_cp(atol=1e-9)


def test_generator_is_derivative_of_one_shot_map():
    gen, v = attenuator(), squeezed_thermal(2.0, 0.8, 0.3)
    for kind, theta in [("petz", 0.0), ("rotated", 0.7)]:
        b = petz_backward_generator(gen, v, kind=kind, theta=theta)
        errs = []
        for dt in (1e-3, 5e-4):
            p = gaussian_petz_map(gen.channel(dt), v, kind=kind, theta=theta)
            errs.append(np.max(np.abs((p.X - np.eye(2)).T / dt - b.K)))
        assert errs[1] < 0.6 * errs[0] and errs[1] < 1e-2  # first-order convergence of the difference quotient


# ------------------------------------------------------------------ complete positivity
@pytest.mark.parametrize("kind,theta", KINDS)
def test_backward_generators_are_cp_on_random_references(rng, kind, theta):
    for n in (1, 2, 3):
        for _ in range(4):
            gen = random_generator(rng, n)
            v = random_covariance(rng, n, nu_max=4.0, squeeze=1.0)
            b = petz_backward_generator(gen, v, kind=kind, theta=theta)
            assert np.allclose(b.rhs(v), -gen.rhs(v), atol=1e-9 * max(1.0, np.max(np.abs(v))))
            lam = np.linalg.eigvalsh(b.cp_matrix())[0]
            assert lam >= -1e-9 * max(1.0, np.max(np.abs(b.D)))


@pytest.mark.parametrize("kind,theta", KINDS)
def test_cp_above_the_score_lift_threshold(kind, theta):
    # cosh 2r > nu: the fixed-diffusion score lift is not CP, the Petz-type generators are.
    gen = attenuator()
    for nu, r in [(1.1, 0.5), (2.0, 1.2), (1.01, 1.5)]:
        assert np.cosh(2 * r) > nu
        b = petz_backward_generator(gen, squeezed_thermal(nu, r, 0.4), kind=kind, theta=theta)
        assert np.linalg.eigvalsh(b.cp_matrix())[0] >= -1e-9 * np.max(np.abs(b.D))


def test_cp_matrix_equals_the_jump_operator_form(rng):
    # Independent route (P.18): the rotated backward jumps are L_b = sigma^{(1+i th)/2} L^dag sigma^{-(1+i th)/2}.
    # With sigma ~ exp(-R^T G R / 2), G = J_BKM (Gibbs matrix), sigma^a R sigma^{-a} = exp(i a Omega G) R, so
    # c_b = exp(i a Omega G)^T conj(c) and the GKLS dictionary gives M(K_b, D_b) = 2 Omega C_b Omega^T exactly.
    # The rank of M is the number of jumps, as for the forward generator.
    for n in (1, 2, 3):
        g = random_covariance(rng, n, squeeze=0.8)
        h = rng.normal(size=(2 * n, 2 * n))
        c = rng.normal(size=(2, 2 * n)) + 1j * rng.normal(size=(2, 2 * n))
        gen = GaussianGenerator.from_lindblad(h + h.T, c)
        om, gibbs = symplectic_form(n), bkm_fisher(g)
        for theta in (0.0, 0.9, -2.0):
            a = (1 + 1j * theta) / 2
            c_b = (expm(1j * a * om @ gibbs).T @ c.conj().T).T
            m_expected = 2 * om @ (c_b.T @ c_b.conj()) @ om.T
            m = petz_backward_generator(gen, g, kind="rotated", theta=theta).cp_matrix()
            assert np.max(np.abs(m - m_expected)) < 1e-11 * np.max(np.abs(m_expected))
            if n > 1:
                lam = np.linalg.eigvalsh(m)
                assert np.sum(np.abs(lam) < 1e-10 * lam[-1]) == 2 * n - 2  # two jumps: rank 2


# ------------------------------------------------------------------ family relations
def test_rotated_at_zero_is_petz(rng):
    for n in (1, 2):
        gen, v = random_generator(rng, n), random_covariance(rng, n)
        a = petz_backward_generator(gen, v)
        b = petz_backward_generator(gen, v, kind="rotated", theta=0.0)
        assert np.allclose(a.K, b.K, atol=1e-12) and np.allclose(a.D, b.D, atol=1e-12)
        pa, pb = gaussian_petz_map(gen.channel(0.3), v), gaussian_petz_map(gen.channel(0.3), v, kind="rotated")
        assert np.allclose(pa.X, pb.X, atol=1e-12)


@pytest.mark.slow
def test_twirled_is_theta_average_by_quadrature(rng):
    def beta0(t: float) -> float:  # (pi/4) sech^2(pi t / 2), written without overflow
        e = np.exp(-np.pi * abs(t))
        return np.pi * e / (1.0 + e) ** 2

    for n in (1, 2):
        gen, v = random_generator(rng, n), random_covariance(rng, n, nu_max=2.0)
        tw = petz_backward_generator(gen, v, kind="twirled")

        def integrand(t: float, gen=gen, v=v) -> np.ndarray:
            rot = petz_backward_generator(gen, v, kind="rotated", theta=t)
            return beta0(t) * np.concatenate([rot.K.ravel(), rot.D.ravel()])

        avg = quad_vec(integrand, -60.0, 60.0, epsabs=1e-12, epsrel=1e-10, points=[0.0])[0]
        dim2 = (2 * n) ** 2
        assert np.allclose(tw.K.ravel(), avg[:dim2], atol=1e-9) and np.allclose(tw.D.ravel(), avg[dim2:], atol=1e-9)


def test_mean_flow_retraces_a_displaced_reference():
    gen, g0, d0, T = attenuator(), squeezed_thermal(1.5, 0.6), np.array([0.7, -0.4]), 0.6

    def rhs(s, y):
        t = T - s
        b = petz_backward_generator(gen, gen.evolve(g0, t))
        return petz_backward_mean_rhs(gen, b, y, np.exp(-0.5 * t) * d0)

    sol = solve_ivp(rhs, (0.0, T), np.exp(-0.5 * T) * d0, rtol=1e-11, atol=1e-13)
    assert np.allclose(sol.y[:, -1], d0, atol=1e-9)


# ------------------------------------------------------------------ against the finite-dimensional machinery
def _moments(x: np.ndarray, quads: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    d = np.array([np.trace(r @ x).real for r in quads])
    m = np.array([[np.trace((u @ w + w @ u) @ x).real for w in quads] for u in quads])
    return d, m


@pytest.mark.parametrize("kind,theta", KINDS)
def test_generator_agrees_with_fock_space_petz_generator(kind, theta):
    # Squeezed reference in the squeezed frame: thermal (diagonal, exact) Fock reference and the attenuator seen
    # from that frame, jump cosh(r) a - sinh(r) a^dag, plus a Hamiltonian.  Cutoff 30: reference tail 8e-20.
    n_fock, nu, r = 30, 1.6, 0.4
    q = (nu - 1) / (nu + 1)
    sig = np.diag((1 - q) * q ** np.arange(n_fock))
    a = qutip.destroy(n_fock).full()
    lind = Lindbladian(0.3 * a.conj().T @ a, [np.cosh(r) * a - np.sinh(r) * a.conj().T])
    c = np.cosh(r) * np.array([1, 1j]) / np.sqrt(2) - np.sinh(r) * np.array([1, -1j]) / np.sqrt(2)
    gen = GaussianGenerator.from_lindblad(0.3 * np.eye(2), [c])
    rho = fock_state(1.3, 0.1, -0.4, n_fock).full()
    quads = [x.full() for x in quadratures(n_fock)]
    _, g = _moments(rho, quads)
    # diagonal Fock reference, exact in its basis: its tail (8e-20) is below the default rank threshold on purpose
    out = petz_generator(lind, sig, kind=kind, theta=theta, rank_tol=1e-30, twirl_method="exact").apply(rho)
    d_rate, m_rate = _moments(out, quads)
    closed = petz_backward_generator(gen, nu * np.eye(2), kind=kind, theta=theta)
    assert np.max(np.abs(m_rate - closed.rhs(g))) < 1e-10
    assert np.max(np.abs(d_rate)) < 1e-12


@pytest.mark.parametrize("kind,theta", [("petz", 0.0), ("rotated", 0.8)])
def test_one_shot_map_agrees_with_fock_space_petz_map(kind, theta):
    # Fock-space rotated Petz map sigma^{(1+i th)/2} N^dag(w^{-(1+i th)/2} X w^{-(1-i th)/2}) sigma^{(1-i th)/2} of the
    # attenuator channel (exact in a truncated Fock space: loss only lowers the photon number).
    n_fock, nu, eta = 40, 1.8, 0.6
    t = -np.log(eta)
    # Kraus operators of pure loss: A_k = sum_n sqrt(C(n, k) eta^(n-k) (1-eta)^k) |n-k><n|
    kraus = []
    for k in range(n_fock):
        a_k = np.zeros((n_fock, n_fock))
        for m in range(k, n_fock):
            a_k[m - k, m] = np.sqrt(comb(m, k) * eta ** (m - k) * (1 - eta) ** k)
        kraus.append(a_k)

    def chan(x: np.ndarray) -> np.ndarray:
        return sum(a_k @ x @ a_k.T for a_k in kraus)

    def chan_dag(y: np.ndarray) -> np.ndarray:
        return sum(a_k.T @ y @ a_k for a_k in kraus)

    q = (nu - 1) / (nu + 1)
    p_sig = (1 - q) * q ** np.arange(n_fock)
    w = np.diag(chan(np.diag(p_sig))).real
    rho = fock_state(1.2, 0.3, 0.5, n_fock).full()
    a_pow, b_pow = (1 + 1j * theta) / 2, (1 - 1j * theta) / 2
    inner = (w ** -a_pow)[:, None] * rho * (w ** -b_pow)[None, :]
    out = (p_sig**a_pow)[:, None] * chan_dag(inner) * (p_sig**b_pow)[None, :]
    g_out = fock_covariance(qutip.Qobj(out))
    g_in = fock_covariance(qutip.Qobj(rho))
    rec = gaussian_petz_map(attenuator().channel(t), nu * np.eye(2), kind=kind, theta=theta)
    assert np.max(np.abs(rec.apply(g_in) - g_out)) < 1e-8


# ------------------------------------------------------------------ bad input
def test_bad_input_is_rejected():
    gen = attenuator()
    with pytest.raises(ValueError, match="gamma_ref"):
        petz_backward_generator(gen, np.eye(4))  # two-mode reference for a one-mode generator
    with pytest.raises(ValueError, match="even shape|square"):
        petz_backward_generator(gen, np.eye(3))
    with pytest.raises(ValueError, match="physical"):
        petz_backward_generator(gen, 0.5 * np.eye(2))
    with pytest.raises(ValueError, match="faithful"):
        petz_backward_generator(gen, np.eye(2))  # pure reference: sigma^{-1/2} undefined
    with pytest.raises(ValueError, match="theta"):
        petz_backward_generator(gen, 2 * np.eye(2), kind="rotated", theta=np.nan)
    with pytest.raises(ValueError, match="theta"):
        petz_backward_generator(gen, 2 * np.eye(2), kind="rotated", theta=np.inf)
    with pytest.raises(ValueError, match="theta"):
        petz_backward_generator(gen, 2 * np.eye(2), kind="petz", theta=0.3)
    with pytest.raises(ValueError, match="kind"):
        petz_backward_generator(gen, 2 * np.eye(2), kind="bayes")
    with pytest.raises(TypeError, match="GaussianGenerator"):
        petz_backward_generator(np.eye(2), 2 * np.eye(2))
    with pytest.raises(ValueError, match="kind"):
        gaussian_petz_map(gen.channel(0.1), 2 * np.eye(2), kind="twirled")
    with pytest.raises(ValueError, match="faithful"):
        # identity channel on a pure reference: the image is pure
        gaussian_petz_map(GaussianChannel(np.eye(2), np.zeros((2, 2))), np.eye(2))
    with pytest.raises(ValueError, match="mean"):
        petz_backward_mean_rhs(gen, petz_backward_generator(gen, 2 * np.eye(2)), np.zeros(3), np.zeros(2))


def test_rotated_petz_with_huge_theta_is_finite_and_reverses() -> None:
    # regression (fuzz, issue 13): theta**2 overflowed (OverflowError) for |theta| ~ 1e154 in the small-x series
    from quantum_diffusion.gaussian import attenuator, petz_backward_generator

    gen, g = attenuator(1.0, 1), 2.0 * np.eye(2)
    for theta in (1.3407807929942597e154, 1e3):
        b = petz_backward_generator(gen, g, kind="rotated", theta=theta)
        assert np.all(np.isfinite(b.K)) and np.allclose(b.rhs(g), -gen.rhs(g))


def test_petz_backward_generator_refuses_a_string_theta():
    """Fuzz regression: theta='0' was accepted because float('0') converts."""
    with pytest.raises(TypeError, match="theta"):
        petz_backward_generator(attenuator(), 2.0 * np.eye(2), kind="rotated", theta="0")
