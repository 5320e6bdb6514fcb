r"""Flow-matching training with AdamW, atomic resumable checkpoints, AMP on CUDA and DDP via ``torchrun``.

One training step draws a global batch of data :math:`x_0`, noise :math:`z` and logit-normal times :math:`t`,
forms :math:`x_t = (1-t)x_0 + t z` and regresses the velocity (:func:`classical.path.flow_matching_loss`, the
authors' 3-term loss by default).  All randomness comes from one ``torch.Generator`` seeded by ``seed`` (noise,
times) and from per-epoch permutations seeded by ``(seed, epoch)``; the generator state, model, optimizer,
scheduler and step are checkpointed atomically, so a run killed and resumed ends at the same weights as an
uninterrupted one (CPU, same thread count).

Data parallelism: under ``torchrun`` (or any initialised ``torch.distributed`` group) every rank draws the same
global batch and trains on its contiguous slice of ``batch_size / world_size`` images inside
``DistributedDataParallel``; the all-reduced gradient is the full-batch gradient, so the trajectory matches
single-process training (tested with 2 gloo processes).  Only rank 0 writes checkpoints.

Named configurations (:data:`CONFIGS`):

``cpu-small``
    global U-Net width 16, emb 128, positional channels, batch 256; strictly local nets base 4, channel
    multipliers (1, 1, 2, 2), emb 32, position bias, batch 128 (sized so that the hybrid sampler can cost
    <= 1/3 of the global one's FLOPs); 300 steps each: about 3-14 minutes for the global net and 2 minutes
    per local net on this shared 2-core machine, depending on the load.
``paper``
    the spec (theory note mnist.md §1c/§1d): global width 64, emb 512, positional channels, 3-term loss, lr 1e-3,
    weight decay 1e-3, 100 warm-up steps, 15 epochs of batch 512 on 60 000 images; local nets base 16, emb 64,
    the authors' (non-strict) topology, lr 1e-3, weight decay 1e-4, clip 1.0, 15 epochs of batch 256 on 48 000
    images; the global net uses the authors' schedule-free AdamW (``optimizer="schedulefree"``).  Deviation: by
    default the local nets are trained with the same velocity loss as the global net, so that the hybrid sampler
    can switch models at any t; the authors' noise prediction with its t-curriculum is the option
    ``prediction="noise", t_sampling="curriculum", three_term=False`` (below).

Noise prediction with the authors' curriculum (theory note mnist.md §1d, "training, as coded")
    ``prediction="noise"``: the net outputs :math:`\hat z(x_t, t)` and is trained on the plain MSE
    :math:`\|\hat z - z\|^2`.  ``t_sampling="curriculum"``: :math:`t \sim U[0.1, t_{max}(e)]` with the
    virtual epoch :math:`e = \lfloor 15\,\mathrm{step}/\mathrm{steps} \rfloor` (the paper's 15 epochs, rescaled
    to any run length) and :func:`curriculum_t_max`.  Such a net is used through :class:`NoisePredictionModel`,
    which returns the velocity :math:`v = (\hat z - x_t)/(1 - t)` (:func:`classical.path.noise_to_velocity`), so it
    works wherever a velocity model does, except at t = 1 exactly, where :math:`\hat z = x_t` carries no
    information about :math:`x_0` and the conversion is refused (a ValueError naming t).  :func:`train` and
    :func:`load_model` return the wrapped model.  Not reproduced: the authors' ReduceLROnPlateau (our runs use the
    linear warm-up of every config) and their clamping sampler.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import numbers
import os
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from quantum_diffusion.io import atomic_copy, atomic_write
from quantum_diffusion.typing import Prediction, TimeSampling

from .models import build_model
from .path import check_images, flow_matching_loss, interpolate, noise_to_velocity, sample_logit_normal

__all__ = [
    "CheckpointError",
    "NonFiniteTrainingError",
    "TrainConfig",
    "NoisePredictionModel",
    "curriculum_t_max",
    "CONFIGS",
    "named_config",
    "default_device",
    "train",
    "load_checkpoint",
    "load_model",
    "nonfinite_entry",
    "previous_checkpoint_path",
    "read_torch_file",
]

logger = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A checkpoint is empty, truncated, corrupt, non-finite or from another configuration; the message names it."""


