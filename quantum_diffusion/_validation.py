"""Input validation shared by every module: clear errors that name the problem.

Every public function of the package funnels its array inputs through these helpers, so a
physicist who passes a qutip ``Qobj``, a list or a numpy array gets the same behaviour, and bad
input (NaN, wrong shape, non-Hermitian, unnormalised or non-PSD states) fails loudly with a
message that says which argument is wrong and by how much.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "as_array",
    "check_square",
    "check_hermitian",
    "check_density_matrix",
    "check_probability",
    "check_finite",
]


def as_array(x: Any, name: str = "input", *, dtype: Any = None) -> np.ndarray:
    """Return ``x`` as a numpy array, accepting qutip ``Qobj`` (via ``.full()``) and array-likes.

    Raises
    ------
    ValueError
        If the array contains NaN or infinite entries.
    """
    if hasattr(x, "full") and callable(x.full):  # qutip.Qobj and friends
        x = x.full()
    arr = np.asarray(x, dtype=dtype)
    if arr.dtype == object:
        raise TypeError(f"{name}: expected a numeric array, got an object array")
    check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str = "input") -> None:
    """Raise ``ValueError`` if ``arr`` holds NaN or inf."""
    if np.issubdtype(np.asarray(arr).dtype, np.number) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")


def check_square(arr: np.ndarray, name: str = "matrix", dim: int | None = None) -> np.ndarray:
    """Check that ``arr`` is a square 2-D array (of size ``dim`` if given)."""
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} must have shape ({dim}, {dim}), got {arr.shape}")
    return arr


def check_hermitian(arr: np.ndarray, name: str = "matrix", atol: float = 1e-10) -> np.ndarray:
    """Check that ``arr`` is square and Hermitian to ``atol`` (relative to its norm)."""
    check_square(arr, name)
    scale = max(1.0, float(np.max(np.abs(arr))) if arr.size else 1.0)
    dev = float(np.max(np.abs(arr - arr.conj().T))) if arr.size else 0.0
    if dev > atol * scale:
        raise ValueError(f"{name} is not Hermitian: max |A - A^dagger| = {dev:.3e}")
    return arr


def check_density_matrix(
    rho: Any,
    name: str = "rho",
    *,
    dim: int | None = None,
    atol: float = 1e-8,
    full_rank: bool = False,
) -> np.ndarray:
    """Validate a density matrix and return it as a complex array of shape (d, d).

    Checks: finite, square (size ``dim``), Hermitian, unit trace, positive semidefinite, and, when
    ``full_rank`` is set, strictly positive definite (needed wherever ``rho^{-1/2}`` appears).

    Raises
    ------
    ValueError
        Naming the violated property and its size.
    """
    arr = as_array(rho, name, dtype=complex)
    check_square(arr, name, dim)
    check_hermitian(arr, name, atol)
    tr = np.trace(arr).real
    if abs(tr - 1.0) > atol * max(1, arr.shape[0]):
        raise ValueError(f"{name} is not normalised: trace = {tr:.12g}")
    evals = np.linalg.eigvalsh(0.5 * (arr + arr.conj().T))
    if evals[0] < -atol:
        raise ValueError(f"{name} is not positive semidefinite: smallest eigenvalue {evals[0]:.3e}")
    if full_rank and evals[0] <= atol:
        raise ValueError(
            f"{name} is rank-deficient (smallest eigenvalue {evals[0]:.3e}); a full-rank reference is "
            "required because the construction uses its inverse square root"
        )
    return arr


def check_probability(p: Any, name: str = "p", *, lo: float = 0.0, hi: float = 1.0) -> float:
    """Check that a scalar ``p`` is a finite number in ``[lo, hi]`` and return it as float."""
    val = float(p)
    if not np.isfinite(val) or val < lo or val > hi:
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {p!r}")
    return val
