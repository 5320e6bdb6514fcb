"""Channels and generators: CP criterion, semigroup, GKLS dictionary, strawberryfields and qutip cross-checks."""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from gaussian_helpers import fock_covariance, quadratures, random_covariance

from quantum_diffusion._sf_compat import import_strawberryfields
from quantum_diffusion.conventions import omega, sf_to_hhw
from quantum_diffusion.gaussian import GaussianChannel, GaussianGenerator, attenuator, squeezed_thermal

# ---------------------------------------------------------------- CP criterion sanity


@pytest.mark.parametrize("eta", [0.1, 0.5, 0.9])
def test_pure_loss_sits_on_cp_boundary(eta: float) -> None:
    ch = GaussianChannel(np.sqrt(eta) * np.eye(2), (1 - eta) * np.eye(2))
    lam = np.linalg.eigvalsh(ch.cp_matrix())
    assert np.isclose(lam[0], 0.0, atol=1e-12) and np.isclose(lam[1], 2 * (1 - eta))
    assert ch.is_cp()
    # less noise than quantum-limited is not CP
    assert not GaussianChannel(ch.X, 0.99 * ch.Y).is_cp()


def test_amplifier_cp_and_transpose_not_cp(g: float = 1.7) -> None:
    assert GaussianChannel(np.sqrt(g) * np.eye(2), (g - 1) * np.eye(2)).is_cp()
    transpose = GaussianChannel(np.diag([1.0, -1.0]), np.zeros((2, 2)))
    assert np.isclose(np.linalg.eigvalsh(transpose.cp_matrix())[0], -2.0)
    assert not transpose.is_cp()


