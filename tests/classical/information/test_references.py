"""Exact CMI references, each against an independent computation."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from classical.information.references import (
    GaussianMixture,
    _mfa_em_step,
    empirical_mixture_cmi,
    empirical_mixture_cmi_profile,
    fit_mixture,
    gaussian_cmi,
    mixture_cmi,
    mixture_cmi_profile,
)
from classical.information.regions import Regions, paper_regions


def _cov(rng, d, coupling=1.0):
    a = rng.standard_normal((d, d))
    return coupling * a @ a.T / d + 0.05 * np.eye(d)


def test_gaussian_closed_form_matches_conditional_variances(rng):
    """1/2 ln det combination == 1/2 ln[Var(A|B)/Var(A|BC)] from precision matrices."""
    s = _cov(rng, 7)
    reg = Regions(a=[2], b=[0, 5], c=[1, 3, 4, 6], size=7)
    for t in (0.0, 0.3, 0.9):
        st = (1 - t) ** 2 * s + t**2 * np.eye(7)

        def var_a_given(u, st=st):
            idx = [2] + list(u)
            return 1.0 / np.linalg.inv(st[np.ix_(idx, idx)])[0, 0]

        expect = 0.5 * np.log(var_a_given([0, 5]) / var_a_given([0, 5, 1, 3, 4, 6]))
        assert gaussian_cmi(s, t, reg) == pytest.approx(expect, rel=1e-10)
    assert gaussian_cmi(s, 1.0, reg) == pytest.approx(0.0, abs=1e-12)


def test_gaussian_closed_form_equals_one_component_mixture(rng):
    s = _cov(rng, 6, coupling=3.0)
    reg = Regions(a=[0], b=[1], c=[2, 3, 4, 5], size=6)
    gm = GaussianMixture(np.ones(1), rng.standard_normal((1, 6)), np.zeros((1, 6)), np.linalg.cholesky(s)[None])
    for t in (0.2, 0.5):
        exact = gaussian_cmi(s, t, reg)
        mc = mixture_cmi(gm, t, reg, n_mc=40000, seed=1)
        assert exact > 0.02
        assert abs(mc.value - exact) < 4 * mc.stderr + 1e-3


def test_mixture_logpdf_matches_scipy(rng):
    d, q = 5, 2
    gm = GaussianMixture(np.array([0.3, 0.7]), rng.standard_normal((2, d)), rng.uniform(0.1, 1, (2, d)),
                         rng.standard_normal((2, d, q)))
    x = rng.standard_normal((10, d))
    dens = sum(w * multivariate_normal(m, np.diag(dg) + f @ f.T).pdf(x)
               for w, m, dg, f in zip(gm.weights, gm.means, gm.diag, gm.factors))
    np.testing.assert_allclose(gm.logpdf(x), np.log(dens), rtol=1e-10)


def test_mixture_mc_matches_3d_quadrature():
    """MC over exact log-densities vs brute-force numerical integration on a grid (3 scalar variables)."""
    means = np.array([[-1.0, -1.0, -1.2], [1.0, 0.8, 1.0], [0.0, 1.5, -1.0]])
    gm = GaussianMixture(np.array([0.4, 0.35, 0.25]), means, np.full((3, 3), 0.15),
                         np.array([[[0.3], [0.2], [0.1]], [[0.0], [0.3], [0.3]], [[0.2], [0.0], [0.0]]]))
    reg = Regions(a=[0], b=[1], c=[2], size=3)
    t = 0.3
    mt = gm.diffuse(t)
    g = np.linspace(-4, 4, 161)
    h = g[1] - g[0]
    pts = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    dens = sum(w * multivariate_normal(m, np.diag(dg) + f @ f.T).pdf(pts)
               for w, m, dg, f in zip(mt.weights, mt.means, mt.diag, mt.factors)).reshape(161, 161, 161)
    assert dens.sum() * h**3 == pytest.approx(1.0, abs=1e-6)
    p_ab = dens.sum(2) * h
    p_bc = dens.sum(0) * h
    p_b = dens.sum((0, 2)) * h**2
    ratio = dens * p_b[None, :, None] / (p_ab[:, :, None] * p_bc[None, :, :])
    quad = float(np.sum(dens * np.log(np.maximum(ratio, 1e-300))) * h**3)
    mc = mixture_cmi(gm, t, reg, n_mc=100000, seed=3)
    assert quad > 0.02
    assert abs(mc.value - quad) < 4 * mc.stderr + 1e-3


def test_empirical_mixture_matches_woodbury_mixture(rng):
    """Distance-matmul implementation vs the general mixture code with K = N, D = 0, no factors."""
    imgs = rng.uniform(0, 1, (12, 9))
    reg = Regions(a=[4], b=[1, 3, 5], c=[0, 2, 6, 7, 8], size=9)
    gm = GaussianMixture(np.full(12, 1 / 12), imgs, np.zeros((12, 9)), np.zeros((12, 9, 0)))
    for t in (0.1, 0.25):
        emp = empirical_mixture_cmi(imgs, t, reg, n_mc=6000, seed=5)
        ref = mixture_cmi(gm, t, reg, n_mc=6000, seed=6)
        assert emp.value > 0.01
        assert abs(emp.value - ref.value) < 4 * np.hypot(emp.stderr, ref.stderr)


def test_empirical_profile_equals_single_calls_and_t1_is_zero(rng):
    imgs = rng.uniform(0, 1, (30, 49))
    regs = [paper_regions(r, size=7) for r in (1, 2)]
    prof = empirical_mixture_cmi_profile(imgs, 0.3, regs, n_mc=200, seed=2, chunk=7)
    for reg, p in zip(regs, prof):
        single = empirical_mixture_cmi(imgs, 0.3, reg, n_mc=200, seed=2)
        assert single.value == pytest.approx(p.value, rel=1e-9, abs=1e-12)
    assert abs(empirical_mixture_cmi(imgs, 1.0, regs[0], n_mc=50).value) < 1e-9
    with pytest.raises(ValueError, match="t must be > 0"):
        empirical_mixture_cmi(imgs, 0.0, regs[0])
    with pytest.raises(ValueError, match="d = 49"):
        empirical_mixture_cmi(imgs[:, :10], 0.3, regs[0])


def test_mixture_profile_shares_samples(rng):
    s = _cov(rng, 49)
    gm = GaussianMixture(np.ones(1), np.zeros((1, 49)), np.full((1, 49), 0.1), np.linalg.cholesky(s)[None])
    regs = [paper_regions(r, size=7) for r in (1, 2)]
    prof = mixture_cmi_profile(gm, 0.4, regs, n_mc=20000, seed=0)
    for reg, p in zip(regs, prof):
        exact = gaussian_cmi(s + 0.1 * np.eye(49), 0.4, reg)
        assert abs(p.value - exact) < 4 * p.stderr + 1e-3


def test_fit_mixture_recovers_low_rank_gaussian(rng):
    d, q = 8, 2
    w = rng.standard_normal((d, q))
    s = w @ w.T + 0.2 * np.eye(d)
    x = rng.multivariate_normal(np.ones(d), s, size=20000)
    gm = fit_mixture(x, n_components=1, rank=q, seed=0)
    cov = np.diag(gm.diag[0]) + gm.factors[0] @ gm.factors[0].T
    np.testing.assert_allclose(cov, s, atol=0.1)
    np.testing.assert_allclose(gm.means[0], np.ones(d), atol=0.05)
    with pytest.raises(ValueError, match="NaN"):
        fit_mixture(np.full((100, 3), np.nan), n_components=1, rank=1)


def _planted_mfa(rng, d=10, q=2, k=3, n=3000):
    """Samples of a well-separated mixture of factor analysers (K components, rank q)."""
    means = 3.0 * rng.standard_normal((k, d))
    gm = GaussianMixture(np.array([0.5, 0.3, 0.2])[:k], means, rng.uniform(0.05, 0.3, (k, d)),
                         0.7 * rng.standard_normal((k, d, q)))
    return gm, gm.sample(n, seed=rng)


def test_em_raises_the_likelihood_every_step(rng):
    """EM's defining property, measured by the independent Woodbury ``logpdf``; the step reports the old one."""
    _, x = _planted_mfa(rng)
    gm = fit_mixture(x, n_components=3, rank=2, seed=1)
    lls = [gm.logpdf(x).mean()]
    for _ in range(6):
        new, reported = _mfa_em_step(gm, x, min_var=1e-3, chunk=700)  # chunks that do not divide n
        assert reported == pytest.approx(lls[-1], abs=1e-9)
        gm = new
        lls.append(gm.logpdf(x).mean())
    assert np.all(np.diff(lls) >= -1e-9), lls
    assert lls[-1] > lls[0] + 1e-3
    assert fit_mixture(x, n_components=3, rank=2, seed=1, em_steps=6).logpdf(x).mean() == pytest.approx(lls[-1])


