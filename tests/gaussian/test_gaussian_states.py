"""States: validation, Williamson form, entropy/de Bruijn, Fisher information, fidelity cross-checks."""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from gaussian_helpers import fock_covariance, fock_state, quadratures, random_covariance

from quantum_diffusion.conventions import hhw_to_thewalrus, omega, xpxp_to_xxpp
from quantum_diffusion.gaussian import (
    bkm_fisher,
    c_geom,
    check_covariance,
    entropy,
    fidelity_squared,
    fidelity_squared_one_mode,
    sld_fisher,
    squeezed_thermal,
    symplectic_eigenvalues,
    thermal,
    tmsv,
    williamson,
)

# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.diag([0.5, 0.5]), "not a physical covariance"),  # nu = 0.5 < 1
        (np.array([[1.0, 0.3], [0.0, 1.0]]), "not symmetric"),
        (np.eye(3), "even shape"),
        (np.ones((2, 3)), "square"),
        (np.array([[np.nan, 0.0], [0.0, 1.0]]), "NaN"),
        (np.eye(2) * (1 + 1j), "must be real"),
        (np.diag([4.0, 0.2]), "not a physical covariance"),  # PSD but violates uncertainty
    ],
)
def test_bad_covariances_raise(bad: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_covariance(bad)


@pytest.mark.parametrize(("nu", "r"), [(0.9, 0.1), (np.nan, 0.1), (1.5, np.inf)])
def test_bad_squeezed_thermal_parameters_raise(nu: float, r: float) -> None:
    with pytest.raises(ValueError):
        squeezed_thermal(nu, r)


def test_c_geom_rejects_nu_below_one() -> None:
    with pytest.raises(ValueError, match="nu must be >= 1"):
        c_geom([1.2, 0.99])


def test_bkm_fisher_of_pure_state_raises() -> None:
    with pytest.raises(ValueError, match="diverges"):
        bkm_fisher(squeezed_thermal(1.0, 0.4))


def test_fidelity_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="same shape"):
        fidelity_squared(np.eye(2), np.eye(4))


# ---------------------------------------------------------------- symplectic structure


def test_williamson_reconstructs_and_is_symplectic(rng: np.random.Generator, atol: float = 1e-9) -> None:
    for n in (1, 2, 3):
        g = random_covariance(rng, n)
        nu, s = williamson(g)
        assert np.allclose(s @ omega(n) @ s.T, omega(n), atol=atol)
        assert np.allclose(s @ np.diag(np.repeat(nu, 2)) @ s.T, g, atol=atol * np.abs(g).max())
        # independent route: moduli of the eigenvalues of i Omega gamma
        ev = np.sort(np.abs(np.linalg.eigvals(1j * omega(n) @ g)))[::2]
        assert np.allclose(np.sort(nu), ev, rtol=1e-9)
        assert np.allclose(symplectic_eigenvalues(g), ev, rtol=1e-9)


def test_tmsv_is_pure_and_squeezed_thermal_has_nu(nu: float = 1.7, r: float = 0.6) -> None:
    assert np.allclose(symplectic_eigenvalues(tmsv(0.8)), 1.0, atol=1e-9)
    assert np.isclose(symplectic_eigenvalues(squeezed_thermal(nu, r, 0.4))[0], nu, rtol=1e-12)
    assert np.isclose(entropy(tmsv(0.8)), 0.0, atol=1e-9)


def test_entropy_matches_thermal_fock_spectrum(nu: float = 2.4, n_fock: int = 200) -> None:
    """S of a thermal state from its Fock spectrum lambda_n = (1 - q) q^n, q = (nu-1)/(nu+1)."""
    q = (nu - 1) / (nu + 1)
    lam = (1 - q) * q ** np.arange(n_fock)
    s_fock = -np.sum(lam * np.log(lam))
    assert np.isclose(entropy(squeezed_thermal(nu, 0.9, 0.3)), s_fock, rtol=1e-10)


