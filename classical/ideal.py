r"""Ideal (training-free) denoisers: posterior means under the empirical training distribution.

Path convention of :mod:`classical.path`: :math:`x_t = (1 - t)\,x_0 + t\,z`, t = 0 data, t = 1 noise, so
:math:`p(x_t \mid x_0) = \mathcal N\big((1 - t)\,x_0,\ t^2 I\big)`.  With the empirical data distribution
:math:`p(x_0) = \frac1N \sum_i \delta(x_0 - x_i)` the Bayes-optimal denoisers are (theory note information.md §4):

**Global** (``radius=None``): the empirical posterior mean, which memorises the training set as t -> 0,

.. math::

    \hat x_0(x_t) = \sum_i w_i\, x_i, \qquad
    w_i = \operatorname{softmax}_i\Big(-\frac{\|x_t - (1 - t)\,x_i\|^2}{2 t^2}\Big).

**Local, position-specific** (``radius=R``): each output pixel p is the posterior mean of :math:`x_{0,p}` given
only the noisy pixels in the Chebyshev ball :math:`\mathcal B_R(p)` (a (2R+1) x (2R+1) square, cut at the image
border), under the empirical distribution of the training R-patches *at that position*:

.. math::

    \hat x_{0,p} = \sum_i w_i^{(p)}\, x_{i,p}, \qquad
    w_i^{(p)} = \operatorname{softmax}_i\Big(-\frac{\|x_{t,\mathcal B_R(p)} - (1 - t)\,x_{i,\mathcal B_R(p)}\|^2}
    {2 t^2}\Big).

It is the best (minimum-MSE) denoiser on the training distribution among all that read only :math:`\mathcal
B_R(p)`; it is strictly local by construction.

**Local, translation-equivariant** (``radius=R, equivariant=True``; Kamb & Ganguli's equivariant local score
machine): the same, but the sum runs over the R-patches of every training image at *every* position (images
zero-padded by R at the border, for training patches and query patches alike); the output pixel is the
posterior mean of the patch centres.  (The all-zero training patches are again one mixture term, see below.)

Implementation (hand-written: no library computes these mixtures).  The logits are expanded as
:math:`\big[(1 - t)\,x_t\!\cdot\! x_i - \tfrac12 (1 - t)^2 \|x_i\|^2\big]/t^2` (the :math:`\|x_t\|^2` term is
common to all i and cancels), so each chunk of training images costs one batched matmul of unfolded patches
(``torch.nn.functional.unfold``) followed by an online (streaming) log-sum-exp over chunks: memory stays bounded
by ``max_chunk_bytes`` whatever N.  Cost per image and step: about :math:`2 N\,HW\,(2R+1)^2` FLOPs
(position-specific), :math:`2 N\,(HW)^2 (2R+1)^2` (equivariant), :math:`2 N\,HW` (global).

Position-specific speed-up (exact): when the patches fit in ``max_cache_bytes`` they are gathered once, per
position, in matmul layout, and the training images whose patch at p is all zero (about 45 % of the (image,
position) pairs of MNIST at R = 3) are dropped from position p: all of them have logit 0 and centre value 0, so
together they are one mixture term of log-weight :math:`\ln n_0(p)`.  Positions are sorted by their number of
non-zero patches and processed in groups padded to the group's largest count.

t = 0 is refused: the posterior is then a point mass at the nearest training image only when :math:`x_t` is a
training image and is otherwise undefined; use any t in (0, 1].  At t = 1 every weight is 1/N (the prior mean).

A denoiser is also a velocity model (``module(x, t)``, as every network of :mod:`classical.models`):
:math:`v = (x_t - \hat x_0)/t` (:func:`classical.path.clean_to_velocity`), so it plugs into
:func:`classical.sampling.denoise_from`, :func:`~classical.sampling.euler_sample` and hybrid
:class:`~classical.sampling.Segment` schedules.

Examples
--------
>>> import torch
>>> from classical.ideal import IdealDenoiser
>>> imgs = torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]], [[[1.0, 0.0], [0.0, 1.0]]]])
>>> den = IdealDenoiser(imgs)
>>> x0 = den.denoise(0.9 * imgs[:1] + 0.01 * torch.ones(1, 1, 2, 2), 0.1)
>>> bool(torch.allclose(x0, imgs[:1], atol=1e-3))
True
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .path import check_images, check_time, clean_to_velocity

__all__ = ["IdealDenoiser", "MAX_RADIUS"]

_PAD_LOGIT = -1e30  # logit of padding entries: finite (no inf * 0 in the matmul), exp underflows to 0
# Shifted logits (all <= 0, the largest = 0) are clamped here before exp: torch's vectorised exp takes a slow path
# for arguments below float32's underflow (about -87; measured 9x slower on [-1000, 0] than on [-10, 0]).  Each
# clamped term then weighs e^-80 ~ 2e-35 instead of less, against a sum >= 1: a relative change <= N e^-80, far
# below float32 (and float64) round-off for any N.  Padding entries have value 0 and weigh nothing either way.
_EXP_FLOOR = -80.0

#: Largest supported radius (the paper's grid R = 1..12 on 28 x 28 images).
MAX_RADIUS = 12


def _as_images(images: np.ndarray | torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images: expected a NumPy array or torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images: expected shape (N, 1, H, W), got {tuple(images.shape)}")
    if images.shape[0] == 0:
        raise ValueError("images: the training set is empty (need N >= 1 images)")
    if not images.is_floating_point():
        raise TypeError(f"images: expected floating-point values in [0, 1], got dtype {images.dtype}")
    images = images.to(dtype)
    if not torch.isfinite(images).all():
        raise ValueError("images contains NaN or infinite entries")
    lo, hi = float(images.min()), float(images.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"images must lie in [0, 1] (t = 0 of the path), got min {lo:g}, max {hi:g}")
    return images


class IdealDenoiser(nn.Module):
    r"""Posterior mean of :math:`x_0` given :math:`x_t` under the empirical training distribution.

    See the module docstring for the three variants and their equations.

    Parameters
    ----------
    images : array or tensor of shape (N, 1, H, W)
        Training images with values in [0, 1] (t = 0 of the path).
    radius : int in 1..12 or None
        None: the global posterior mean; R: the strictly local denoiser reading the (2R+1) x (2R+1) square
        around each pixel.
    equivariant : bool
        Local only: pool the patches of all positions (Kamb & Ganguli) instead of position-specific patches.
    n_train : int or None
        Use a random subset of this many training images (drawn without replacement with ``seed``); None: all.
    seed : int or numpy.random.Generator
        Seed of the subset draw.
    max_chunk_bytes : int
        Memory bound of the largest temporary (logits and unfolded patches of one chunk of training images).
        The default, 16 MiB, was the fastest of 2 MiB ... 128 MiB for the cached path on this project's 2-core
        CPU (``benchmarks/ideal_bench.py --chunk-scan``).
    max_cache_bytes : int
        Position-specific only: keep the training patches in matmul layout (non-zero patches only) when they
        take at most this many bytes (fast path); otherwise unfold them again at every call.
    dtype : torch.dtype
        Computation dtype (float32 default; float64 for reference checks).

    Raises
    ------
    TypeError
        ``images`` is not a floating-point array/tensor.
    ValueError
        Wrong image shape, empty training set, values outside [0, 1] or non-finite, ``radius`` not in 1..12,
        ``equivariant`` without a radius, ``n_train`` not in 1..N, ``max_chunk_bytes < 1`` or
        ``max_cache_bytes < 0``.
    """

    def __init__(self, images: np.ndarray | torch.Tensor, *, radius: int | None = None, equivariant: bool = False,
                 n_train: int | None = None, seed: int | np.random.Generator = 0, max_chunk_bytes: int = 2**24,
                 max_cache_bytes: int = 2**31, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        imgs = _as_images(images, dtype)
        if radius is not None and (isinstance(radius, bool) or not isinstance(radius, (int, np.integer))
                                   or not 1 <= radius <= MAX_RADIUS):
            raise ValueError(f"radius must be None (global) or an integer in 1..{MAX_RADIUS}, got {radius!r}")
        if equivariant and radius is None:
            raise ValueError("equivariant=True needs a radius (the global posterior mean has no patches)")
        if n_train is not None:
            if not 1 <= int(n_train) <= imgs.shape[0]:
                raise ValueError(f"n_train must lie in 1..{imgs.shape[0]} (the number of images), got {n_train}")
            idx = np.sort(np.random.default_rng(seed).choice(imgs.shape[0], int(n_train), replace=False))
            imgs = imgs[torch.from_numpy(idx).to(imgs.device)]
        if max_chunk_bytes < 1:
            raise ValueError(f"max_chunk_bytes must be positive, got {max_chunk_bytes}")
        if max_cache_bytes < 0:
            raise ValueError(f"max_cache_bytes must be >= 0, got {max_cache_bytes}")
        self.radius = None if radius is None else int(radius)
        self.equivariant = bool(equivariant)
        self.max_chunk_bytes = int(max_chunk_bytes)
        self.register_buffer("images", imgs.contiguous())
        n, _, h, w = imgs.shape
        if self.radius is None:
            sq = imgs.reshape(n, -1).pow(2).sum(1)  # (N,)
        else:
            k = 2 * self.radius + 1
            # patch squared norms |x_i on ball(p)|^2, shape (N, H*W): a box sum of x_i^2 (zero padded)
            sq = F.avg_pool2d(imgs.pow(2), k, stride=1, padding=self.radius, count_include_pad=True) * (k * k)
            sq = sq.reshape(n, h * w)
        self.register_buffer("sqnorm", sq.contiguous())
        self._groups: list[_PatchGroup] = []
        self._zero_log_count: torch.Tensor | None = None
        if self.radius is not None and not self.equivariant:
            self._build_cache(max_cache_bytes)

    # ------------------------------------------------------------------------------------------- properties
    @property
    def n_train(self) -> int:
        """Number of training images used."""
        return int(self.images.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(1, H, W) of the training images."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @property
    def cached(self) -> bool:
        """Whether the position-specific fast path (patches kept in matmul layout) is in use."""
        return bool(self._groups)

    def extra_repr(self) -> str:  # noqa: D102 - nn.Module hook
        return f"n_train={self.n_train}, radius={self.radius}, equivariant={self.equivariant}"

    # ------------------------------------------------------------------------------------------- public API
    @torch.no_grad()
    def denoise(self, x_t: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
        r"""Posterior mean :math:`\mathbb E[x_0 \mid x_t]` (global) or its local version, pixel by pixel.

        Parameters
        ----------
        x_t : tensor of shape (B, 1, H, W)
            Noisy images at time t (same H, W as the training images).
        t : float or tensor of shape (B,)
            Times in (0, 1].

        Returns
        -------
        torch.Tensor
            Shape (B, 1, H, W), dtype and device of ``x_t``; values in [0, 1] (a convex combination of training
            pixels).

        Raises
        ------
        TypeError
            ``x_t`` is not a floating-point tensor.
        ValueError
            Wrong shape, non-finite entries, or t outside (0, 1] (t = 0 is singular, see the module docstring).
        """
        check_images(x_t, "x_t", channels=1)
        if tuple(x_t.shape[1:]) != self.image_shape:
            raise ValueError(f"x_t: expected images of shape (B, {', '.join(map(str, self.image_shape))}), "
                             f"got {tuple(x_t.shape)}")
        dev = self.images.device
        x = x_t.to(device=dev, dtype=self.images.dtype)
        tt = check_time(t, x.shape[0], like=x)
        if (tt == 0).any():
            raise ValueError("t = 0: the posterior of x_0 given x_t = x_0 is singular; use t in (0, 1]")
        a = (1 - tt) / tt**2  # coefficient of x_t . x_i
        c = 0.5 * (1 - tt) ** 2 / tt**2  # coefficient of |x_i|^2
        if self.radius is None:
            out = self._global(x, a, c)
        elif self.equivariant:
            out = self._equivariant(x, a, c)
        elif self._groups:
            out = self._local_cached(x, a, c)
        else:
            out = self._local(x, a, c)
        return out.to(device=x_t.device, dtype=x_t.dtype)

    def velocity(self, x_t: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
        r"""Velocity :math:`v = (x_t - \hat x_0)/t` of the probability-flow ODE (see :mod:`classical.path`).

        Raises
        ------
        ValueError
            As :meth:`denoise`.
        """
        return clean_to_velocity(self.denoise(x_t, t), x_t, t)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Velocity (the calling convention of every model in :mod:`classical.models`); see :meth:`velocity`."""
        return self.velocity(x, t)

    def _apply(self, fn, recurse=True):  # keep the patch cache on the module's device and dtype
        super()._apply(fn, recurse)
        dev = self.sqnorm.device
        self._groups = [_PatchGroup(*(fn(v) if v.is_floating_point() else v.to(dev) for v in g))
                        for g in self._groups]
        if self._zero_log_count is not None:
            self._zero_log_count = fn(self._zero_log_count)
        return self

    # ------------------------------------------------------------------------------------------- internals
    def _build_cache(self, max_cache_bytes: int, group_size: int = 32) -> None:
        imgs, r = self.images, self.radius
        n, _, h, w = imgs.shape
        k = 2 * r + 1
        nonzero = F.max_pool2d(imgs.abs(), k, stride=1, padding=r).reshape(n, h * w) > 0  # (N, HW)
        counts = nonzero.sum(0)  # non-zero patches per position
        order = torch.argsort(counts, descending=True, stable=True)
        groups = [order[i:i + group_size] for i in range(0, h * w, group_size)]
        size = sum(len(g) * int(counts[g].max()) for g in groups) * (k * k + 3) * imgs.element_size()
        if size > max_cache_bytes:
            return
        padded = F.pad(imgs[:, 0], (r, r, r, r)).reshape(n, -1)  # (N, (H+2r)(W+2r))
        dev = imgs.device
        ii, jj = torch.meshgrid(torch.arange(h, device=dev), torch.arange(w, device=dev), indexing="ij")
        di, dj = torch.meshgrid(torch.arange(k, device=dev), torch.arange(k, device=dev), indexing="ij")
        # index of every patch pixel of every position in the padded flat image, (HW, K); same order as unfold
        where = ((ii.reshape(-1, 1) + di.reshape(1, -1)) * (w + 2 * r) + jj.reshape(-1, 1) + dj.reshape(1, -1))
        flat = imgs.reshape(n, -1)
        for g in groups:
            m = int(counts[g].max())
            # rows 0..K-1: patch pixels; row K: |patch|^2; row K+1: 0 or a huge negative number on padding, so
            # that one matmul with [a q, -c, 1] gives the logits a q.x_i - c |x_i|^2 (+ padding mask)
            patches = imgs.new_zeros(len(g), k * k + 2, m)
            centre = imgs.new_zeros(len(g), 2, m)  # row 0: centre pixel; row 1: 1 (valid) or 0 (padding)
            # the images with a non-zero patch at each position of the group first (stable: in image order)
            img = torch.argsort((~nonzero[:, g]).to(torch.int8), dim=0, stable=True)[:m].T  # (G, m)
            valid = torch.arange(m, device=dev)[None, :] < counts[g][:, None]  # (G, m)
            patches[:, :k * k] = padded[img[:, :, None], where[g][:, None, :]].transpose(1, 2)
            patches[:, k * k] = self.sqnorm[img, g[:, None]]
            patches[:, k * k + 1] = torch.where(valid, 0.0, _PAD_LOGIT).to(imgs.dtype)
            patches[:, :k * k + 1] *= valid[:, None, :]
            centre[:, 0] = flat[img, g[:, None]] * valid
            centre[:, 1] = valid.to(imgs.dtype)
            self._groups.append(_PatchGroup(g, patches, centre))
        zeros = (n - counts).to(imgs.dtype)
        self._zero_log_count = torch.where(zeros > 0, torch.log(zeros.clamp(min=1)), -math.inf)

    def _local_cached(self, x: torch.Tensor, a: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        hw, k = h * w, 2 * self.radius + 1
        q = F.unfold(x, k, padding=self.radius).permute(2, 0, 1)  # (HW, B, K)
        out = x.new_empty(hw, b)
        ones = torch.ones_like(a)
        g_max = max(grp.positions.numel() for grp in self._groups)
        n = self._chunk(x.element_size() * g_max * b)
        buf = x.new_empty(g_max * b * min(n, max(grp.patches.shape[-1] for grp in self._groups)))
        for grp in self._groups:
            pos = grp.positions
            g = pos.numel()
            qg = torch.cat([a[None, :, None] * q[pos], (-c)[None, :, None].expand(g, -1, 1),
                            ones[None, :, None].expand(g, -1, 1)], dim=2)  # (G, B, K + 2)
            # the all-zero patches of each position: one term of log-weight ln n_0(p) and value 0
            m = self._zero_log_count[pos, None].expand(-1, b).clone()
            s = torch.isfinite(m).to(x.dtype)
            acc = torch.zeros_like(m)
            for j0 in range(0, grp.patches.shape[-1], n):
                cols = min(n, grp.patches.shape[-1] - j0)
                # one preallocated buffer for every chunk: a fresh (G, B, n) tensor per chunk costs page faults
                logits = torch.bmm(qg, grp.patches[:, :, j0:j0 + cols], out=buf[:g * b * cols].view(g, b, cols))
                m, s, acc = _online_update_bmm(m, s, acc, logits, grp.centre[:, :, j0:j0 + cols])
            out[pos] = acc / s
        return out.T.reshape(b, 1, h, w)

    def _chunk(self, per_image_bytes: int) -> int:
        return max(1, self.max_chunk_bytes // max(1, per_image_bytes))

    def _global(self, x: torch.Tensor, a: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        q = x.reshape(b, -1)
        data = self.images.reshape(self.n_train, -1)
        n = self._chunk(4 * x.element_size() * b)
        m = torch.full((b,), -math.inf, dtype=x.dtype, device=x.device)
        s = torch.zeros(b, dtype=x.dtype, device=x.device)
        acc = torch.zeros_like(q)
        for i0 in range(0, self.n_train, n):
            xi = data[i0:i0 + n]
            logits = a[:, None] * (q @ xi.T) - c[:, None] * self.sqnorm[None, i0:i0 + n]  # (B, n)
            m, s, acc = _online_update(m, s, acc, logits, lambda e, xi=xi: e @ xi)
        return (acc / s[:, None]).reshape(x.shape)

    def _local(self, x: torch.Tensor, a: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        hw, k = h * w, 2 * self.radius + 1
        q = F.unfold(x, k, padding=self.radius).permute(2, 0, 1).contiguous()  # (HW, B, K)
        es = x.element_size()
        n = self._chunk(es * hw * (3 * b + 2 * k * k))
        m = torch.full((hw, b), -math.inf, dtype=x.dtype, device=x.device)
        s = torch.zeros(hw, b, dtype=x.dtype, device=x.device)
        acc = torch.zeros(hw, b, dtype=x.dtype, device=x.device)
        for i0 in range(0, self.n_train, n):
            xi = self.images[i0:i0 + n]
            p = F.unfold(xi, k, padding=self.radius).permute(2, 1, 0)  # (HW, K, n)
            centre = xi.reshape(xi.shape[0], hw).T.unsqueeze(-1)  # (HW, n, 1)
            logits = a[None, :, None] * torch.bmm(q, p) - c[None, :, None] * self.sqnorm[i0:i0 + n].T[:, None, :]
            m, s, acc = _online_update(m, s, acc, logits, lambda e, centre=centre: torch.bmm(e, centre)[..., 0])
        return (acc / s).T.reshape(b, 1, h, w)

    def _equivariant(self, x: torch.Tensor, a: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        hw, k = h * w, 2 * self.radius + 1
        q = F.unfold(x, k, padding=self.radius).permute(0, 2, 1).reshape(b * hw, k * k)  # rows: (image, pixel)
        ar, cr = a.repeat_interleave(hw), c.repeat_interleave(hw)
        n = self._chunk(x.element_size() * hw * (3 * b * hw + 2 * k * k))
        # the all-zero training patches (logit 0, centre 0; most of an MNIST image's border) are one mixture term
        # of log-weight ln n_0, as in the position-specific cached path; only the others enter the matmuls
        nonzero = F.max_pool2d(self.images.abs(), k, stride=1, padding=self.radius).reshape(-1) > 0
        n_zero = int((~nonzero).sum())
        m = torch.full((b * hw,), math.log(n_zero) if n_zero else -math.inf, dtype=x.dtype, device=x.device)
        s = torch.full((b * hw,), 1.0 if n_zero else 0.0, dtype=x.dtype, device=x.device)
        acc = torch.zeros(b * hw, dtype=x.dtype, device=x.device)
        for i0 in range(0, self.n_train, n):
            xi = self.images[i0:i0 + n]
            keep = nonzero[i0 * hw:(i0 + xi.shape[0]) * hw]
            p = F.unfold(xi, k, padding=self.radius).permute(0, 2, 1).reshape(-1, k * k)[keep]  # (n' , K)
            if p.shape[0] == 0:
                continue
            centre = xi.reshape(-1)[keep]  # patch centres, same (image, pixel) order
            logits = ar[:, None] * (q @ p.T) - cr[:, None] * self.sqnorm[i0:i0 + n].reshape(-1)[keep][None, :]
            m, s, acc = _online_update(m, s, acc, logits, lambda e, centre=centre: e @ centre)
        return (acc / s).reshape(b, 1, h, w)


class _PatchGroup(NamedTuple):
    """Cached non-zero training patches of a group of positions, padded to the group's largest count."""

    positions: torch.Tensor  # (G,) flat pixel indices
    patches: torch.Tensor  # (G, K + 2, M): patch pixels, |patch|^2, padding mask (0 or _PAD_LOGIT)
    centre: torch.Tensor  # (G, 2, M): centre pixel, 1 (0 on padding)


def _online_update(m: torch.Tensor, s: torch.Tensor, acc: torch.Tensor, logits: torch.Tensor, weighted):
    """One streaming log-sum-exp step over the last axis of ``logits``.

    ``m`` running max, ``s`` running sum of exp(logit - m), ``acc`` running sum of exp(logit - m) * value, with
    ``weighted(e)`` returning the value-weighted sum of the chunk's ``e = exp(logits - m_new)``.
    """
    m_new = torch.maximum(m, logits.amax(-1))
    shift = torch.where(torch.isfinite(m_new), m_new, 0.0)  # all -inf so far (padding): keep s = acc = 0
    scale = torch.exp(m - shift)  # exp(-inf) = 0 on the first chunk
    e = logits.sub_(shift.unsqueeze(-1)).clamp_(min=_EXP_FLOOR).exp_()  # in place: logits not needed any more
    s = s * scale + e.sum(-1)
    shape = scale.shape + (1,) * (acc.ndim - scale.ndim)
    acc = acc * scale.reshape(shape) + weighted(e)
    return m_new, s, acc


def _online_update_bmm(m: torch.Tensor, s: torch.Tensor, acc: torch.Tensor, logits: torch.Tensor,
                       values: torch.Tensor):
    """:func:`_online_update` for batched logits (G, B, n) and ``values`` (G, 2, n) = [centre, 1].

    One ``bmm`` gives both the weighted sum of the centres and the sum of the weights (one pass over the
    exponentials fewer than a separate ``sum``); it is taken as (G, 2, n) @ (G, n, B), which MKL runs several
    times faster than (G, B, n) @ (G, n, 2).
    """
    m_new = torch.maximum(m, logits.amax(-1))
    shift = torch.where(torch.isfinite(m_new), m_new, 0.0)
    scale = torch.exp(m - shift)
    e = logits.sub_(shift.unsqueeze(-1)).clamp_(min=_EXP_FLOOR).exp_()
    ws = torch.bmm(values, e.transpose(1, 2))  # (G, 2, B)
    return m_new, s * scale + ws[:, 1], acc * scale + ws[:, 0]
