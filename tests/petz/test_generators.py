"""Backward generators: O(dt) convergence of the discrete maps and the identities of P.8-P.23."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

from quantum_diffusion.petz import Lindbladian, petz_generator, petz_map, rotated_petz_map, twirled_petz_map
from quantum_diffusion.petz.generators import petz_generator_direct_superop
from quantum_diffusion.petz.lindbladian import lindblad_superop

KINDS = [("petz", 0.0), ("rotated", 0.7), ("rotated", -2.3), ("twirled", 0.0)]


def _map(kind, theta, channel, sigma):
    if kind == "petz":
        return petz_map(channel, sigma)
    if kind == "rotated":
        return rotated_petz_map(channel, sigma, theta)
    return twirled_petz_map(channel, sigma)


@pytest.mark.parametrize("d", [2, 3, 4], ids=["qubit", "qutrit", "two-qubits"])
@pytest.mark.parametrize("kind,theta", KINDS)
def test_discrete_map_converges_to_generator_at_rate_dt(systems, rng, d, kind, theta, slope_tol=0.1):
    L = systems.lindbladian(rng, d)
    sigma = systems.state(rng, d)
    B = petz_generator(L, sigma, kind=kind, theta=theta).superop()
    dts = np.array([1e-3, 1e-4, 1e-5])
    errs = []
    for dt in dts:
        P = _map(kind, theta, sla.expm(dt * L.superop()), sigma)
        errs.append(np.linalg.norm((P - np.eye(d * d)) / dt - B) / np.linalg.norm(B))
    slope = np.polyfit(np.log10(dts), np.log10(errs), 1)[0]
    assert abs(slope - 1.0) < slope_tol, (errs, slope)
    assert errs[-1] < 1e-3


@pytest.mark.parametrize("kind,theta", KINDS)
def test_identities_machine_precision(systems, rng, kind, theta, atol=1e-12):
    d = 3
    L = systems.lindbladian(rng, d)
    sigma = systems.state(rng, d)
    B = petz_generator(L, sigma, kind=kind, theta=theta)
    S = B.superop()
    # H_b Hermitian (not symmetrised in the code)
    assert np.max(np.abs(B.H - B.H.conj().T)) < atol
    # trace preservation: vec(1)^dag S = 0
    assert np.max(np.abs(np.eye(d).reshape(-1) @ S)) < atol
    # B(sigma) = -L(sigma)
    assert np.max(np.abs(B.apply(sigma) + L.apply(sigma))) < atol
    # Lindblad form (H_b, jumps) reproduces the superoperator; matrix-free apply agrees with it
    assert np.max(np.abs(lindblad_superop(B.H, B.jumps) - S)) < 1e-10
    x = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    assert np.max(np.abs(B.apply(x).reshape(-1) - S @ x.reshape(-1))) < atol


def test_direct_form_equals_lindblad_form(systems, rng, atol=1e-12):
    for d in (2, 3, 4):
        L = systems.lindbladian(rng, d)
        sigma = systems.state(rng, d)
        B = petz_generator(L, sigma, kind="petz")
        assert np.max(np.abs(petz_generator_direct_superop(L, sigma) - B.superop())) < atol
        # P.14: the dissipative part of H_b has zero diagonal in the sigma eigenbasis
        p, v = np.linalg.eigh(sigma)
        assert np.max(np.abs(np.diag(v.conj().T @ (B.H + L.H) @ v))) < atol


def test_twirled_generator_is_beta0_average_of_rotated(systems, rng, atol=1e-9):
    d = 3
    L = systems.lindbladian(rng, d)
    sigma = systems.state(rng, d)
    from quantum_diffusion.petz.maps import twirl_density

    thetas = np.linspace(-25, 25, 1251)  # trapezoid on an analytic integrand: exponentially accurate
    w = twirl_density(thetas) * (thetas[1] - thetas[0])
    avg = sum(wi * petz_generator(L, sigma, kind="rotated", theta=t).superop() for wi, t in zip(w, thetas))
    assert np.max(np.abs(avg - petz_generator(L, sigma, kind="twirled").superop())) < atol


def test_twirled_jump_part_completely_positive_and_choi_jumps(systems, rng, atol=1e-12):
    d = 3
    L = systems.lindbladian(rng, d, n_jumps=3)
    B = petz_generator(L, systems.state(rng, d), kind="twirled")
    J = B.jump_part_superop()
    choi = J.reshape(d, d, d, d).transpose(0, 2, 1, 3).reshape(d * d, d * d)
    assert np.max(np.abs(choi - choi.conj().T)) < atol
    assert np.linalg.eigvalsh(choi).min() > -atol
    K = B.jumps
    assert np.max(np.abs(sum(np.kron(k, k.conj()) for k in K) - J)) < 1e-10
    assert np.max(np.abs(sum(k.conj().T @ k for k in K) - B.C)) < 1e-10


def test_degenerate_diagonal_reference_is_continuous_limit(systems, rng, eps=1e-7, tol=1e-5):
    # sigma with a doubly degenerate eigenvalue: the u -> 0 limits of P.19/P.21 must be the continuous limit
    d = 3
    L = Lindbladian(systems.hermitian(rng, d, 0.5), [0.4 * (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))])
    q, _ = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))
    cases = [(np.diag([0.25, 0.25, 0.5]), np.diag([0.25 + eps, 0.25 - eps, 0.5]))]
    cases.append(tuple(q @ c @ q.conj().T for c in cases[0]))  # the same, non-diagonal (eigh picks a basis)
    for (deg, near), (kind, theta) in ((c, k) for c in cases for k in KINDS):
        b0 = petz_generator(L, deg, kind=kind, theta=theta)
        b1 = petz_generator(L, near, kind=kind, theta=theta)
        assert np.all(np.isfinite(b0.superop()))
        assert np.max(np.abs(b0.superop() - b1.superop())) < tol
        assert np.max(np.abs(b0.apply(deg) + L.apply(deg))) < 1e-12


def test_diagonal_operand_shortcut_matches_general_kernel(systems, rng, atol=1e-12):
    d = 4
    L = systems.lindbladian(rng, d)
    sigma = np.diag(rng.dirichlet(np.ones(d)))
    B = petz_generator(L, sigma, kind="twirled")
    x = np.diag(rng.dirichlet(np.ones(d)))  # commutes with sigma -> Hadamard shortcut
    assert np.max(np.abs(B.apply(x).reshape(-1) - B.superop() @ x.reshape(-1))) < atol


def test_rotated_diagonal_limit(systems, rng, atol=1e-12):
    # P.19 at u -> 0: the diagonal of the dissipative part of H_b^theta is (theta/2)(A~ - C)
    d, theta = 3, 1.1
    L = systems.lindbladian(rng, d)
    sigma = np.diag([0.2, 0.3, 0.5])
    B = petz_generator(L, sigma, kind="rotated", theta=theta)
    s = np.sqrt(np.diag(sigma))
    a_tilde = sum((np.diag(s) @ j.conj().T / s).conj().T @ (np.diag(s) @ j.conj().T / s) for j in L.jumps)
    diag_expected = -np.diag(L.H) + 0.5 * theta * np.diag(a_tilde - L.C)
    assert np.max(np.abs(np.diag(B.H) - diag_expected)) < atol


def test_rotated_hamiltonian_equals_rotated_petz_plus_k_theta(systems, rng, theta=0.9, atol=1e-12):
    # P.17 / S103-S105: H_b^theta = sigma^{i theta/2} H_b sigma^{-i theta/2} + K_theta (independent of P.19)
    d = 3
    L = systems.lindbladian(rng, d)
    sigma = systems.state(rng, d)
    p, v = np.linalg.eigh(sigma)
    hb = v.conj().T @ petz_generator(L, sigma).H @ v
    hr = v.conj().T @ petz_generator(L, sigma, kind="rotated", theta=theta).H @ v
    ls = v.conj().T @ L.apply(sigma) @ v
    u = 0.5 * (np.log(p)[:, None] - np.log(p)[None, :])
    off = ~np.eye(d, dtype=bool)
    dp = np.where(off, p[:, None] - p[None, :], 1.0)
    k = np.where(off, 1j * ls * (1 - np.exp(1j * theta * u)) / dp, 0.5 * theta * ls / p[:, None])
    assert np.max(np.abs(hr - (np.exp(1j * theta * u) * hb + k))) < atol


@pytest.mark.parametrize("kind,theta", KINDS)
@pytest.mark.parametrize("degenerate", [False, True])
def test_classical_reverse_chain_on_diagonal_states(rng, kind, theta, degenerate, atol=1e-13):
    # P.34-P.35: jumps sqrt(w_ij)|j><i| (i -> j); on diagonal states every kind is the Bayes-reversed chain
    d = 5
    w = rng.uniform(0.1, 1.0, size=(d, d))
    np.fill_diagonal(w, 0.0)
    jumps = []
    for i in range(d):
        for j in range(d):
            if i != j:
                op = np.zeros((d, d))
                op[j, i] = np.sqrt(w[i, j])
                jumps.append(op)
    L = Lindbladian(np.zeros((d, d)), jumps)
    p = np.array([0.1, 0.3, 0.3, 0.2, 0.1]) if degenerate else rng.dirichlet(np.ones(d))
    q = rng.dirichlet(np.ones(d))
    out = petz_generator(L, np.diag(p), kind=kind, theta=theta).apply(np.diag(q))
    expected = np.array([sum(w[i, j] * p[i] / p[j] * q[j] - w[j, i] * p[j] / p[i] * q[i] for j in range(d) if j != i)
                         for i in range(d)])
    assert np.max(np.abs(np.diag(out) - expected)) < atol
    assert np.max(np.abs(out - np.diag(np.diag(out)))) < atol  # zero leakage into coherences


@pytest.mark.parametrize("width", [0.0, 3.0, 12.0, 27.6])
def test_twirl_quadrature_reproduces_phi_to_1e8(width):
    """Poisson-summation design: max |sum_i w_i cos(theta_i a) - a/sinh a| <= 1e-8 on |a| <= width (checked on a
    grid independent of the one used in the construction, including non-grid points)."""
    from quantum_diffusion.petz.spectral import phi, twirl_quadrature

    theta, w = twirl_quadrature(width)
    a = np.concatenate([np.linspace(-width, width, 3001), [width, -width, 0.123 * width]])
    assert np.max(np.abs(np.cos(np.outer(a, theta)) @ w - phi(a))) <= 1e-8
    assert abs(w.sum() - 1.0) <= 1e-8  # phi(0) = 1: the weights are a probability measure


@pytest.mark.parametrize("d,n_jumps", [(3, 2), (6, 1), (8, 3)])
def test_twirled_quadrature_apply_equals_exact_kernel(systems, rng, d, n_jumps, rtol=1e-8):
    """The theta-quadrature evaluation of the twirled jump part agrees with the exact P.22 kernel to 1e-8
    relative, on a generic (non-commuting) operand and a spread-out reference spectrum."""
    L = systems.lindbladian(rng, d, n_jumps=n_jumps)
    u = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))[0]
    p = np.exp(-np.linspace(0.0, 12.0, d))
    sigma = u @ np.diag(p / p.sum()) @ u.conj().T
    x = systems.hermitian(rng, d)
    exact = petz_generator(L, sigma, kind="twirled", twirl_method="exact")
    a = exact.apply(x)
    for method in ("quadrature", "lowrank"):
        other = petz_generator(L, sigma, kind="twirled", twirl_method=method)
        assert np.max(np.abs(a - other.apply(x))) <= rtol * np.max(np.abs(a))
        assert other.twirl_kernel_method() == method
    assert exact.twirl_kernel_method() == "exact"


@pytest.mark.parametrize("width", [0.5, 10.0, 27.6])
def test_twirl_lowrank_factor_is_certified_and_matches_phi(rng, width):
    """Nystroem factor of the positive-definite kernel phi(s - t): certified bound <= 1e-8, and the true
    elementwise error (checked directly on random points, off the pivot grid) is within the bound."""
    from quantum_diffusion.petz.spectral import phi, twirl_lowrank_factor, twirl_quadrature

    s = rng.uniform(-width / 2, width / 2, size=300)
    f, bound = twirl_lowrank_factor(s)
    assert bound <= 1e-8
    err = np.max(np.abs(phi(s[:, None] - s[None, :]) - f @ f.T))
    assert err <= bound + 1e-14
    assert f.shape[1] < twirl_quadrature(width)[0].size  # fewer terms than quadrature nodes


def test_twirl_method_auto_picks_lowrank_for_large_d_and_exact_for_small(systems, rng):
    small = petz_generator(systems.lindbladian(rng, 3), systems.state(rng, 3), kind="twirled")
    assert small.twirl_kernel_method() == "exact"
    d = 96
    L = Lindbladian(np.zeros((d, d)), [np.diag(np.ones(d - 1), 1)])
    big = petz_generator(L, np.eye(d) / d, kind="twirled")
    assert big.twirl_kernel_method() == "lowrank"
    with pytest.raises(ValueError, match="twirl_method"):
        petz_generator(L, np.eye(d) / d, kind="twirled", twirl_method="fast")
