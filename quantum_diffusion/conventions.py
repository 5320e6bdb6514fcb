r"""Conventions used throughout ``quantum_diffusion`` (every convention-bearing docstring points here).

Gaussian states and channels (Heinosaari-Holevo-Wolf, arXiv:0909.0408)
-----------------------------------------------------------------------
* Quadratures ``R = (Q_1, P_1, ..., Q_n, P_n)`` (**xpxp** ordering) with ``[Q_j, P_k] = i delta_jk``.
* Covariance ``gamma_kl = <{R_k - d_k, R_l - d_l}>`` (anticommutator, no 1/2), so the **vacuum has
  gamma = identity**; physical states obey ``gamma + i Omega >= 0``, i.e. symplectic eigenvalues >= 1.
* Symplectic form ``Omega = (+)_j [[0, 1], [-1, 0]]`` (:func:`omega`).
* The Wigner function has covariance ``gamma / 2``.
* A Gaussian channel ``(X, Y)`` maps ``gamma -> X^T gamma X + Y``; it is CP iff
  ``Y + i Omega - i X^T Omega X >= 0``.  A generator ``(K, D)`` evolves
  ``d gamma/dt = K gamma + gamma K^T + D``.

Mapping to other libraries
--------------------------
* **strawberryfields** uses ``hbar = 2`` by default and **xxpp** ordering, with covariance
  ``V = <{dx, dx}>/2``.  With ``x = sqrt(hbar) Q`` one has ``V = (hbar/2) gamma``: at ``hbar = 2`` the SF
  covariance *is* the HHW covariance after reordering (:func:`hhw_to_sf`, :func:`sf_to_hhw`).
* **thewalrus** takes ``hbar`` explicitly (xxpp): ``V = (hbar/2) gamma`` (:func:`hhw_to_thewalrus`).
* Reordering: :func:`xpxp_to_xxpp` / :func:`xxpp_to_xpxp` act on vectors ``(2n,)`` and matrices ``(2n, 2n)``.

Superoperators
--------------
* ``quantum_diffusion`` vectorises **row-major** (numpy's ``reshape``): ``vec(X)[i*d + j] = X[i, j]`` and
  ``vec(A X B) = (A kron B^T) vec(X)`` (:func:`vec`, :func:`unvec`, :func:`spre_post`).
* qutip stacks **columns**: ``vec_q(X) = vec(X^T)``.  A row-major superoperator ``S`` becomes qutip's
  ``P S P`` with ``P`` the swap permutation (:func:`row_to_column_superop`; it is an involution).

Information quantities
----------------------
* Entropies, relative entropies, mutual informations and CMIs are in **nats** (natural logarithm).
* ``fidelity`` in :mod:`quantum_diffusion.info` is the *root* fidelity ``||sqrt(rho) sqrt(sigma)||_1``;
  the Gaussian module's ``fidelity`` is the Uhlmann fidelity squared, ``F = (tr|sqrt(rho) sqrt(sigma)|)^2``,
  as in the Gaussian papers.  Each docstring says which.

Time directions
---------------
* Quantum recovery: the backward generator ``B_t`` satisfies ``P_{sigma(t), exp(dt L)} = id + dt B_t + O(dt^2)``
  and the denoising flow is ``d rho/dt = -B_t(rho)`` integrated from ``t = T`` down to ``0``.
* Classical flow matching (``classical`` package): **t = 0 is data, t = 1 is noise**,
  ``x_t = (1 - t) x_0 + t z``; generation integrates from ``t = 1`` down to ``t = 0``.
* Toric code: flip probability ``p(t) = (1 - exp(-2 t)) / 2`` (unit flip rate per edge).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

__all__ = [
    "omega",
    "xpxp_to_xxpp",
    "xxpp_to_xpxp",
    "hhw_to_sf",
    "sf_to_hhw",
    "hhw_to_thewalrus",
    "thewalrus_to_hhw",
    "vec",
    "unvec",
    "spre_post",
    "row_to_column_superop",
]

_J = np.array([[0.0, 1.0], [-1.0, 0.0]])


def omega(n: int) -> np.ndarray:
    """Symplectic form ``Omega = (+)_{j=1}^n [[0, 1], [-1, 0]]`` in xpxp ordering, shape (2n, 2n)."""
    if int(n) != n or n < 1:
        raise ValueError(f"number of modes must be a positive integer, got {n!r}")
    return block_diag(*([_J] * int(n)))


def _perm_xpxp_to_xxpp(dim: int) -> np.ndarray:
    if dim % 2:
        raise ValueError(f"phase-space dimension must be even, got {dim}")
    n = dim // 2
    return np.concatenate([np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2)])


def xpxp_to_xxpp(a: np.ndarray) -> np.ndarray:
    """Reorder a vector (2n,) or matrix (2n, 2n) from (x1,p1,x2,p2,...) to (x1,x2,...,p1,p2,...)."""
    a = np.asarray(a)
    perm = _perm_xpxp_to_xxpp(a.shape[0])
    return a[perm] if a.ndim == 1 else a[np.ix_(perm, perm)]


def xxpp_to_xpxp(a: np.ndarray) -> np.ndarray:
    """Inverse of :func:`xpxp_to_xxpp`."""
    a = np.asarray(a)
    inv = np.argsort(_perm_xpxp_to_xxpp(a.shape[0]))
    return a[inv] if a.ndim == 1 else a[np.ix_(inv, inv)]


def hhw_to_thewalrus(gamma: np.ndarray, hbar: float) -> np.ndarray:
    """HHW covariance (xpxp, vacuum = I) -> thewalrus/SF covariance (xxpp, vacuum = hbar/2 I)."""
    return (hbar / 2.0) * xpxp_to_xxpp(gamma)


def thewalrus_to_hhw(cov: np.ndarray, hbar: float) -> np.ndarray:
    """thewalrus/SF covariance (xxpp, vacuum = hbar/2 I) -> HHW covariance (xpxp, vacuum = I)."""
    return xxpp_to_xpxp(np.asarray(cov) * (2.0 / hbar))


def hhw_to_sf(gamma: np.ndarray, hbar: float = 2.0) -> np.ndarray:
    """HHW covariance -> strawberryfields covariance (default ``hbar = 2``: only the reordering)."""
    return hhw_to_thewalrus(gamma, hbar)


def sf_to_hhw(cov: np.ndarray, hbar: float = 2.0) -> np.ndarray:
    """Convert a strawberryfields covariance to the HHW covariance."""
    return thewalrus_to_hhw(cov, hbar)


def vec(x: np.ndarray) -> np.ndarray:
    """Row-major vectorisation ``vec(X)[i*d + j] = X[i, j]``, shape (d*d,)."""
    return np.asarray(x).reshape(-1)


def unvec(v: np.ndarray, d: int | None = None) -> np.ndarray:
    """Inverse of :func:`vec`; ``d`` defaults to ``sqrt(len(v))``."""
    v = np.asarray(v)
    if d is None:
        d = int(round(np.sqrt(v.size)))
    if d * d != v.size:
        raise ValueError(f"vector of length {v.size} is not the vectorisation of a {d}x{d} matrix")
    return v.reshape(d, d)


def spre_post(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-major superoperator of ``X -> A X B``: ``A kron B^T``, shape (d*d, d*d)."""
    return np.kron(np.asarray(a), np.asarray(b).T)


def row_to_column_superop(s: np.ndarray) -> np.ndarray:
    """Convert a row-major superoperator to qutip's column-stacking one (and back: an involution)."""
    s = np.asarray(s)
    d = int(round(np.sqrt(s.shape[0])))
    if d * d != s.shape[0] or s.shape[0] != s.shape[1]:
        raise ValueError(f"superoperator must have shape (d^2, d^2), got {s.shape}")
    perm = np.arange(d * d).reshape(d, d).T.reshape(-1)
    return s[np.ix_(perm, perm)]
