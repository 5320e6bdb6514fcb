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