def test_em_one_diagonal_component_gives_the_sample_moments(rng):
    x = rng.standard_normal((500, 4)) * [1.0, 2.0, 0.5, 3.0] + 1.0
    start = GaussianMixture(np.ones(1), np.zeros((1, 4)), np.ones((1, 4)), np.zeros((1, 4, 0)))
    gm, _ = _mfa_em_step(start, x, min_var=1e-6)
    np.testing.assert_allclose(gm.means[0], x.mean(0), atol=1e-12)
    np.testing.assert_allclose(gm.diag[0], x.var(0), atol=1e-12)


def test_em_converges_to_a_factor_analysis_stationary_point(rng):
    """One component: the maximum-likelihood conditions of factor analysis, diag(Sigma) = diag(S) and
    S Sigma^{-1} W = W (Joreskog), with mu the sample mean."""
    d, q = 6, 2
    w = rng.standard_normal((d, q))
    x = rng.multivariate_normal(np.zeros(d), w @ w.T + np.diag(rng.uniform(0.2, 1.0, d)), size=4000)
    gm = fit_mixture(x, n_components=1, rank=q, seed=0, em_steps=1500)
    s = np.cov(x, rowvar=False, bias=True)
    wf = gm.factors[0]
    sig = np.diag(gm.diag[0]) + wf @ wf.T
    np.testing.assert_allclose(gm.means[0], x.mean(0), atol=1e-8)
    np.testing.assert_allclose(np.diag(sig), np.diag(s), rtol=1e-6)
    np.testing.assert_allclose(s @ np.linalg.solve(sig, wf), wf, atol=1e-5)
    # a starting point (PPCA) that is not stationary: the conditions are not automatic
    gm0 = fit_mixture(x, n_components=1, rank=q, seed=0)
    sig0 = np.diag(gm0.diag[0]) + gm0.factors[0] @ gm0.factors[0].T
    assert np.abs(s @ np.linalg.solve(sig0, gm0.factors[0]) - gm0.factors[0]).max() > 1e-3


