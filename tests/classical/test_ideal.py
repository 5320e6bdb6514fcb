"""Ideal denoisers: brute-force posterior means, exact two-image posterior, strict locality, bad input."""

import numpy as np
import pytest
import torch

from classical.ideal import IdealDenoiser
from classical.path import interpolate
from classical.sampling import denoise_from


def _softmax_mean(logits: np.ndarray, values: np.ndarray) -> float:
    w = np.exp(logits - logits.max())
    return float(w @ values / w.sum())


def brute_force(images: np.ndarray, x: np.ndarray, t: np.ndarray, radius: int | None,
                equivariant: bool = False) -> np.ndarray:
    """Posterior means by explicit loops over pixels, training images (and positions), straight from the formula."""
    data, xs = images[:, 0], x[:, 0]
    n, h, w = data.shape
    out = np.zeros_like(xs)
    for b in range(xs.shape[0]):
        tb = float(t[b])
        if radius is None:
            d = ((xs[b][None] - (1 - tb) * data) ** 2).sum((1, 2))
            for i in range(h):
                for j in range(w):
                    out[b, i, j] = _softmax_mean(-d / (2 * tb**2), data[:, i, j])
            continue
        r = radius
        pad, xpad = np.pad(data, ((0, 0), (r, r), (r, r))), np.pad(xs[b], r)
        for i in range(h):
            for j in range(w):
                q = xpad[i:i + 2 * r + 1, j:j + 2 * r + 1]
                if not equivariant:
                    d = ((q[None] - (1 - tb) * pad[:, i:i + 2 * r + 1, j:j + 2 * r + 1]) ** 2).sum((1, 2))
                    out[b, i, j] = _softmax_mean(-d / (2 * tb**2), data[:, i, j])
                else:
                    logits, centres = [], []
                    for k in range(n):
                        for u in range(h):
                            for v in range(w):
                                patch = pad[k, u:u + 2 * r + 1, v:v + 2 * r + 1]
                                logits.append(-((q - (1 - tb) * patch) ** 2).sum() / (2 * tb**2))
                                centres.append(data[k, u, v])
                    out[b, i, j] = _softmax_mean(np.array(logits), np.array(centres))
    return out[:, None]


@pytest.fixture
def tiny(rng):
    images = rng.uniform(0, 1, size=(6, 1, 7, 5))
    x0 = images[rng.integers(0, 6, size=3)] * 0.9 + 0.05
    z = rng.normal(size=x0.shape)
    t = np.array([0.15, 0.5, 0.95])
    x = (1 - t[:, None, None, None]) * x0 + t[:, None, None, None] * z
    return images, x, t


@pytest.mark.parametrize("radius, equivariant, cache", [(None, False, 0), (1, False, 0), (2, False, 0),
                                                        (4, False, 0), (1, False, 2**30), (2, False, 2**30),
                                                        (4, False, 2**30), (1, True, 0), (2, True, 0)])
def test_matches_brute_force_posterior_mean(tiny, radius, equivariant, cache):
    images, x, t = tiny
    images = images.copy()
    images[:, :, :3] = 0.0  # MNIST-like empty rows: the cached path drops the all-zero patches
    images[:4, :, 3, :2] = 0.0  # ... some images only (mixed zero / non-zero patches at one position)
    den = IdealDenoiser(images, radius=radius, equivariant=equivariant, dtype=torch.float64,
                        max_chunk_bytes=4096, max_cache_bytes=cache)  # several chunks: streaming log-sum-exp
    assert den.cached == (cache > 0 and radius is not None and not equivariant)
    got = den.denoise(torch.from_numpy(x), torch.from_numpy(t)).numpy()
    np.testing.assert_allclose(got, brute_force(images, x, t, radius, equivariant), rtol=0, atol=1e-12)


def test_chunking_does_not_change_the_result(tiny):
    images, x, t = tiny
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    for kw in ({}, {"radius": 2}, {"radius": 2, "max_cache_bytes": 0}, {"radius": 1, "equivariant": True}):
        one = IdealDenoiser(images, dtype=torch.float64, **kw).denoise(xt, tt)
        many = IdealDenoiser(images, dtype=torch.float64, max_chunk_bytes=1, **kw).denoise(xt, tt)
        torch.testing.assert_close(one, many, rtol=0, atol=1e-13)


