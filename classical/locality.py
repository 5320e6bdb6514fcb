r"""Where locality fails: recovery three ways, the locality-CMI inequality, and the hybrid sampler with ideal denoisers.

Path convention of :mod:`classical.path` (t = 0 data, t = 1 noise, :math:`x_t = (1 - t) x_0 + t z`).

**Recovery** (:func:`recovery_grid`): test images diffused to :math:`t_f` (one fixed z per image) are denoised back
to t = 0 by ``ceil(32 t_f)`` Euler steps of each velocity model (trained nets, or :class:`~classical.ideal.
IdealDenoiser`), and the MSE and its first 0.03 crossing are reported per model.  Ideal local vs trained local at
the same R is the capacity gap; ideal local vs global is the locality gap.

**Locality vs CMI** (:func:`empirical_locality_cmi`, :func:`gaussian_locality_cmi`; theory note information.md
§5).  Geometry of the paper's Fig. 3a: the 27 x 27 crop (first row and column dropped), A the centre pixel,
:math:`U_r = A \cup B_r` the Chebyshev ball of radius r around A, C the rest of the crop.  The excess MSE of the
ideal local denoiser over the ideal global one at A,

.. math::

    \Delta(t, r) = \mathbb E\big[(\mathbb E[x_{0,A} \mid x_{t,U_r}] - \mathbb E[x_{0,A} \mid x_t])^2\big]
    \le \tfrac12\, I(X_{0,A} : X_{t,C} \mid X_{t,U_r}),

(Pinsker, because :math:`x_{0,A} \in [0, 1]`).  On the diffused empirical distribution
:math:`p_t = \frac1N \sum_i \mathcal N((1 - t) x_i, t^2 I)` both sides are Monte Carlo averages of exact
per-sample terms: with :math:`w^U_j \propto \exp(-\|x_{t,U} - (1-t) x_{j,U}\|^2 / 2t^2)` and the true value
:math:`a = x_{i,A}` of the sampled image i,

.. math::

    I(X_{0,A} : X_{t,C} \mid X_{t,U}) = \mathbb E\Big[\ln \sum_{j: x_{j,A} = a} w^{\mathrm{all}}_j
    - \ln \sum_{j: x_{j,A} = a} w^{U}_j\Big],

(the CMI is the mean log-ratio of the posterior probabilities of the true pixel value given everything and given
the ball).  Both use the same samples, so the ratio :math:`2\Delta / I` is estimated with correlated errors.
For a Gaussian field both sides are closed form (:func:`gaussian_locality_cmi`; there the Pinsker bound need not
hold since :math:`x_{0,A}` is unbounded).

**Hybrid sampler** (:func:`hybrid_comparison`): FID of the all-global sampler against hybrids that use local
denoisers (ideal or trained) outside a global window, with FLOPs and wall time as ratios to the global sampler.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .path import check_images, interpolate
from .pipeline import MSE_THRESHOLD, threshold_crossing
from .quality import count_flops
from .sampling import Segment, denoise_from, hybrid_sample

__all__ = [
    "MSE_THRESHOLD",
    "RecoveryGrid",
    "recovery_grid",
    "first_crossing",
    "LocalityCMI",
    "crop_geometry",
    "empirical_locality_cmi",
    "gaussian_locality_cmi",
    "HybridComparison",
    "hybrid_schedules",
    "hybrid_comparison",
]

VelocityFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# --------------------------------------------------------------------------------------------------- recovery
def first_crossing(t: Sequence[float], mse: Sequence[float], threshold: float = MSE_THRESHOLD) -> float:
    """First t where ``mse`` rises through ``threshold`` (linear interpolation); NaN if it never does.

    The NaN-valued form of :func:`classical.pipeline.threshold_crossing` (one implementation), for grids of
    crossings stored as arrays.

    Raises
    ------
    ValueError
        If ``t`` and ``mse`` differ in length or ``t`` is not increasing.
    """
    crossing = threshold_crossing(t, mse, threshold)
    return float("nan") if crossing is None else crossing


@dataclass(frozen=True)
class RecoveryGrid:
    """Recovery MSE of several denoisers over the recovery times.

    Attributes
    ----------
    names : model names (rows).
    t_f : recovery times (columns).
    mse : array of shape (len(names), len(t_f)), mean squared error per pixel.
    crossing : first t_f where each row crosses ``threshold`` (NaN: never).
    threshold : the MSE threshold.
    n_images : test images used.
    seconds : wall time per model.
    """

    names: tuple[str, ...]
    t_f: tuple[float, ...]
    mse: np.ndarray
    crossing: tuple[float, ...]
    threshold: float
    n_images: int
    seconds: tuple[float, ...]

    def row(self, name: str) -> np.ndarray:
        """MSE row of one model.

        Raises
        ------
        KeyError
            Unknown model name.
        """
        if name not in self.names:
            raise KeyError(f"no model {name!r}; have {self.names}")
        return self.mse[self.names.index(name)]


@torch.no_grad()
def recovery_grid(models: Mapping[str, VelocityFn], images: torch.Tensor, t_f: Sequence[float], *, seed: int = 42,
                  steps_per_unit: int = 32, threshold: float = MSE_THRESHOLD, batch_size: int | None = None
                  ) -> RecoveryGrid:
    r"""MSE of denoising ``images`` diffused to each :math:`t_f` (one fixed noise per image) with every model.

    Parameters
    ----------
    models : mapping name -> velocity model ``model(x, t)``
        Trained nets or :class:`~classical.ideal.IdealDenoiser` instances.
    images : tensor of shape (B, 1, H, W)
        Clean test images in [0, 1].
    t_f : increasing times in (0, 1].
    seed : seed of the noise z.
    steps_per_unit : Euler steps per unit time (``ceil(steps_per_unit * t_f)`` steps).
    threshold : MSE threshold of the crossing.
    batch_size : evaluate in chunks of this many images.

    Returns
    -------
    RecoveryGrid

    Raises
    ------
    ValueError
        No models, bad images, or t_f not increasing in (0, 1].
    """
    check_images(images, "images")
    if not models:
        raise ValueError("models is empty")
    tf = tuple(float(v) for v in t_f)
    if not tf or any(not 0.0 < v <= 1.0 for v in tf) or any(b <= a for a, b in zip(tf[:-1], tf[1:])):
        raise ValueError(f"t_f must be increasing in (0, 1], got {tf}")
    z = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed), dtype=images.dtype)
    z = z.to(images.device)
    names = tuple(models)
    mse = np.zeros((len(names), len(tf)))
    secs = []
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        for j, t in enumerate(tf):
            out = denoise_from(models[name], interpolate(images, z, t), t, steps_per_unit=steps_per_unit,
                               batch_size=batch_size)
            mse[i, j] = float(torch.mean((out - images) ** 2))
        secs.append(time.perf_counter() - t0)
    return RecoveryGrid(names, tf, mse, tuple(first_crossing(tf, m, threshold) for m in mse), threshold,
                        int(images.shape[0]), tuple(secs))


# ---------------------------------------------------------------------------------------------- locality/CMI
@dataclass(frozen=True)
class LocalityCMI:
    r"""Excess MSE :math:`\Delta(t, r)` of the ideal local over the ideal global denoiser at A, and the CMI bound.

    Attributes
    ----------
    t : times (rows).
    radii : ball radii r (columns).
    delta : array (len(t), len(radii)), :math:`\Delta(t, r)`.
    delta_se : its Monte Carlo standard error (0 for closed forms).
    cmi : array (len(t), len(radii)), :math:`I(X_{0,A} : X_{t,C} \mid X_{t,U_r})` in nats.
    cmi_se : its standard error.
    ratio : :math:`2\Delta / I` (1 = Pinsker tight; NaN where I <= 1e-12).
    n_train : training images of the empirical distribution (0 for the Gaussian field).
    n_samples : Monte Carlo samples per t (0 for closed forms).
    """

    t: tuple[float, ...]
    radii: tuple[int, ...]
    delta: np.ndarray
    delta_se: np.ndarray
    cmi: np.ndarray
    cmi_se: np.ndarray
    ratio: np.ndarray
    n_train: int
    n_samples: int

    @property
    def bound(self) -> np.ndarray:
        r"""Right side of the inequality, :math:`I / 2`."""
        return 0.5 * self.cmi


def crop_geometry(shape: tuple[int, int] = (27, 27), centre: tuple[int, int] | None = None) -> np.ndarray:
    """Chebyshev distance of every pixel of the crop from the centre pixel A, shape ``shape`` (A has distance 0).

    Raises
    ------
    ValueError
        If the centre lies outside the crop.
    """
    h, w = shape
    ci, cj = (h // 2, w // 2) if centre is None else centre
    if not (0 <= ci < h and 0 <= cj < w):
        raise ValueError(f"centre {centre} lies outside the {h}x{w} crop")
    ii, jj = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return np.maximum(np.abs(ii - ci), np.abs(jj - cj))


def _ratio(delta: np.ndarray, cmi: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    ok = cmi > tol  # no ratio where the CMI vanishes (to round-off)
    return np.where(ok, 2 * delta / np.where(ok, cmi, 1.0), np.nan)


def _check_t_radii(t: Sequence[float], radii: Sequence[int], rho_max: int) -> tuple[tuple[float, ...], tuple[int, ...]]:
    tt = tuple(float(v) for v in t)
    rr = tuple(int(r) for r in radii)
    if not tt or any(not 0.0 < v <= 1.0 for v in tt):
        raise ValueError(f"t must lie in (0, 1] (t = 0 is singular), got {tt}")
    if not rr or any(not 1 <= r <= rho_max for r in rr):
        raise ValueError(f"radii must lie in 1..{rho_max} for this crop, got {rr}")
    return tt, rr


def _as_crop(images: np.ndarray | torch.Tensor, crop: bool) -> np.ndarray:
    x = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"images: expected shape (N, 1, H, W), got {x.shape}")
    if x.shape[0] < 1:
        raise ValueError("images: the training set is empty")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ValueError("images must be finite and lie in [0, 1]")
    return x[:, 0, 1:, 1:] if crop else x[:, 0]


@torch.no_grad()
def empirical_locality_cmi(images: np.ndarray | torch.Tensor, t: Sequence[float], radii: Sequence[int], *,
                           n_samples: int = 2000, seed: int | np.random.Generator = 0, crop: bool = True,
                           centre: tuple[int, int] | None = None, device: str | torch.device | None = None,
                           max_chunk_bytes: int = 2**28) -> LocalityCMI:
    r"""Both sides of :math:`\Delta \le I/2` on the diffused empirical distribution of ``images`` (exact per sample).

    Parameters
    ----------
    images : array or tensor of shape (N, 1, H, W)
        Training images in [0, 1]; the mixture :math:`p_t = \frac1N\sum_i \mathcal N((1-t)x_i, t^2 I)`.
    t : times in (0, 1].
    radii : ball radii r >= 1 (at most the crop's half width).
    n_samples : Monte Carlo samples :math:`(i, z)` per t (the same for every r).
    seed : seeds the samples.
    crop : drop the first row and column (the paper's 27 x 27 crop of 28 x 28 MNIST).
    centre : pixel A in the (cropped) image; default its centre.
    device : torch device of the computation (default CPU).
    max_chunk_bytes : memory bound of the (samples x N) temporaries.

    Returns
    -------
    LocalityCMI

    Raises
    ------
    ValueError
        Bad images (shape, empty, outside [0, 1]), t outside (0, 1], radii out of range, or n_samples < 2.
    """
    x = _as_crop(images, crop)
    n, h, w = x.shape
    rho = crop_geometry((h, w), centre)
    tt, rr = _check_t_radii(t, radii, int(rho.max()))
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2, got {n_samples}")
    rng = np.random.default_rng(seed)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    order = np.argsort(rho.ravel(), kind="stable")
    rho_sorted = rho.ravel()[order]
    ends = np.searchsorted(rho_sorted, np.arange(int(rho.max()) + 1), side="right")  # ball r = pixels[:ends[r]]
    data = torch.from_numpy(x.reshape(n, -1)[:, order].astype(np.float64)).to(dev)  # pixels sorted by distance
    a_val = data[:, 0]  # pixel A of every training image
    regions = [*rr, int(rho.max())]  # the balls, then the whole crop
    shape = (len(tt), len(rr))
    delta, delta_se, cmi, cmi_se = (np.zeros(shape) for _ in range(4))
    chunk = max(1, max_chunk_bytes // (8 * n * 6))
    for it, tv in enumerate(tt):
        idx = rng.integers(0, n, size=n_samples)
        z = rng.normal(size=(n_samples, h * w))[:, order]
        xt_all = (1 - tv) * data[torch.from_numpy(idx).to(dev)] + tv * torch.from_numpy(z).to(dev)
        d_terms, i_terms = [], []
        for s0 in range(0, n_samples, chunk):
            xt = xt_all[s0:s0 + chunk]
            a_true = a_val[torch.from_numpy(idx[s0:s0 + chunk]).to(dev)]
            same = a_true[:, None] == a_val[None, :]  # (S, N): training images sharing the true A value
            dist = torch.zeros(xt.shape[0], n, dtype=data.dtype, device=dev)
            lo = 0
            means, logp = [], []
            for r in regions:  # accumulate the squared distance ring by ring
                hi = int(ends[r])
                seg = data[:, lo:hi]
                dist += ((xt[:, lo:hi] ** 2).sum(1, keepdim=True) - 2 * (1 - tv) * xt[:, lo:hi] @ seg.T
                         + (1 - tv) ** 2 * (seg**2).sum(1)[None, :])
                lo = hi
                logits = -dist / (2 * tv**2)
                lse = torch.logsumexp(logits, 1)
                w_ = torch.exp(logits - lse[:, None])
                means.append(w_ @ a_val)
                logp.append(torch.logsumexp(logits.masked_fill(~same, -math.inf), 1) - lse)
            d_terms.append(torch.stack([(m - means[-1]) ** 2 for m in means[:-1]], 1))
            i_terms.append(torch.stack([logp[-1] - lp for lp in logp[:-1]], 1))
        d_all = torch.cat(d_terms).cpu().numpy()
        i_all = torch.cat(i_terms).cpu().numpy()
        delta[it], delta_se[it] = d_all.mean(0), d_all.std(0, ddof=1) / math.sqrt(n_samples)
        cmi[it], cmi_se[it] = i_all.mean(0), i_all.std(0, ddof=1) / math.sqrt(n_samples)
    return LocalityCMI(tt, rr, delta, delta_se, cmi, cmi_se, _ratio(delta, cmi), n, n_samples)


def gaussian_locality_cmi(mean: np.ndarray, cov: np.ndarray, t: Sequence[float], radii: Sequence[int], *,
                          shape: tuple[int, int] = (27, 27), centre: tuple[int, int] | None = None) -> LocalityCMI:
    r"""Return the closed forms of :math:`\Delta(t, r)` and :math:`I(X_{0,A} : X_{t,C} \mid X_{t,U_r})`, Gaussian field.

    For :math:`x_0 \sim \mathcal N(\mu, \Sigma)` and :math:`x_t = (1-t)x_0 + t z`, with
    :math:`V_U = \mathrm{Var}(x_{0,A} \mid x_{t,U}) = \Sigma_{AA} - (1-t)^2 \Sigma_{AU}\,[(1-t)^2\Sigma_{UU} +
    t^2 I]^{-1} \Sigma_{UA}`,

    .. math::

        \Delta = V_{U_r} - V_{\mathrm{all}} \quad\text{(law of total variance)}, \qquad
        I = \tfrac12 \ln (V_{U_r} / V_{\mathrm{all}}).

    Parameters
    ----------
    mean : array of shape (H W,), the field's mean (row-major over ``shape``); it does not enter the result.
    cov : array of shape (H W, H W), symmetric positive semi-definite.
    t : times in (0, 1]; radii : ball radii.
    shape, centre : the image geometry and pixel A.

    Returns
    -------
    LocalityCMI
        With zero standard errors and ``n_train = n_samples = 0``.

    Raises
    ------
    ValueError
        Shapes that do not match ``shape``, t outside (0, 1], radii out of range.
    """
    rho = crop_geometry(shape, centre)
    d = rho.size
    mean, cov = np.asarray(mean, float), np.asarray(cov, float)
    if mean.shape != (d,) or cov.shape != (d, d):
        raise ValueError(f"need mean of shape ({d},) and cov of shape ({d}, {d}), got {mean.shape}, {cov.shape}")
    tt, rr = _check_t_radii(t, radii, int(rho.max()))
    a = int(np.flatnonzero(rho.ravel() == 0)[0])

    def cond_var(tv: float, u: np.ndarray) -> float:
        st = (1 - tv) ** 2 * cov[np.ix_(u, u)] + tv**2 * np.eye(u.size)
        s_au = cov[a, u]
        return float(cov[a, a] - (1 - tv) ** 2 * s_au @ np.linalg.solve(st, s_au))

    shape_out = (len(tt), len(rr))
    delta, cmi = np.zeros(shape_out), np.zeros(shape_out)
    everything = np.arange(d)
    for i, tv in enumerate(tt):
        v_all = cond_var(tv, everything)
        for j, r in enumerate(rr):
            v_u = cond_var(tv, np.flatnonzero(rho.ravel() <= r))
            delta[i, j] = v_u - v_all
            cmi[i, j] = 0.5 * math.log(v_u / v_all)
    return LocalityCMI(tt, rr, delta, np.zeros(shape_out), cmi, np.zeros(shape_out), _ratio(delta, cmi), 0, 0)


# -------------------------------------------------------------------------------------------------- hybrid
def hybrid_schedules(glob: VelocityFn, local: Mapping[str, VelocityFn], window: tuple[float, float]
                     ) -> dict[str, list[Segment]]:
    """Schedules: ``global`` everywhere, and for each local model ``hybrid <name>`` (global only in ``window``).

    Raises
    ------
    ValueError
        If the window is not 0 <= t_dn < t_up <= 1.
    """
    lo, hi = window
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"window must satisfy 0 <= t_dn < t_up <= 1, got {window}")
    out = {"global": [Segment(0.0, 1.0, glob, "global")]}
    for name, loc in local.items():
        segs = [Segment(lo, hi, glob, "global")]
        if hi < 1.0:
            segs.append(Segment(hi, 1.0, loc, name))
        if lo > 0.0:
            segs.append(Segment(0.0, lo, loc, name))
        out[f"hybrid {name}"] = segs
    return out


@dataclass(frozen=True)
class HybridComparison:
    """FID, FLOPs and wall time of the global sampler and the hybrids over a grid of windows.

    Attributes
    ----------
    windows : (t_dn, t_up) pairs scanned.
    names : sampler names (``global``, ``hybrid <local name>``).
    fid : array (len(windows), len(names)); the global column is the same for every window.
    flops_ratio, wall_ratio : arrays like ``fid``, per-sample FLOPs and wall time over the global sampler's.
    n_samples, n_steps : samples per sampler and Euler steps on [0, 1].
    """

    windows: tuple[tuple[float, float], ...]
    names: tuple[str, ...]
    fid: np.ndarray
    flops_ratio: np.ndarray
    wall_ratio: np.ndarray
    n_samples: int
    n_steps: int


@torch.no_grad()
def hybrid_comparison(glob: VelocityFn, local: Mapping[str, VelocityFn], fid: Callable[[torch.Tensor], float], *,
                      windows: Sequence[tuple[float, float]] = ((0.2, 0.5),), n_samples: int = 256,
                      n_steps: int = 32, seed: int = 0, shape: tuple[int, int, int] = (1, 28, 28),
                      device: str | torch.device = "cpu") -> tuple[HybridComparison, dict[str, np.ndarray]]:
    """Sample with the global model and with each hybrid (global only in the window) from the same noise.

    Parameters
    ----------
    glob : global velocity model.
    local : mapping name -> local velocity model (ideal or trained).
    fid : callable returning the FID of a batch of samples (B, 1, H, W) against a fixed reference.
    windows : (t_dn, t_up) windows to scan.
    n_samples, n_steps, seed : sampler size, Euler steps on [0, 1], noise seed.
    shape : (C, H, W) of a sample.
    device : where the noise lives (the models' device).

    Returns
    -------
    (HybridComparison, samples)
        ``samples`` maps ``"<name> @ <window>"`` to the first 64 samples (numpy, (64, H, W)).

    Raises
    ------
    ValueError
        Empty ``windows``, an invalid window, or n_samples / n_steps < 1.
    """
    if not windows or n_samples < 1 or n_steps < 1:
        raise ValueError("need at least one window, n_samples >= 1 and n_steps >= 1")
    x1 = torch.randn((n_samples, *shape), generator=torch.Generator().manual_seed(seed)).to(device)
    names = tuple(hybrid_schedules(glob, local, windows[0]))
    fids, flops, walls = (np.zeros((len(windows), len(names))) for _ in range(3))
    samples: dict[str, np.ndarray] = {}
    cache: dict[str, tuple[float, float, float]] = {}
    for w, window in enumerate(windows):
        for k, (name, segs) in enumerate(hybrid_schedules(glob, local, tuple(window)).items()):
            if name == "global" and name in cache:
                fids[w, k], flops[w, k], walls[w, k] = cache[name]
                continue
            t0 = time.perf_counter()
            x = hybrid_sample(segs, x1, n_steps)
            wall = time.perf_counter() - t0
            fl = count_flops(lambda segs=segs: hybrid_sample(segs, x1[:1], n_steps))
            fids[w, k], flops[w, k], walls[w, k] = float(fid(x.clamp(0, 1))), fl, wall
            samples[f"{name} @ {tuple(window)}"] = x[:64, 0].clamp(0, 1).cpu().numpy()
            if name == "global":
                cache[name] = (fids[w, k], fl, wall)
    return (HybridComparison(tuple(tuple(map(float, w)) for w in windows), names, fids, flops / flops[:, :1],
                             walls / walls[:, :1], n_samples, n_steps), samples)