def test_em_drops_a_component_that_explains_no_sample(rng):
    """Regression: a component far from every sample got a singular M-step (LinAlgError) instead of being dropped."""
    _, x = _planted_mfa(rng)
    gm = fit_mixture(x, n_components=3, rank=2, seed=1)
    far = GaussianMixture(np.append(gm.weights * 0.99, 0.01), np.vstack([gm.means, np.full((1, x.shape[1]), 1e3)]),
                          np.vstack([gm.diag, gm.diag[:1]]), np.concatenate([gm.factors, gm.factors[:1]]))
    new, _ = _mfa_em_step(far, x, min_var=1e-3)
    assert new.weights.size == 3
    ref, _ = _mfa_em_step(gm, x, min_var=1e-3)
    np.testing.assert_allclose(new.means, ref.means, atol=1e-6)  # the far component took no responsibility


def test_blas_kmeans_agrees_with_scipy_on_separated_clusters(rng):
    """Two independent k-means implementations give the same partition (up to relabelling) where it is unique,
    and the planted one; the fitted mixtures then agree too."""
    from classical.information.references import _kmeans_blas

    true_gm, x = _planted_mfa(rng, d=12, k=3, n=1500)
    comp = np.argmin(((x[:, None, :] - true_gm.means[None]) ** 2).sum(2), axis=1)  # nearest planted mean
    lab = _kmeans_blas(x, 3, np.random.default_rng(4), iters=20)
    from scipy.cluster.vq import kmeans2

    _, lab_scipy = kmeans2(x, 3, iter=20, minit="++", seed=np.random.default_rng(4))
    for other in (comp, lab_scipy):
        table = np.zeros((3, 3), int)
        np.add.at(table, (lab, other), 1)
        assert (table > 0).sum() == 3, table  # a permutation matrix: identical partitions
    a = fit_mixture(x, n_components=3, rank=2, seed=1, kmeans="blas")
    b = fit_mixture(x, n_components=3, rank=2, seed=1, kmeans="scipy")
    assert a.logpdf(x).mean() == pytest.approx(b.logpdf(x).mean(), abs=1e-9)


def test_blas_kmeans_lowers_the_inertia_and_handles_duplicates(rng):
    """Lloyd iterations never raise the within-cluster sum of squares; duplicated points (zero distances in the
    seeding) neither crash nor produce NaN centres."""
    from classical.information.references import _kmeans_blas

    x = np.vstack([rng.standard_normal((300, 5)), np.zeros((200, 5))])

    def inertia(lab):
        return sum(((x[lab == j] - x[lab == j].mean(0)) ** 2).sum() for j in np.unique(lab))

    values = [inertia(_kmeans_blas(x, 6, np.random.default_rng(2), iters=it)) for it in (0, 1, 5, 20)]
    assert np.all(np.diff(values) <= 1e-9), values
    lab = _kmeans_blas(np.zeros((50, 3)), 4, np.random.default_rng(0), iters=3)
    assert lab.shape == (50,)
    with pytest.raises(ValueError, match="kmeans"):
        fit_mixture(x, n_components=2, rank=1, kmeans="sklearn")


