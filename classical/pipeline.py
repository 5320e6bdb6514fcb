r"""MNIST pipeline computations: recovery (local-denoiser failure window), hybrid sampler, sample quality, compute.

Recovery (Fig. 3b / S2 of the paper)
    Test images :math:`x_0` are diffused to :math:`x_{t_f} = (1-t_f)x_0 + t_f z` (one fixed z per image) and
    denoised back to t = 0 with ``ceil(32 t_f)`` Euler steps by the local net of radius R and by the global net.
    The MSE matrix over (t_f, R) and the first t_f where a net's MSE crosses 0.03 (linear interpolation) are
    reported.
Hybrid (Fig. 4)
    256 samples from the same noise with the panels: global everywhere, local everywhere, global only in the
    transition window [t_dn, t_up] (local outside), global only outside it, and the two diagnostics local only on
    [t_up, 1] and local only on [0, t_dn].  Quality: classifier-feature FID against real test digits and the
    confident-label rate (:mod:`classical.quality`); compute: FLOPs per sample (FlopCounterMode) and wall time,
    both also as ratios to the global sampler at the same number of steps.  Plus a scan of the window edges.

All models are trained (or resumed) from checkpoints in ``<cache>/checkpoints/<config>/``; a second run only
evaluates.  Figures, JSON and report sections: :mod:`quantum_diffusion.demo.mnist`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .data import default_cache_dir, load_mnist
from .models import LOCAL_KERNEL_RADII
from .path import interpolate
from .quality import classifier_features, confident_rate, count_flops, frechet_distance, load_or_train_classifier
from .sampling import Segment, denoise_from, hybrid_sample
from .train import CONFIGS, default_device, named_config, train

__all__ = [
    "PipelineConfig",
    "configure_threads",
    "ensure_models",
    "threshold_crossing",
    "recovery_experiment",
    "hybrid_panels",
    "hybrid_experiment",
    "window_scan",
    "run_pipeline",
]

MSE_THRESHOLD = 0.03
_MNIST_TEST = 10000


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass
class PipelineConfig:
    """Sizes of the recovery + hybrid pipeline (defaults: the fast ``cpu-small`` demo).

    Attributes
    ----------
    config : named training configuration (``cpu-small`` or ``paper``).
    radii : local radii trained and used in the recovery matrix.
    hybrid_R : local radius used by the hybrid sampler.
    window : transition window (t_dn, t_up) where the hybrid uses the global net.
    t_f : recovery times.
    n_recovery : test images in the recovery experiment.
    n_samples : samples per hybrid panel.
    n_steps : Euler steps on [0, 1].
    scan_lo, scan_hi : window edges scanned.
    n_real : real test digits used as FID reference.
    cache_dir : checkpoints, classifier, MNIST cache.
    """

    config: str = "cpu-small"
    radii: tuple[int, ...] = (1, 3, 6)
    hybrid_R: int = 3
    window: tuple[float, float] = (0.2, 0.5)
    t_f: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    n_recovery: int = 256
    n_samples: int = 256
    n_steps: int = 32
    scan_lo: tuple[float, ...] = (0.0, 0.1, 0.2)
    scan_hi: tuple[float, ...] = (0.5, 0.6, 0.8)
    n_real: int = 2000
    cache_dir: Path = field(default_factory=default_cache_dir)
    train_overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate every field before any work (training takes minutes); errors name the field.

        Raises
        ------
        ValueError
            An unknown configuration, a radius outside 1..12, ``hybrid_R`` not among the radii, a bad window or
            recovery times, sizes < 1 (< 2 for FID sample sets), more test images than MNIST's 10 000, or
            training overrides that :class:`classical.train.TrainConfig` refuses.
        """
        if self.config not in CONFIGS:
            raise ValueError(f"PipelineConfig.config must be one of {sorted(CONFIGS)}, got {self.config!r}")
        self.radii = tuple(self.radii)
        if not self.radii or any(not _is_int(R) or R not in LOCAL_KERNEL_RADII for R in self.radii):
            raise ValueError(f"PipelineConfig.radii must be local radii in 1..12, got {self.radii}")
        if len(set(self.radii)) != len(self.radii):
            raise ValueError(f"PipelineConfig.radii has duplicates: {self.radii}")
        if self.hybrid_R not in self.radii:
            raise ValueError(f"hybrid_R={self.hybrid_R} must be one of the trained radii {self.radii}")
        lo, hi = self.window
        if not (0.0 <= lo < hi <= 1.0):
            raise ValueError(f"window must satisfy 0 <= t_dn < t_up <= 1, got {self.window}")
        if not self.t_f or any(not (0.0 < t <= 1.0) for t in self.t_f) or any(
                b <= a for a, b in zip(self.t_f[:-1], self.t_f[1:])):
            raise ValueError(f"recovery times t_f must be increasing and lie in (0, 1], got {self.t_f}")
        for name, minimum in (("n_recovery", 1), ("n_samples", 2), ("n_steps", 1), ("n_real", 2)):
            value = getattr(self, name)
            if not _is_int(value) or value < minimum:
                raise ValueError(f"PipelineConfig.{name} must be an integer >= {minimum}, got {value!r}")
        if self.n_recovery > _MNIST_TEST or self.n_real + self.n_samples > _MNIST_TEST:
            raise ValueError(f"PipelineConfig: n_recovery ({self.n_recovery}) and n_real + n_samples "
                             f"({self.n_real} + {self.n_samples}) must not exceed the {_MNIST_TEST} MNIST test images")
        for name in ("scan_lo", "scan_hi"):
            edges = getattr(self, name)
            if not edges or any(not (0.0 <= e <= 1.0) for e in edges):
                raise ValueError(f"PipelineConfig.{name} must be window edges in [0, 1], got {edges}")
        if max(self.scan_lo) >= min(self.scan_hi):
            raise ValueError(f"every scanned window needs t_dn < t_up: scan_lo {self.scan_lo}, "
                             f"scan_hi {self.scan_hi}")
        named_config(self.config, "global", **self.train_overrides)  # TrainConfig validates the overrides
        self.cache_dir = Path(self.cache_dir)


