r"""Exact minimum cost of reversing Gaussian pure loss (free drift, exact marginal retracing).

Problem: a reverse generator :math:`(K, D)` must retrace the forward marginal exactly and be CP,

.. math:: K\Sigma + \Sigma K^T + D = R := -\dot\Sigma_{\rm fwd},\qquad M(K, D) \succeq 0,
          \qquad C = \mathrm{tr}(\Sigma^{-1}D)\ \text{minimal}.

For the unit attenuator :math:`R = \Sigma - I`.  Conventions: HHW (see :mod:`quantum_diffusion.conventions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .channels import GaussianGenerator, attenuator, cp_matrix_min_eig
from .repair import RepairSolverError
from .sdp import SDPSolverError, solve_with_retries, solver_attempts
from .states import check_covariance, symplectic_form, williamson

__all__ = [
    "ReverseCostResult",
    "exact_reverse_cost",
    "exact_reverse_cost_one_mode",
    "product_blocks",
    "optimal_reverse_generator",
    "reverse_cost_sdp",
]


def _check_rate(rate: float) -> float:
    rate = float(rate)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"loss rate must be finite and > 0, got {rate!r}")
    return rate


def product_blocks(gamma: np.ndarray, *, atol: float = 1e-12) -> list[np.ndarray] | None:
    """Return the one-mode diagonal blocks of ``gamma`` if it is a product over modes, else None.

    Parameters
    ----------
    gamma : ndarray, shape (2n, 2n)
        Covariance (already validated).
    atol : float
        Tolerance on the off-diagonal blocks, relative to ``max(1, max|gamma|)``.

    Returns
    -------
    list of ndarray (each (2, 2)) or None
    """
    n = gamma.shape[0] // 2
    mask = np.kron(np.eye(n), np.ones((2, 2))) == 0
    if np.max(np.abs(gamma[mask]), initial=0.0) > atol * max(1.0, float(np.max(np.abs(gamma)))):
        return None
    return [gamma[2 * j : 2 * j + 2, 2 * j : 2 * j + 2] for j in range(n)]


def exact_reverse_cost_one_mode(gamma: Any, *, rate: float = 1.0) -> float:
    r"""Closed-form minimum reverse cost :math:`C^*` for one mode under pure loss at rate ``rate``.

    With :math:`\nu = \sqrt{\det\Sigma}` and :math:`\rho = \mathrm{tr}(\Sigma^{-1}R)/\kappa
    = 2 - \mathrm{tr}\Sigma^{-1} = 2(1 - \cosh 2r/\nu)`,

    .. math:: C^*(\Sigma) = \kappa\begin{cases}\rho/(\nu + 1), & \rho \ge 0\ (\cosh 2r \le \nu),\\
              |\rho|/(\nu - 1), & \rho < 0,\end{cases}

    zero exactly on :math:`\cosh 2r = \nu` and :math:`+\infty` for a pure squeezed :math:`\Sigma`
    (:math:`\nu = 1`, :math:`\rho < 0`).  Cost normalisation :math:`\mathrm{tr}(\Sigma^{-1}D)` in HHW units,
    so that :math:`t\,C^*(\Sigma_t) \to 2` at a pure endpoint.

    Parameters
    ----------
    gamma : array_like, shape (2, 2)
        Running reference covariance :math:`\Sigma` (HHW).
    rate : float
        Loss rate :math:`\kappa > 0`.

    Returns
    -------
    float
        :math:`C^*` (``inf`` for a pure squeezed reference).

    Raises
    ------
    ValueError
        If ``gamma`` is not a physical one-mode covariance or ``rate <= 0``.

    Examples
    --------
    >>> from quantum_diffusion.gaussian import squeezed_thermal
    >>> round(exact_reverse_cost_one_mode(squeezed_thermal(3.0, 0.0)), 12)  # rho = 2 - 2/3, C* = rho / (nu + 1)
    0.333333333333
    """
    g = check_covariance(gamma, n_modes=1)
    rate = _check_rate(rate)
    nu = float(np.sqrt(max(np.linalg.det(g), 1.0)))
    rho = 2.0 - float(np.trace(np.linalg.inv(g)))
    if rho >= 0:
        return rate * rho / (nu + 1.0)
    if nu - 1.0 <= 0.0:
        return float("inf")
    return rate * (-rho) / (nu - 1.0)


def exact_reverse_cost(gamma: Any, *, rate: float = 1.0) -> float:
    r"""Minimum reverse cost :math:`C^*` under pure loss at rate ``rate`` on every one of ``n`` modes.

    .. math:: C^*(\Sigma) = \min_{K,\ D}\ \mathrm{tr}(\Sigma^{-1}D)\quad\text{s.t.}\quad
              K\Sigma + \Sigma K^T + D = \kappa(\Sigma - I),\quad D + i(K\Omega + \Omega K^T) \succeq 0.

    One mode: the closed form of :func:`exact_reverse_cost_one_mode`.  Product references
    :math:`\Sigma = \oplus_j\Sigma_j`: :math:`C^* = \sum_j C^*(\Sigma_j)` (closed form; the joint problem
    decouples because the cost and the marginal constraint only involve the diagonal blocks, while the diagonal
    blocks of a PSD CP matrix are PSD, so the joint optimum is at least the sum and a block-diagonal generator
    attains it).  Otherwise (correlated references) the SDP :func:`reverse_cost_sdp`.  Conventions: HHW (see
    :mod:`quantum_diffusion.conventions`).

    Parameters
    ----------
    gamma : array_like, shape (2n, 2n)
        Running reference covariance :math:`\Sigma` (HHW).
    rate : float
        Loss rate :math:`\kappa > 0` (all modes).

    Returns
    -------
    float
        :math:`C^*` (``inf`` if a mode of a product reference is pure and squeezed).

    Raises
    ------
    ValueError
        If ``gamma`` is not a physical covariance or ``rate <= 0``.
    RepairSolverError
        If the SDP (correlated references) fails.

    Examples
    --------
    >>> from quantum_diffusion.gaussian import squeezed_thermal
    >>> round(exact_reverse_cost(squeezed_thermal(3.0, 0.0)), 12)
    0.333333333333
    """
    g = check_covariance(gamma)
    rate = _check_rate(rate)
    blocks = product_blocks(g)
    if blocks is not None:
        return float(sum(exact_reverse_cost_one_mode(b, rate=rate) for b in blocks))
    return rate * reverse_cost_sdp(g).cost


def optimal_reverse_generator(gamma: Any, *, rate: float = 1.0) -> GaussianGenerator:
    r"""Covariance-aligned optimal reverse generator for one mode under pure loss.

    .. math:: D^* = \tfrac{C^*}{2}\Sigma,\qquad K^* = \tfrac{\kappa}{2}(I - \Sigma^{-1}) - \tfrac{C^*}{4}I,

    which satisfies :math:`K^*\Sigma + \Sigma K^{*T} + D^* = \kappa(\Sigma - I)` and :math:`M(K^*, D^*)
    \succeq 0` with cost :math:`\mathrm{tr}(\Sigma^{-1}D^*) = C^*` (:func:`exact_reverse_cost`).

    Raises
    ------
    ValueError
        If ``gamma`` is unphysical, not one mode, or pure with :math:`C^* = \infty`.
    """
    g = check_covariance(gamma, n_modes=1)
    rate = _check_rate(rate)
    c_star = exact_reverse_cost_one_mode(g, rate=rate)
    if not np.isfinite(c_star):
        raise ValueError("the reverse cost is infinite at a pure squeezed covariance; no finite generator")
    k = 0.5 * rate * (np.eye(2) - np.linalg.inv(g)) - 0.25 * c_star * np.eye(2)
    return GaussianGenerator(k, 0.5 * c_star * g)


@dataclass(frozen=True)
class ReverseCostResult:
    r"""Result of the reverse-cost SDP.

    Attributes
    ----------
    cost : float
        Minimal :math:`\\mathrm{tr}(\\Sigma^{-1}D)`.
    generator : GaussianGenerator
        Optimal reverse generator ``(K, D)``.
    status : str
        cvxpy status.
    lambda_min : float
        Smallest eigenvalue of ``M(K, D)``.
    residual : float
        max-norm of ``K Sigma + Sigma K^T + D - R``.
    solver_tol : float
        Solver tolerance that was reached.
    """

    cost: float
    generator: GaussianGenerator
    status: str
    lambda_min: float
    residual: float
    solver_tol: float = float("nan")


def reverse_cost_sdp(
    gamma: Any,
    forward: GaussianGenerator | None = None,
    *,
    solver: str = "CLARABEL",
    solver_opts: dict[str, Any] | None = None,
    tol: float = 1e-7,
) -> ReverseCostResult:
    r"""Minimum reverse cost with free drift by SDP (any number of modes).

    .. math:: \min_{K,\ D = D^T}\ \mathrm{tr}(\Sigma^{-1}D)\quad\text{s.t.}\quad
              K\Sigma + \Sigma K^T + D = R,\quad D + i(K\Omega + \Omega K^T) \succeq 0,

    with :math:`R = -(K_f\Sigma + \Sigma K_f^T + D_f)` for the forward generator (default: unit
    attenuator on every mode).  For one mode it equals :func:`exact_reverse_cost`.  Conventions: HHW
    (see :mod:`quantum_diffusion.conventions`).

    Raises
    ------
    ValueError
        If ``gamma`` is unphysical or the sizes disagree.
    RepairSolverError
        If the solver fails or ends in a non-optimal status (named in the message), or the
        returned generator violates the constraints by more than ``tol``.
    """
    g = check_covariance(gamma)
    n = g.shape[0] // 2
    fwd = attenuator(1.0, n) if forward is None else forward
    if fwd.n_modes != n:
        raise ValueError(f"forward generator has {fwd.n_modes} modes, gamma has {n}")
    import cvxpy as cp  # lazy: importing the Gaussian package must not load cvxpy

    r_mat = -fwd.rhs(g)
    om = symplectic_form(n)
    g_inv = np.linalg.inv(g)
    dim = 2 * n
    # Williamson frame (a symplectic congruence, same optimum, well conditioned for strong squeezing):
    # Sigma = S N S^T, K = S K' S^{-1}, D = S D' S^T.  Then Omega is unchanged (S^{-1} Omega S^{-T} = Omega), the
    # constraint reads K' N + N K'^T + D' = R' with R' = S^{-1} R S^{-T}, the CP matrix is the congruence
    # S [D' + i(K' Omega + Omega K'^T)] S^T, and the cost is tr(N^{-1} D').
    nu, s_mat = williamson(g)
    s_inv = om @ s_mat.T @ om.T
    n_diag = np.repeat(nu, 2)
    r_white = s_inv @ r_mat @ s_inv.T
    k = cp.Variable((dim, dim))
    d = cp.Variable((dim, dim), symmetric=True)
    h = cp.Variable((dim, dim), hermitian=True)
    cons = [
        k @ np.diag(n_diag) + np.diag(n_diag) @ k.T + d == 0.5 * (r_white + r_white.T),
        h == d + 1j * (k @ om + om @ k.T),
        h >> 0,
    ]
    prob = cp.Problem(cp.Minimize(cp.trace(np.diag(1.0 / n_diag) @ d)), cons)
    attempts = solver_attempts(solver) if solver_opts is None else solver_attempts(solver, solver_opts)
    try:
        status, tol_reached = solve_with_retries(prob, solver, attempts, what="reverse-cost SDP")
    except SDPSolverError as exc:
        raise RepairSolverError(str(exc)) from exc
    if k.value is None:
        raise RepairSolverError(f"reverse-cost SDP returned no solution ({solver})")
    gen = GaussianGenerator(s_mat @ np.asarray(k.value) @ s_inv, s_mat @ np.asarray(d.value) @ s_mat.T)
    lam = cp_matrix_min_eig(gen.cp_matrix())
    resid = float(np.max(np.abs(gen.rhs(g) - r_mat)))
    scale = max(1.0, float(np.max(np.abs(r_mat))))
    if lam < -tol * max(1.0, float(np.max(np.abs(gen.D)))) or resid > tol * scale:
        raise RepairSolverError(
            f"reverse-cost SDP (status {status!r}) violates constraints: lambda_min {lam:.3e}, residual {resid:.3e}"
        )
    return ReverseCostResult(float(np.trace(g_inv @ gen.D)), gen, status, lam, resid, tol_reached)