@pytest.mark.parametrize("bad", [-1, 1.5])
def test_fit_mixture_rejects_bad_em_steps(rng, bad):
    with pytest.raises(ValueError, match="em_steps"):
        fit_mixture(rng.standard_normal((100, 3)), n_components=1, rank=1, em_steps=bad)


def test_exact_terms_identities_and_one_component_closed_form(rng):
    """exact_terms on one full-rank Gaussian (9 x 9 field): CMI = H(A|B) - H(A|BC) = I(A:BC) - I(A:B) per
    sample, and each term equals its closed form (Gaussian conditional variances) within 4 SE."""
    from classical.information.validation import exact_terms

    d = 81
    ii, jj = np.divmod(np.arange(d), 9)
    cov = np.exp(-np.hypot(ii[:, None] - ii[None, :], jj[:, None] - jj[None, :]) / 2.0)
    w, lam = np.linalg.eigh(cov)
    gm = GaussianMixture(np.ones(1), np.zeros((1, d)), np.full((1, d), 1e-3), (lam * np.sqrt(w))[None])
    t = 0.3
    res = exact_terms(gm, t, (1, 2), n_mc=3000, seed=1)
    cov_t = (1 - t) ** 2 * (cov + 1e-3 * np.eye(d)) + t**2 * np.eye(d)
    full = cov + 1e-3 * np.eye(d)

    def cond_var(u):  # Var(x_A | x_U) by the Schur complement
        return cov_t[40, 40] - cov_t[40, u] @ np.linalg.solve(cov_t[np.ix_(u, u)], cov_t[u, 40])

    v_full = cond_var(np.setdiff1d(np.arange(d), [40]))
    for k, r in enumerate((1, 2)):
        v_b = cond_var(paper_regions(r, size=9).b)
        cmi, hb, hf, mb, mf = (res[n][k] for n in ("cmi", "h_b", "h_full", "mi_b", "mi_full"))
        assert cmi[0] == pytest.approx(hb[0] - hf[0], abs=1e-10)
        assert cmi[0] == pytest.approx(mf[0] - mb[0], abs=1e-10)
        exact = gaussian_cmi(full, t, paper_regions(r, size=9))
        assert abs(cmi[0] - exact) < 4 * cmi[1] + 1e-3
        assert abs(hf[0] - 0.5 * np.log(2 * np.pi * np.e * v_full)) < 4 * hf[1] + 1e-3
        assert abs(hb[0] - 0.5 * np.log(2 * np.pi * np.e * v_b)) < 4 * hb[1] + 1e-3
        assert abs(mf[0] - 0.5 * np.log(cov_t[40, 40] / v_full)) < 4 * mf[1] + 1e-3
        assert abs(mb[0] - 0.5 * np.log(cov_t[40, 40] / v_b)) < 4 * mb[1] + 1e-3


@pytest.mark.parametrize("q", [0, 3])
def test_marginal_logpdfs_equal_separate_marginals(rng, q):
    """The atom-wise, all-components-at-once evaluation equals K-loop logpdf of each marginal; empty mask -> 0."""
    d, k = 12, 4
    gm = GaussianMixture(rng.dirichlet(np.ones(k)), rng.standard_normal((k, d)), rng.uniform(0.05, 1, (k, d)),
                         rng.standard_normal((k, d, q)))
    x = rng.standard_normal((37, d))
    masks = np.zeros((5, d), dtype=bool)
    masks[0, [3]] = True
    masks[1, [3, 4, 5]] = True
    masks[2, rng.permutation(d)[:7]] = True
    masks[3] = True
    lp = gm.marginal_logpdfs(x, masks, chunk=10)
    for j in range(4):
        idx = np.flatnonzero(masks[j])
        np.testing.assert_allclose(lp[j], gm.marginal(idx).logpdf(x[:, idx]), rtol=1e-11, atol=1e-11)
    assert np.all(lp[4] == 0.0)
    np.testing.assert_allclose(lp[3], gm.logpdf(x), rtol=1e-11)
    with pytest.raises(ValueError, match="masks must have shape"):
        gm.marginal_logpdfs(x, masks[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        gm.marginal_logpdfs(np.full_like(x, np.nan), masks)
    with pytest.raises(ValueError, match="diag"):
        GaussianMixture(np.ones(1), np.zeros((1, d)), np.zeros((1, d)), np.zeros((1, d, 0))).marginal_logpdfs(x, masks)