class NonFiniteTrainingError(FloatingPointError):
    """The training loss or the parameters became NaN/inf; the last good checkpoint was left in place."""


@dataclass(frozen=True)
class TrainConfig:
    r"""Training hyper-parameters (JSON-serialisable; stored in every checkpoint).

    Attributes
    ----------
    model : model spec for :func:`classical.models.build_model`.
    steps : total optimizer steps.
    batch_size : global batch (split over ranks under DDP).
    lr, weight_decay : AdamW parameters.
    warmup : linear learning-rate warm-up steps.
    three_term : use the authors' 3-term loss (else the plain velocity MSE).
    grad_clip : max gradient norm, or None.
    seed : seeds every random draw of the run.
    ckpt_every : checkpoint period in steps (and at the end).
    t_range : times are logit-normal, then affinely squeezed into ``[t_lo, t_hi]``.
    optimizer : ``"adamw"`` (default), ``"schedulefree"`` (the authors' ``schedulefree.AdamWScheduleFree`` with
        ``warmup_steps = warmup`` and no extra schedule; the final checkpoint and the returned model hold the
        schedule-free average, intermediate checkpoints the training iterate) or ``"sgd"`` (plain SGD with the
        same lr and weight decay; used to compare trajectories, since Adam's first step ``lr * g / (|g| + eps)``
        amplifies round-off on parameters with a vanishing gradient, e.g. conv biases in front of GroupNorm).
    prediction : ``"velocity"`` (default; loss :func:`classical.path.flow_matching_loss`) or ``"noise"`` (the net
        predicts z, plain MSE; needs ``three_term=False``; used through :class:`NoisePredictionModel`).
    t_sampling : ``"logit-normal"`` (default; squeezed into ``t_range``) or ``"curriculum"`` (the authors' local-net
        curriculum :math:`t \sim U[0.1, t_{max}]`, :func:`curriculum_t_max`; needs the default ``t_range``).
    """

    model: dict[str, Any]
    steps: int
    batch_size: int
    lr: float = 1e-3
    weight_decay: float = 1e-3
    warmup: int = 100
    three_term: bool = True
    grad_clip: float | None = 1.0
    seed: int = 0
    ckpt_every: int = 100
    t_range: tuple[float, float] = field(default=(0.0, 1.0))
    optimizer: str = "adamw"
    prediction: Prediction = "velocity"
    t_sampling: TimeSampling = "logit-normal"

    def __post_init__(self) -> None:
        """Validate every field; the error names the field and the value.

        Raises
        ------
        TypeError
            A field of the wrong type (e.g. a string learning rate, a float step count).
        ValueError
            A value out of range: non-finite or non-positive lr, steps/batch_size/ckpt_every < 1, negative
            warm-up, weight decay or seed, a bad t_range, model kind or optimizer name.
        """
        if not isinstance(self.model, Mapping) or self.model.get("kind") not in ("global", "local"):
            raise ValueError(f"TrainConfig.model must be a model spec with kind 'global' or 'local', "
                             f"got {self.model!r}")
        _check_int("steps", self.steps, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_real("lr", self.lr, positive=True)
        _check_real("weight_decay", self.weight_decay, positive=False)
        _check_int("warmup", self.warmup, 0)
        if not isinstance(self.three_term, bool):
            raise TypeError(f"TrainConfig.three_term must be a bool, got {self.three_term!r}")
        if self.grad_clip is not None:
            _check_real("grad_clip", self.grad_clip, positive=True)
        _check_int("seed", self.seed, 0)
        _check_int("ckpt_every", self.ckpt_every, 1)
        tr = self.t_range
        if (not isinstance(tr, (tuple, list)) or len(tr) != 2
                or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in tr)
                or not (0.0 <= tr[0] < tr[1] <= 1.0)):
            raise ValueError(f"TrainConfig.t_range must be (t_lo, t_hi) with 0 <= t_lo < t_hi <= 1, got {tr!r}")
        if self.optimizer not in ("adamw", "sgd", "schedulefree"):
            raise ValueError(f"TrainConfig.optimizer must be 'adamw', 'schedulefree' or 'sgd', got {self.optimizer!r}")
        if self.prediction not in ("velocity", "noise"):
            raise ValueError(f"TrainConfig.prediction must be 'velocity' or 'noise', got {self.prediction!r}")
        if self.prediction == "noise" and self.three_term:
            raise ValueError("TrainConfig.three_term is the velocity loss of the global net; with prediction='noise' "
                             "the loss is the plain noise MSE: set three_term=False")
        if self.t_sampling not in ("logit-normal", "curriculum"):
            raise ValueError(f"TrainConfig.t_sampling must be 'logit-normal' or 'curriculum', got {self.t_sampling!r}")
        if self.t_sampling == "curriculum" and tuple(tr) != (0.0, 1.0):
            raise ValueError(f"TrainConfig.t_range={tuple(tr)} is not used by t_sampling='curriculum' (t ~ U[0.1, "
                             "t_max]): leave it at (0.0, 1.0)")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"TrainConfig.{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"TrainConfig.{name} must be >= {minimum}, got {value}")


