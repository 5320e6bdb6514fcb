"""Linear algebra over GF(2) on small dense ``uint8`` matrices.

Hand-written because neither numpy nor scipy offer GF(2) elimination; the matrices here have at most a few
hundred rows and columns, so plain row reduction on boolean arrays is fast enough.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rref", "rank", "nullspace"]


def rref(G: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Reduced row echelon form over GF(2); returns ``(R, pivot_columns)`` with zero rows dropped."""
    A = (np.asarray(G, dtype=np.uint8) % 2).astype(bool).copy()
    if A.ndim != 2:
        raise ValueError(f"GF(2) matrix must be 2-D, got shape {A.shape}")
    n_rows, n_cols = A.shape
    pivots: list[int] = []
    row = 0
    for col in range(n_cols):
        if row >= n_rows:
            break
        hits = np.nonzero(A[row:, col])[0]
        if hits.size == 0:
            continue
        k = row + hits[0]
        if k != row:
            A[[row, k]] = A[[k, row]]
        others = np.nonzero(A[:, col])[0]
        others = others[others != row]
        A[others] ^= A[row]
        pivots.append(col)
        row += 1
    return A[:row].astype(np.uint8), pivots


def rank(G: np.ndarray) -> int:
    """Rank over GF(2)."""
    return len(rref(G)[1]) if np.asarray(G).size else 0


def nullspace(G: np.ndarray, n_cols: int | None = None) -> np.ndarray:
    """Basis (rows) of ``{c in GF(2)^n : G c = 0}``; shape ``(n - rank, n)``."""
    G = np.asarray(G, dtype=np.uint8)
    n = G.shape[1] if G.ndim == 2 else int(n_cols or 0)
    if G.size == 0:
        return np.eye(n, dtype=np.uint8)
    R, piv = rref(G)
    free = [c for c in range(n) if c not in set(piv)]
    basis = np.zeros((len(free), n), dtype=np.uint8)
    for k, f in enumerate(free):
        basis[k, f] = 1
        for i, pc in enumerate(piv):
            basis[k, pc] = R[i, f]
    return basis
