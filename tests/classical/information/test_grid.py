"""Amortised (t, r) grid vs per-cell estimates vs the exact Gaussian-field CMI; heat-map bookkeeping."""

import numpy as np
import pytest

from classical.information.estimators import estimate_cmi
from classical.information.grid import CMIGrid, cell_arrays, grid_masks, predictive_cmi_grid
from classical.information.heatmap import barrier, combine_repeats, converged_in_n, markov_lengths
from classical.information.references import gaussian_cmi
from classical.information.regions import paper_regions


def _field(side=7, ell=1.5):
    ii, jj = np.divmod(np.arange(side * side), side)
    dist = np.hypot(ii[:, None] - ii[None, :], jj[:, None] - jj[None, :])
    return np.exp(-dist / ell)


def test_masks():
    m = grid_masks((1, 2), 7)
    assert m.shape == (3, 49)
    assert m[0].sum() == 8 and m[1].sum() == 24 and m[2].sum() == 48 and m[2, 24] == 0


@pytest.mark.slow
def test_amortised_grid_agrees_with_per_cell_and_exact():
    """Gaussian field on 7 x 7: one amortised training vs one training per cell vs the closed form."""
    s = _field()
    rng = np.random.default_rng(0)
    x0 = rng.multivariate_normal(np.zeros(49), s, size=8000).reshape(-1, 7, 7)
    times, radii = (0.2, 0.6), (1, 2)
    g = predictive_cmi_grid(x0, times=times, radii=radii, steps=1500, hidden=128, seed=0)
    for i, t in enumerate(times):
        for k, r in enumerate(radii):
            exact = gaussian_cmi(s, t, paper_regions(r, size=7))
            a, c, b = cell_arrays(x0, t, r, seed=1)
            cell = estimate_cmi(a, c, b, seed=0, steps=1500)
            assert abs(g.value[i, k] - cell.value) < 0.05 + 3 * np.hypot(g.stderr[i, k], cell.stderr)
            assert abs(g.value[i, k] - exact) < 0.05 + 3 * g.stderr[i, k], (t, r, g.value[i, k], exact)


def test_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="odd"):
        predictive_cmi_grid(np.zeros((10, 6, 6)))
    with pytest.raises(ValueError, match="r must be"):
        predictive_cmi_grid(np.zeros((10, 7, 7)), radii=(3,))
    with pytest.raises(ValueError, match="too few images"):
        predictive_cmi_grid(np.zeros((10, 7, 7)), radii=(1,), times=(0.5,))


def _grid(values, errs=None):
    v = np.asarray(values, dtype=float)
    return CMIGrid(tuple(np.linspace(0, 1, v.shape[0])), tuple(range(1, v.shape[1] + 1)), v,
                   np.full_like(v, 1e-3) if errs is None else np.asarray(errs), "test")


def test_markov_length_uses_shared_fit_on_exact_exponential():
    r = np.arange(1, 9)
    rows = [0.5 * np.exp(-r / xi) for xi in (1.0, 2.0, 3.0)]
    fits = markov_lengths(_grid(rows, [0.01 * row for row in rows]))
    assert [f["xi"] for f in fits] == pytest.approx([1.0, 2.0, 3.0], rel=1e-8)


def test_barrier_finds_interior_peak_and_combine_repeats():
    v = np.array([[0.1], [0.3], [0.5], [0.2], [0.0]])
    b = barrier(_grid(v), 1)
    assert b.t_peak == pytest.approx(0.5) and b.interior and b.height == pytest.approx(0.5, abs=0.01)
    edge = barrier(_grid(v[::-1][2:]), 1)
    assert not edge.interior
    c = combine_repeats([_grid(v), _grid(v + 0.1)])
    assert c.value == pytest.approx(v + 0.05)
    assert np.all(c.stderr > 0.05)
    with pytest.raises(ValueError, match="not on the grid"):
        barrier(_grid(v), 4)


def test_converged_in_n():
    a = {10: np.array([0.1, 0.2]), 60: np.array([0.1, 0.05])}
    s = {10: np.array([0.001, 0.001]), 60: np.array([0.001, 0.001])}
    assert converged_in_n(a, s).tolist() == [True, False]


