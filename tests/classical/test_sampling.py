"""Euler sampler with the exact velocity of Gaussian data; hybrid schedules."""

import numpy as np
import pytest
import torch

from classical.path import gaussian_velocity
from classical.sampling import (
    NonFiniteVelocityError,
    Segment,
    denoise_from,
    euler_sample,
    hybrid_sample,
    reverse_sde_sample,
    step_assignment,
)

D = 4  # data dimension, laid out as 2x2 images


def _gauss(seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(D, D, generator=g, dtype=torch.float64)
    cov = a @ a.T / D + 0.05 * torch.eye(D, dtype=torch.float64)
    return 0.5 * torch.randn(D, generator=g, dtype=torch.float64), cov


def _exact_model(mean, cov):
    def v(x, t):
        assert torch.all(t == t[0])
        return gaussian_velocity(x.reshape(-1, D), float(t[0]), mean, cov).reshape(x.shape)
    return v


def _affine_map(model, n_steps):
    """The Euler map of a linear velocity is affine, x0 = A x1 + b: push 0 and the basis vectors through it."""
    pts = torch.cat([torch.zeros(1, D), torch.eye(D)]).to(torch.float64).reshape(-1, 1, 2, 2)
    out = euler_sample(model, pts, n_steps).reshape(-1, D)
    return out[1:] - out[0], out[0]  # rows of A^T, b


def test_exact_velocity_reproduces_gaussian_covariance_with_first_order_convergence(min_slope=0.8, max_slope=1.2):
    mean, cov = _gauss()
    model = _exact_model(mean, cov)
    steps = [16, 32, 64, 128, 256]
    errs = []
    for n in steps:
        at, b = _affine_map(model, n)
        cov_n = at.T @ at  # covariance of A z for z ~ N(0, I)
        errs.append(float(torch.linalg.norm(cov_n - cov) + torch.linalg.norm(b - mean)))
    print("covariance+mean error vs steps", dict(zip(steps, errs)))
    slope = -np.polyfit(np.log(steps), np.log(errs), 1)[0]
    assert min_slope < slope < max_slope, (errs, slope)
    assert errs[-1] < 0.02 * float(torch.linalg.norm(cov))


def test_sampled_covariance_matches(n=20000, n_steps=64, tol=0.05):
    mean, cov = _gauss()
    x1 = torch.randn(n, 1, 2, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    x0 = euler_sample(_exact_model(mean, cov), x1, n_steps).reshape(n, D)
    emp = torch.cov(x0.T)
    assert torch.linalg.norm(emp - cov) < tol * torch.linalg.norm(cov)
    assert torch.linalg.norm(x0.mean(0) - mean) < tol


def test_hybrid_of_identical_models_equals_single_model():
    mean, cov = _gauss()
    m = _exact_model(mean, cov)
    x1 = torch.randn(5, 1, 2, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    segs = [Segment(0.0, 0.2, m), Segment(0.2, 0.5, m), Segment(0.5, 1.0, m)]
    torch.testing.assert_close(hybrid_sample(segs, x1, 32), euler_sample(m, x1, 32), atol=0, rtol=0)


def test_step_assignment_of_transition_window():
    f, g = (lambda x, t: x), (lambda x, t: -x)
    segs = [Segment(0.5, 1.0, f), Segment(0.2, 0.5, g), Segment(0.0, 0.2, f)]
    assign = step_assignment(segs, 32)  # indices into the sorted schedule: 0 = [0,.2], 1 = [.2,.5], 2 = [.5,1]
    assert assign.count(2) == 16 and assign.count(1) == 10 and assign.count(0) == 6
    assert assign == sorted(assign, reverse=True)


def test_denoise_from_uses_ceil_steps():
    calls = []

    def m(x, t):
        calls.append(float(t[0]))
        return torch.zeros_like(x)

    denoise_from(m, torch.zeros(1, 1, 2, 2), 0.3, steps_per_unit=32)
    assert len(calls) == 10 and abs(calls[0] - 0.3) < 1e-7


def test_bad_schedules():
    m = lambda x, t: x
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match="gap"):
        hybrid_sample([Segment(0.0, 0.4, m), Segment(0.5, 1.0, m)], x)
    with pytest.raises(ValueError, match="overlap"):
        hybrid_sample([Segment(0.0, 0.6, m), Segment(0.5, 1.0, m)], x)
    with pytest.raises(ValueError, match="gap"):
        hybrid_sample([Segment(0.1, 1.0, m)], x)
    with pytest.raises(ValueError, match="t_lo"):
        hybrid_sample([Segment(0.0, 1.5, m)], x)
    with pytest.raises(ValueError, match="empty"):
        hybrid_sample([], x)
    with pytest.raises(ValueError, match="shape"):
        euler_sample(m, torch.zeros(2, 2), 4)
    with pytest.raises(ValueError, match="t_f"):
        denoise_from(m, x, 1.5)


def test_bayes_reverse_sde_reproduces_gaussian_and_lam0_equals_euler(n=20000, t0=0.9, tol=0.06):
    """lam = 1 (Petz/Bayes reverse SDE) from the exact marginal at t0 recovers N(m, cov); lam = 0 is the ODE."""
    from classical.sampling import reverse_sde_sample

    mean, cov = _gauss()
    model = _exact_model(mean, cov)
    g = torch.Generator().manual_seed(11)
    ct = (1 - t0) ** 2 * cov + t0**2 * torch.eye(D, dtype=torch.float64)
    xs = ((1 - t0) * mean + torch.randn(n, D, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(ct).T)
    xs = xs.reshape(n, 1, 2, 2)
    errs = []
    for steps in (25, 100):
        out = reverse_sde_sample(model, xs, t0, steps, lam=1.0, generator=g).reshape(n, D)
        errs.append(float(torch.linalg.norm(torch.cov(out.T) - cov) / torch.linalg.norm(cov)))
    assert errs[1] < tol and errs[1] < errs[0], errs
    ode = reverse_sde_sample(model, xs[:5], t0, 16, lam=0.0)
    torch.testing.assert_close(ode, euler_sample(model, xs[:5], 16, t_start=t0), atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="t_start < 1"):
        reverse_sde_sample(model, xs[:5], 1.0, 4)


def _nan_below(t_bad):
    def v(x, t):
        out = -x.clone()
        if float(t[0]) < t_bad:
            out[0, 0, 0, 0] = float("nan")
        return out
    return v


def test_issue13_item9_samplers_refuse_nonfinite_velocity():
    x1 = torch.randn(3, 1, 2, 2, generator=torch.Generator().manual_seed(0))
    # uniform grid of 10 steps from t = 1: step k (1-based) starts at t = 1 - (k - 1)/10; the first t < 0.45 is 0.4
    with pytest.raises(NonFiniteVelocityError, match=r"step 7 of 10 \(t = 0\.4\)"):
        euler_sample(_nan_below(0.45), x1, 10)
    with pytest.raises(NonFiniteVelocityError, match=r"'local'.*step 7 of 10"):
        hybrid_sample([Segment(0.0, 0.5, _nan_below(0.45), "local"), Segment(0.5, 1.0, lambda x, t: -x, "global")],
                      x1, 10, batch_size=2)
    with pytest.raises(NonFiniteVelocityError, match="step 1 of"):
        denoise_from(_nan_below(2.0), x1, 0.3)
    with pytest.raises(NonFiniteVelocityError, match=r"step 3 of 4 \(t = 0\.3\)"):
        reverse_sde_sample(_nan_below(0.4), x1, 0.6, 4, generator=torch.Generator().manual_seed(1))
    with pytest.raises(ValueError, match="shape"):
        euler_sample(lambda x, t: x[:1], x1, 4)
    with pytest.raises(ValueError, match="lam"):
        reverse_sde_sample(lambda x, t: -x, x1, 0.6, 4, lam=float("nan"))