# ---------------------------------------------------------------- de Bruijn identity


@pytest.mark.parametrize("n", [1, 2])
def test_de_bruijn_identity_finite_differences(rng: np.random.Generator, n: int, h: float = 1e-5) -> None:
    r"""dS/d gamma = J_BKM / 4: central differences along random symmetric directions."""
    g = random_covariance(rng, n)
    j = bkm_fisher(g)
    for _ in range(3):
        e = rng.normal(size=(2 * n, 2 * n))
        e = (e + e.T) / 2
        fd = (entropy(g + h * e) - entropy(g - h * e)) / (2 * h)
        assert np.isclose(fd, 0.25 * np.trace(j @ e), rtol=1e-7, atol=1e-9)


def test_de_bruijn_error_falls_quadratically(rng: np.random.Generator) -> None:
    """Central-difference error ~ h^2: the measured slope must be close to 2."""
    g = random_covariance(rng, 1)
    e = np.array([[0.3, 0.1], [0.1, -0.2]])
    exact = 0.25 * np.trace(bkm_fisher(g) @ e)
    hs = np.array([4e-2, 2e-2, 1e-2])
    errs = [abs((entropy(g + h * e) - entropy(g - h * e)) / (2 * h) - exact) for h in hs]
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert 1.8 < slope < 2.2


# ---------------------------------------------------------------- Fisher information


def test_one_mode_fisher_ratio_is_c_geom(rng: np.random.Generator) -> None:
    g = random_covariance(rng, 1)
    nu = symplectic_eigenvalues(g)[0]
    assert np.allclose(sld_fisher(g), c_geom(nu) * bkm_fisher(g), rtol=1e-10)
    assert np.isclose(c_geom(nu), 2 / (nu * np.log((nu + 1) / (nu - 1))), rtol=1e-12)


def test_c_geom_limits() -> None:
    assert c_geom(1.0) == 0.0
    assert np.isclose(c_geom(1e4), 1.0, atol=1e-7)
    assert np.all(np.diff(c_geom(np.linspace(1.0, 10, 50))) > 0)


def test_multimode_bkm_dominates_sld(rng: np.random.Generator) -> None:
    """J_SLD <= J_BKM (SLD is the minimal monotone metric) and J_SLD >= c_geom(nu_min) J_BKM."""
    g = random_covariance(rng, 2)
    nu_min = symplectic_eigenvalues(g)[0]
    js, jb = sld_fisher(g), bkm_fisher(g)
    assert np.linalg.eigvalsh(jb - js)[0] > -1e-10
    assert np.linalg.eigvalsh(js - c_geom(nu_min) * jb)[0] > -1e-10


def test_bkm_fisher_against_fock_kubo_mori(nu: float = 1.8, r: float = 0.3, n_fock: int = 60) -> None:
    r"""J_BKM from the Kubo-Mori metric sum |X_jk|^2 (ln l_j - ln l_k)/(l_j - l_k) of displacement tangents."""
    rho = fock_state(nu, r, 0.0, n_fock)
    g = fock_covariance(rho)
    lam, vec = np.linalg.eigh(rho.full())
    q, p = quadratures(n_fock)
    # d rho / d d_Q = -i [P, rho], d rho / d d_P = +i [Q, rho]  (shift of <Q>, <P> by [Q, P] = i)
    gens = [p.full(), -q.full()]
    tangents = [vec.conj().T @ (-1j * (gk @ rho.full() - rho.full() @ gk)) @ vec for gk in gens]
    lj, lk = np.meshgrid(lam, lam, indexing="ij")
    with np.errstate(divide="ignore", invalid="ignore"):
        kernel = np.where(np.abs(lj - lk) > 1e-14, (np.log(lj) - np.log(lk)) / (lj - lk), 1 / lj)
    keep = (lj > 1e-14) & (lk > 1e-14)
    j_fock = np.array([[np.sum((ta.conj() * tb * kernel)[keep]).real for tb in tangents] for ta in tangents])
    assert np.allclose(j_fock, bkm_fisher(g), rtol=1e-6)


