r"""Spectral helpers of the Petz constructions: the reference's eigen-decomposition and the scalar kernels.

Everything Petz-like is computed in the eigenbasis of the reference :math:`\sigma=\sum_k p_k|k\rangle\langle k|`
(theory note ``petz.md``), with :math:`x_k=\ln p_k` and :math:`u_{kl}=(x_k-x_l)/2`:

* :func:`spectral_reference` validates a full-rank reference **once** and returns ``(p, V)``; one positivity
  threshold (:data:`REFERENCE_RANK_TOL`), the same for a diagonal reference and for its rotated version.
* :func:`phi` is the characteristic function of the twirl density (P.4), :func:`twirl_density` the density (P.3).
* :func:`rotated_coefficients` and :func:`twirled_coefficients` are cancellation-free forms of the coefficient
  functions of (P.19) and (P.21).
* :func:`check_kind` validates the ``kind``/``theta`` pair of every Petz entry point.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from .._validation import as_operator, check_density_matrix
from ..linalg import hermitian_part

__all__ = [
    "KINDS",
    "REFERENCE_RANK_TOL",
    "THETA_MAX",
    "check_kind",
    "phi",
    "twirl_density",
    "rotated_coefficients",
    "twirled_coefficients",
    "twirl_quadrature",
    "twirl_lowrank_factor",
    "twirl_lowrank_rank",
    "spectral_reference",
    "to_eigenbasis",
    "from_eigenbasis",
    "complex_power",
]

#: The Petz family (``PetzKind`` in quantum_diffusion.typing).
KINDS = ("petz", "rotated", "twirled")
#: Smallest admissible eigenvalue of a reference state (absolute; states have unit trace). One threshold for every
#: entry point and every basis: ``eigh`` resolves the eigenvalues of a rotated reference only to about 1e-16 times
#: its norm, so a diagonal reference below this threshold is rejected exactly like its rotated version.
REFERENCE_RANK_TOL = 1e-12
#: Largest admissible rotation angle: up to it the round-off of the phases theta * u stays below
#: theta * 14 * 2.2e-16 ~ 3e-9 (|u| <= 14 for references above REFERENCE_RANK_TOL); far beyond it the rotated map
#: has no accurate digits (found by the fuzz test: theta = 1.15e308 gave NaN).
THETA_MAX = 1e6
_SERIES_U = 1e-3  # below |u| = 1e-3 the twirl coefficients use their Taylor series (error ~ u^5 < 1e-15)


def check_kind(kind: str, theta: float) -> float:
    """Validate a ``kind``/``theta`` pair of the Petz family and return ``theta`` as a float.

    Parameters
    ----------
    kind : {"petz", "rotated", "twirled"}
        Recovery family.
    theta : float
        Rotation angle; finite, ``|theta| <= THETA_MAX``, and 0 unless ``kind="rotated"``.

    Returns
    -------
    float
        ``theta``.

    Raises
    ------
    ValueError
        Unknown ``kind``, non-finite ``theta``, or a non-zero ``theta`` for another kind.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    try:
        theta = float(theta)
    except (TypeError, ValueError) as err:
        raise ValueError(f"theta must be a real number, got {theta!r}") from err
    if not np.isfinite(theta):
        raise ValueError(f"theta must be finite, got {theta!r}")
    if abs(theta) > THETA_MAX:
        raise ValueError(f"|theta| must be <= {THETA_MAX:g}, got {theta!r}: the phases exp(i theta u) of the rotated "
                         "map carry no accurate digits beyond that (and overflow near 1e308)")
    if kind != "rotated" and theta != 0.0:
        raise ValueError(f"theta={theta} is only meaningful for kind='rotated' (got kind={kind!r})")
    return theta


def twirl_density(theta: np.ndarray | float) -> np.ndarray:
    r"""Twirl weight :math:`\beta_0(\theta) = \frac{\pi}{2}\,(\cosh\pi\theta+1)^{-1}` (P.3).

    Parameters
    ----------
    theta : float or numpy.ndarray
        Angles.

    Returns
    -------
    numpy.ndarray
        Same shape as ``theta``.
    """
    t = np.asarray(theta, dtype=float)
    with np.errstate(over="ignore"):
        return np.pi / 2.0 / (np.cosh(np.pi * t) + 1.0)