def _check_real(name: str, value: Any, *, positive: bool) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"TrainConfig.{name} must be a real number, got {value!r}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"TrainConfig.{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value}")


_CPU_GLOBAL = {"kind": "global", "width": 16, "emb": 128, "pos_channels": True}
_CPU_LOCAL = {"kind": "local", "base": 4, "emb": 32, "strict": True, "mults": [1, 1, 2, 2], "pos_bias": True}
_PAPER_GLOBAL = {"kind": "global", "width": 64, "emb": 512, "pos_channels": True}
_PAPER_LOCAL = {"kind": "local", "base": 16, "emb": 64, "strict": False, "mults": [1, 2, 4, 8]}

#: name -> (global TrainConfig, local TrainConfig template without R)
CONFIGS: dict[str, tuple[TrainConfig, TrainConfig]] = {
    "cpu-small": (
        TrainConfig(_CPU_GLOBAL, steps=300, batch_size=256, lr=2e-3, weight_decay=1e-3, warmup=30, ckpt_every=50),
        TrainConfig(_CPU_LOCAL, steps=300, batch_size=128, lr=3e-3, weight_decay=1e-4, warmup=30, ckpt_every=50),
    ),
    "paper": (
        TrainConfig(_PAPER_GLOBAL, steps=15 * math.ceil(60000 / 512), batch_size=512, lr=1e-3, weight_decay=1e-3,
                    warmup=100, grad_clip=None, ckpt_every=200, optimizer="schedulefree"),
        TrainConfig(_PAPER_LOCAL, steps=15 * math.ceil(48000 / 256), batch_size=256, lr=1e-3, weight_decay=1e-4,
                    warmup=100, grad_clip=1.0, ckpt_every=200),
    ),
}


def named_config(name: str, kind: str = "global", R: int | None = None, **overrides: Any) -> TrainConfig:
    """Return the named configuration for the global net or the local net of radius R.

    Raises
    ------
    ValueError
        Unknown name or kind, or a local config without R.
    """
    if name not in CONFIGS:
        raise ValueError(f"unknown configuration {name!r}; choose from {sorted(CONFIGS)}")
    if kind == "global":
        cfg = CONFIGS[name][0]
    elif kind == "local":
        if R is None:
            raise ValueError("a local configuration needs the radius R")
        cfg = CONFIGS[name][1]
        cfg = replace(cfg, model={**cfg.model, "R": int(R)})
    else:
        raise ValueError(f"kind must be 'global' or 'local', got {kind!r}")
    return replace(cfg, **overrides)


#: The authors' curriculum: epochs of the schedule, warm-up epochs, lowest t, t_max after the warm-up.
CURRICULUM_EPOCHS, CURRICULUM_WARMUP, CURRICULUM_T_LO, CURRICULUM_T_WARM = 15, 3, 0.1, 0.3