def _busy_cores_of_others(interval: float = 0.3) -> float | None:
    """Cores kept busy by *other* processes over ``interval`` seconds (Linux ``/proc/stat``); ``None`` elsewhere.

    The load average cannot tell other jobs from this process's own recent work (the demo's earlier areas keep
    it near 2 on an idle 2-core machine), so the busy time of the whole machine minus this process's own CPU time
    is measured directly; no library reports the former (psutil is not a dependency).
    """
    def machine_busy() -> float:
        with open("/proc/stat") as fh:
            f = [float(v) for v in fh.readline().split()[1:]]
        return sum(f) - f[3] - (f[4] if len(f) > 4 else 0.0)  # all but idle and iowait, in clock ticks

    try:
        tick = os.sysconf("SC_CLK_TCK")
        b0, s0, t0 = machine_busy(), sum(os.times()[:2]), time.perf_counter()
        time.sleep(interval)
        b1, s1, t1 = machine_busy(), sum(os.times()[:2]), time.perf_counter()
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, ((b1 - b0) / tick - (s1 - s0)) / (t1 - t0))


def configure_threads(max_threads: int = 2) -> int:
    """Set torch's intra-op threads: ``min(max_threads, cores)``, or 1 when other jobs already keep the machine busy.

    Busy means other processes use >= cores/2 (measured over 0.3 s; the load average where ``/proc`` is missing):
    two OpenMP threads spinning against other jobs are several times slower.

    Returns
    -------
    int
        The number of threads set.
    """
    cores = os.cpu_count() or 1
    n = min(max_threads, cores)
    others = _busy_cores_of_others()
    if others is None:
        try:
            others = os.getloadavg()[0]
        except OSError:  # pragma: no cover - platform without getloadavg
            others = 0.0
    if others >= cores / 2:
        n = 1
    torch.set_num_threads(n)
    return n


