r"""The ideal-denoiser study end to end: recovery three ways, locality vs CMI on MNIST, hybrid sampler; timed.

One call, :func:`run_ideal_study`, with a size preset (:data:`STUDY_PRESETS`):

``cpu-small``  (minutes on 2 CPU cores): ideal denoisers on a few thousand training images, the
    ``cpu-small`` trained nets R = 1, 3, 6 (checkpoints resumed from the cache), 64 recovery images, 128 hybrid
    samples, four windows.
``demo``  (the MNIST area of ``make demo``): as ``cpu-small`` with one trained local net (R = 3), 32 + 16
    recovery digits and two windows.
``paper``  (one GPU; ``make paper-gpu``): ideal denoisers on all 60 000 images and R = 1..6, 8, 10, 12, the
    ``paper`` trained nets (global 15 epochs, local R = 1, 3, 6), 128 recovery images, the CMI grid
    t = 0.1..1, r = 1..12, 256 hybrid samples and a window scan.  :func:`estimate_seconds` gives its own estimate.
``smoke``  (tests): tiny sizes, a few training steps of tiny nets; runs on CPU (1-4 min on the shared machine).

Every part is timed (``seconds``), the results are the frozen dataclasses of :mod:`classical.locality`, and
:func:`study_to_json` turns the whole study into plain JSON.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import default_cache_dir, load_mnist
from .ideal import IdealDenoiser
from .locality import (
    HybridComparison,
    LocalityCMI,
    RecoveryGrid,
    empirical_locality_cmi,
    hybrid_comparison,
    recovery_grid,
)
from .models import build_model
from .pipeline import PipelineConfig, ensure_models
from .quality import classifier_features, count_flops, frechet_distance, load_or_train_classifier
from .train import default_device, named_config

__all__ = ["StudyConfig", "STUDY_PRESETS", "IdealStudy", "estimate_seconds", "run_ideal_study", "study_to_json"]


@dataclass(frozen=True)
class StudyConfig:
    """Sizes of the ideal-denoiser study.

    Attributes
    ----------
    config : trained-model configuration of :mod:`classical.train` (``cpu-small`` or ``paper``).
    train_overrides : overrides of the training configuration (the smoke preset trains a few steps).
    n_train : training images of the ideal denoisers (a fixed random subset; 60 000 = all).
    trained_radii : radii of the trained local nets.
    ideal_radii : radii of the ideal local denoisers (must contain ``trained_radii``).
    t_f : recovery times; n_recovery : test images recovered; n_recovery_train : training digits recovered (from
        the ideal denoisers' own subset; fewer than n_recovery on CPU to keep the demo's time).
    cmi_t, cmi_radii, cmi_samples, cmi_train : grid, Monte Carlo samples per t and training images of the
        locality-CMI inequality.
    hybrid_R : local radius of the hybrid sampler; windows : global windows scanned (the first is the headline).
    n_samples, n_steps : hybrid samples and Euler steps on [0, 1]; n_real : real test digits of the FID reference.
    classifier_train : training images of the FID classifier when it is not cached yet (None: all).
    """

    config: str = "cpu-small"
    train_overrides: dict[str, Any] = field(default_factory=dict)
    n_train: int = 2000
    trained_radii: tuple[int, ...] = (1, 3, 6)
    ideal_radii: tuple[int, ...] = (1, 3, 6)
    t_f: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    n_recovery: int = 64
    n_recovery_train: int = 32
    cmi_t: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
    cmi_radii: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 10, 12)
    cmi_samples: int = 500
    cmi_train: int = 5000
    hybrid_R: int = 3
    windows: tuple[tuple[float, float], ...] = ((0.2, 0.5), (0.1, 0.5), (0.2, 0.6), (0.1, 0.6))
    n_samples: int = 128
    n_steps: int = 32
    n_real: int = 2000
    classifier_train: int | None = None

    def __post_init__(self) -> None:
        """Check the radii and sizes (ValueError)."""
        if not set(self.trained_radii) <= set(self.ideal_radii):
            raise ValueError(f"ideal_radii {self.ideal_radii} must contain trained_radii {self.trained_radii}")
        if self.hybrid_R not in self.trained_radii:
            raise ValueError(f"hybrid_R={self.hybrid_R} must be one of trained_radii {self.trained_radii}")
        if min(self.n_train, self.cmi_train, self.n_recovery, self.n_recovery_train, self.n_samples,
               self.cmi_samples) < 1:
            raise ValueError("all sizes must be positive")


#: Named sizes (see the module docstring).
STUDY_PRESETS: dict[str, StudyConfig] = {
    "cpu-small": StudyConfig(),
    "paper": StudyConfig(config="paper", n_train=60000, trained_radii=(1, 3, 6),
                         ideal_radii=(1, 2, 3, 4, 5, 6, 8, 10, 12),
                         t_f=tuple(np.round(np.linspace(0.01, 0.99, 11), 3)), n_recovery=128, n_recovery_train=128,
                         cmi_t=tuple(np.round(np.arange(1, 11) / 10, 2)), cmi_radii=tuple(range(1, 13)),
                         cmi_samples=5000, cmi_train=60000, n_samples=256,
                         windows=((0.2, 0.5), (0.1, 0.5), (0.2, 0.6), (0.1, 0.6), (0.3, 0.5), (0.2, 0.4))),
    # the MNIST area of ``make demo`` (issue 10: a fresh-clone demo within ~15 min on 2 cores): one trained local
    # net (R = 3, the hybrid's), ideal R = 1, 3, 6, fewer recovery digits and two windows; the full three-way
    # comparison with trained R = 1, 3, 6 is ``cpu-small`` (python -m classical ideal)
    "demo": StudyConfig(trained_radii=(3,), ideal_radii=(1, 3, 6), t_f=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8),
                        n_recovery=32, n_recovery_train=16, windows=((0.2, 0.5), (0.1, 0.6))),
    "smoke": StudyConfig(train_overrides={"steps": 2, "batch_size": 8, "ckpt_every": 10**6}, n_train=64,
                         trained_radii=(3,), ideal_radii=(1, 3), t_f=(0.2, 0.5), n_recovery=4, n_recovery_train=4,
                         cmi_t=(0.3, 1.0),
                         cmi_radii=(1, 3), cmi_samples=16, cmi_train=64, windows=((0.2, 0.5),), n_samples=8,
                         n_steps=4, n_real=64, classifier_train=256),
}


@dataclass(frozen=True)
class IdealStudy:
    r"""Everything the study measured.

    Attributes
    ----------
    config : the :class:`StudyConfig` as a dict.
    device : where it ran.
    recovery : ideal local, trained local, trained global and ideal global recovery MSEs on held-out test digits.
    ideal_not_worse : for each trained radius, whether the ideal local MSE <= the trained local MSE at every t_f
        (held-out digits).
    recovery_train : the same on training digits, drawn from the ideal denoisers' own training subset (the
        distribution on which the ideal local denoiser is the best strictly local one; the trained nets saw these
        digits too).
    ideal_not_worse_train : as ``ideal_not_worse``, on the training digits.
    locality : :math:`\Delta(t, r)` and the CMI bound on the diffused empirical distribution.
    hybrid : FID, FLOP and wall ratios of the hybrids (ideal and trained local phases).
    samples : the first 64 samples of every hybrid run (numpy arrays).
    fid_floor : FID of held-out real digits against the reference (the best reachable).
    seconds : wall time of every part.
    """

    config: dict[str, Any]
    device: str
    recovery: RecoveryGrid
    ideal_not_worse: dict[int, bool]
    recovery_train: RecoveryGrid
    ideal_not_worse_train: dict[int, bool]
    locality: LocalityCMI
    hybrid: HybridComparison
    samples: dict[str, np.ndarray]
    fid_floor: float
    seconds: dict[str, float]


def estimate_seconds(cfg: StudyConfig, *, tflops: float = 30.0) -> dict[str, float]:
    """Rough wall-time estimate of each part from FLOP counts at ``tflops`` sustained TFLOP/s (GPU sizing).

    Training: 3 x forward FLOPs per image (forward + backward) x steps x batch; ideal denoisers: the matmul FLOPs
    of the module docstring of :mod:`classical.ideal`; CMI: one (samples x N x 729) matmul per t.
    """
    rate = tflops * 1e12
    out: dict[str, float] = {}
    for kind, R in [("global", None), *[("local", r) for r in cfg.trained_radii]]:
        tc = named_config(cfg.config, kind, R=R, **cfg.train_overrides)
        fwd = count_flops(lambda tc=tc: build_model(tc.model)(torch.zeros(1, 1, 28, 28), torch.zeros(1)))
        out[f"train {kind}{'' if R is None else f' R={R}'}"] = 3 * fwd * tc.batch_size * tc.steps / rate
    steps_rec = sum(int(np.ceil(32 * t)) for t in cfg.t_f)
    ideal = sum(2 * cfg.n_train * 784 * (2 * r + 1) ** 2 for r in cfg.ideal_radii)
    out["recovery (ideal)"] = ideal * (cfg.n_recovery + cfg.n_recovery_train) * steps_rec / rate
    out["locality CMI"] = 2 * cfg.cmi_samples * cfg.cmi_train * 729 * len(cfg.cmi_t) / rate
    out["hybrid (ideal)"] = (2 * cfg.n_train * 784 * (2 * cfg.hybrid_R + 1) ** 2 * cfg.n_samples * cfg.n_steps
                             * len(cfg.windows) / rate)
    out["total"] = sum(out.values())
    return out


def _fid_callable(cache_dir: Path, n_real: int, n_samples: int, n_classifier: int | None):
    tr = load_mnist("train", cache_dir=cache_dir, limit=n_classifier)
    te = load_mnist("test", cache_dir=cache_dir)
    clf = load_or_train_classifier(cache_dir / "classifier.pt", tr.images, tr.labels, progress=False)
    ref, _ = classifier_features(clf, torch.from_numpy(te.images[:n_real]))

    def fid(x: torch.Tensor) -> float:
        return frechet_distance(classifier_features(clf, x)[0], ref)

    floor = fid(torch.from_numpy(te.images[n_real:n_real + n_samples]))
    return fid, floor


def run_ideal_study(cfg: StudyConfig | str = "cpu-small", *, cache_dir: str | Path | None = None,
                    device: str | torch.device | None = None, progress: bool = False,
                    log: Callable[[str], None] | None = None) -> IdealStudy:
    """Train/resume the nets, build the ideal denoisers and run recovery, locality-CMI and hybrid; timed.

    Parameters
    ----------
    cfg : StudyConfig or preset name of :data:`STUDY_PRESETS`.
    cache_dir : MNIST, checkpoints and classifier cache (default :func:`classical.data.default_cache_dir`).
    device : default ``cuda`` when available.
    progress : show training progress bars.
    log : called with a one-line message at the start of every stage (the application layer passes its
        progress printer; the library itself never prints).

    Returns
    -------
    IdealStudy

    Raises
    ------
    ValueError
        Unknown preset name.
    """
    if isinstance(cfg, str):
        if cfg not in STUDY_PRESETS:
            raise ValueError(f"unknown study preset {cfg!r}; choose from {sorted(STUDY_PRESETS)}")
        cfg = STUDY_PRESETS[cfg]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    dev = torch.device(device) if device is not None else default_device()
    secs: dict[str, float] = {}
    say = log or (lambda message: None)
    say(f"train (or resume) the global net and the local nets R = {list(cfg.trained_radii)}")
    t0 = time.perf_counter()
    pcfg = PipelineConfig(config=cfg.config, radii=cfg.trained_radii, hybrid_R=cfg.hybrid_R, cache_dir=cache,
                          train_overrides=dict(cfg.train_overrides))
    glob, trained, _ = ensure_models(pcfg, device=dev, progress=progress)
    secs["train (or resume)"] = time.perf_counter() - t0

    say(f"build the ideal denoisers on {cfg.n_train} training digits")
    t0 = time.perf_counter()
    train_imgs = load_mnist("train", cache_dir=cache).images
    on_dev = torch.from_numpy(train_imgs).to(dev)  # the patch caches are built where they are used
    ideal = {r: IdealDenoiser(on_dev, radius=r, n_train=cfg.n_train, seed=0) for r in cfg.ideal_radii}
    ideal_glob = IdealDenoiser(on_dev, n_train=cfg.n_train, seed=0)
    secs["build ideal denoisers"] = time.perf_counter() - t0

    say(f"recovery of {cfg.n_recovery} held-out digits at {len(cfg.t_f)} t_f")
    t0 = time.perf_counter()
    te = torch.from_numpy(load_mnist("test", cache_dir=cache).images)
    idx = torch.randperm(te.shape[0], generator=torch.Generator().manual_seed(42))[:cfg.n_recovery]
    models: dict[str, Any] = {"global": glob, "ideal global": ideal_glob}
    for r in cfg.ideal_radii:
        models[f"ideal R={r}"] = ideal[r]
    for r in cfg.trained_radii:
        models[f"trained R={r}"] = trained[r]
    rec = recovery_grid(models, te[idx].to(dev), cfg.t_f, batch_size=256)
    not_worse = {r: bool(np.all(rec.row(f"ideal R={r}") <= rec.row(f"trained R={r}"))) for r in cfg.trained_radii}
    secs["recovery"] = time.perf_counter() - t0

    say(f"recovery of {cfg.n_recovery_train} training digits")
    t0 = time.perf_counter()  # the same on training digits of the ideal denoisers' own subset
    subset = ideal_glob.images
    idx = torch.randperm(subset.shape[0], generator=torch.Generator().manual_seed(42))[:cfg.n_recovery_train]
    rec_train = recovery_grid(models, subset[idx.to(subset.device)], cfg.t_f, batch_size=256)
    not_worse_train = {r: bool(np.all(rec_train.row(f"ideal R={r}") <= rec_train.row(f"trained R={r}")))
                       for r in cfg.trained_radii}
    secs["recovery (training digits)"] = time.perf_counter() - t0

    say(f"locality vs CMI on {cfg.cmi_train} digits")
    t0 = time.perf_counter()
    loc = empirical_locality_cmi(train_imgs[np.sort(np.random.default_rng(1).choice(len(train_imgs), cfg.cmi_train,
                                                                                    replace=False))],
                                 cfg.cmi_t, cfg.cmi_radii, n_samples=cfg.cmi_samples, seed=0, device=dev)
    secs["locality CMI"] = time.perf_counter() - t0

    say(f"hybrid samplers: {cfg.n_samples} samples x {len(cfg.windows)} windows")
    t0 = time.perf_counter()
    fid, floor = _fid_callable(cache, cfg.n_real, cfg.n_samples, cfg.classifier_train)
    R = cfg.hybrid_R
    hyb, samples = hybrid_comparison(glob, {f"ideal R={R}": ideal[R], f"trained R={R}": trained[R]}, fid,
                                     windows=cfg.windows, n_samples=cfg.n_samples, n_steps=cfg.n_steps, device=dev)
    secs["hybrid"] = time.perf_counter() - t0
    return IdealStudy(dataclasses.asdict(cfg), str(dev), rec, not_worse, rec_train, not_worse_train, loc, hyb, samples,
                      floor, secs)


def study_to_json(study: IdealStudy) -> dict[str, Any]:
    """Plain-JSON view of a study (samples left out), with the headline numbers on top.

    Headline keys: ``fid_global`` and ``fid_hybrid_ideal`` (first window), ``fid_hybrid_trained``,
    ``fid_ratio_ideal`` (hybrid / global), ``crossing`` and ``crossing_train`` (0.03 crossing per recovery row, on
    held-out and on training digits).
    """
    h = study.hybrid
    row = {n: i for i, n in enumerate(h.names)}
    ideal_name = next(n for n in h.names if n.startswith("hybrid ideal"))
    trained_name = next(n for n in h.names if n.startswith("hybrid trained"))
    d = {k: v for k, v in dataclasses.asdict(study).items() if k != "samples"}
    return {
        "fid_global": float(h.fid[0, row["global"]]),
        "fid_hybrid_ideal": float(h.fid[0, row[ideal_name]]),
        "fid_hybrid_trained": float(h.fid[0, row[trained_name]]),
        "fid_ratio_ideal": float(h.fid[0, row[ideal_name]] / h.fid[0, row["global"]]),
        "window": list(h.windows[0]),
        "crossing": dict(zip(study.recovery.names, study.recovery.crossing)),
        "crossing_train": dict(zip(study.recovery_train.names, study.recovery_train.crossing)),
        **d,
    }
