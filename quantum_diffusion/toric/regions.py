r"""Tripartitions :math:`A, B, C` of the edges of the :math:`L\times L` torus (theory note ``toric.md`` section 7).

Conventions (edge ids as in :mod:`quantum_diffusion.toric.lattice`):

* :math:`A` = the 4 edges of one plaquette ``center = (i0, j0)``;
* :math:`B(r)` = all edges of the :math:`(1+2r)\times(1+2r)`-plaquette block centred on :math:`A`, minus :math:`A`;
* ``geometry="torus"``: :math:`C` = the complement of :math:`AB` on the torus (needs :math:`2r+2\le L`);
  :math:`ABC` is the whole torus, so the homology parities enter the CMI for the trivial-loop data set;
* ``geometry="square"``: :math:`C` = the ring of width ``r_C`` around :math:`AB`, i.e. the edges of the
  :math:`(1+2r+2r_C)` block minus :math:`AB`; the rest of the torus is traced out (needs
  :math:`2r+2r_C+2\le L`, and then the CMI does not depend on ``L``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .lattice import check_size, h_edge, plaquette_edges, v_edge

__all__ = [
    "Tripartition",
    "Block",
    "block",
    "block_edges",
    "tripartition",
    "square_regions",
    "torus_regions",
    "check_tripartition",
    "check_radius",
]

GEOMETRIES = ("torus", "square")


@dataclass(frozen=True)
class Block:
    r"""A square block of ``n x n`` plaquettes embedded in the torus, as an open ``(n+1) x (n+1)`` vertex grid.

    Attributes
    ----------
    L : torus size.
    n : side in plaquettes.
    origin : torus coordinates ``(i, j)`` of the local vertex ``(0, 0)``.
    h_ids : int array ``(n+1, n)``; ``h_ids[a, b]`` = id of the edge from local vertex ``(a, b)`` to ``(a, b+1)``.
    v_ids : int array ``(n, n+1)``; ``v_ids[a, b]`` = id of the edge from local vertex ``(a, b)`` to ``(a+1, b)``.
    """

    L: int
    n: int
    origin: tuple[int, int]
    h_ids: np.ndarray
    v_ids: np.ndarray

    @property
    def edges(self) -> np.ndarray:
        """Sorted edge ids of the block."""
        return np.sort(np.concatenate([self.h_ids.ravel(), self.v_ids.ravel()]))


def check_radius(r: Any, name: str = "r", minimum: int = 1) -> int:
    """Return ``r`` as int after checking it is an integer ``>= minimum``.

    Raises
    ------
    ValueError
        If ``r`` is not an integer or is below ``minimum``.
    """
    try:
        ok = not isinstance(r, bool) and float(r).is_integer()
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an integer, got {r!r}")
    r = int(r)
    if r < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {r}")
    return r


def block(L: int, center: tuple[int, int], w: int) -> Block:
    r"""Build the :math:`(1+2w)\times(1+2w)` plaquette block centred on plaquette ``center``.

    Raises
    ------
    ValueError
        If the block does not fit on the torus without touching itself (:math:`2w+2 > L`).
    """
    L = check_size(L)
    n = 1 + 2 * w
    if n + 1 > L:
        raise ValueError(f"a block of {n}x{n} plaquettes needs L >= {n + 1} (got L = {L})")
    i0, j0 = center[0] - w, center[1] - w
    h_ids = np.array([[h_edge(i0 + a, j0 + b, L) for b in range(n)] for a in range(n + 1)], dtype=np.int64)
    v_ids = np.array([[v_edge(i0 + a, j0 + b, L) for b in range(n + 1)] for a in range(n)], dtype=np.int64)
    return Block(L=L, n=n, origin=(i0 % L, j0 % L), h_ids=h_ids, v_ids=v_ids)


def block_edges(L: int, center: tuple[int, int], w: int) -> np.ndarray:
    """Sorted edge ids of the :math:`(1+2w)`-plaquette block centred on ``center`` (see :func:`block`)."""
    return block(L, center, w).edges


@dataclass(frozen=True)
class Tripartition:
    """Edge sets ``A, B, C`` (sorted int arrays of edge ids) with the geometry that produced them."""

    L: int
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    geometry: str = "custom"
    r: int | None = None
    r_C: int | None = None
    center: tuple[int, int] | None = None


def check_tripartition(L: int, A: Any, B: Any, C: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate three edge sets of the ``L x L`` torus and return them as sorted int arrays.

    Raises
    ------
    ValueError
        If an id is out of range or not an integer, a set repeats an edge, ``A`` or ``C`` is empty, or two of
        the sets overlap.
    """
    L = check_size(L)
    n_e = 2 * L * L
    out = []
    for name, R in (("A", A), ("B", B), ("C", C)):
        arr = np.asarray(R)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"region {name} must hold integer edge ids, got dtype {arr.dtype}")
        arr = arr.astype(np.int64).ravel()
        if arr.size and (arr.min() < 0 or arr.max() >= n_e):
            raise ValueError(f"region {name} has edge ids outside [0, {n_e}) for L = {L}")
        if np.unique(arr).size != arr.size:
            raise ValueError(f"region {name} lists an edge more than once")
        out.append(np.sort(arr))
    if out[0].size == 0 or out[2].size == 0:
        raise ValueError("regions A and C must be non-empty")
    for (n1, r1), (n2, r2) in (
        (("A", out[0]), ("B", out[1])),
        (("A", out[0]), ("C", out[2])),
        (("B", out[1]), ("C", out[2])),
    ):
        common = np.intersect1d(r1, r2)
        if common.size:
            raise ValueError(f"regions {n1} and {n2} overlap on edges {common[:8].tolist()}")
    return out[0], out[1], out[2]