def test_linear_gaussian_conditionals_equal_closed_form_cmi(rng):
    """Schur-complement residual variances of the empirical covariance give the log-det closed form exactly."""
    from classical.information.grid import linear_gaussian_conditionals

    x0 = rng.multivariate_normal(np.zeros(49), _field(), size=500)
    emp = np.cov(x0, rowvar=False, bias=True)
    times = (0.0, 0.4, 1.0)
    w, c, v = linear_gaussian_conditionals(x0, times, grid_masks((1, 2), 7), 24, dequantise=False)
    for i, t in enumerate(times):
        for k, r in enumerate((1, 2)):
            exact = gaussian_cmi(emp, t, paper_regions(r, size=7))
            assert 0.5 * np.log(v[i, k] / v[i, -1]) == pytest.approx(exact, rel=1e-8, abs=1e-12)
    # the predictor is the regression of x_t,A on x_t,U: zero weight on hidden pixels, unbiased on average
    assert np.all(w[:, 0, grid_masks((1,), 7)[0] == 0] == 0)
    xt = 0.6 * x0 + 0.4 * rng.standard_normal(x0.shape)
    assert np.mean(xt @ w[1, 1] + c[1, 1]) == pytest.approx(np.mean(xt[:, 24]), abs=0.05)
    with pytest.raises(ValueError, match="hide A"):
        linear_gaussian_conditionals(x0, times, np.ones((1, 49)), 24)


def _small_mixture(rng, side=7, k=3, q=2):
    from classical.information.references import GaussianMixture

    d = side * side
    field = np.linalg.cholesky(_field(side, 1.2))
    means = rng.standard_normal((k, d)) @ field.T
    factors = np.stack([field @ rng.standard_normal((d, q)) * 0.7 for _ in range(k)])
    return GaussianMixture(np.full(k, 1.0 / k), means, np.full((k, d), 0.05), factors)


def test_mixture_model_grid_matches_exact_mixture_cmi():
    """Data from a 3-component rank-2 mixture on 7 x 7: the fitted-mixture grid = the exact MC CMI of the true
    mixture (an independent computation) within 4 combined SE + 0.01; the under-sized candidate (1 component,
    rank 0) has the larger validation cross-entropy and is not chosen; its own estimate is far off."""
    from classical.information.grid import mixture_model_cmi_grid
    from classical.information.references import mixture_cmi

    rng = np.random.default_rng(3)
    gm = _small_mixture(rng)
    x0 = gm.sample(12000, seed=4).reshape(-1, 7, 7)
    times, radii = (0.1, 0.4), (1, 2)
    g = mixture_model_cmi_grid(x0, times=times, radii=radii, seed=0, candidates=((1, 0), (3, 2)))
    assert g.diagnostics["chosen"] == [3, 2]
    vals = [c["val_nll"] for c in g.diagnostics["candidates"]]
    assert vals[1] < vals[0]
    worst = 0.0
    for i, t in enumerate(times):
        for k, r in enumerate(radii):
            ex = mixture_cmi(gm, t, paper_regions(r, size=7), n_mc=20000, seed=1)
            assert ex.value > 0.015
            assert abs(g.value[i, k] - ex.value) < 0.01 + 4 * np.hypot(g.stderr[i, k], ex.stderr), (t, r)
    small = mixture_model_cmi_grid(x0, times=times, radii=radii, seed=0, candidates=((1, 0),))
    for i, t in enumerate(times):
        ex = mixture_cmi(gm, t, paper_regions(1, size=7), n_mc=20000, seed=1)
        worst = max(worst, abs(small.value[i, 0] - ex.value))
    assert worst > 0.02  # the control: a mis-specified model gives a wrong answer
    assert np.asarray(g.diagnostics["term_nll"]).shape == (2, 3)


def test_mixture_model_grid_rejects_bad_input():
    from classical.information.grid import mixture_model_cmi_grid

    x = np.random.default_rng(0).random((300, 7, 7))
    with pytest.raises(ValueError, match="candidates"):
        mixture_model_cmi_grid(x, radii=(1,), times=(0.5,), candidates=())
    with pytest.raises(ValueError, match="test_fraction"):
        mixture_model_cmi_grid(x, radii=(1,), times=(0.5,), test_fraction=0.9, val_fraction=0.2)
    with pytest.raises(ValueError, match="val_fraction > 0"):
        mixture_model_cmi_grid(x, radii=(1,), times=(0.5,), val_fraction=0.0)
    with pytest.raises(ValueError, match="r must be"):
        mixture_model_cmi_grid(x, radii=(4,), times=(0.5,))
    with pytest.raises(ValueError, match="samples"):
        mixture_model_cmi_grid(x, radii=(1,), times=(0.5,), candidates=((100, 5),))