def ensure_models(cfg: PipelineConfig, *, device: torch.device | None = None, progress: bool = True
                  ) -> tuple[nn.Module, dict[int, nn.Module], dict[str, float]]:
    """Train or resume the global net and the local nets of ``cfg.radii`` (checkpoints make re-runs cheap).

    Returns
    -------
    (global model, {R: local model}, {name: training seconds of this call})
    """
    device = device or default_device()
    ckdir = cfg.cache_dir / "checkpoints" / cfg.config
    data = torch.from_numpy(load_mnist("train", cache_dir=cfg.cache_dir).images)
    seconds: dict[str, float] = {}

    def run(name: str, tcfg) -> nn.Module:
        t0 = time.perf_counter()
        res = train(tcfg, data, ckdir / f"{name}.pt", device=device, progress=progress)
        seconds[name] = time.perf_counter() - t0
        return res.model.eval()

    glob = run("global", named_config(cfg.config, "global", **cfg.train_overrides))
    local = {R: run(f"local_R{R}", named_config(cfg.config, "local", R=R, **cfg.train_overrides))
             for R in cfg.radii}
    return glob, local, seconds


def threshold_crossing(t: np.ndarray, mse: np.ndarray, threshold: float = MSE_THRESHOLD) -> float | None:
    """First t where ``mse`` rises through ``threshold`` (linear interpolation); None if it never does.

    Raises
    ------
    ValueError
        If ``t`` and ``mse`` differ in length or ``t`` is not increasing.
    """
    t, mse = np.asarray(t, float), np.asarray(mse, float)
    if t.shape != mse.shape or t.ndim != 1 or np.any(np.diff(t) <= 0):
        raise ValueError("t must be increasing and match mse in length")
    if mse[0] >= threshold:
        return float(t[0])
    for i in range(1, len(t)):
        if mse[i] >= threshold:
            return float(t[i - 1] + (threshold - mse[i - 1]) * (t[i] - t[i - 1]) / (mse[i] - mse[i - 1]))
    return None


@torch.no_grad()
def recovery_experiment(glob: nn.Module, local: dict[int, nn.Module], images: torch.Tensor,
                        t_f: tuple[float, ...], *, seed: int = 42, steps_per_unit: int = 32,
                        progress: bool = True) -> dict[str, Any]:
    """MSE of denoising ``images`` diffused to each ``t_f`` with each local net and the global net.

    Returns
    -------
    dict with ``t_f``, ``R``, ``mse_local`` (len(R) x len(t_f)), ``mse_global``, ``crossing_local``,
    ``crossing_global`` and ``examples`` (one image: rows = [noisy, global, local R...], cols = t_f).
    """
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(images.shape, generator=g).to(images.device)
    radii = sorted(local)
    mse_l = np.zeros((len(radii), len(t_f)))
    mse_g = np.zeros(len(t_f))
    examples = np.zeros((2 + len(radii), len(t_f), *images.shape[-2:]), dtype=np.float32)
    for j, tf in enumerate(tqdm(t_f, desc="recovery", disable=not progress, leave=False)):
        xt = interpolate(images, z, tf)
        out = denoise_from(glob, xt, tf, steps_per_unit=steps_per_unit)
        mse_g[j] = float(torch.mean((out - images) ** 2))
        examples[0, j], examples[1, j] = xt[0, 0].cpu().numpy(), out[0, 0].cpu().numpy()
        for i, R in enumerate(radii):
            out = denoise_from(local[R], xt, tf, steps_per_unit=steps_per_unit)
            mse_l[i, j] = float(torch.mean((out - images) ** 2))
            examples[2 + i, j] = out[0, 0].cpu().numpy()
    return {
        "t_f": list(t_f), "R": radii, "mse_local": mse_l, "mse_global": mse_g, "threshold": MSE_THRESHOLD,
        "crossing_local": {R: threshold_crossing(np.array(t_f), mse_l[i]) for i, R in enumerate(radii)},
        "crossing_global": threshold_crossing(np.array(t_f), mse_g), "examples": examples,
    }