@pytest.mark.parametrize("t", [0.05, 0.3, 0.8])
def test_two_image_global_posterior_is_a_sigmoid(rng, t):
    """N = 2: E[x_0|x_t] = x_2 + sigma(l_1 - l_2)(x_1 - x_2), l_i = -|x_t - (1-t) x_i|^2 / (2 t^2)."""
    images = rng.uniform(0, 1, size=(2, 1, 4, 4))
    xt = (1 - t) * images[0] + t * rng.normal(size=(1, 4, 4)) + 0.3 * t  # a point between the two images
    l1, l2 = (-((xt - (1 - t) * images[k]) ** 2).sum() / (2 * t**2) for k in (0, 1))
    expected = images[1] + (images[0] - images[1]) / (1 + np.exp(l2 - l1))
    got = IdealDenoiser(images, dtype=torch.float64).denoise(torch.from_numpy(xt[None]), t)[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_float32_agrees_with_float64_at_small_t(rng):
    images = rng.uniform(0, 1, size=(50, 1, 8, 8))
    x = torch.from_numpy(0.97 * images[:4] + 0.03 * rng.normal(size=(4, 1, 8, 8)))
    images[:, :, :3] = 0.0  # all-zero patches near the top edge (cached path)
    for kw in ({}, {"radius": 2}, {"radius": 2, "max_cache_bytes": 0}):
        a = IdealDenoiser(images, dtype=torch.float64, **kw).denoise(x, 0.03)
        b = IdealDenoiser(images, **kw).denoise(x.float(), 0.03)
        assert b.dtype == torch.float32
        torch.testing.assert_close(b.double(), a, rtol=0, atol=2e-3)


@pytest.mark.parametrize("equivariant", [False, True])
@pytest.mark.parametrize("radius", [1, 2])
def test_strict_locality(rng, radius, equivariant):
    """Output at p changes when a pixel inside the R-ball of p changes, and not when one outside does."""
    images = rng.uniform(0, 1, size=(12, 1, 9, 9))
    den = IdealDenoiser(images, radius=radius, equivariant=equivariant, dtype=torch.float64)
    x = torch.from_numpy(0.5 * images[:1] + 0.5 * rng.normal(size=(1, 1, 9, 9)))
    base = den.denoise(x, 0.5)[0, 0]
    p = (4, 4)
    for q in [(4 + radius, 4), (4 - radius, 4 + radius), (4 + radius + 1, 4), (4, 4 - radius - 1), (0, 8)]:
        y = x.clone()
        y[0, 0, q[0], q[1]] += 0.7
        changed = abs(float(den.denoise(y, 0.5)[0, 0][p] - base[p]))
        inside = max(abs(q[0] - p[0]), abs(q[1] - p[1])) <= radius
        if inside:
            assert changed > 1e-6, (q, changed)
        else:
            assert changed == 0.0, (q, changed)


def test_limits_prior_mean_at_t1_and_memorisation_at_small_t(rng):
    images = rng.uniform(0, 1, size=(5, 1, 6, 6))
    x = torch.from_numpy(rng.normal(size=(2, 1, 6, 6)))
    for kw in ({}, {"radius": 1}):
        den = IdealDenoiser(images, dtype=torch.float64, **kw)
        torch.testing.assert_close(den.denoise(x, 1.0), torch.from_numpy(images.mean(0, keepdims=True)).expand(2,
                                   -1, -1, -1), rtol=0, atol=1e-14)
    den = IdealDenoiser(images, dtype=torch.float64)
    xt = torch.from_numpy(0.99 * images[3:4] + 0.01 * rng.normal(size=(1, 1, 6, 6)))
    torch.testing.assert_close(den.denoise(xt, 0.01), torch.from_numpy(images[3:4]), rtol=0, atol=1e-10)


def test_velocity_adaptor_and_denoise_from(rng):
    """The velocity inverts the path's conversion, and the ODE from a training image's x_t returns that image."""
    images = rng.uniform(0, 1, size=(4, 1, 6, 6))
    den = IdealDenoiser(images, dtype=torch.float64)
    x0 = torch.from_numpy(images[1:2])
    xt = interpolate(x0, torch.from_numpy(rng.normal(size=(1, 1, 6, 6))), 0.2)
    v = den(xt, torch.tensor([0.2], dtype=torch.float64))
    torch.testing.assert_close(xt - 0.2 * v, den.denoise(xt, 0.2))
    torch.testing.assert_close(denoise_from(den, xt, 0.2), x0, rtol=0, atol=1e-6)


def test_n_train_subsample_and_device_move(rng):
    images = rng.uniform(0, 1, size=(20, 1, 5, 5))
    den = IdealDenoiser(images, n_train=7, seed=3)
    assert den.n_train == 7
    rows = {tuple(np.round(r, 6)) for r in images.reshape(20, -1).astype(np.float32)}
    assert all(tuple(np.round(r, 6)) in rows for r in den.images.reshape(7, -1).numpy())
    again = IdealDenoiser(images, n_train=7, seed=3)
    assert torch.equal(den.images, again.images)
    assert den.to("cpu").images.device.type == "cpu"


def test_bad_input(rng):
    images = rng.uniform(0, 1, size=(3, 1, 5, 5))
    for r in (0, 13, -1, 2.5, True):
        with pytest.raises(ValueError, match="radius"):
            IdealDenoiser(images, radius=r)
    with pytest.raises(ValueError, match="empty"):
        IdealDenoiser(np.zeros((0, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        IdealDenoiser(images * 2)
    with pytest.raises(ValueError, match="shape"):
        IdealDenoiser(images[:, 0])
    with pytest.raises(ValueError, match="NaN"):
        IdealDenoiser(np.full((1, 1, 5, 5), np.nan))
    with pytest.raises(TypeError):
        IdealDenoiser(images.astype(np.uint8))
    with pytest.raises(ValueError, match="equivariant"):
        IdealDenoiser(images, equivariant=True)
    with pytest.raises(ValueError, match="n_train"):
        IdealDenoiser(images, n_train=4)
    with pytest.raises(ValueError, match="max_cache_bytes"):
        IdealDenoiser(images, radius=1, max_cache_bytes=-1)
    den = IdealDenoiser(images, radius=1)
    x = torch.rand(2, 1, 5, 5)
    with pytest.raises(ValueError, match="t = 0"):
        den.denoise(x, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        den.denoise(x, 1.5)
    with pytest.raises(ValueError, match="shape"):
        den.denoise(torch.rand(2, 1, 5, 6), 0.5)
    with pytest.raises(ValueError, match="shape"):
        den.denoise(x, torch.tensor([0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match="NaN"):
        den.denoise(torch.full((1, 1, 5, 5), float("nan")), 0.5)


@pytest.mark.slow  # trains two tiny nets for 2 steps and builds a classifier on 256 digits (about 1-3 min)
def test_paper_gpu_command_smoke_runs_on_cpu(tmp_path, capsys):
    """The `make paper-gpu` code path (python -m classical ideal) at its smoke size, on CPU."""
    from classical.__main__ import main

    assert main(["ideal", "--preset", "paper", "--estimate-only"]) == 0
    assert "estimated" in capsys.readouterr().out
    assert main(["ideal", "--smoke", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"),
                 "--threads", "1"]) == 0
    import json

    js = json.loads((tmp_path / "out" / "mnist_ideal.json").read_text())
    assert {"fid_global", "fid_hybrid_ideal", "crossing", "crossing_train"} <= set(js) and js["fid_global"] > 0
    assert js["recovery_train"]["names"] == js["recovery"]["names"]
    assert (tmp_path / "out" / "mnist_hybrid_ideal.png").stat().st_size > 0


def test_position_specific_is_the_best_local_denoiser_on_its_training_distribution(n_samples=4000, t=0.3):
    """Bayes optimality: on x_0 drawn from the N training images, no denoiser reading the same R-ball beats the
    position-specific posterior mean, in particular not the equivariant one (same ball, pooled patches).

    Paired Monte Carlo over (i, z): the mean MSE difference must be positive by more than 3 standard errors.  On
    held-out images there is no such guarantee (issue 12: the generalisation gap).
    """
    rng = np.random.default_rng(3)
    images = (rng.random((6, 1, 6, 6)) < 0.4).astype(np.float64) * rng.random((6, 1, 6, 6))
    pos = IdealDenoiser(images, radius=1, dtype=torch.float64)
    equ = IdealDenoiser(images, radius=1, equivariant=True, dtype=torch.float64)
    x0 = torch.from_numpy(images[rng.integers(0, 6, n_samples)])
    xt = (1 - t) * x0 + t * torch.from_numpy(rng.normal(size=x0.shape))
    d = (((equ.denoise(xt, t) - x0) ** 2).mean((1, 2, 3)) - ((pos.denoise(xt, t) - x0) ** 2).mean((1, 2, 3))).numpy()
    assert d.mean() > 3 * d.std(ddof=1) / np.sqrt(n_samples), (d.mean(), d.std(ddof=1) / np.sqrt(n_samples))
