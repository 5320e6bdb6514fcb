r"""Small dense linear-algebra helpers shared by every area (one implementation each).

* :func:`hermitian_part` -- :math:`(A + A^\dagger)/2`.
* :func:`psd_power` -- :math:`A^{s}` of a Hermitian positive (semi)definite matrix through its eigendecomposition.
* :func:`min_eigenvalue` -- smallest eigenvalue of the Hermitian part.
* :func:`superop_from_kraus`, :func:`kraus_from_superop` -- row-major superoperator
  :math:`\sum_i K_i\otimes\bar K_i` and back through the Choi matrix (one implementation each).

These are thin wrappers over ``numpy.linalg.eigh`` that fix one convention (the Hermitian part is taken first,
eigenvalues are clipped only where a negative power would otherwise be undefined, and that case raises).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["hermitian_part", "psd_power", "min_eigenvalue", "superop_from_kraus", "kraus_from_superop"]


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
    # halve before adding: (A + A^H)/2 overflows to inf for entries above ~9e307; halving is exact otherwise
    return 0.5 * a + 0.5 * np.swapaxes(a, -1, -2).conj()


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


def superop_from_kraus(kraus: ArrayLike) -> np.ndarray:
    r"""Row-major superoperator :math:`S = \sum_i K_i\otimes\bar K_i` of :math:`X\mapsto\sum_i K_iXK_i^\dagger`.

    Parameters
    ----------
    kraus : array_like, shape ``(n, d_out, d_in)``
        Kraus operators.

    Returns
    -------
    numpy.ndarray, shape ``(d_out^2, d_in^2)``
        Row-major: :math:`\mathrm{vec}(KXK^\dagger) = (K\otimes\bar K)\,\mathrm{vec}(X)`.
    """
    ops = np.asarray(kraus, dtype=complex)
    n, do, di = ops.shape
    return np.einsum("kab,kcd->acbd", ops, ops.conj()).reshape(do * do, di * di)


def kraus_from_superop(superop: ArrayLike, *, rtol: float = 1e-13, cp_tol: float = 1e-10) -> list[np.ndarray]:
    r"""Kraus operators of a completely positive map given as a row-major superoperator (Choi eigendecomposition).

    The Choi matrix :math:`R_{(km),(ln)} = S_{(kl),(mn)}` is Hermitian PSD for a CP map; with
    :math:`R = \sum_\alpha\lambda_\alpha v_\alpha v_\alpha^\dagger`, :math:`K_\alpha = \sqrt{\lambda_\alpha}
    \,\mathrm{reshape}(v_\alpha)` and :math:`S = \sum_\alpha K_\alpha\otimes\bar K_\alpha`.

    Parameters
    ----------
    superop : array_like, shape ``(d_out^2, d_in^2)``
        Row-major superoperator of a CP map.
    rtol : float
        Eigenvalues below ``rtol * max(eigenvalue)`` are dropped.
    cp_tol : float
        A Choi eigenvalue below ``-cp_tol * max(1, max eigenvalue)`` means the map is not CP.

    Returns
    -------
    list of numpy.ndarray, each of shape ``(d_out, d_in)``
        Largest weight first.

    Raises
    ------
    ValueError
        If the shape is not ``(d_out^2, d_in^2)`` or the map is not completely positive.
    """
    s = np.asarray(superop, dtype=complex)
    do, di = (int(round(np.sqrt(n))) for n in s.shape)
    if s.ndim != 2 or do * do != s.shape[0] or di * di != s.shape[1]:
        raise ValueError(f"superop must have shape (d_out^2, d_in^2), got {s.shape}")
    choi = s.reshape(do, do, di, di).transpose(0, 2, 1, 3).reshape(do * di, do * di)
    lam, w = np.linalg.eigh(hermitian_part(choi))
    top = max(float(lam.max()), 0.0)
    if lam.min() < -cp_tol * max(1.0, top):
        raise ValueError(f"the map is not completely positive (Choi eigenvalue {lam.min():.3e})")
    keep = np.flatnonzero(lam > rtol * max(top, 1e-300))[::-1]
    return [np.sqrt(lam[a]) * w[:, a].reshape(do, di) for a in keep]