def curriculum_t_max(step: int, steps: int) -> float:
    r"""Upper end :math:`t_{max}` of the authors' local-net curriculum :math:`t \sim U[0.1, t_{max}]` at ``step``.

    With the virtual epoch :math:`e = \lfloor 15\,\mathrm{step}/\mathrm{steps} \rfloor` (the authors trained 15
    epochs; a run of any length is mapped onto them),

    .. math::

        t_{max}(e) = \begin{cases} 0.1 + 0.2\, e/3, & e < 3 \\ 0.3 + 0.7\,(e - 3)/12, & e \ge 3, \end{cases}

    so it rises 0.1 -> 0.3 over 3 warm-up epochs, then linearly towards 1.0, which the last epoch (e = 14)
    does not reach: :math:`t_{max}(14) = 0.3 + 0.7 \cdot 11/12 \approx 0.94`, the value of theory note mnist.md
    §1d.  The warm-up's exact form (linear from 0.1 at e = 0) is our reading of the note.

    Parameters
    ----------
    step : int
        Optimizer step, 0 <= step < steps.
    steps : int
        Total steps of the run (>= 1).

    Returns
    -------
    float
        :math:`t_{max}` in [0.1, 1).

    Raises
    ------
    ValueError
        If ``steps < 1`` or ``step`` is outside 0..steps-1.
    """
    if steps < 1 or not 0 <= step < steps:
        raise ValueError(f"need 0 <= step < steps and steps >= 1, got step={step}, steps={steps}")
    e = (CURRICULUM_EPOCHS * step) // steps
    if e < CURRICULUM_WARMUP:
        return CURRICULUM_T_LO + (CURRICULUM_T_WARM - CURRICULUM_T_LO) * e / CURRICULUM_WARMUP
    return CURRICULUM_T_WARM + (1.0 - CURRICULUM_T_WARM) * (e - CURRICULUM_WARMUP) / (
        CURRICULUM_EPOCHS - CURRICULUM_WARMUP)


class NoisePredictionModel(nn.Module):
    r"""A velocity model made from a net that predicts the noise: :math:`v = (\hat z(x, t) - x)/(1 - t)`.

    The conversion is :func:`classical.path.noise_to_velocity` (the path convention :math:`x_t = (1-t)x_0 + tz`);
    it is exact, and singular at t = 1, where it raises a ValueError (a noise predictor says nothing about
    :math:`x_0` there: :math:`\hat z = x_1`).

    Parameters
    ----------
    net : torch.nn.Module
        ``net(x, t)`` returns :math:`\hat z`, shape of ``x`` (B, C, H, W); t of shape (B,).
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def noise(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        r"""Return the wrapped net's noise prediction :math:`\hat z(x, t)`."""
        return self.net(x, t)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        r"""Velocity :math:`(\hat z - x)/(1 - t)`.

        Raises
        ------
        ValueError
            At t = 1 (or t outside [0, 1]).
        """
        return noise_to_velocity(self.net(x, t), x, t)

    def __getattr__(self, name: str) -> Any:
        """Attributes of the wrapped net (``R``, ``radius``, ...) are visible on the wrapper."""
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("net"), name)


def _as_velocity_model(model: nn.Module, prediction: str) -> nn.Module:
    return NoisePredictionModel(model) if prediction == "noise" else model


