r"""Euler samplers for the probability-flow ODE :math:`\dot x = v(x, t)`, run from t = 1 (noise) to t = 0 (data).

.. math::

    x_{t - \Delta t} = x_t - \Delta t\; v(x_t, t).

This is the :math:`\lambda = 0` member of the reverse-time (Bayes/Petz) family, see :mod:`classical.path`.

Hybrid sampler: a schedule is a list of :class:`Segment` ``(t_lo, t_hi, model)`` that tile [0, 1] without gaps
or overlaps.  The sampler uses one uniform grid of N steps on [0, 1] (so a hybrid and a single-model sampler
with the same N do the same number of network evaluations); the step :math:`[t_{k+1}, t_k]` is taken by the
model whose segment contains its midpoint.  A model is any callable ``model(x, t) -> v`` with x of shape
(B, C, H, W) and t of shape (B,).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from .path import check_images, drift_coefficients, reverse_sde_drift

__all__ = [
    "NonFiniteVelocityError",
    "Segment",
    "validate_schedule",
    "step_assignment",
    "euler_sample",
    "hybrid_sample",
    "denoise_from",
    "reverse_sde_sample",
]

VelocityFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class NonFiniteVelocityError(FloatingPointError):
    """A model returned NaN/inf velocities during sampling; the message gives the step and the time."""


def _checked_velocity(model: VelocityFn, x: torch.Tensor, t: torch.Tensor, *, k: int, n_steps: int,
                      label: str = "") -> torch.Tensor:
    """Evaluate ``model(x, t)`` and refuse a velocity of the wrong shape or with NaN/inf entries."""
    v = model(x, t)
    if not isinstance(v, torch.Tensor) or v.shape != x.shape:
        got = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
        raise ValueError(f"model{label} must return a velocity of shape {tuple(x.shape)}, got {got}")
    if not torch.isfinite(v).all():
        raise NonFiniteVelocityError(
            f"model{label} returned non-finite velocity at step {k + 1} of {n_steps} (t = {float(t[0]):.6g}); "
            "the model or its checkpoint is broken")
    return v


def _check_samples(x: torch.Tensor, n_steps: int) -> None:
    """Refuse samples that overflowed to inf in the last Euler update (finite but huge velocities)."""
    if not torch.isfinite(x).all():
        raise NonFiniteVelocityError(f"the samples overflowed to inf/NaN after {n_steps} steps (finite but huge "
                                     "velocities); the model or its checkpoint is broken")


@dataclass(frozen=True)
class Segment:
    """Use ``model`` for t in [t_lo, t_hi]; ``name`` labels it in reports."""

    t_lo: float
    t_hi: float
    model: VelocityFn
    name: str = ""


def validate_schedule(segments: Sequence[Segment], *, t_min: float = 0.0, t_max: float = 1.0,
                      atol: float = 1e-9) -> list[Segment]:
    """Return the segments sorted by time after checking that they tile ``[t_min, t_max]`` exactly.

    Raises
    ------
    ValueError
        Empty schedule, a segment with t_lo >= t_hi or outside [0, 1], a gap or an overlap between consecutive
        segments, or a schedule that does not start at ``t_min`` / end at ``t_max``.
    """
    if not segments:
        raise ValueError("the hybrid schedule is empty")
    segs = sorted(segments, key=lambda s: s.t_lo)
    for s in segs:
        if not (0.0 <= s.t_lo < s.t_hi <= 1.0) or math.isnan(s.t_lo) or math.isnan(s.t_hi):
            raise ValueError(f"segment [{s.t_lo}, {s.t_hi}] must satisfy 0 <= t_lo < t_hi <= 1")
        if not callable(s.model):
            raise ValueError(f"segment [{s.t_lo}, {s.t_hi}] has a non-callable model")
    if abs(segs[0].t_lo - t_min) > atol:
        raise ValueError(f"schedule gap: nothing covers [{t_min}, {segs[0].t_lo}]")
    if abs(segs[-1].t_hi - t_max) > atol:
        raise ValueError(f"schedule gap: nothing covers [{segs[-1].t_hi}, {t_max}]")
    for a, b in zip(segs[:-1], segs[1:]):
        if b.t_lo > a.t_hi + atol:
            raise ValueError(f"schedule gap between {a.t_hi} and {b.t_lo}")
        if b.t_lo < a.t_hi - atol:
            raise ValueError(f"schedule overlap: [{a.t_lo}, {a.t_hi}] and [{b.t_lo}, {b.t_hi}]")
    return segs


def step_assignment(segments: Sequence[Segment], n_steps: int, *, t_start: float = 1.0,
                    t_end: float = 0.0) -> list[int]:
    """Index (into the sorted schedule) of the segment taking each of the ``n_steps`` uniform steps.

    Raises
    ------
    ValueError
        Invalid schedule, ``n_steps < 1``, or not 0 <= t_end < t_start <= 1.
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if not (0.0 <= t_end < t_start <= 1.0):
        raise ValueError(f"need 0 <= t_end < t_start <= 1, got t_start={t_start}, t_end={t_end}")
    segs = validate_schedule(segments)
    dt = (t_start - t_end) / n_steps
    out = []
    for k in range(n_steps):
        mid = t_start - (k + 0.5) * dt
        out.append(next(i for i, s in enumerate(segs) if s.t_lo <= mid <= s.t_hi))
    return out