# ---------------------------------------------------------------- fidelity


def test_fidelity_against_thewalrus(rng: np.random.Generator) -> None:
    """n = 1, 2 modes, at hbar = 1 and 2 (thewalrus: xxpp, V = hbar/2 gamma, mean = sqrt(hbar) d)."""
    from thewalrus.quantum import fidelity as tw_fidelity

    for n in (1, 2):
        g1, g2 = random_covariance(rng, n), random_covariance(rng, n)
        d1, d2 = rng.normal(size=2 * n) * 0.3, rng.normal(size=2 * n) * 0.3
        ours = fidelity_squared(g1, g2, d1, d2)
        for hbar in (1.0, 2.0):
            tw = tw_fidelity(np.sqrt(hbar) * xpxp_to_xxpp(d1), hhw_to_thewalrus(g1, hbar),
                             np.sqrt(hbar) * xpxp_to_xxpp(d2), hhw_to_thewalrus(g2, hbar), hbar=hbar)
            assert np.isclose(ours, tw, rtol=1e-9)


def test_fidelity_squared_one_mode_closed_form_equals_general_formula(rng: np.random.Generator) -> None:
    """The Scutaru closed form and the Banchi-Braunstein-Pirandola formula (forced through n = 2 product)."""
    g1, g2 = random_covariance(rng, 1), random_covariance(rng, 1)
    f1 = fidelity_squared_one_mode(g1, g2)
    # fidelity is multiplicative on products; the 2-mode route uses the general formula
    f2 = fidelity_squared(np.kron(np.eye(2), g1), np.kron(np.eye(2), g2))
    assert np.isclose(f2, f1**2, rtol=1e-9)


def test_fidelity_against_truncated_fock(n_fock: int = 70) -> None:
    rho1 = fock_state(1.6, 0.35, 0.2, n_fock)
    rho2 = fock_state(1.2, 0.15, 1.1, n_fock)
    f_fock = qutip.fidelity(rho1, rho2) ** 2  # qutip returns the root fidelity
    f_gauss = fidelity_squared(fock_covariance(rho1), fock_covariance(rho2))
    assert np.isclose(f_gauss, f_fock, rtol=1e-7)


def test_fidelity_identity_and_pure_overlap() -> None:
    g = squeezed_thermal(2.0, 0.5, 0.3)
    assert np.isclose(fidelity_squared(g, g), 1.0, rtol=1e-12)
    # coherent state |alpha> vs vacuum: F = exp(-|alpha|^2), d = sqrt(2) (Re alpha, Im alpha)
    alpha = 0.7 + 0.2j
    d = np.sqrt(2) * np.array([alpha.real, alpha.imag])
    assert np.isclose(fidelity_squared(np.eye(2), np.eye(2), d, None), np.exp(-abs(alpha) ** 2), rtol=1e-12)


def test_two_mode_fidelity_of_pure_tmsv_states() -> None:
    """|<TMSV(s1)|TMSV(s2)>|^2 = 1 / cosh^2(s1 - s2) (sum of a geometric series in the Fock basis)."""
    for s1, s2 in [(0.5, 0.7), (0.0, 1.0), (0.3, 0.3)]:
        assert np.isclose(fidelity_squared(tmsv(s1), tmsv(s2)), 1 / np.cosh(s1 - s2) ** 2, rtol=1e-10)