def test_channel_validation_errors() -> None:
    with pytest.raises(ValueError, match="symmetric"):
        GaussianChannel(np.eye(2), np.array([[1.0, 0.2], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="shape"):
        GaussianChannel(np.eye(2), np.eye(4))
    with pytest.raises(ValueError, match="NaN"):
        GaussianGenerator(np.full((2, 2), np.nan), np.eye(2))
    with pytest.raises(ValueError, match="physical"):
        attenuator().evolve(np.diag([0.5, 0.5]), 1.0)
    with pytest.raises(ValueError, match="t must be"):
        attenuator().channel(-1.0)


# ---------------------------------------------------------------- semigroup


def test_semigroup_composition_and_generator_limit(rng: np.random.Generator, dt: float = 1e-6) -> None:
    k = rng.normal(size=(4, 4))
    d = rng.normal(size=(4, 4))
    gen = GaussianGenerator(k, d @ d.T)
    c1, c2, c12 = gen.channel(0.3), gen.channel(0.5), gen.channel(0.8)
    comp = c1.then(c2)
    assert np.allclose(comp.X, c12.X, atol=1e-11) and np.allclose(comp.Y, c12.Y, atol=1e-11)
    small = gen.channel(dt)
    assert np.allclose((small.X - np.eye(4)) / dt, k.T, atol=1e-4)
    assert np.allclose(small.Y / dt, gen.D, atol=1e-4)
    # channel CP matrix / dt -> conj(M(K, D))
    assert np.allclose(small.cp_matrix() / dt, gen.cp_matrix().conj(), atol=1e-4)


def test_evolve_solves_the_covariance_ode(rng: np.random.Generator) -> None:
    """Exact channel vs a tight-tolerance ODE integration of d gamma/dt = K gamma + gamma K^T + D."""
    from scipy.integrate import solve_ivp

    k = rng.normal(size=(2, 2)) - 1.0 * np.eye(2)
    d = np.eye(2) * 2.0
    gen = GaussianGenerator(k, d)
    g0 = squeezed_thermal(1.5, 0.4)
    sol = solve_ivp(lambda t, y: gen.rhs(y.reshape(2, 2)).ravel(), (0, 1.3), g0.ravel(), rtol=1e-11, atol=1e-12)
    assert np.allclose(sol.y[:, -1].reshape(2, 2), gen.evolve(g0, 1.3), atol=1e-8)


# ---------------------------------------------------------------- attenuator vs strawberryfields


def _sf_state_cov(r: float, nbar: float, eta: float | None) -> np.ndarray:
    sf = import_strawberryfields()
    prog = sf.Program(1)
    with prog.context as q:
        sf.ops.Thermal(nbar) | q[0]
        sf.ops.Sgate(r) | q[0]
        if eta is not None:
            sf.ops.LossChannel(eta) | q[0]
    state = sf.Engine("gaussian").run(prog).state
    return sf_to_hhw(state.cov(), hbar=sf.hbar)


@pytest.mark.parametrize("t", [0.2, 1.3])
def test_attenuator_matches_strawberryfields_loss_channel(t: float, r: float = 0.7, nbar: float = 0.4) -> None:
    """Foundation acceptance test: SF LossChannel(e^{-t}) on a squeezed (thermal) state = X^T gamma X + Y."""
    gamma_in = _sf_state_cov(r, nbar, None)
    assert np.allclose(gamma_in, squeezed_thermal(2 * nbar + 1, r), atol=1e-12)
    gamma_sf = _sf_state_cov(r, nbar, np.exp(-t))
    ch = GaussianChannel(np.exp(-t / 2) * np.eye(2), (1 - np.exp(-t)) * np.eye(2))
    assert np.allclose(ch.apply(gamma_in), gamma_sf, atol=1e-12)
    assert np.allclose(attenuator().evolve(gamma_in, t), gamma_sf, atol=1e-12)


# ---------------------------------------------------------------- GKLS dictionary and qutip


def test_gkls_dictionary_cp_matrix(rng: np.random.Generator) -> None:
    """from_lindblad: M(K, D) = 2 Omega C Omega^T (PSD) for random Hamiltonians and jump operators."""
    for n in (1, 2):
        h = rng.normal(size=(2 * n, 2 * n))
        c = rng.normal(size=(3, 2 * n)) + 1j * rng.normal(size=(3, 2 * n))
        gen = GaussianGenerator.from_lindblad(h + h.T, c)
        cmat = c.T @ c.conj()
        om = omega(n)
        assert np.allclose(gen.cp_matrix(), 2 * om @ cmat @ om.T, atol=1e-12)
        assert gen.is_cp()


def test_attenuator_from_lindblad() -> None:
    gen = GaussianGenerator.from_lindblad(None, [[1 / np.sqrt(2), 1j / np.sqrt(2)]])
    assert np.allclose(gen.K, attenuator().K) and np.allclose(gen.D, attenuator().D)


def _qutip_covariance_after(h_mat: np.ndarray, c: np.ndarray, rho0: qutip.Qobj, t: float) -> np.ndarray:
    n_fock = rho0.dims[0][0]
    q, p = quadratures(n_fock)
    rs = [q, p]
    ham = 0.5 * sum(h_mat[i, j] * rs[i] * rs[j] for i in range(2) for j in range(2))
    c_ops = [cj[0] * q + cj[1] * p for cj in c]
    res = qutip.mesolve(ham, rho0, [0.0, t], c_ops=c_ops, options={"atol": 1e-10, "rtol": 1e-9})
    return fock_covariance(res.states[-1])


def test_attenuator_against_qutip_fock_lindblad(t: float = 0.8, n_fock: int = 40) -> None:
    a = qutip.destroy(n_fock)
    rho0 = qutip.squeeze(n_fock, 0.5) * qutip.thermal_dm(n_fock, 0.2) * qutip.squeeze(n_fock, 0.5).dag()
    g0 = fock_covariance(rho0)
    res = qutip.mesolve(0 * a, rho0, [0.0, t], c_ops=[a], options={"atol": 1e-10, "rtol": 1e-9})
    assert np.allclose(attenuator().evolve(g0, t), fock_covariance(res.states[-1]), atol=1e-6)


def test_from_lindblad_against_qutip_fock(rng: np.random.Generator, t: float = 0.5, n_fock: int = 40) -> None:
    """Random quadratic Hamiltonian + two linear jump operators: exact covariance vs truncated Fock space."""
    h = rng.normal(size=(2, 2)) * 0.3
    h = h + h.T
    c = (rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))) * 0.4
    rho0 = qutip.squeeze(n_fock, 0.3) * qutip.thermal_dm(n_fock, 0.1) * qutip.squeeze(n_fock, 0.3).dag()
    g0 = fock_covariance(rho0)
    gen = GaussianGenerator.from_lindblad(h, c)
    assert np.allclose(gen.evolve(g0, t), _qutip_covariance_after(h, c, rho0, t), atol=1e-5)