def default_device() -> torch.device:
    """``cuda`` if available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _to_plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    return obj


def _config_key(cfg: TrainConfig) -> dict[str, Any]:
    d = _to_plain(asdict(cfg))
    d.pop("steps")  # a run may be extended
    d.pop("ckpt_every")
    for name, default in (("prediction", "velocity"), ("t_sampling", "logit-normal")):
        if d.get(name) == default:  # fields added later: checkpoints written before them still resume
            d.pop(name)
    return d


def _digest(obj: Any, h: Any = None) -> str:
    """SHA-256 of a checkpoint's content: every tensor's name, dtype, shape and bytes, and every plain value."""
    h = hashlib.sha256() if h is None else h
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, Mapping):
        h.update(b"{")
        for k in sorted(obj, key=repr):
            h.update(repr(k).encode())
            _digest(obj[k], h)
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for v in obj:
            _digest(v, h)
        h.update(b"]")
    else:
        h.update(repr(obj).encode())
    return h.hexdigest()


def previous_checkpoint_path(path: str | os.PathLike) -> Path:
    """Where :func:`train` keeps the previous good checkpoint: ``name.pt`` -> ``name.prev.pt``.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint.

    Returns
    -------
    Path
        The sibling holding the checkpoint that the last save replaced.
    """
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix or '.pt'}")


def _save(path: Path, obj: dict[str, Any]) -> None:
    bad = nonfinite_entry(obj["model"])
    if bad is not None:
        raise NonFiniteTrainingError(f"parameter {bad!r} is not finite at step {obj['step']}; {path} was not "
                                     "overwritten and keeps the last good state")
    obj = {**obj, "sha256": _digest(obj)}
    buf = io.BytesIO()
    torch.save(obj, buf)
    if path.is_file():
        atomic_copy(path, previous_checkpoint_path(path))
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))


def read_torch_file(path: str | os.PathLike, *, hint: str, map_location: str | torch.device = "cpu",
                    what: str = "file") -> Any:
    """Read a file written by :func:`torch.save` after checking that it is intact (``weights_only=True``).

    The one reader of the package's torch files (training checkpoints, the FID classifier cache): an empty,
    truncated or garbage file, or one whose zip CRC fails, raises :class:`CheckpointError` naming the file,
    never a bare torch traceback and never silently corrupted weights.

    Parameters
    ----------
    path : str or os.PathLike
        An existing file.
    hint : str
        What the user can do about a bad file (appended to the message).
    map_location : str or torch.device
        Device the tensors are loaded onto.
    what : str
        What the file is, for the message (``"checkpoint"``, ``"classifier cache"``).

    Returns
    -------
    Any
        The loaded object.

    Raises
    ------
    CheckpointError
        If the file is empty, truncated, not a torch file, fails its CRC check or cannot be unpickled safely.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise CheckpointError(f"{what} {path} is empty; {hint}")
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{what} {path} is truncated or not a torch file ({exc}); {hint}") from exc
    if bad is not None:
        raise CheckpointError(f"{what} {path} is corrupt: record {bad!r} fails its CRC check; {hint}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, ... on bad files
        raise CheckpointError(f"{what} {path} cannot be read ({type(exc).__name__}: {exc}); {hint}") from exc


def nonfinite_entry(state: Mapping[str, Any]) -> str | None:
    """Return the name of the first floating tensor of ``state`` with a NaN or inf entry, or ``None``.

    Parameters
    ----------
    state : Mapping[str, Any]
        A ``state_dict``-like mapping.

    Returns
    -------
    str or None
        The offending key, or ``None`` when every floating tensor is finite.
    """
    for name, t in state.items():
        if isinstance(t, torch.Tensor) and t.is_floating_point() and not torch.isfinite(t).all():
            return name
    return None


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and verify a checkpoint written by :func:`train` (``weights_only=True``: no arbitrary code).

    Verification: the zip CRC of every record (:meth:`zipfile.ZipFile.testzip`), the SHA-256 of the content
    stored at save time, and finite model parameters.

    Parameters
    ----------
    path : str or os.PathLike
        Checkpoint file.
    map_location : str or torch.device
        Device the tensors are loaded onto.

    Returns
    -------
    dict
        The checkpoint (``model``, ``optimizer``, ``scheduler``, ``scaler``, ``rng``, ``step``, ``config``, ...).

    Raises
    ------
    FileNotFoundError
        If the checkpoint does not exist.
    CheckpointError
        If it is empty, truncated, not a torch checkpoint, fails its CRC or SHA-256 check, or holds
        non-finite parameters (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist (train the model first: python -m classical train)")
    hint = f"delete {path} to train from scratch"
    prev = previous_checkpoint_path(path)
    if prev.is_file() and prev != path:
        hint = f"the previous good checkpoint is {prev}: move it to {path} to resume from it, or {hint}"
    ck = read_torch_file(path, hint=hint, map_location=map_location, what="checkpoint")
    if not isinstance(ck, dict) or not {"model", "step", "config"} <= set(ck):
        raise CheckpointError(f"checkpoint {path} is not a training checkpoint of classical.train; {hint}")
    stored = ck.pop("sha256", None)
    if stored is None:
        warnings.warn(f"checkpoint {path} has no stored SHA-256 (written by an older version); only its CRC "
                      "and finiteness were checked", stacklevel=2)
    elif _digest(ck) != stored:
        raise CheckpointError(f"checkpoint {path} is corrupt: its content does not match the stored SHA-256; {hint}")
    bad_param = nonfinite_entry(ck["model"])
    if bad_param is not None:
        raise CheckpointError(f"checkpoint {path} holds non-finite parameter {bad_param!r}; {hint}")
    return ck


def load_model(path: str | os.PathLike, device: str | torch.device | None = None) -> nn.Module:
    """Rebuild the model stored in a checkpoint, in eval mode on ``device``, as a velocity model.

    A net trained with ``prediction="noise"`` comes wrapped in :class:`NoisePredictionModel`.

    Parameters
    ----------
    path : str or os.PathLike
        Checkpoint written by :func:`train`.
    device : str or torch.device, optional
        Default ``cuda`` if available, else CPU.

    Returns
    -------
    torch.nn.Module
        The model, in eval mode.

    Raises
    ------
    FileNotFoundError
        If the checkpoint does not exist.
    CheckpointError
        If the checkpoint is corrupt (see :func:`load_checkpoint`).
    """
    device = torch.device(device) if device is not None else default_device()
    ck = load_checkpoint(path, map_location=device)
    model = build_model(ck["config"]["model"])
    model.load_state_dict(ck["model"])
    return _as_velocity_model(model, ck["config"].get("prediction", "velocity")).to(device).eval()


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _epoch_perm(seed: int, epoch: int, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))
    return torch.randperm(n, generator=g)


@dataclass
class TrainResult:
    """Trained model (train mode), loss per step of this call, and the final step.

    The model is a velocity model: the net itself (not a DDP wrapper), or for ``prediction="noise"`` the net inside
    a :class:`NoisePredictionModel`.
    """

    model: nn.Module
    losses: list[float]
    step: int


def train(
    cfg: TrainConfig,
    data: torch.Tensor | np.ndarray,
    checkpoint: str | os.PathLike,
    *,
    device: str | torch.device | None = None,
    stop_after: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train (or resume training of) ``cfg.model`` on ``data`` by flow matching.

    Parameters
    ----------
    cfg : the configuration; a checkpoint with a different configuration (except ``steps``) is refused.
    data : images of shape (N, C, H, W), values in [0, 1] (t = 0 of the path).
    checkpoint : checkpoint file; resumed from when it exists, written atomically every ``cfg.ckpt_every``
        steps and at the end (rank 0 only).
    device : default ``cuda`` if available else CPU.  AMP (float16 autocast + GradScaler) only on CUDA.
    stop_after : stop after this many steps of this call (simulates a killed run; the checkpoint is written).
    progress : show a tqdm bar (rank 0).

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        Bad data shape, values outside [0, 1], fewer images than one batch, batch not divisible by the world
        size, or a checkpoint written with another configuration.
    CheckpointError
        If the existing checkpoint is corrupt or was written with another configuration (it is never silently
        replaced by a fresh run).
    NonFiniteTrainingError
        If the loss or a parameter becomes NaN/inf: training stops and the checkpoint keeps the last good
        state (the one before it is kept as :func:`previous_checkpoint_path`).

    Notes
    -----
    Before a checkpoint is replaced, the old one is kept as ``<name>.prev.pt``; a resumed run logs
    "resuming from step N" (logger ``classical.train``, level INFO).
    """
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    device = torch.device(device) if device is not None else default_device()
    data = torch.as_tensor(data, dtype=torch.float32)
    check_images(data, "data")
    lo_x, hi_x = float(data.min()), float(data.max())
    if lo_x < 0.0 or hi_x > 1.0:
        raise ValueError(f"data: images must have values in [0, 1] (t = 0 of the path), observed range "
                         f"[{lo_x:g}, {hi_x:g}]; divide 8-bit images by 255")
    if stop_after is not None and (not isinstance(stop_after, numbers.Integral) or stop_after < 1):
        raise ValueError(f"stop_after must be a positive integer or None, got {stop_after!r}")
    n = data.shape[0]
    rank, world = _dist_info()
    if cfg.batch_size > n:
        raise ValueError(f"need at least one batch of data: {n} images < batch_size {cfg.batch_size}")
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} must be divisible by the world size {world}")
    checkpoint = Path(checkpoint)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)  # parameter initialisation, without touching the caller's RNG
        model = build_model(cfg.model).to(device)
    schedule_free = cfg.optimizer == "schedulefree"
    if cfg.optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    elif schedule_free:
        import schedulefree  # optional dependency (the torch extra)

        opt = schedulefree.AdamWScheduleFree(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                             warmup_steps=cfg.warmup)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    warm = 0 if schedule_free else cfg.warmup  # schedule-free warms up by itself
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, warm)))
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    gen = torch.Generator().manual_seed(cfg.seed)
    step = 0
    if checkpoint.is_file():
        ck = load_checkpoint(checkpoint, map_location=device)
        if ck["config_key"] != _config_key(cfg):
            raise CheckpointError(f"checkpoint {checkpoint} was written with another configuration: "
                             f"{ck['config_key']} != {_config_key(cfg)}")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        scaler.load_state_dict(ck["scaler"])
        gen.set_state(ck["rng"].cpu())
        step = int(ck["step"])
        if rank == 0 and step < cfg.steps:
            logger.info("%s: resuming from step %d", checkpoint, step)
    saved_step = step if checkpoint.is_file() else None
    net: nn.Module = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    steps_per_epoch = n // cfg.batch_size
    local_b = cfg.batch_size // world
    lo_t, hi_t = cfg.t_range

    def save() -> None:
        nonlocal saved_step
        if rank == 0:
            _save(checkpoint, {
                "model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "scaler": scaler.state_dict(), "rng": gen.get_state(), "step": step,
                "config": _to_plain(asdict(cfg)), "config_key": _config_key(cfg),
            })
        saved_step = step
        if world > 1:
            dist.barrier()

    end = cfg.steps if stop_after is None else min(cfg.steps, step + stop_after)
    losses: list[float] = []
    model.train()
    if schedule_free and step < end:
        opt.train()  # parameters = the training iterate y
    perm, perm_epoch = None, -1
    bar = tqdm(total=end - step, desc=f"train {cfg.model.get('kind')}", disable=not progress or rank != 0,
               leave=False)
    while step < end:
        epoch, b = divmod(step, steps_per_epoch)
        if epoch != perm_epoch:
            perm, perm_epoch = _epoch_perm(cfg.seed, epoch, n), epoch
        idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
        z = torch.randn((cfg.batch_size, *data.shape[1:]), generator=gen)
        if cfg.t_sampling == "curriculum":
            t_max = curriculum_t_max(step, cfg.steps)
            t = CURRICULUM_T_LO + (t_max - CURRICULUM_T_LO) * torch.rand(cfg.batch_size, generator=gen)
        else:
            t = lo_t + (hi_t - lo_t) * sample_logit_normal(cfg.batch_size, gen)
        sl = slice(rank * local_b, (rank + 1) * local_b)
        x0, z, t = data[idx[sl]].to(device), z[sl].to(device), t[sl].to(device)
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
            out = net(interpolate(x0, z, t), t)
            if cfg.prediction == "noise":
                loss = torch.mean((out.float() - z) ** 2)
            else:
                loss = flow_matching_loss(out.float(), x0, z, t, three_term=cfg.three_term)
        loss_value = float(loss.detach())
        bad = torch.tensor([0.0 if math.isfinite(loss_value) else 1.0], device=device)
        if world > 1:
            dist.all_reduce(bad)  # every rank stops together
        if bad.item():
            bar.close()
            kept = (f"{checkpoint} keeps the last good state (step {saved_step})" if saved_step is not None
                    else f"no checkpoint was written to {checkpoint}")
            raise NonFiniteTrainingError(f"training loss became {loss_value} at step {step + 1}; stopped, "
                                         f"{kept}. Lower the learning rate or check the data.")
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if cfg.grad_clip is not None:
            scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        scaler.step(opt)
        scaler.update()
        sched.step()
        step += 1
        losses.append(loss_value)
        bar.update(1)
        bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)  # refresh=True would defeat mininterval in logs
        if step % cfg.ckpt_every == 0 or step == end:
            if schedule_free and step == cfg.steps:
                opt.eval()  # finished: parameters = the schedule-free average x
            save()
    bar.close()
    if not checkpoint.is_file():
        save()
    return TrainResult(_as_velocity_model(model, cfg.prediction), losses, step)
