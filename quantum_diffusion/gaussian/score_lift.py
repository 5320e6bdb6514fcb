r"""The fixed-diffusion score-lift (Bayes/Wigner-score reverse) and its CP obstruction (Theorem 1).

Conventions: HHW (see :mod:`quantum_diffusion.conventions`); the Wigner function has covariance
``gamma / 2`` so its score is :math:`\nabla\ln p = -2\Sigma^{-1}x`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..typing import Orientation
from .channels import GaussianGenerator
from .states import check_covariance, check_nu_r

__all__ = ["bayes_reverse", "theorem1_eigenvalues", "cp_violation", "bayes_min_eig_grid"]


def bayes_reverse(
    generator: GaussianGenerator,
    gamma_ref: Any,
    *,
    orientation: Orientation = "forward",
) -> GaussianGenerator:
    r"""Fixed-diffusion Bayes (Anderson) reverse generator for a running reference :math:`\Sigma_t`.

    The Wigner Fokker-Planck equation :math:`\partial_t W = -\nabla\cdot(KxW) + \tfrac14\nabla\cdot(D\nabla W)`
    with Gaussian marginal :math:`\mathcal N(0, \Sigma_t/2)` has the reverse-time drift

    .. math:: K^{\rm rev}_t = -(K + D\Sigma_t^{-1}),\qquad\text{diffusion } D\ \text{(unchanged)},

    which retraces the marginals: :math:`K^{\rm rev}\Sigma + \Sigma K^{{\rm rev}T} + D = -\dot\Sigma`.
    ``orientation="forward"`` returns the forward-oriented :math:`(K + D\Sigma_t^{-1}, D)` (to be
    integrated with ``dt < 0``); ``"reverse"`` returns :math:`(K^{\rm rev}_t, D)`.  Both have the same
    CP spectrum (sign-flip lemma, :meth:`GaussianGenerator.reversed_sign`).  Any number of modes.

    Parameters
    ----------
    generator : GaussianGenerator
        Forward generator ``(K, D)`` on ``n`` modes.
    gamma_ref : array_like, shape (2n, 2n)
        Running reference covariance :math:`\Sigma_t` (HHW; e.g. ``generator.evolve(gamma0, t)``).

    Raises
    ------
    ValueError
        If ``gamma_ref`` is unphysical or of the wrong size, or ``orientation`` is unknown.
    """
    sigma = check_covariance(gamma_ref, "gamma_ref", n_modes=generator.n_modes)
    k_bayes = generator.K + generator.D @ np.linalg.inv(sigma)
    if orientation == "forward":
        return GaussianGenerator(k_bayes, generator.D)
    if orientation == "reverse":
        return GaussianGenerator(-k_bayes, generator.D)
    raise ValueError(f"orientation must be 'forward' or 'reverse', got {orientation!r}")


def theorem1_eigenvalues(nu: ArrayLike, r: ArrayLike) -> np.ndarray:
    r"""Closed-form spectrum of :math:`M^{\rm Bayes}` for the unit attenuator and reference :math:`\Sigma(\nu, r)`.

    .. math:: M^{\rm Bayes} = I + i\Big(\frac{2\cosh 2r}{\nu} - 1\Big)\sigma,\qquad
              \lambda \in \Big\{2 - \frac{2\cosh 2r}{\nu},\ \frac{2\cosh 2r}{\nu}\Big\},

    so :math:`M^{\rm Bayes}\not\succeq 0 \iff \cosh 2r > \nu`.  Vectorised: ``nu`` and ``r`` broadcast.
    Conventions: HHW (see :mod:`quantum_diffusion.conventions`).

    Returns
    -------
    ndarray, shape ``broadcast(nu, r).shape + (2,)``
        Eigenvalues in ascending order.

    Raises
    ------
    ValueError
        If any ``nu < 1`` or an argument is NaN/inf.

    Examples
    --------
    >>> theorem1_eigenvalues(1.0, 0.0)  # vacuum reference: on the CP boundary
    array([0., 2.])
    >>> bool(theorem1_eigenvalues(2.0, 0.8)[0] < 0)  # cosh(1.6) = 2.58 > 2: not CP
    True
    """
    nu_a, r_a = check_nu_r(nu, r)
    x = 2.0 * np.cosh(2.0 * r_a) / nu_a
    return np.stack([np.minimum(2.0 - x, x), np.maximum(2.0 - x, x)], axis=-1)


def cp_violation(nu: ArrayLike, r: ArrayLike) -> np.ndarray | float:
    r"""Size of the CP violation of the one-mode score-lift, :math:`\max(0, -\lambda_{\min}(M^{\rm Bayes}))`.

    .. math:: \max\Big(0,\ \frac{2\cosh 2r}{\nu} - 2\Big),

    zero exactly when :math:`\cosh 2r \le \nu` (unit attenuator, squeezed-thermal reference; see
    :func:`theorem1_eigenvalues`).  Vectorised; returns a float for scalar input.

    Raises
    ------
    ValueError
        If any ``nu < 1`` or an argument is NaN/inf.
    """
    out = np.maximum(0.0, -theorem1_eigenvalues(nu, r)[..., 0])
    return float(out) if out.ndim == 0 else out


def bayes_min_eig_grid(nu: ArrayLike, r: ArrayLike, *, method: str = "hermitian2x2") -> np.ndarray:
    r"""Numerical :math:`\lambda_{\min}(M^{\rm Bayes})` on a grid, from the matrices themselves (no Theorem 1).

    For each :math:`(\nu, r)` builds :math:`\Sigma(\nu, r)`, the Bayes drift
    :math:`K^{\rm Bayes} = -\tfrac12 I + \Sigma^{-1}` of the unit attenuator and
    :math:`M = I + i(K\sigma + \sigma K^T)` as a batch of (..., 2, 2) Hermitian matrices, then takes the
    smallest eigenvalue of every matrix, either with the exact 2x2 Hermitian formula
    :math:`\lambda_{\min} = \tfrac{a+c}{2} - \sqrt{(\tfrac{a-c}{2})^2 + |b|^2}` (``"hermitian2x2"``, fast) or
    with batched LAPACK ``eigvalsh`` (``"eigvalsh"``).  An independent check of :func:`theorem1_eigenvalues`.
    HHW conventions (see :mod:`quantum_diffusion.conventions`).

    Returns
    -------
    ndarray, shape ``broadcast(nu, r).shape``

    Raises
    ------
    ValueError
        If any ``nu < 1``, an argument is NaN/inf, or ``method`` is unknown.
    """
    if method not in ("hermitian2x2", "eigvalsh"):
        raise ValueError(f"method must be 'hermitian2x2' or 'eigvalsh', got {method!r}")
    nu_a, r_a = check_nu_r(nu, r)
    nu_b, r_b = np.broadcast_arrays(nu_a, r_a)
    e2 = np.exp(2.0 * r_b)
    # Sigma^{-1} = diag(e^{2r}, e^{-2r}) / nu  (phi = 0; the spectrum does not depend on phi)
    k = np.zeros(nu_b.shape + (2, 2))
    k[..., 0, 0] = e2 / nu_b - 0.5
    k[..., 1, 1] = 1.0 / (e2 * nu_b) - 0.5
    sym = np.array([[0.0, 1.0], [-1.0, 0.0]])
    d_mat = np.broadcast_to(np.eye(2), k.shape)  # attenuator diffusion D = I
    # M = D + i S with S = K sigma + sigma K^T; batched 2x2 products written out entrywise because
    # numpy's matmul gufunc is ~10x slower than elementwise arithmetic on (N, 2, 2) batches.
    s_mat = _matmul_2x2(k, sym) + _matmul_2x2(sym, np.swapaxes(k, -1, -2))
    if method == "eigvalsh":
        if not np.all(np.isfinite(s_mat)):
            raise ValueError("r too large: e^(2|r|) / nu overflows float (|r| > ~354)")
        return np.linalg.eigvalsh(d_mat + 1j * s_mat)[..., 0]
    # Hermitian [[a, b], [b*, c]]: a = D00, c = D11, b = D01 + i S01 (S00 = S11 = 0 by antisymmetry)
    a, c = d_mat[..., 0, 0], d_mat[..., 1, 1]
    # hypot: |b|^2 overflowed to -inf for |r| > ~177 although lambda_min ~ -e^{2|r|}/nu is representable
    out = 0.5 * (a + c) - np.hypot(0.5 * (a - c), np.hypot(d_mat[..., 0, 1], s_mat[..., 0, 1]))
    if not np.all(np.isfinite(out)):
        raise ValueError("r too large: e^(2|r|) / nu overflows float (|r| > ~354)")
    return out


def _matmul_2x2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched product of 2x2 matrices (..., 2, 2) by explicit entries."""
    a, b = np.broadcast_arrays(a, b)
    out = np.empty(a.shape)
    for i in range(2):
        for j in range(2):
            out[..., i, j] = a[..., i, 0] * b[..., 0, j] + a[..., i, 1] * b[..., 1, j]
    return out
