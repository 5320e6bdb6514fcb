"""Locality vs CMI (closed form vs Monte Carlo, exact zeros, Pinsker), recovery grid and hybrid schedules."""

import math

import numpy as np
import pytest
import torch

from classical.ideal import IdealDenoiser
from classical.locality import (
    crop_geometry,
    empirical_locality_cmi,
    first_crossing,
    gaussian_locality_cmi,
    hybrid_schedules,
    recovery_grid,
)
from classical.sampling import step_assignment, validate_schedule


def _gaussian_field(rng, shape=(5, 5), length=1.5):
    """A smooth stationary-ish field: squared-exponential covariance plus a little white noise."""
    ii, jj = np.meshgrid(*(np.arange(s) for s in shape), indexing="ij")
    pts = np.stack([ii.ravel(), jj.ravel()], 1)
    d2 = ((pts[:, None] - pts[None]) ** 2).sum(-1)
    cov = 0.05 * np.exp(-d2 / (2 * length**2)) + 0.005 * np.eye(len(pts))
    return rng.uniform(0.2, 0.4, size=len(pts)), cov


def test_gaussian_closed_form_agrees_with_monte_carlo(rng):
    """Delta (law of total variance) and I (log variance ratio) against MC averages of the per-sample terms."""
    shape, n = (5, 5), 100_000
    mean, cov = _gaussian_field(rng, shape)
    rho = crop_geometry(shape).ravel()
    a = int(np.flatnonzero(rho == 0)[0])
    res = gaussian_locality_cmi(mean, cov, [0.3, 0.7], [1], shape=shape)
    for i, t in enumerate(res.t):
        x0 = rng.multivariate_normal(mean, cov, size=n)
        xt = (1 - t) * x0 + t * rng.normal(size=x0.shape)

        def posterior(u, x0=x0, xt=xt, t=t):
            st = (1 - t) ** 2 * cov[np.ix_(u, u)] + t**2 * np.eye(u.size)
            gain = (1 - t) * np.linalg.solve(st, cov[u, a])
            m = mean[a] + (xt[:, u] - (1 - t) * mean[u]) @ gain
            v = cov[a, a] - (1 - t) * cov[a, u] @ gain
            return m, v

        m_all, v_all = posterior(np.arange(rho.size))
        m_u, v_u = posterior(np.flatnonzero(rho <= 1))
        d = (m_u - m_all) ** 2
        logratio = (-0.5 * (x0[:, a] - m_all) ** 2 / v_all - 0.5 * math.log(v_all)
                    + 0.5 * (x0[:, a] - m_u) ** 2 / v_u + 0.5 * math.log(v_u))
        assert res.delta[i, 0] > 0 and res.cmi[i, 0] > 0
        assert abs(d.mean() - res.delta[i, 0]) < 4 * d.std() / math.sqrt(n)
        assert abs(logratio.mean() - res.cmi[i, 0]) < 4 * logratio.std() / math.sqrt(n)


def test_gaussian_full_ball_and_independent_outside_give_zero(rng):
    mean, cov = _gaussian_field(rng, (5, 5))
    res = gaussian_locality_cmi(mean, cov, [0.5], [2], shape=(5, 5))  # the ball r = 2 is the whole 5x5 image
    assert abs(res.delta[0, 0]) < 1e-14 and abs(res.cmi[0, 0]) < 1e-14 and np.isnan(res.ratio[0, 0])
    rho = crop_geometry((5, 5)).ravel()
    inner = rho <= 1
    block = cov * (inner[:, None] == inner[None, :])  # C independent of the ball
    res = gaussian_locality_cmi(mean, block, [0.5], [1], shape=(5, 5))
    assert abs(res.delta[0, 0]) < 1e-14 and abs(res.cmi[0, 0]) < 1e-14


def _product_dataset(rng, n_in=4, n_out=5, size=5):
    """Every combination of n_in inner 3x3 patterns and n_out outer frames: x_C independent of x_{A u B_1}."""
    rho = crop_geometry((size, size))
    inner = rng.integers(0, 3, size=(n_in, size, size)) / 2 * (rho <= 1)
    outer = rng.integers(0, 3, size=(n_out, size, size)) / 2 * (rho > 1)
    return (inner[:, None] + outer[None]).reshape(-1, 1, size, size)


def test_empirical_zero_when_outside_is_independent(rng):
    res = empirical_locality_cmi(_product_dataset(rng), [0.2, 0.6], [1], n_samples=500, seed=1, crop=False)
    np.testing.assert_allclose(res.delta, 0.0, atol=1e-20)
    np.testing.assert_allclose(res.cmi, 0.0, atol=1e-12)