def tripartition(
    L: int,
    r: int,
    geometry: str = "torus",
    r_C: int | None = None,
    center: tuple[int, int] | None = None,
) -> Tripartition:
    r"""Build :math:`A`, :math:`B(r)`, :math:`C` for ``geometry`` in ``{"torus", "square"}`` (module docstring).

    Parameters
    ----------
    L : torus size.
    r : width of :math:`B` in plaquettes (``>= 1``).
    geometry : ``"torus"`` (C = complement of AB) or ``"square"`` (C = ring of width ``r_C``).
    r_C : ring width for ``"square"``; defaults to ``r`` ([SH] "geom1").  Must be ``None`` for ``"torus"``.
    center : plaquette carrying :math:`A`; defaults to ``(L // 2, L // 2)``.

    Raises
    ------
    ValueError
        Unknown geometry, ``r`` or ``r_C`` not a positive integer, ``r_C`` given for the torus geometry, or the
        regions do not fit on the ``L x L`` torus (``2r+2 > L`` for "torus", ``2r+2r_C+2 > L`` for "square").
    """
    L = check_size(L)
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry must be one of {GEOMETRIES}, got {geometry!r}")
    r = check_radius(r)
    if geometry == "torus":
        if r_C is not None:
            raise ValueError("r_C is only meaningful for geometry='square' (torus: C is the complement of AB)")
        if 2 * r + 2 > L:
            raise ValueError(f"geometry 'torus' with r = {r} needs L >= 2r + 2 = {2 * r + 2}, got L = {L}")
    else:
        r_C = check_radius(r if r_C is None else r_C, "r_C")
        if 2 * r + 2 * r_C + 2 > L:
            raise ValueError(
                f"geometry 'square' with r = {r}, r_C = {r_C} needs L >= 2r + 2r_C + 2 = {2 * r + 2 * r_C + 2}, "
                f"got L = {L}"
            )
    if center is None:
        center = (L // 2, L // 2)
    center = (int(center[0]) % L, int(center[1]) % L)
    A = np.sort(plaquette_edges(L)[center[0] * L + center[1]].copy())
    AB = block_edges(L, center, r)
    B = np.setdiff1d(AB, A)
    if geometry == "torus":
        C = np.setdiff1d(np.arange(2 * L * L), AB)
    else:
        C = np.setdiff1d(block_edges(L, center, r + r_C), AB)
    check_tripartition(L, A, B, C)
    return Tripartition(L=L, A=A, B=B, C=C, geometry=geometry, r=r, r_C=r_C, center=center)


def square_regions(r: int, *, r_C: int | None = None) -> Tripartition:
    r"""Build the square geometry ([SH] Fig. 3).

    :math:`A` is one plaquette, :math:`B` a ring of width ``r``, :math:`C` a ring of width ``r_C``.

    ``r_C`` defaults to ``r`` ([SH] "geom1"); a fixed ``r_C`` is their App. G.  The torus size is the smallest
    that holds :math:`ABC`, :math:`L=2r+2r_C+2`; the CMI does not depend on it.

    Raises
    ------
    ValueError
        If ``r`` or ``r_C`` is not a positive integer.
    """
    r = check_radius(r)
    rc = check_radius(r if r_C is None else r_C, "r_C")
    return tripartition(2 * r + 2 * rc + 2, r, "square", rc)


def torus_regions(L: int, r: int) -> Tripartition:
    r"""Build the torus geometry.

    :math:`A` is one plaquette, :math:`B` a ring of width ``r``, :math:`C` the rest of the ``L x L`` torus.

    Raises
    ------
    ValueError
        If ``L < 2r + 2`` or the arguments are not positive integers.
    """
    return tripartition(L, r, "torus")