def hybrid_panels(glob: nn.Module, loc: nn.Module, window: tuple[float, float]) -> dict[str, list[Segment]]:
    """Return the schedules compared: panels (a)-(d) of Fig. 4 and two diagnostics."""
    lo, hi = window
    return {
        "global": [Segment(0.0, 1.0, glob, "global")],
        "local": [Segment(0.0, 1.0, loc, "local")],
        "global in window": [Segment(hi, 1.0, loc, "local"), Segment(lo, hi, glob, "global"),
                             Segment(0.0, lo, loc, "local")],
        "global outside window": [Segment(hi, 1.0, glob, "global"), Segment(lo, hi, loc, "local"),
                                  Segment(0.0, lo, glob, "global")],
        "local only above window": [Segment(hi, 1.0, loc, "local"), Segment(0.0, hi, glob, "global")],
        "local only below window": [Segment(lo, 1.0, glob, "global"), Segment(0.0, lo, loc, "local")],
    }


@dataclass
class _Quality:
    classifier: nn.Module
    real_feats: np.ndarray

    def __call__(self, x: torch.Tensor) -> dict[str, float]:
        f, p = classifier_features(self.classifier, x.clamp(0, 1))
        return {"fid": frechet_distance(f, self.real_feats), "confident_rate": confident_rate(p)}


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _flops_per_sample(segs: list[Segment], n_steps: int, shape: tuple[int, ...]) -> int:
    x = torch.zeros((1, *shape), device=_device(segs[0].model))
    return count_flops(lambda: hybrid_sample(segs, x, n_steps))


@torch.no_grad()
def hybrid_experiment(glob: nn.Module, loc: nn.Module, quality: _Quality, *, window: tuple[float, float],
                      n_samples: int = 256, n_steps: int = 32, seed: int = 0, shape=(1, 28, 28),
                      progress: bool = True) -> dict[str, Any]:
    """Measure samples, FID, confident-label rate, FLOPs and wall time of every panel of :func:`hybrid_panels`."""
    x1 = torch.randn((n_samples, *shape), generator=torch.Generator().manual_seed(seed)).to(_device(glob))
    out: dict[str, Any] = {"window": list(window), "n_samples": n_samples, "n_steps": n_steps, "panels": {}}
    samples = {}
    for name, segs in tqdm(hybrid_panels(glob, loc, window).items(), desc="hybrid", disable=not progress,
                           leave=False):
        t0 = time.perf_counter()
        x = hybrid_sample(segs, x1, n_steps)
        wall = time.perf_counter() - t0
        samples[name] = x[:64, 0].clamp(0, 1).cpu().numpy()
        out["panels"][name] = {**quality(x), "flops_per_sample": _flops_per_sample(segs, n_steps, shape),
                               "wall_s": wall}
    ref = out["panels"]["global"]
    for p in out["panels"].values():
        p["flops_ratio"] = p["flops_per_sample"] / ref["flops_per_sample"]
        p["wall_ratio"] = p["wall_s"] / ref["wall_s"]
        p["fid_ratio"] = p["fid"] / ref["fid"]
    out["samples"] = samples
    return out


