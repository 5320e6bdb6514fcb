r"""The :math:`L\times L` square lattice on a torus: vertices, edges, plaquettes and their incidences.

Labels (see :mod:`quantum_diffusion.conventions` and the theory note ``toric.md`` section 1):

* vertex :math:`(i, j)\in\mathbb Z_L^2` (``i`` = row, ``j`` = column) has id ``i * L + j``;
* edge :math:`h(i,j)=\{(i,j),(i,j+1)\}` has id ``2 (i L + j)``;
  edge :math:`v(i,j)=\{(i,j),(i+1,j)\}` has id ``2 (i L + j) + 1``;
* plaquette :math:`(i,j)` has boundary :math:`\partial p=\{h(i,j),h(i+1,j),v(i,j),v(i,j+1)\}` and id ``i L + j``.

A configuration :math:`y\in\mathbb F_2^E` is a ``uint8`` array of shape ``(2 L^2,)`` indexed by edge id.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = [
    "check_size",
    "h_edge",
    "v_edge",
    "edge_vertices",
    "plaquette_edges",
    "vertex_edges",
    "plaquette_parities",
    "homology_representatives",
    "edge_components",
]


def check_size(L: int, minimum: int = 2) -> int:
    """Return ``L`` as int after checking it is an integer ``>= minimum``.

    Raises
    ------
    ValueError
        If ``L`` is not an integer or is smaller than ``minimum``.
    """
    if isinstance(L, bool) or int(L) != L:
        raise ValueError(f"lattice size L must be an integer, got {L!r}")
    L = int(L)
    if L < minimum:
        raise ValueError(f"lattice size L must be >= {minimum}, got {L}")
    return L


def h_edge(i: int, j: int, L: int) -> int:
    r"""Id of the horizontal edge :math:`h(i,j)=\{(i,j),(i,j+1)\}` (indices taken mod ``L``)."""
    return 2 * ((i % L) * L + (j % L))


def v_edge(i: int, j: int, L: int) -> int:
    r"""Id of the vertical edge :math:`v(i,j)=\{(i,j),(i+1,j)\}` (indices taken mod ``L``)."""
    return 2 * ((i % L) * L + (j % L)) + 1


@lru_cache(maxsize=32)
def _edge_vertices(L: int) -> np.ndarray:
    ev = np.empty((2 * L * L, 2), dtype=np.int64)
    for i in range(L):
        for j in range(L):
            v = i * L + j
            ev[h_edge(i, j, L)] = (v, i * L + (j + 1) % L)
            ev[v_edge(i, j, L)] = (v, ((i + 1) % L) * L + j)
    ev.setflags(write=False)
    return ev


def edge_vertices(L: int) -> np.ndarray:
    """Endpoints of every edge: int array of shape ``(2 L^2, 2)`` of vertex ids (read-only)."""
    return _edge_vertices(check_size(L))


@lru_cache(maxsize=32)
def _plaquette_edges(L: int) -> np.ndarray:
    pe = np.empty((L * L, 4), dtype=np.int64)
    for i in range(L):
        for j in range(L):
            pe[i * L + j] = (h_edge(i, j, L), h_edge(i + 1, j, L), v_edge(i, j, L), v_edge(i, j + 1, L))
    pe.setflags(write=False)
    return pe


def plaquette_edges(L: int) -> np.ndarray:
    """Boundary edges of every plaquette: ``(L^2, 4)``, row ``iL+j`` = (h(i,j), h(i+1,j), v(i,j), v(i,j+1))."""
    return _plaquette_edges(check_size(L))


def vertex_edges(L: int) -> np.ndarray:
    r"""Return the 4 edges incident to every vertex (the coboundary :math:`\delta 1_v`): int array ``(L^2, 4)``."""
    L = check_size(L)
    out = np.empty((L * L, 4), dtype=np.int64)
    for i in range(L):
        for j in range(L):
            out[i * L + j] = (h_edge(i, j, L), h_edge(i, j - 1, L), v_edge(i, j, L), v_edge(i - 1, j, L))
    return out


def plaquette_parities(y: np.ndarray, L: int) -> np.ndarray:
    r"""Anyon map :math:`m_p(y)=\sum_{e\in\partial p} y_e \bmod 2`.

    Parameters
    ----------
    y : array of shape ``(..., 2 L^2)`` with entries in {0, 1}.

    Returns
    -------
    uint8 array of shape ``(..., L^2)``.

    Raises
    ------
    ValueError
        If the last axis of ``y`` is not ``2 L^2`` long.
    """
    y = np.asarray(y)
    if y.shape[-1] != 2 * L * L:
        raise ValueError(f"y must have last axis 2 L^2 = {2 * L * L}, got shape {y.shape}")
    return (y[..., plaquette_edges(L)].sum(axis=-1) % 2).astype(np.uint8)


def homology_representatives(L: int, *, row: int = 0, col: int = 0) -> np.ndarray:
    r"""Two non-contractible closed-loop configurations spanning :math:`\mathcal C/\mathcal C_0`.

    ``x1`` = all vertical edges :math:`v(\text{row}, j)` (a dual loop winding horizontally) and ``x2`` = all
    horizontal edges :math:`h(i, \text{col})` (winding vertically).  Both have zero parity on every plaquette.

    Returns
    -------
    uint8 array of shape ``(2, 2 L^2)``.
    """
    L = check_size(L)
    x = np.zeros((2, 2 * L * L), dtype=np.uint8)
    for j in range(L):
        x[0, v_edge(row, j, L)] = 1
    for i in range(L):
        x[1, h_edge(i, col, L)] = 1
    return x


def edge_components(L: int, R: np.ndarray) -> np.ndarray:
    r"""Find the connected components of the graph :math:`G_R=(V_R,R)` of the edge set ``R`` (scipy.sparse.csgraph).

    Returns
    -------
    int array ``(n_components,)``: the number of vertices of every component (its length is :math:`c_R`, its
    sum :math:`|V_R|`); empty for an empty ``R``.
    """
    R = np.asarray(R, dtype=np.int64)
    if R.size == 0:
        return np.zeros(0, dtype=np.int64)
    ev = edge_vertices(L)[R]
    verts, inv = np.unique(ev, return_inverse=True)
    inv = inv.reshape(ev.shape)
    adj = coo_matrix((np.ones(len(R)), (inv[:, 0], inv[:, 1])), shape=(verts.size, verts.size))
    _, lab = connected_components(adj, directed=False)
    return np.bincount(lab).astype(np.int64)