def twirl_quadrature(width: float, *, tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes and weights of the trapezoidal :math:`\theta` quadrature of the twirl, error :math:`\le` ``tol``.

    .. math::

        \varphi(a) = \int d\theta\,\beta_0(\theta)e^{i\theta a}\approx\sum_{|i|\le N} h\,\beta_0(ih)\,e^{iiha},
        \qquad \max_{|a|\le\mathrm{width}}\Big|\sum_i w_ie^{i\theta_ia} - \varphi(a)\Big|\le\mathrm{tol}.

    By Poisson summation the trapezoid sum is exactly :math:`\sum_m\varphi(a + 2\pi m/h)` minus the truncated
    tail, so the aliasing error is :math:`\approx 2\varphi(2\pi/h - |a|)` and the truncation error is
    :math:`\approx 2e^{-\pi Nh}`. The step is chosen as :math:`h = 2\pi/(\mathrm{width} + c)` with
    :math:`2ce^{-c}\le\mathrm{tol}/2` and :math:`Nh = \ln(4/\mathrm{tol})/\pi`; the error is then verified on a
    grid of :math:`a` (and the margins enlarged until it holds). Number of nodes
    :math:`Q\approx(\mathrm{width} + c)\ln(4/\mathrm{tol})/\pi^2`, e.g. 69 for width 10 and tol 1e-8.

    Parameters
    ----------
    width : float
        Largest :math:`|a|` needed (for the twirl kernel :math:`a = u_{kl}-u_{mn}`: ``max ln p - min ln p``).
    tol : float
        Absolute error bound on :math:`\varphi` (relative to :math:`\max\varphi = 1`).

    Returns
    -------
    theta : numpy.ndarray, shape ``(Q,)``
        Symmetric nodes.
    weights : numpy.ndarray, shape ``(Q,)``
        Positive weights.

    Raises
    ------
    ValueError
        If ``width`` is negative or not finite, or ``tol`` is not in (0, 0.1).
    """
    width = float(width)
    if not np.isfinite(width) or width < 0:
        raise ValueError(f"width must be a finite non-negative number, got {width!r}")
    if not (0 < tol < 0.1):
        raise ValueError(f"tol must lie in (0, 0.1), got {tol!r}")
    # bucket the width upwards (a larger width only tightens the bound) so the flow's many calls hit the cache
    return _twirl_quadrature(float(np.ceil(width * 8.0) / 8.0), float(tol))


@lru_cache(maxsize=256)
def _twirl_quadrature(width: float, tol: float) -> tuple[np.ndarray, np.ndarray]:
    c = 2.0
    while 2.0 * c * np.exp(-c) > tol / 2.0:
        c += 0.5
    span = np.log(4.0 / tol) / np.pi
    a = np.linspace(0.0, width, max(2001, int(40 * width) + 1))
    for _ in range(20):
        h = 2.0 * np.pi / (width + c)
        n = int(np.ceil(span / h))
        theta = h * np.arange(-n, n + 1)
        w = h * twirl_density(theta)
        err = float(np.max(np.abs(np.cos(np.outer(a, theta)) @ w - phi(a))))
        if err <= tol:
            theta.setflags(write=False)
            w.setflags(write=False)
            return theta, w
        c, span = c + 1.0, span + 0.5
    raise RuntimeError(f"twirl quadrature did not reach tol={tol} for width={width}")  # pragma: no cover


def twirl_lowrank_factor(s: np.ndarray, *, tol: float = 1e-8) -> tuple[np.ndarray, float]:
    r"""Low-rank factor :math:`F` with :math:`\varphi(s_i - s_j)\approx\sum_r F_{ir}F_{jr}` and its error bound.

    :math:`\varphi(s-t)` is a positive-definite kernel (Bochner: :math:`\varphi` is the characteristic function
    of :math:`\beta_0`), so a Nystroem approximation on pivots :math:`P` chosen by pivoted Cholesky on a grid of
    ``[-width/2, width/2]`` is stable, and its error is certified *at the given points*: the residual
    :math:`E = K - FF^T` is positive semidefinite (a Schur complement), hence
    :math:`|E_{ij}|\le\sqrt{E_{ii}E_{jj}}\le\max_i(1 - \|F_i\|^2)`. The rank is about half the number of
    quadrature nodes of :func:`twirl_quadrature` (28 vs 69 at width 10, 41 vs 79 at 15.5, 74 vs 103 at 27.6).

    Parameters
    ----------
    s : numpy.ndarray, shape ``(n,)``
        Points (for the twirl kernel: the half log-ratios :math:`u_{kl}`, flattened).
    tol : float
        Target bound on the elementwise kernel error (relative to :math:`\max\varphi = 1`).

    Returns
    -------
    F : numpy.ndarray, shape ``(n, r)``
        Real factor.
    bound : float
        Certified bound on :math:`\max_{ij}|\varphi(s_i-s_j) - (FF^T)_{ij}|`.

    Raises
    ------
    ValueError
        If ``s`` holds non-finite values or ``tol`` is not in (0, 0.1).
    """
    s = np.asarray(s, dtype=float).ravel()
    if not np.all(np.isfinite(s)):
        raise ValueError("s must be finite")
    if not (0 < tol < 0.1):
        raise ValueError(f"tol must lie in (0, 0.1), got {tol!r}")
    width = float(2.0 * np.max(np.abs(s))) if s.size else 0.0
    piv, chol = _twirl_pivots(float(np.ceil(width * 8.0) / 8.0), float(tol))
    c = phi(s[:, None] - piv[None, :])
    f = np.linalg.solve(chol, c.T).T  # F = C R^{-T}, K_PP = R R^T
    bound = float(max(np.max(1.0 - np.sum(f * f, axis=1)), 0.0)) if s.size else 0.0
    return f, bound


def twirl_lowrank_rank(width: float, *, tol: float = 1e-8) -> int:
    """Rank of :func:`twirl_lowrank_factor` for points spread over ``[-width/2, width/2]``.

    Parameters
    ----------
    width : float
        Spread of the points (for the twirl kernel: ``ln p_max - ln p_min``).
    tol : float
        As :func:`twirl_lowrank_factor`.

    Returns
    -------
    int
    """
    return int(_twirl_pivots(float(np.ceil(max(float(width), 0.0) * 8.0) / 8.0), float(tol))[0].size)


@lru_cache(maxsize=256)
def _twirl_pivots(width: float, tol: float) -> tuple[np.ndarray, np.ndarray]:
    # pivoted Cholesky of the kernel on a grid, down to a residual diagonal of tol / 4 (margin for off-grid points)
    grid = np.linspace(-width / 2.0, width / 2.0, max(401, int(80 * width) + 1))
    diag = np.ones(grid.size)
    piv: list[int] = []
    cols: list[np.ndarray] = []
    while diag.max() > tol / 4.0 and len(piv) < grid.size:
        i = int(np.argmax(diag))
        col = phi(grid - grid[i])
        for c in cols:
            col = col - c * c[i]
        col = col / np.sqrt(diag[i])
        piv.append(i)
        cols.append(col)
        diag = diag - col**2
    p = grid[piv]
    chol = np.linalg.cholesky(phi(p[:, None] - p[None, :]))
    p.setflags(write=False)
    chol.setflags(write=False)
    return p, chol


def phi(a: np.ndarray | float) -> np.ndarray:
    r"""Characteristic function of the twirl density, :math:`\varphi(a) = a/\sinh a` (P.4), ``phi(0) = 1``.

    Parameters
    ----------
    a : float or numpy.ndarray
        Argument.

    Returns
    -------
    numpy.ndarray
        Same shape as ``a`` (0 where ``sinh`` overflows).
    """
    a = np.asarray(a, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = np.where(a == 0.0, 1.0, a / np.sinh(np.where(a == 0.0, 1.0, a)))
    return np.where(np.isfinite(out), out, 0.0)


def _u_over_tanh(u: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(u == 0.0, 1.0, u / np.tanh(np.where(u == 0.0, 1.0, u)))


def _expm1_i_over_u(u: np.ndarray, theta: float) -> np.ndarray:
    """``(exp(i theta u) - 1) / u`` without cancellation (-> ``i theta`` at u = 0), via np.sinc."""
    s_half = np.sin(theta * u / 2.0)
    return theta * (-s_half * np.sinc(theta * u / (2 * np.pi)) + 1j * np.sinc(theta * u / np.pi))


def rotated_coefficients(u: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Coefficients of (P.19), :math:`c_1 = -\tanh(u/2) - h\,u\coth u` and :math:`c_2 = h\varphi(u) - \tanh(u/2)`.

    Here :math:`h = (e^{i\theta u}-1)/u`; these are cancellation-free forms of P.19's csch/coth combinations.

    Parameters
    ----------
    u : numpy.ndarray
        Half log-ratios :math:`u_{kl}`.
    theta : float
        Rotation angle.

    Returns
    -------
    tuple of numpy.ndarray
        ``(c1, c2)``, complex, shape of ``u``.
    """
    th = np.tanh(u / 2.0)
    h = _expm1_i_over_u(u, theta)
    return -th - h * _u_over_tanh(u), h * phi(u) - th


def twirled_coefficients(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Coefficients of (P.21), :math:`c_1 = (1-u\coth u)/\sinh u` and :math:`c_2 = (u-\sinh u\cosh u)/\sinh^2 u`.

    Parameters
    ----------
    u : numpy.ndarray
        Half log-ratios :math:`u_{kl}`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(c1, c2)``, real, odd in ``u``, Taylor series below ``|u| = 1e-3``.
    """
    small = np.abs(u) < _SERIES_U
    us = np.where(small, 1.0, u)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        sh = np.sinh(us)
        c1 = 1.0 / sh - _u_over_tanh(us) / sh
        c2 = us / sh**2 - 1.0 / np.tanh(us)
    c1 = np.where(np.isfinite(c1), c1, 0.0)
    c1 = np.where(small, -u / 3.0 + 7.0 * u**3 / 90.0, c1)
    c2 = np.where(small, -2.0 * u / 3.0 + 4.0 * u**3 / 45.0, np.where(np.isfinite(c2), c2, -np.sign(u)))
    return c1, c2


def spectral_reference(
    sigma: Any, dim: int | None = None, *, name: str = "sigma", rank_tol: float = REFERENCE_RANK_TOL
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Validate a full-rank reference state and return ``(p, V)`` with :math:`\sigma = V\,\mathrm{diag}(p)V^\dagger`.

    A diagonal ``sigma`` returns ``V = None`` (the computational basis, kept exactly, so degenerate
    eigenvalues and diagonal operands stay diagonal). This is the one place where a Petz reference is
    validated; internal functions take ``(p, V)``. The spectrum is that of the Hermitian part of ``sigma`` (a
    non-Hermitian part within the validation tolerance of ``check_density_matrix`` is dropped).

    Parameters
    ----------
    sigma : OperatorLike, shape ``(d, d)``
        Reference state (numpy array, nested list or qutip ``Qobj``).
    dim : int, optional
        Required dimension.
    name : str
        Argument name used in error messages.
    rank_tol : float
        Smallest admissible eigenvalue (default :data:`REFERENCE_RANK_TOL`, the same in every basis).

    Returns
    -------
    p : numpy.ndarray, shape ``(d,)``
        Eigenvalues (ascending unless diagonal).
    V : numpy.ndarray, shape ``(d, d)``, or None
        Eigenvectors (``None`` for a diagonal ``sigma``).

    Raises
    ------
    ValueError
        If ``sigma`` is not a density matrix (shape, Hermiticity, trace, positivity), or is rank-deficient
        (an eigenvalue ``<= rank_tol``): the Petz constructions use :math:`\sigma^{-1/2}` and are only defined
        on the support of the reference, so a rank-deficient reference must be restricted to its support.
    """
    arr = check_density_matrix(as_operator(sigma, name, dim=dim), name, dim=dim)
    if not np.any(arr - np.diag(np.diag(arr))):
        p, v = np.diag(arr).real.copy(), None  # diagonal reference: exact eigenvalues, basis kept exactly
    else:
        p, v = np.linalg.eigh(hermitian_part(arr))
    if not np.isfinite(rank_tol) or rank_tol < 0:
        raise ValueError(f"rank_tol must be a finite non-negative number, got {rank_tol!r}")
    if p.min() <= rank_tol:
        raise ValueError(
            f"{name} is rank-deficient (smallest eigenvalue {p.min():.3e} <= {rank_tol:.1e}): the Petz-type "
            f"recovery uses {name}^(-1/2) and is only defined on the support of the reference; restrict the "
            f"problem to supp({name}) or mix in a little of the maximally mixed state"
        )
    return p, v


def to_eigenbasis(x: np.ndarray, v: np.ndarray | None) -> np.ndarray:
    r"""Change of basis :math:`V^\dagger X V` into the reference's eigenbasis (identity for ``V = None``).

    Parameters
    ----------
    x : numpy.ndarray, shape ``(d, d)``
        Operator in the computational basis.
    v : numpy.ndarray, shape ``(d, d)``, or None
        Eigenvectors from :func:`spectral_reference`.

    Returns
    -------
    numpy.ndarray, shape ``(d, d)``
    """
    return x if v is None else v.conj().T @ x @ v


def from_eigenbasis(x: np.ndarray, v: np.ndarray | None) -> np.ndarray:
    r"""Change of basis :math:`V X V^\dagger` back to the computational basis (identity for ``V = None``).

    Parameters
    ----------
    x : numpy.ndarray, shape ``(d, d)``
        Operator in the eigenbasis.
    v : numpy.ndarray, shape ``(d, d)``, or None
        Eigenvectors from :func:`spectral_reference`.

    Returns
    -------
    numpy.ndarray, shape ``(d, d)``
    """
    return x if v is None else v @ x @ v.conj().T


def complex_power(p: np.ndarray, v: np.ndarray | None, a: complex) -> np.ndarray:
    r"""Matrix power :math:`\sigma^{a} = V\,\mathrm{diag}(p^{a})\,V^\dagger` for a complex exponent.

    The rotated Petz constructions need :math:`\sigma^{(1\pm i\theta)/2}`; ``linalg.psd_power`` covers real
    exponents only, so this is its complex-exponent counterpart on an already validated spectrum.

    Parameters
    ----------
    p : numpy.ndarray, shape ``(d,)``
        Positive eigenvalues.
    v : numpy.ndarray, shape ``(d, d)``, or None
        Eigenvectors (``None``: the computational basis).
    a : complex
        Exponent.

    Returns
    -------
    numpy.ndarray, shape ``(d, d)``
    """
    w = p.astype(complex) ** a
    return np.diag(w) if v is None else (v * w) @ v.conj().T