@torch.no_grad()
def hybrid_sample(segments: Sequence[Segment], x1: torch.Tensor, n_steps: int = 32, *, t_start: float = 1.0,
                  t_end: float = 0.0, batch_size: int | None = None, progress: bool = False) -> torch.Tensor:
    """Integrate the probability-flow ODE from ``t_start`` to ``t_end`` with the hybrid schedule.

    Parameters
    ----------
    segments : schedule tiling [0, 1] (see :func:`validate_schedule`).
    x1 : starting images at ``t_start``, shape (B, C, H, W) (pure noise when t_start = 1).
    n_steps : Euler steps between t_start and t_end.
    batch_size : evaluate the networks in chunks of this many images (memory).

    Returns
    -------
    Images at ``t_end``, same shape as ``x1``.

    Raises
    ------
    ValueError
        Invalid schedule, step count, times, or image shape, or a velocity of the wrong shape.
    NonFiniteVelocityError
        If a model returns NaN or inf (the message gives the step and the time).
    """
    check_images(x1, "x1")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
    assign = step_assignment(segments, n_steps, t_start=t_start, t_end=t_end)
    segs = validate_schedule(segments)
    dt = (t_start - t_end) / n_steps
    x = x1.clone()
    chunks = [slice(0, x.shape[0])] if batch_size is None else [
        slice(i, min(i + batch_size, x.shape[0])) for i in range(0, x.shape[0], batch_size)]
    for k in tqdm(range(n_steps), disable=not progress, desc="sampling", leave=False):
        t = t_start - k * dt
        seg = segs[assign[k]]
        label = f" {seg.name!r}" if seg.name else ""
        for c in chunks:
            tt = torch.full((x[c].shape[0],), t, dtype=x.dtype, device=x.device)
            x[c] = x[c] - dt * _checked_velocity(seg.model, x[c], tt, k=k, n_steps=n_steps, label=label)
    _check_samples(x, n_steps)
    return x


def euler_sample(model: VelocityFn, x1: torch.Tensor, n_steps: int = 32, *, t_start: float = 1.0,
                 t_end: float = 0.0, batch_size: int | None = None, progress: bool = False) -> torch.Tensor:
    """Single-model Euler sampler (the schedule ``[Segment(0, 1, model)]``); see :func:`hybrid_sample`.

    Raises
    ------
    ValueError
        Invalid step count, times, or image shape.
    NonFiniteVelocityError
        If the model returns NaN or inf (the message gives the step and the time).
    """
    return hybrid_sample([Segment(0.0, 1.0, model)], x1, n_steps, t_start=t_start, t_end=t_end,
                         batch_size=batch_size, progress=progress)


def denoise_from(model: VelocityFn, xt: torch.Tensor, t_f: float, *, steps_per_unit: int = 32,
                 batch_size: int | None = None) -> torch.Tensor:
    """Denoise images diffused to ``t_f`` with ``ceil(steps_per_unit * t_f)`` Euler steps down to t = 0.

    Raises
    ------
    ValueError
        If ``t_f`` is not in (0, 1] or ``steps_per_unit < 1``.
    """
    if not (0.0 < t_f <= 1.0):
        raise ValueError(f"t_f must lie in (0, 1], got {t_f}")
    if steps_per_unit < 1:
        raise ValueError(f"steps_per_unit must be >= 1, got {steps_per_unit}")
    n = max(1, math.ceil(steps_per_unit * t_f - 1e-9))
    return euler_sample(model, xt, n, t_start=t_f, t_end=0.0, batch_size=batch_size)


@torch.no_grad()
def reverse_sde_sample(model: VelocityFn, x_start: torch.Tensor, t_start: float, n_steps: int, *, lam: float = 1.0,
                       generator: torch.Generator | None = None, t_end: float = 0.0) -> torch.Tensor:
    r"""Euler-Maruyama integration of the reverse-time SDE family written with the velocity.

    The family (:mod:`classical.path`):

    .. math::

        x \leftarrow x + \Delta t\,\big[-f_t x + \tfrac{1+\lambda^2}{2} g_t^2 s(x, t)\big]
            + \lambda g_t \sqrt{\Delta t}\,\xi, \qquad t \leftarrow t - \Delta t,

    with :math:`s` obtained from ``model``'s velocity.  ``lam = 1`` is the Bayes/Petz reverse SDE (petz.md P.7),
    ``lam = 0`` reproduces :func:`euler_sample`.

    Raises
    ------
    ValueError
        Unless 0 <= t_end < t_start < 1 (f_t and g_t diverge at t = 1), n_steps >= 1 and lam >= 0.
    NonFiniteVelocityError
        If the model returns NaN or inf (the message gives the step and the time).
    """
    check_images(x_start, "x_start")
    if not (0.0 <= t_end < t_start < 1.0) or n_steps < 1 or not lam >= 0 or math.isinf(lam):
        raise ValueError(f"need 0 <= t_end < t_start < 1, n_steps >= 1, lam >= 0; got {t_start}, {t_end}, "
                         f"{n_steps}, {lam}")
    dt = (t_start - t_end) / n_steps
    for k in range(n_steps):  # the score conversion is singular at t = 0 and the drift at t = 1
        tk = float(torch.tensor(t_start - k * dt, dtype=x_start.dtype))
        if not 0.0 < tk < 1.0:
            raise ValueError(f"t_start={t_start}, t_end={t_end}, n_steps={n_steps}: step time {t_start - k * dt:g} "
                             f"rounds to {tk:g} in {x_start.dtype}; the reverse SDE needs 0 < t < 1 at every step")
    x = x_start.clone()
    for k in range(n_steps):
        t = t_start - k * dt
        v = _checked_velocity(model, x, torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device), k=k,
                              n_steps=n_steps)
        x = x + dt * reverse_sde_drift(v, x, t, lam)
        if lam > 0:
            g2 = drift_coefficients(t)[1]
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
            x = x + lam * (g2 * dt) ** 0.5 * noise
    _check_samples(x, n_steps)
    return x