def test_empirical_delta_agrees_with_ideal_denoisers_and_pinsker_holds(rng):
    """Delta two ways: the estimator's ring-by-ring weights vs IdealDenoiser (unfold) local minus global at A."""
    images = (rng.uniform(size=(40, 1, 7, 7)) > 0.5) * rng.integers(0, 5, size=(40, 1, 7, 7)) / 4.0
    t, n = 0.45, 4000
    res = empirical_locality_cmi(images, [t], [1, 2], n_samples=n, seed=2, crop=False)
    idx = rng.integers(0, 40, n)
    x0 = torch.from_numpy(images[idx])
    xt = (1 - t) * x0 + t * torch.from_numpy(rng.normal(size=x0.shape))
    glob = IdealDenoiser(images, dtype=torch.float64).denoise(xt, t)[:, 0, 3, 3]
    for j, r in enumerate((1, 2)):
        d = ((IdealDenoiser(images, radius=r, dtype=torch.float64).denoise(xt, t)[:, 0, 3, 3] - glob) ** 2).numpy()
        se = math.hypot(d.std() / math.sqrt(n), res.delta_se[0, j])
        assert abs(d.mean() - res.delta[0, j]) < 4 * se
        assert res.delta[0, j] > 10 * res.delta_se[0, j]  # a clearly non-zero excess MSE
        assert res.delta[0, j] <= res.bound[0, j] + 3 * (res.delta_se[0, j] + 0.5 * res.cmi_se[0, j])
    assert res.cmi[0, 0] > res.cmi[0, 1] > 0  # more context, less left to learn from C


def test_empirical_limits_t1_and_bad_input(rng):
    images = rng.uniform(size=(10, 1, 28, 28))
    res = empirical_locality_cmi(images, [1.0], [1, 12], n_samples=50)
    assert res.delta.shape == (1, 2) and np.all(np.abs(res.delta) < 1e-25) and np.all(np.abs(res.cmi) < 1e-12)
    with pytest.raises(ValueError, match="t must"):
        empirical_locality_cmi(images, [0.0], [1])
    with pytest.raises(ValueError, match="radii"):
        empirical_locality_cmi(images, [0.5], [14])
    with pytest.raises(ValueError, match="empty"):
        empirical_locality_cmi(images[:0], [0.5], [1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        empirical_locality_cmi(images * 3, [0.5], [1])
    with pytest.raises(ValueError, match="shape"):
        gaussian_locality_cmi(np.zeros(4), np.eye(4), [0.5], [1])


def test_first_crossing():
    t = [0.1, 0.2, 0.3, 0.4]
    assert first_crossing(t, [0.01, 0.02, 0.04, 0.08], 0.03) == pytest.approx(0.25)
    assert math.isnan(first_crossing(t, [0.001] * 4))
    with pytest.raises(ValueError):
        first_crossing(t[::-1], [0.0] * 4)


def test_recovery_grid_ideal_global_recovers_training_images(rng):
    images = torch.from_numpy(rng.uniform(size=(6, 1, 6, 6)))
    models = {"ideal global": IdealDenoiser(images, dtype=torch.float64),
              "ideal R=1": IdealDenoiser(images, radius=1, dtype=torch.float64)}
    grid = recovery_grid(models, images, [0.1, 0.3], seed=0)
    assert grid.mse.shape == (2, 2) and grid.names == ("ideal global", "ideal R=1")
    assert np.all(grid.row("ideal global") < 1e-10)  # memorisation: a training image is recovered exactly
    assert grid.row("ideal R=1")[-1] > 1e-4  # a 3x3 patch no longer identifies the image at t = 0.3
    with pytest.raises(ValueError):
        recovery_grid(models, images, [0.3, 0.1])


def test_hybrid_schedules_tile_and_use_global_only_in_window():
    glob, loc = (lambda x, t: x), (lambda x, t: -x)
    sch = hybrid_schedules(glob, {"ideal R=3": loc}, (0.2, 0.5))
    assert set(sch) == {"global", "hybrid ideal R=3"}
    segs = validate_schedule(sch["hybrid ideal R=3"])
    users = [segs[i].model for i in step_assignment(segs, 32)]
    assert sum(u is glob for u in users) == 10 and sum(u is loc for u in users) == 22
    validate_schedule(hybrid_schedules(glob, {"l": loc}, (0.0, 1.0))["hybrid l"])
    with pytest.raises(ValueError):
        hybrid_schedules(glob, {"l": loc}, (0.5, 0.2))
