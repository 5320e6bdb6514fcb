r"""Small dense linear-algebra helpers shared by every area (one implementation each).

* :func:`hermitian_part` -- :math:`(A + A^\dagger)/2`.
* :func:`psd_power` -- :math:`A^{s}` of a Hermitian positive (semi)definite matrix through its eigendecomposition.
* :func:`min_eigenvalue` -- smallest eigenvalue of the Hermitian part.

These are thin wrappers over ``numpy.linalg.eigh`` that fix one convention (the Hermitian part is taken first,
eigenvalues are clipped only where a negative power would otherwise be undefined, and that case raises).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["hermitian_part", "psd_power", "min_eigenvalue"]


def hermitian_part(a: ArrayLike) -> np.ndarray:
    r"""Hermitian part :math:`(A + A^\dagger)/2` of a square matrix (or a stack of them).

    Parameters
    ----------
    a : array_like, shape ``(..., d, d)``
        Square matrix or stack of square matrices.

    Returns
    -------
    numpy.ndarray, shape ``(..., d, d)``
        The Hermitian part.
    """
    a = np.asarray(a)
    return 0.5 * (a + np.swapaxes(a, -1, -2).conj())


def psd_power(a: ArrayLike, power: float, *, rtol: float = 0.0) -> np.ndarray:
    r"""Matrix power :math:`A^{s}=U\,\mathrm{diag}(\lambda^{s})\,U^\dagger` of a Hermitian PSD matrix.

    Parameters
    ----------
    a : array_like, shape ``(d, d)``
        Hermitian positive semidefinite matrix (its Hermitian part is used).
    power : float
        Exponent :math:`s` (real).
    rtol : float, optional
        Eigenvalues below ``rtol * max(eigenvalue)`` are treated as zero (only allowed for ``power > 0``).

    Returns
    -------
    numpy.ndarray, shape ``(d, d)``
        :math:`A^{s}`, Hermitian.

    Raises
    ------
    ValueError
        If ``power <= 0`` and ``a`` has a zero or negative eigenvalue (the power is undefined).
    """
    w, v = np.linalg.eigh(hermitian_part(a))
    cut = rtol * max(float(w.max()), 0.0)
    if power <= 0 and w.min() <= cut:
        raise ValueError(f"a must be positive definite for power {power}, smallest eigenvalue {w.min():.3e}")
    w = np.where(w > cut, w, 0.0)
    return (v * w**power) @ v.conj().T


def min_eigenvalue(a: ArrayLike) -> float:
    r"""Smallest eigenvalue of the Hermitian part of ``a``.

    Parameters
    ----------
    a : array_like, shape ``(d, d)``
        Square matrix.

    Returns
    -------
    float
        :math:`\lambda_{\min}((A + A^\dagger)/2)`.
    """
    return float(np.linalg.eigvalsh(hermitian_part(a))[0])