@torch.no_grad()
def window_scan(glob: nn.Module, loc: nn.Module, quality: _Quality, *, lows, highs, n_samples: int = 256,
                n_steps: int = 32, seed: int = 0, shape=(1, 28, 28), progress: bool = True) -> dict[str, Any]:
    """FID and FLOP ratio of 'global in window [lo, hi], local outside' over a grid of window edges."""
    x1 = torch.randn((n_samples, *shape), generator=torch.Generator().manual_seed(seed)).to(_device(glob))
    fid = np.full((len(lows), len(highs)), np.nan)
    conf = np.full_like(fid, np.nan)
    frac = np.full_like(fid, np.nan)
    glob_flops = _flops_per_sample([Segment(0.0, 1.0, glob)], n_steps, shape)
    pairs = [(i, j) for i in range(len(lows)) for j in range(len(highs)) if lows[i] < highs[j]]
    for i, j in tqdm(pairs, desc="window scan", disable=not progress, leave=False):
        segs = hybrid_panels(glob, loc, (lows[i], highs[j]))["global in window"]
        segs = [s for s in segs if s.t_hi > s.t_lo]
        q = quality(hybrid_sample(segs, x1, n_steps))
        fid[i, j], conf[i, j] = q["fid"], q["confident_rate"]
        frac[i, j] = _flops_per_sample(segs, n_steps, shape) / glob_flops
    return {"t_dn": list(lows), "t_up": list(highs), "fid": fid, "confident_rate": conf, "flops_ratio": frac}


def _quality(cfg: PipelineConfig, progress: bool) -> tuple[_Quality, dict[str, float]]:
    tr = load_mnist("train", cache_dir=cfg.cache_dir)
    te = load_mnist("test", cache_dir=cfg.cache_dir)
    clf = load_or_train_classifier(cfg.cache_dir / "classifier.pt", tr.images, tr.labels, progress=progress)
    f, p = classifier_features(clf, torch.from_numpy(te.images[:cfg.n_real]))
    acc = float(np.mean(p.argmax(1) == te.labels[:cfg.n_real]))
    q = _Quality(clf, f)
    # floor: FID of n_samples held-out real digits against the reference set
    held = torch.from_numpy(te.images[cfg.n_real:cfg.n_real + cfg.n_samples])
    floor = q(held)
    return q, {"classifier_test_accuracy": acc, "real_vs_real_fid": floor["fid"],
               "real_confident_rate": floor["confident_rate"]}


def run_pipeline(cfg: PipelineConfig, *, progress: bool = True, recovery: bool = True, hybrid: bool = True
                 ) -> dict[str, Any]:
    """Train/resume all models, then run recovery and/or hybrid panels + window scan; return every number."""
    t0 = time.perf_counter()
    device = default_device()
    glob, local, train_s = ensure_models(cfg, device=device, progress=progress)
    params = {"global": sum(p.numel() for p in glob.parameters())}
    params.update({f"local_R{R}": sum(p.numel() for p in m.parameters()) for R, m in local.items()})
    res: dict[str, Any] = {"config": cfg.config, "train_seconds_this_run": train_s, "parameters": params,
                           "threads": torch.get_num_threads()}
    if recovery:
        te = torch.from_numpy(load_mnist("test", cache_dir=cfg.cache_dir).images)
        idx = torch.randperm(te.shape[0], generator=torch.Generator().manual_seed(42))[:cfg.n_recovery]
        res["recovery"] = recovery_experiment(glob, local, te[idx].to(device), cfg.t_f, steps_per_unit=cfg.n_steps,
                                              progress=progress)
    if hybrid:
        q, res["reference"] = _quality(cfg, progress)
        res["hybrid"] = hybrid_experiment(glob, local[cfg.hybrid_R], q, window=cfg.window,
                                          n_samples=cfg.n_samples, n_steps=cfg.n_steps, progress=progress)
        res["scan"] = window_scan(glob, local[cfg.hybrid_R], q, lows=cfg.scan_lo, highs=cfg.scan_hi,
                                  n_samples=cfg.n_samples, n_steps=cfg.n_steps, progress=progress)
    res["seconds"] = time.perf_counter() - t0
    return res
