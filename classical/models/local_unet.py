r"""Pooling-free local U-Nets with receptive radius R = 1..12 (theory note mnist.md §1d).

Topology (authors' ``ImprovedCNNAutoencoder``): a stem ``Conv(1 -> c0, radius r0)`` + norm + SiLU, three encoder
FiLM blocks ``c0 -> c1 -> c2 -> c3`` with kernel radii ``(k1, k2, k3)``, mirrored decoder blocks
``(c3 + c2 -> c2, k3)``, ``(c2 + c1 -> c1, k2)``, ``(c1 + c0 -> c0, k1)`` and a 1x1 output conv, all at full
resolution (no pooling), channels ``base * mults`` (authors: ``16 * (1, 2, 4, 8)``).  The nominal radius is

.. math::

    R = r_0 + 2(k_1 + k_2 + k_3)

with ``(r0; k1, k2, k3)`` from :data:`LOCAL_KERNEL_RADII`.

Two variants:

``strict=True`` (default)
    Each block is ``Conv(k) -> PixelNorm -> SiLU -> FiLM -> Conv1x1 -> PixelNorm -> SiLU``: the per-pixel
    channel norm uses no spatial statistics and the second conv is 1x1, so an output pixel depends on the input
    exactly within the Chebyshev ball of radius R (the longest path stem -> enc -> dec has radius R; every
    kernel is a square, hence Chebyshev).  Tested by the exact zero pattern of the input gradient.
``strict=False`` (the authors' net)
    Two ``Conv(k)`` per block and GroupNorm(8): conv radius :math:`r_0 + 4\sum k` and, through GroupNorm's
    whole-image statistics, a (weak) dependence on every pixel.

Conditioning: only the time, through a sinusoidal embedding + MLP and FiLM (the authors' constant-centre
position and noise-level embeddings carry no extra information and are omitted).  The network predicts the
velocity like the global one (the authors trained theirs to predict the noise with a curriculum; see the
theory note §1f.2), so any model can take over from any other inside the hybrid sampler.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..path import check_images, check_time
from .unet import FiLMBlock, TimeMLP, norm_layer, position_channels

__all__ = ["LOCAL_KERNEL_RADII", "LocalUNet", "receptive_radius"]

#: R -> (r0, (k1, k2, k3)), the authors' ``R_INTERNAL_LIST_RANGE``.
LOCAL_KERNEL_RADII: dict[int, tuple[int, tuple[int, int, int]]] = {
    1: (1, (0, 0, 0)),
    2: (0, (1, 0, 0)),
    3: (1, (1, 0, 0)),
    4: (0, (1, 1, 0)),
    5: (1, (1, 1, 0)),
    6: (0, (1, 1, 1)),
    7: (1, (1, 1, 1)),
    8: (0, (2, 1, 1)),
    9: (1, (2, 1, 1)),
    10: (0, (2, 2, 1)),
    11: (1, (2, 2, 1)),
    12: (0, (2, 2, 2)),
}


def receptive_radius(R: int, *, strict: bool = True) -> int:
    r"""Conv receptive radius: :math:`r_0 + 2\sum k` (strict) or :math:`r_0 + 4\sum k` (authors' double conv).

    Raises
    ------
    ValueError
        If R is not in 1..12.
    """
    if R not in LOCAL_KERNEL_RADII:
        raise ValueError(f"R must be an integer in 1..12, got {R!r}")
    r0, ks = LOCAL_KERNEL_RADII[R]
    return r0 + (2 if strict else 4) * sum(ks)


class LocalUNet(nn.Module):
    """Pooling-free local U-Net of nominal receptive radius R (velocity prediction).

    Parameters
    ----------
    R : nominal radius, 1..12.
    base : channels unit (authors 16); the stem and the three levels have ``base * mults`` channels.
    emb : time-embedding dimension (authors 64).
    strict : strictly local variant (see the module docstring).
    mults : channel multipliers (authors ``(1, 2, 4, 8)``); smaller ones make the net cheap enough for the
        hybrid sampler's compute budget.
    pos_bias : add a learned function of the fixed absolute-position channels (as the global net sees them)
        after the stem.  A translation-equivariant local net cannot place the (position-dependent) mean digit at
        large t; this bias lets it, without any dependence on pixel values outside the R-ball.

    Raises
    ------
    ValueError
        R outside 1..12 or base < 1; in ``forward``, wrong image shapes or t outside [0, 1].
    """

    def __init__(self, R: int, base: int = 16, emb: int = 64, *, strict: bool = True,
                 mults: tuple[int, int, int, int] | list[int] = (1, 2, 4, 8), pos_bias: bool = False,
                 in_channels: int = 1) -> None:
        super().__init__()
        if R not in LOCAL_KERNEL_RADII:
            raise ValueError(f"R must be an integer in 1..12, got {R!r}")
        if base < 1 or len(mults) != 4 or min(mults) < 1:
            raise ValueError(f"need base >= 1 and four positive mults, got base={base}, mults={mults}")
        self.R, self.strict, self.in_channels = R, strict, in_channels
        r0, ks = LOCAL_KERNEL_RADII[R]
        norm = "pixel" if strict else "group"
        c = [base * int(m) for m in mults]
        self.time = TimeMLP(emb)
        self.stem = nn.Conv2d(in_channels, c[0], 2 * r0 + 1, padding=r0)
        self.stem_norm = norm_layer(norm, c[0])
        # position bias: a 1x1 conv of the 32 fixed position channels, added after the stem; it depends on
        # where a pixel is, never on other pixels' values, so the receptive field in the image stays R.
        self.pos_proj = nn.Conv2d(32, c[0], 1, bias=False) if pos_bias else None

        def block(ci: int, co: int, k: int) -> FiLMBlock:
            return FiLMBlock(ci, co, emb, radius=k, radius2=0 if strict else k, norm=norm)

        self.enc = nn.ModuleList([block(c[0], c[1], ks[0]), block(c[1], c[2], ks[1]), block(c[2], c[3], ks[2])])
        self.dec = nn.ModuleList([block(c[3] + c[2], c[2], ks[2]), block(c[2] + c[1], c[1], ks[1]),
                                  block(c[1] + c[0], c[0], ks[0])])
        self.out = nn.Conv2d(c[0], in_channels, 1)

    @property
    def radius(self) -> int:
        """Conv receptive radius (equals R for the strict variant)."""
        return receptive_radius(self.R, strict=self.strict)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Velocity for images ``x`` of shape (B, C, H, W) at times ``t`` of shape (B,)."""
        check_images(x, "x", channels=self.in_channels)
        t = check_time(t, x.shape[0], like=x)
        e = self.time(t)
        h = self.stem(x)
        if self.pos_proj is not None:
            pos = position_channels(x.shape[-2], x.shape[-1], dtype=x.dtype).to(x.device)
            h = h + self.pos_proj(pos[None])
        h = F.silu(self.stem_norm(h))
        skips = [h]
        for blk in self.enc:
            h = blk(h, e)
            skips.append(h)
        skips.pop()  # the deepest encoder output is h itself
        for blk in self.dec:
            h = blk(torch.cat([h, skips.pop()], dim=1), e)
        return self.out(h)