def test_fock_check_would_detect_a_wrong_sign(rng: np.random.Generator, t: float = 0.5, n_fock: int = 40) -> None:
    """Guard against a vacuous Fock comparison: flipping Im C in K changes the result by >> tolerance."""
    c = np.array([[0.6, 0.3j]])
    rho0 = qutip.squeeze(n_fock, 0.3) * qutip.thermal_dm(n_fock, 0.1) * qutip.squeeze(n_fock, 0.3).dag()
    g0 = fock_covariance(rho0)
    gen = GaussianGenerator.from_lindblad(None, c)
    wrong = GaussianGenerator(omega(1) @ (c.T @ c.conj()).imag, gen.D)
    ref = _qutip_covariance_after(np.zeros((2, 2)), c, rho0, t)
    assert np.max(np.abs(wrong.evolve(g0, t) - ref)) > 1e-2
    assert np.allclose(gen.evolve(g0, t), ref, atol=1e-5)


def test_random_covariance_fixture_is_physical(rng: np.random.Generator) -> None:
    g = random_covariance(rng, 2)
    assert np.linalg.eigvalsh(g + 1j * omega(2))[0] > 0


def test_long_time_channel_does_not_overflow() -> None:
    # regression (fuzz, issue 13): Van Loan's e^{tB} overflowed for rate * t ~ 1400, a valid contracting channel
    ch = attenuator(3.0).channel(474.0)
    assert np.allclose(ch.X, np.exp(-3.0 * 474.0 / 2) * np.eye(2)) and np.allclose(ch.Y, np.eye(2), atol=1e-14)
    ch = attenuator(1.0).channel(30.0)  # t |K| = 15 < 20: direct, and 2^k splitting agrees with the closed form
    assert np.allclose(ch.Y, (1 - np.exp(-30.0)) * np.eye(2), rtol=1e-12)
    assert np.allclose(attenuator(1.0).channel(100.0).Y, (1 - np.exp(-100.0)) * np.eye(2), rtol=1e-12)


def test_channel_with_overflowing_time_raises() -> None:
    # regression (fuzz, issue 13): t * |K| = inf gave OverflowError from int(inf) in the step splitting
    with pytest.raises(ValueError, match="time t"):
        attenuator(1e300).channel(3.6e8)


def test_attenuator_refuses_a_string_rate():
    """Fuzz regression: attenuator('0') was accepted because float('0') converts."""
    from quantum_diffusion.gaussian import attenuator

    with pytest.raises(TypeError, match="rate"):
        attenuator("0")
    with pytest.raises(TypeError, match="rate"):
        attenuator(True)
    assert attenuator(np.float64(0.5)).is_cp()


@pytest.mark.parametrize("n_modes", [1, 2])
def test_attenuator_near_float_max_rate_is_cp(n_modes) -> None:
    # regression (slow fuzz, session 2): rate = 8.99e307 is finite, but symmetrising D as (D + D^T)/2 overflowed
    # to inf, so is_cp() was False (n = 1) or eigvalsh did not converge (n = 2)
    gen = attenuator(8.98846567431158e307, n_modes)
    assert np.all(np.isfinite(gen.D)) and gen.is_cp()
    assert gen.D[0, 0] == 8.98846567431158e307
