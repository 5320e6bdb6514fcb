"""Linear path, velocity/noise/clean/score conversions and their link to the reverse Fokker-Planck drift."""

import pytest
import torch

from classical.path import (
    check_time,
    clean_to_velocity,
    flow_matching_loss,
    gaussian_score,
    gaussian_velocity,
    interpolate,
    noise_to_velocity,
    reverse_sde_drift,
    sample_logit_normal,
    score_to_velocity,
    velocity_to_clean,
    velocity_to_noise,
    velocity_to_score,
)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(5, 1, 4, 4, generator=g, dtype=torch.float64)
    z = torch.randn(5, 1, 4, 4, generator=g, dtype=torch.float64)
    t = torch.rand(5, generator=g, dtype=torch.float64) * 0.9 + 0.05
    return x0, z, t


def test_endpoints_and_exact_targets(batch):
    x0, z, t = batch
    assert torch.equal(interpolate(x0, z, 0.0), x0) and torch.equal(interpolate(x0, z, 1.0), z)
    xt = interpolate(x0, z, t)
    v = z - x0  # exact velocity of one pair
    torch.testing.assert_close(velocity_to_clean(v, xt, t), x0)
    torch.testing.assert_close(velocity_to_noise(v, xt, t), z)
    assert flow_matching_loss(v, x0, z, t) < 1e-25


@pytest.mark.parametrize("tol", [1e-10])
def test_round_trips(batch, tol):
    x0, z, t = batch
    xt = interpolate(x0, z, t)
    v = torch.randn_like(xt)
    torch.testing.assert_close(clean_to_velocity(velocity_to_clean(v, xt, t), xt, t), v, atol=tol, rtol=tol)
    torch.testing.assert_close(noise_to_velocity(velocity_to_noise(v, xt, t), xt, t), v, atol=tol, rtol=tol)
    torch.testing.assert_close(score_to_velocity(velocity_to_score(v, xt, t), xt, t), v, atol=tol, rtol=tol)


def _gauss(d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return torch.randn(d, generator=g, dtype=torch.float64), a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


@pytest.mark.parametrize("t", [0.1, 0.5, 0.9])
def test_gaussian_velocity_equals_fokker_planck_drift_of_score(t, tol=1e-10):
    """v = f x - g^2 s / 2 (probability flow) with the independent closed-form score; lam=0 drift = -v."""
    m, cov = _gauss()
    x = torch.randn(7, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    v = gaussian_velocity(x, t, m, cov)
    s = gaussian_score(x, t, m, cov)
    img = lambda a: a.reshape(7, 1, 1, 3)
    torch.testing.assert_close(score_to_velocity(img(s), img(x), t), img(v), atol=tol, rtol=tol)
    torch.testing.assert_close(reverse_sde_drift(img(v), img(x), t, lam=0.0), -img(v), atol=tol, rtol=tol)
    # lam = 1: Bayes reverse drift -f x + g^2 s
    f, g2 = -1 / (1 - t), 2 * t / (1 - t)
    torch.testing.assert_close(reverse_sde_drift(img(v), img(x), t, lam=1.0), img(-f * x + g2 * s), atol=tol,
                               rtol=tol)


def test_gaussian_velocity_is_the_regression_of_z_minus_x0(n=400_000, t=0.4, tol=0.02):
    """Monte-Carlo: least-squares fit of z - x0 on x_t (linear in 1-D Gaussian data) matches the closed form."""
    g = torch.Generator().manual_seed(3)
    m, var = 0.3, 0.2
    x0 = m + var**0.5 * torch.randn(n, generator=g, dtype=torch.float64)
    z = torch.randn(n, generator=g, dtype=torch.float64)
    xt = (1 - t) * x0 + t * z
    a = torch.stack([xt, torch.ones_like(xt)], 1)
    coef = torch.linalg.lstsq(a, (z - x0)[:, None]).solution[:, 0]
    probe = torch.tensor([[-1.0], [0.0], [1.0]], dtype=torch.float64)
    exact = gaussian_velocity(probe, t, torch.tensor([m], dtype=torch.float64),
                              torch.tensor([[var]], dtype=torch.float64))[:, 0]
    torch.testing.assert_close(coef[0] * probe[:, 0] + coef[1], exact, atol=tol, rtol=0)


def test_logit_normal_median_and_range():
    t = sample_logit_normal(20000, torch.Generator().manual_seed(0))
    assert 0 < t.min() and t.max() < 1
    assert abs(t.median().item() - 0.5) < 0.02


def test_bad_inputs():
    x = torch.zeros(2, 1, 4, 4)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        interpolate(x, x, 1.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        check_time(torch.tensor([0.2, -0.1]), 2)
    with pytest.raises(ValueError, match="shape"):
        interpolate(torch.zeros(2, 4, 4), torch.zeros(2, 4, 4), 0.5)
    with pytest.raises(ValueError, match="singular"):
        velocity_to_score(x, x, 0.0)
    with pytest.raises(ValueError, match="singular"):
        noise_to_velocity(x, x, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        interpolate(x * float("nan"), x, 0.5)
