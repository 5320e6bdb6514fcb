r"""Regions (A, B, C) for conditional mutual information :math:`I(A:C\mid B)` on array data.

The paper's geometry (Fig. 3a; theory note ``information.md`` section 1): MNIST images are cropped to 27 x 27 by
dropping the first row and column, A is the centre pixel (13, 13), :math:`B_r` is the Chebyshev ball of radius r
around A minus A (a (2r+1) x (2r+1) square), r = 1..12, and C is the rest of the crop.

A :class:`Regions` holds flat index arrays into the last axes of the data (``x.reshape(n, -1)``), so the same
object works for images, lattices or plain vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Regions", "PAPER_SIZE", "PAPER_RADII", "paper_regions", "crop_paper", "split_regions"]

#: Side of the paper's crop (28 x 28 MNIST minus the first row and column).
PAPER_SIZE = 27
#: The paper's radii r = 1..12.
PAPER_RADII = tuple(range(1, 13))


@dataclass(frozen=True)
class Regions:
    """Disjoint flat index sets A, B, C of a data vector of length ``size``.

    Attributes
    ----------
    a, b, c : int arrays of flat indices (disjoint; A must be non-empty, B and C may be empty).
    size : length of the flattened data vector.
    """

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    size: int

    def __post_init__(self) -> None:
        """Validate and freeze the index arrays."""
        size = int(self.size)
        if size < 1:
            raise ValueError(f"size must be positive, got {self.size}")
        for name in ("a", "b", "c"):
            idx = np.asarray(getattr(self, name), dtype=np.int64).ravel()
            if idx.size and (idx.min() < 0 or idx.max() >= size):
                raise ValueError(f"region {name.upper()} has indices outside [0, {size})")
            if np.unique(idx).size != idx.size:
                raise ValueError(f"region {name.upper()} has repeated indices")
            idx.setflags(write=False)
            object.__setattr__(self, name, idx)
        object.__setattr__(self, "size", size)
        if self.a.size == 0:
            raise ValueError("region A must not be empty")
        allidx = np.concatenate([self.a, self.b, self.c])
        if np.unique(allidx).size != allidx.size:
            raise ValueError("regions A, B and C must be disjoint")

    def mask(self, which: str) -> np.ndarray:
        """Boolean mask of length ``size`` for ``which`` in {"a", "b", "c"} or any concatenation ("bc", "ab")."""
        m = np.zeros(self.size, dtype=bool)
        for ch in which.lower():
            if ch not in "abc":
                raise ValueError(f"which must be made of the letters a, b, c; got {which!r}")
            m[getattr(self, ch)] = True
        return m

    def to_dict(self) -> dict:
        """Plain-Python form (for JSON)."""
        return {"a": self.a.tolist(), "b": self.b.tolist(), "c": self.c.tolist(), "size": self.size}


def paper_regions(r: int, *, size: int = PAPER_SIZE) -> Regions:
    """Return the paper's regions on a ``size`` x ``size`` image (row-major flat indices).

    A is the centre pixel (size // 2, size // 2), B_r = {p : max(|p_i - c_i|, |p_j - c_j|) <= r} minus A, C the rest.

    Parameters
    ----------
    r : buffer radius, 1 <= r <= size // 2 - 1 (r = 1..12 for the 27 x 27 crop: C stays non-empty).
    size : image side (odd).

    Raises
    ------
    ValueError
        If ``size`` is not odd and >= 5 or ``r`` is out of range.
    """
    if int(size) != size or size < 5 or size % 2 == 0:
        raise ValueError(f"size must be an odd integer >= 5, got {size}")
    rmax = size // 2 - 1
    if int(r) != r or not 1 <= r <= rmax:
        raise ValueError(f"r must be an integer in 1..{rmax} for a {size}x{size} image, got {r}")
    c0 = size // 2
    ii, jj = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    cheb = np.maximum(np.abs(ii - c0), np.abs(jj - c0)).ravel()
    flat = np.arange(size * size)
    return Regions(a=np.array([c0 * size + c0]), b=flat[(cheb <= r) & (cheb > 0)], c=flat[cheb > r],
                   size=size * size)


def crop_paper(images: np.ndarray) -> np.ndarray:
    """Crop 28 x 28 images to the paper's 27 x 27 (drop the first row and column).

    Parameters
    ----------
    images : array of shape (n, 28, 28) or (n, 1, 28, 28).

    Returns
    -------
    Array of shape (n, 27, 27) (float64 copy).

    Raises
    ------
    ValueError
        For any other shape.
    """
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape (n, 28, 28) or (n, 1, 28, 28), got {np.shape(images)}")
    return np.array(x[:, 1:, 1:], dtype=np.float64)


def split_regions(x: np.ndarray, regions: Regions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split data of shape (n, ...) into the flat blocks (x_A, x_B, x_C), each of shape (n, |region|).

    Raises
    ------
    ValueError
        If the flattened sample size differs from ``regions.size``.
    """
    x = np.asarray(x)
    flat = x.reshape(x.shape[0], -1)
    if flat.shape[1] != regions.size:
        raise ValueError(f"data has {flat.shape[1]} entries per sample, regions expect {regions.size}")
    return flat[:, regions.a], flat[:, regions.b], flat[:, regions.c]
