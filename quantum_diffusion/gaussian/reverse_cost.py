r"""Exact minimum cost of reversing Gaussian pure loss (free drift, exact marginal retracing).

Problem: a reverse generator :math:`(K, D)` must retrace the forward marginal exactly and be CP,

.. math:: K\Sigma + \Sigma K^T + D = R := -\dot\Sigma_{\rm fwd},\qquad M(K, D) \succeq 0,
          \qquad C = \mathrm{tr}(\Sigma^{-1}D)\ \text{minimal}.

For the unit attenuator :math:`R = \Sigma - I`.  Conventions: HHW (see :mod:`quantum_diffusion.conventions`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np

from ..conventions import omega
from .channels import GaussianGenerator, attenuator, cp_matrix_min_eig
from .repair import CLARABEL_1E9, CLARABEL_DEFAULT, CLARABEL_LOOSE, CLARABEL_TIGHT, RepairSolverError
from .states import check_covariance

__all__ = ["ReverseCostResult", "exact_reverse_cost", "optimal_reverse_generator", "reverse_cost_sdp"]


def _check_rate(rate: float) -> float:
    rate = float(rate)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"loss rate must be finite and > 0, got {rate!r}")
    return rate


def exact_reverse_cost(gamma: Any, rate: float = 1.0) -> float:
    r"""Closed-form minimum reverse cost :math:`C^*` for one mode under pure loss at rate ``rate``.

    With :math:`\nu = \sqrt{\det\Sigma}` and :math:`\rho = \mathrm{tr}(\Sigma^{-1}R)/\kappa
    = 2 - \mathrm{tr}\Sigma^{-1} = 2(1 - \cosh 2r/\nu)`,

    .. math:: C^*(\Sigma) = \kappa\begin{cases}\rho/(\nu + 1), & \rho \ge 0\ (\cosh 2r \le \nu),\\
              |\rho|/(\nu - 1), & \rho < 0,\end{cases}

    zero exactly on :math:`\cosh 2r = \nu` and :math:`+\infty` for a pure squeezed :math:`\Sigma`
    (:math:`\nu = 1`, :math:`\rho < 0`).  Cost normalisation :math:`\mathrm{tr}(\Sigma^{-1}D)` in HHW units,
    so that :math:`t\,C^*(\Sigma_t) \to 2` at a pure endpoint.

    Raises
    ------
    ValueError
        If ``gamma`` is not a physical one-mode covariance or ``rate <= 0``.

    Examples
    --------
    >>> from quantum_diffusion.gaussian import squeezed_thermal
    >>> round(exact_reverse_cost(squeezed_thermal(3.0, 0.0)), 12)  # rho = 2 - 2/3, C* = rho / (nu + 1)
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


def optimal_reverse_generator(gamma: Any, rate: float = 1.0) -> GaussianGenerator:
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
    c_star = exact_reverse_cost(g, rate)
    if not np.isfinite(c_star):
        raise ValueError("the reverse cost is infinite at a pure squeezed covariance; no finite generator")
    k = 0.5 * rate * (np.eye(2) - np.linalg.inv(g)) - 0.25 * c_star * np.eye(2)
    return GaussianGenerator(k, 0.5 * c_star * g)


@dataclass(frozen=True)
class ReverseCostResult:
    """Result of the reverse-cost SDP.

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
    """

    cost: float
    generator: GaussianGenerator
    status: str
    lambda_min: float
    residual: float


def reverse_cost_sdp(
    gamma: Any,
    forward: GaussianGenerator | None = None,
    *,
    solver: str = "CLARABEL",
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
    r_mat = -fwd.rhs(g)
    om = omega(n)
    g_inv = np.linalg.inv(g)
    dim = 2 * n
    # Whitened variables (a congruence, same optimum, much better conditioned for strong squeezing):
    # D = S^{1/2} D' S^{1/2}, K = S^{1/2} K' S^{-1/2}; then the constraint reads K' + K'^T + D' = R',
    # the CP matrix is S^{1/2} [D' + i(K' O' + O' K'^T)] S^{1/2} with O' = S^{-1/2} Omega S^{-1/2},
    # and the cost is tr D'.
    ev, evec = np.linalg.eigh(g)
    s_half = (evec * np.sqrt(ev)) @ evec.T
    s_mhalf = (evec / np.sqrt(ev)) @ evec.T
    r_white = s_mhalf @ r_mat @ s_mhalf
    om_white = s_mhalf @ om @ s_mhalf
    k = cp.Variable((dim, dim))
    d = cp.Variable((dim, dim), symmetric=True)
    h = cp.Variable((dim, dim), hermitian=True)
    cons = [k + k.T + d == 0.5 * (r_white + r_white.T), h == d + 1j * (k @ om_white + om_white @ k.T), h >> 0]
    prob = cp.Problem(cp.Minimize(cp.trace(d)), cons)
    status = "not_run"
    for opts in (CLARABEL_TIGHT, CLARABEL_1E9, CLARABEL_DEFAULT, CLARABEL_LOOSE):
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                prob.solve(solver=solver, **(opts if solver == "CLARABEL" else {}))
        except cp.error.SolverError as exc:
            raise RepairSolverError(f"reverse-cost SDP: solver {solver} failed: {exc}") from exc
        status = prob.status
        if status == cp.OPTIMAL:
            break
    if status != cp.OPTIMAL or k.value is None:
        raise RepairSolverError(f"reverse-cost SDP not solved to optimality: status {status!r} ({solver})")
    gen = GaussianGenerator(s_half @ np.asarray(k.value) @ s_mhalf, s_half @ np.asarray(d.value) @ s_half)
    lam = cp_matrix_min_eig(gen.cp_matrix())
    resid = float(np.max(np.abs(gen.rhs(g) - r_mat)))
    scale = max(1.0, float(np.max(np.abs(r_mat))))
    if lam < -tol * max(1.0, float(np.max(np.abs(gen.D)))) or resid > tol * scale:
        raise RepairSolverError(
            f"reverse-cost SDP (status {status!r}) violates constraints: lambda_min {lam:.3e}, residual {resid:.3e}"
        )
    return ReverseCostResult(float(np.trace(g_inv @ gen.D)), gen, status, lam, resid)