def test_mixture_features_are_the_exact_mixture_conditional():
    """The torch features give ln sum_k resp_k N(a; m_k, v_k) = ln q(a, x_U) - ln q(x_U) computed
    by marginal_logpdfs (an independent evaluation), for every mask and two t."""
    import torch

    from classical.information.grid import _mixture_term_nll, _MixtureFeatures

    rng = np.random.default_rng(5)
    gm = _small_mixture(rng)
    times, radii = (0.05, 0.5), (1, 2)
    a = int(paper_regions(1, size=7).a[0])
    masks = grid_masks(radii, 7) > 0
    feat = _MixtureFeatures(gm, times, masks, a, torch.device("cpu"))
    for i, t in enumerate(times):
        x = gm.diffuse(t).sample(300, seed=i)
        for k in range(len(masks)):
            resp, mean, var = (v.double().numpy() for v in feat(torch.as_tensor(x, dtype=torch.float32),
                                                                 torch.full((300,), i), torch.full((300,), k)))
            dens = resp * np.exp(-0.5 * (x[:, a, None] - mean) ** 2 / var) / np.sqrt(2 * np.pi * var)
            expect = -_mixture_term_nll(gm.diffuse(t), x, masks[k:k + 1], a)[0]
            np.testing.assert_allclose(np.log(dens.sum(1)), expect, atol=2e-4)


def test_grid_rejects_bad_features():
    x = np.random.default_rng(0).random((400, 7, 7))
    with pytest.raises(ValueError, match="features must be"):
        predictive_cmi_grid(x, radii=(1,), times=(0.5,), features="pca")
    for bad in ([(0, 5)], [], [(30, 5, 1)], [(30, -1)], (30, 5)):  # the last: one pair, not a sequence of pairs
        with pytest.raises(ValueError, match="mixture_sizes"):
            predictive_cmi_grid(x, radii=(1,), times=(0.5,), mixture_sizes=bad)
    with pytest.raises(ValueError, match="mixture_em_steps"):
        predictive_cmi_grid(x, radii=(1,), times=(0.5,), mixture_em_steps=-1)


@pytest.mark.slow
def test_mixture_features_grid_matches_exact_and_beats_pixels_only():
    """Data from a 3-component rank-2 mixture on 7 x 7 (not the features' (5, 2) size): with mixture features
    the amortised grid is within 0.015 + 4 SE of the exact MC CMI at every cell, and its held-out cross-entropy
    is no worse than the pixels-only model's on every term (paired: same split, noise and batches)."""
    from classical.information.references import mixture_cmi

    rng = np.random.default_rng(3)
    gm = _small_mixture(rng)
    x0 = gm.sample(12000, seed=4).reshape(-1, 7, 7)
    times, radii = (0.1, 0.4), (1, 2)
    kw = dict(times=times, radii=radii, seed=0, steps=1500, hidden=128)
    g = predictive_cmi_grid(x0, features="mixture", mixture_sizes=[(5, 2)], **kw)
    plain = predictive_cmi_grid(x0, features="none", **kw)
    for i, t in enumerate(times):
        for k, r in enumerate(radii):
            ex = mixture_cmi(gm, t, paper_regions(r, size=7), n_mc=20000, seed=1)
            assert abs(g.value[i, k] - ex.value) < 0.015 + 4 * np.hypot(g.stderr[i, k], ex.stderr), (t, r)
    tn, tp = np.asarray(g.diagnostics["term_nll"]), np.asarray(plain.diagnostics["term_nll"])
    assert np.all(tn <= tp + 0.005), tn - tp


def test_feature_mixture_keeps_the_best_validation_likelihood_and_skips_small_fits():
    """The grid's feature candidates: the kept fit is the one with the highest validation log-likelihood (the
    planted (3, 2) over an under-sized (1, 0)); a candidate with fewer than 100 training images per component is
    skipped; with none eligible the one with the fewest components is used, cut to 100 images per component."""
    from classical.information.grid import _feature_mixture

    rng = np.random.default_rng(5)
    x = _small_mixture(rng).sample(2000, seed=6)
    xtr, xva = x[:1500], x[1500:]
    fit, report, chosen = _feature_mixture(xtr, xva, [(1, 0), (3, 2)], np.random.default_rng(0), em_steps=2)
    vals = [r["val_loglik"] for r in report]
    assert chosen == (3, 2) and vals[1] > vals[0] + 1.0, report
    assert fit.logpdf(xva).mean() == pytest.approx(vals[1])
    _, report, chosen = _feature_mixture(xtr, xva, [(20, 1), (3, 2)], np.random.default_rng(0), em_steps=0)
    assert chosen == (3, 2) and [(r["components"], r["rank"]) for r in report] == [(3, 2)]
    _, report, chosen = _feature_mixture(xtr, xva, [(30, 1), (20, 2)], np.random.default_rng(0), em_steps=0)
    assert chosen == (15, 2) and len(report) == 1
    _, report, chosen = _feature_mixture(xtr[:50], xva, [(30, 1)], np.random.default_rng(0), em_steps=0)
    assert chosen == (1, 1) and report[0]["fitted_components"] == 1