# ---------------------------------------------------------------- regressions (issue 13, items 5 and 6)
def test_issue13_item5_check_covariance_is_scale_invariant() -> None:
    # symplectic eigenvalue 0.85 < 1, hidden behind a large entry e^10: must be rejected
    with pytest.raises(ValueError, match="symplectic eigenvalue"):
        check_covariance(0.85 * np.diag([np.exp(-10.0), np.exp(10.0)]))
    with pytest.raises(ValueError, match="symplectic eigenvalue"):
        check_covariance(np.kron(np.eye(2), 0.999 * np.diag([np.exp(-12.0), np.exp(12.0)])))
    # physical states with the same squeezing (and pure ones) are accepted
    check_covariance(np.diag([np.exp(-10.0), np.exp(10.0)]))
    check_covariance(squeezed_thermal(1.0, 6.0, 0.3))
    check_covariance(tmsv(4.0))


def test_issue13_item5_squeezed_thermal_overflow_names_r() -> None:
    with pytest.raises(ValueError, match="r = 400"):
        squeezed_thermal(2.0, 400.0)
    assert np.all(np.isfinite(squeezed_thermal(2.0, 100.0)))


def test_issue13_item6_multimode_fidelity_of_pure_entangled_states() -> None:
    for s in (3.0, 5.0):
        assert abs(fidelity_squared(tmsv(s), tmsv(s)) - 1.0) < 1e-12
    assert abs(fidelity_squared(tmsv(3.0), tmsv(3.2)) - 1.0 / np.cosh(0.2) ** 2) < 1e-9
    # one pure, one mixed: F = <psi|rho|psi>, equal to the general formula on a mildly squeezed example
    mixed = np.kron(np.eye(2), 1.5 * np.eye(2))
    fa = fidelity_squared(tmsv(0.3), mixed)
    fb = fidelity_squared(mixed, tmsv(0.3))
    assert fa == pytest.approx(fb, rel=1e-12) and 0.0 < fa < 1.0


@pytest.mark.parametrize("nu", [1e8, 1e12, 3701571341189194.0])
def test_entropy_of_very_hot_thermal_state_has_no_cancellation(nu: float) -> None:
    # regression (fuzz, issue 13): (N+1) ln(N+1) - N ln N cancelled to 32 nats instead of 36.1 at nu = 3.7e15.
    # Asymptotic series g(N) = ln(N+1) + 1 - 1/(2N) + 1/(3N^2) - ..., exact to < 1e-16 here.
    n = (nu - 1) / 2
    assert entropy(thermal(nu)) == pytest.approx(np.log1p(n) + 1 - 1 / (2 * n) + 1 / (3 * n**2), rel=1e-13)


def test_one_mode_fidelity_near_pure_has_no_snap() -> None:
    # regression (fuzz, issue 13): nu = 1 + 1e-9 was snapped to pure, F^2 = 0.8 instead of the closed form
    # 2 / (sqrt(Delta + delta) - sqrt(delta)), delta = (det g1 - 1)(det g2 - 1) = 0.80001600
    g1, g2 = (1 + 1e-9) * np.eye(2), 1.5 * np.eye(2)
    delta = ((1 + 1e-9) ** 2 - 1) * (1.5**2 - 1)
    assert fidelity_squared(g1, g2) == pytest.approx(2 / (2.5 - np.sqrt(delta)), rel=1e-6)


def test_rotated_squeezed_thermal_beyond_float_precision_raises() -> None:
    # regression (fuzz, issue 13): squeezed_thermal(1, 10, 1) returned a matrix that check_covariance rejects
    with pytest.raises(ValueError, match="r = 10"):
        squeezed_thermal(1.0, 10.0, 1.0)
    check_covariance(squeezed_thermal(1.0, 10.0, 0.0))  # unrotated: diagonal, exact
    check_covariance(squeezed_thermal(1.0, 8.5, 1.0))


def test_fidelity_with_a_pure_mode_of_a_mixed_state_never_returns_nan() -> None:
    # regression (fuzz, issue 13): vacuum (+) thermal(3) against itself gave NaN; now a clear error (not yet a value)
    g = np.diag([1.0, 1.0, 3.0, 3.0])
    try:
        f = fidelity_squared(g, g)
    except ValueError as err:
        assert "singular" in str(err)
    else:
        assert f == pytest.approx(1.0, abs=1e-6)
