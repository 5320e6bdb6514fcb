"""Score-lift: Theorem 1 (numeric vs closed form vs sympy), sign-flip lemma, exact retracing."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from gaussian_helpers import random_covariance

from quantum_diffusion.gaussian import (
    GaussianGenerator,
    attenuator,
    bayes_min_eig_grid,
    bayes_reverse,
    cp_violation,
    squeezed_thermal,
    theorem1_eigenvalues,
)


def test_theorem1_eigenvalues_on_random_grid(rng: np.random.Generator, atol: float = 1e-11) -> None:
    """eigvalsh of the Bayes CP matrix built by bayes_reverse (random phi) = closed form (7)-(8)."""
    nu = rng.uniform(1.0, 6.0, size=200)
    r = rng.uniform(0.0, 1.6, size=200)
    phi = rng.uniform(0, np.pi, size=200)
    closed = theorem1_eigenvalues(nu, r)
    gen = attenuator()
    for j in range(nu.size):
        m = bayes_reverse(gen, squeezed_thermal(nu[j], r[j], phi[j])).cp_matrix()
        assert np.allclose(np.linalg.eigvalsh(m), closed[j], atol=atol * max(1, closed[j].max()))


def test_batched_grid_matches_closed_form_and_threshold() -> None:
    nu = np.linspace(1, 5, 41)[:, None]
    r = np.linspace(0, 1.5, 31)[None, :]
    lam = bayes_min_eig_grid(nu, r)
    assert np.allclose(lam, theorem1_eigenvalues(nu, r)[..., 0], atol=1e-12)
    assert np.allclose(bayes_min_eig_grid(nu, r, method="eigvalsh"), lam, atol=1e-12)
    gap = np.cosh(2 * r) - nu
    decided = np.abs(gap) > 1e-12
    assert np.sum(((lam < 0) != (gap > 0)) & decided) == 0


def test_threshold_and_r_zero_statement() -> None:
    nu = np.linspace(1.0, 10.0, 50)
    assert np.all(theorem1_eigenvalues(nu, 0.0)[:, 0] >= -1e-15)  # r = 0: never violated for nu >= 1
    assert np.all(cp_violation(nu, 0.0) == 0.0)
    nu0, r0 = 2.0, 0.5 * np.arccosh(2.0)  # on the curve cosh 2r = nu
    assert cp_violation(nu0, r0 - 1e-3) == 0.0
    assert cp_violation(nu0, r0 + 1e-3) > 0.0
    assert np.isclose(cp_violation(1.5, 1.0), 2 * np.cosh(2.0) / 1.5 - 2)


def test_theorem1_rejects_nu_below_one() -> None:
    with pytest.raises(ValueError, match="nu must be >= 1"):
        theorem1_eigenvalues(np.array([1.0, 0.5]), 0.2)


def test_sympy_derivation_of_m_bayes() -> None:
    """Symbolic (nu, r): M_Bayes = I + i(2 cosh 2r / nu - 1) sigma and its eigenvalues; numeric agreement."""
    nu, r = sp.symbols("nu r", positive=True)
    sigma = sp.Matrix([[0, 1], [-1, 0]])
    big_sigma = nu * sp.diag(sp.exp(-2 * r), sp.exp(2 * r))
    k_bayes = -sp.Rational(1, 2) * sp.eye(2) + big_sigma.inv()  # K + D Sigma^{-1}, D = I
    m = sp.eye(2) + sp.I * (k_bayes * sigma + sigma * k_bayes.T)
    expected = sp.eye(2) + sp.I * (2 * sp.cosh(2 * r) / nu - 1) * sigma
    assert (m - expected).applyfunc(lambda e: sp.simplify(e.rewrite(sp.exp))) == sp.zeros(2, 2)
    evs = {sp.simplify(e.rewrite(sp.exp)) for e in m.eigenvals()}
    targets = {sp.simplify((2 - 2 * sp.cosh(2 * r) / nu).rewrite(sp.exp)),
               sp.simplify((2 * sp.cosh(2 * r) / nu).rewrite(sp.exp))}
    assert all(any(sp.simplify(e - t) == 0 for t in targets) for e in evs)
    m_num = sp.lambdify((nu, r), m, "numpy")
    for nv, rv in [(1.3, 0.2), (2.5, 1.1)]:
        ours = bayes_reverse(attenuator(), squeezed_thermal(nv, rv)).cp_matrix()
        assert np.allclose(np.array(m_num(nv, rv), dtype=complex), ours, atol=1e-12)


def test_sign_flip_lemma(rng: np.random.Generator) -> None:
    """M(-K, D) = conj(M(K, D)): same spectrum; forward- and reverse-oriented Bayes drifts agree."""
    for n in (1, 2, 3):
        k = rng.normal(size=(2 * n, 2 * n))
        d = rng.normal(size=(2 * n, 2 * n))
        gen = GaussianGenerator(k, d + d.T)
        assert np.allclose(gen.reversed_sign().cp_matrix(), gen.cp_matrix().conj(), atol=1e-13)
        assert np.allclose(np.linalg.eigvalsh(gen.reversed_sign().cp_matrix()),
                           np.linalg.eigvalsh(gen.cp_matrix()), atol=1e-12)
    g = random_covariance(rng, 2)
    fwd = bayes_reverse(attenuator(1.0, 2), g)
    rev = bayes_reverse(attenuator(1.0, 2), g, orientation="reverse")
    assert np.allclose(np.linalg.eigvalsh(fwd.cp_matrix()), np.linalg.eigvalsh(rev.cp_matrix()), atol=1e-12)
    # the lemma is not vacuous: M itself is not real, so conj changes it
    assert np.max(np.abs(fwd.cp_matrix().imag)) > 0.1


def test_bayes_reverse_retraces_marginals(rng: np.random.Generator) -> None:
    """K_rev Sigma + Sigma K_rev^T + D = -d Sigma/dt for random n-mode generators and references."""
    for n in (1, 2):
        k = rng.normal(size=(2 * n, 2 * n))
        d = rng.normal(size=(2 * n, 2 * n))
        gen = GaussianGenerator(k, d @ d.T)
        g = random_covariance(rng, n)
        rev = bayes_reverse(gen, g, orientation="reverse")
        assert np.allclose(rev.rhs(g), -gen.rhs(g), atol=1e-10)


def test_general_one_mode_violation_criterion(rng: np.random.Generator) -> None:
    r"""One mode: violation iff det D < (tr K + tr D Sigma^{-1})^2 (for D > 0)."""
    agree = 0
    for _ in range(200):
        k = rng.normal(size=(2, 2))
        dm = rng.normal(size=(2, 2))
        d = dm @ dm.T + 0.05 * np.eye(2)
        g = random_covariance(rng, 1)
        m = bayes_reverse(GaussianGenerator(k, d), g).cp_matrix()
        violated = np.linalg.eigvalsh(m)[0] < 0
        crit = np.linalg.det(d) < (np.trace(k) + np.trace(d @ np.linalg.inv(g))) ** 2
        agree += violated == crit
    assert agree == 200


def test_bayes_reverse_validates_reference() -> None:
    with pytest.raises(ValueError, match="2 mode"):
        bayes_reverse(attenuator(1.0, 2), np.eye(2))
    with pytest.raises(ValueError, match="orientation"):
        bayes_reverse(attenuator(), np.eye(2), orientation="sideways")  # type: ignore[arg-type]


def test_bayes_min_eig_grid_large_r_is_finite_or_raises() -> None:
    # regression (fuzz, issue 13): |b|^2 overflowed and returned -inf at r = 180 (theorem 1: 2 - 2 cosh(2r)/nu)
    from quantum_diffusion.gaussian import bayes_min_eig_grid, theorem1_eigenvalues

    assert bayes_min_eig_grid(2.0, 180.0) == pytest.approx(theorem1_eigenvalues(2.0, 180.0)[0], rel=1e-12)
    with pytest.raises(ValueError, match="r too large"):
        bayes_min_eig_grid(2.0, 400.0)
