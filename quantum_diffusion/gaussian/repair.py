r"""Minimal repair of a non-CP generator: the smallest added diffusion that restores complete positivity.

.. math:: \Delta D^* = \arg\min_{\Delta D = \Delta D^T \succeq 0}\ \tfrac14\,\mathrm{tr}(W\,\Delta D)
          \quad\text{s.t.}\quad M + \Delta D \succeq 0\ \ (\text{complex Hermitian}),

with the weight :math:`W = J_{\rm BKM}(\Sigma_t)` of the running reference by default (then the cost is the
entropy production rate of the repair, by the de Bruijn identity), :math:`J_{\rm SLD}`, or the identity.
Conventions: HHW (see :mod:`quantum_diffusion.conventions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_array, check_hermitian
from ..typing import RepairWeight
from .channels import GaussianGenerator
from .sdp import SDPSolverError, solve_with_retries, solver_attempts
from .states import bkm_fisher, check_covariance, n_modes_of, real_matrix, sld_fisher

__all__ = [
    "RepairResult",
    "RepairSolverError",
    "RepairProblem",
    "repair_weight",
    "minimal_repair",
    "minimal_repair_closed_form",
    "repair_closed_form_core",
    "repair_cost_map",
]



class RepairSolverError(SDPSolverError):
    """The repair SDP failed, was inaccurate, or its answer does not restore CP."""


@dataclass(frozen=True)
class RepairResult:
    r"""Result of a minimal repair.

    Attributes
    ----------
    delta_d : ndarray, shape (2n, 2n)
        Added diffusion :math:`\\Delta D^*` (real symmetric PSD).
    cost : float
        :math:`\\tfrac14\\mathrm{tr}(W\\Delta D^*)`.
    status : str
        Solver status (``"optimal"``) or ``"closed_form"``.
    lambda_min_before, lambda_min_after : float
        Smallest eigenvalue of ``M`` and of ``M + delta_d``.
    weight : ndarray, shape (2n, 2n)
        The weight matrix ``W`` used.
    method : str
        ``"sdp:<SOLVER>"`` or ``"closed_form"``.
    solver_tol : float
        Solver tolerance that was reached (``0.0`` for the closed form, ``nan`` if unknown).
    """

    delta_d: np.ndarray
    cost: float
    status: str
    lambda_min_before: float
    lambda_min_after: float
    weight: np.ndarray
    method: str
    solver_tol: float = 0.0


def _check_m(m: Any) -> np.ndarray:
    if isinstance(m, GaussianGenerator):
        m = m.cp_matrix()
    arr = as_array(m, "M", dtype=complex)
    n_modes_of(arr, "M")
    check_hermitian(arr, "M")
    return 0.5 * (arr + arr.conj().T)


def _lam_min(h: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(0.5 * (h + h.conj().T))[0])


def repair_weight(
    weight: RepairWeight | ArrayLike, gamma_ref: Any = None, n_modes: int | None = None
) -> np.ndarray:
    r"""Weight matrix ``W`` of the repair objective, shape (2n, 2n).

    ``"bkm"``: :math:`J_{\rm BKM}(\Sigma)`; ``"sld"``: :math:`J_{\rm SLD}(\Sigma) = 2\Sigma^{-1}`;
    ``"identity"``: :math:`I`; or an explicit real symmetric positive-definite array.

    Raises
    ------
    ValueError
        If a Fisher weight is requested without ``gamma_ref``, the reference is unphysical (or pure,
        for BKM), the name is unknown, or an explicit weight is not symmetric positive definite.
    """
    if isinstance(weight, str):
        key = weight.lower()
        if key == "identity":
            if n_modes is None:
                raise ValueError("identity weight needs n_modes")
            return np.eye(2 * n_modes)
        if key not in ("bkm", "sld"):
            raise ValueError(f"weight must be 'bkm', 'sld', 'identity' or an array, got {weight!r}")
        if gamma_ref is None:
            raise ValueError(f"weight={weight!r} needs the running reference covariance gamma_ref")
        g = check_covariance(gamma_ref, "gamma_ref", n_modes=n_modes)
        return bkm_fisher(g) if key == "bkm" else sld_fisher(g)
    w = real_matrix(weight, "weight")
    n = n_modes_of(w, "weight")
    if n_modes is not None and n != n_modes:
        raise ValueError(f"weight must have shape ({2 * n_modes}, {2 * n_modes}), got {w.shape}")
    if np.max(np.abs(w - w.T)) > 1e-10 * max(1.0, np.max(np.abs(w))):
        raise ValueError("weight must be symmetric")
    w = 0.5 * (w + w.T)
    if np.linalg.eigvalsh(w)[0] <= 0:
        raise ValueError(f"weight must be positive definite, smallest eigenvalue {np.linalg.eigvalsh(w)[0]:.3e}")
    return w


class RepairProblem:
    r"""One DPP-parametrised cvxpy problem for the minimal-repair SDP on ``n_modes`` modes.

    Build once and call :meth:`solve` for every point of a grid: only the parameter values change,
    so cvxpy reuses the compiled problem.  Variables: real symmetric :math:`\Delta D \succeq 0`;
    constraint: the complex Hermitian :math:`M + \Delta D \succeq 0`.  The problem is solved in the
    whitened variables :math:`W^{1/2}\Delta D W^{1/2}` (a congruence, so the same arg-min), which keeps
    it well conditioned; only ``M`` is a parameter.

    Parameters
    ----------
    n_modes : int
    solver : str
        cvxpy solver name (default CLARABEL, with tolerances 1e-10).
    solver_opts : dict, optional
        Overrides the solver options (default for CLARABEL: tolerance 1e-10, with retries at 1e-9, 1e-8
        and 1e-7 if an attempt ends "optimal_inaccurate"; the tolerance reached is in the result).
    tol : float
        Acceptance tolerance on :math:`\lambda_{\min}(M + \Delta D^*) \ge -\mathrm{tol}\max(1, \max|M|)`.
    """

    def __init__(
        self, n_modes: int, solver: str = "CLARABEL", solver_opts: dict | None = None, tol: float = 1e-7
    ) -> None:
        if int(n_modes) != n_modes or n_modes < 1:
            raise ValueError(f"n_modes must be a positive integer, got {n_modes!r}")
        self.n_modes = int(n_modes)
        import cvxpy as cp  # lazy: importing the Gaussian package must not load cvxpy

        self.solver = solver
        self.attempts = solver_attempts(solver, solver_opts)
        self.tol = float(tol)
        dim = 2 * self.n_modes
        # Whitened form: with M' = W^{1/2} M W^{1/2} / s and dD' = W^{1/2} dD W^{1/2} / s (s = max|M'|),
        # the problem is  min tr dD'  s.t. dD' >= 0, M' + dD' >= 0.  Same arg-min, but well scaled even
        # for very anisotropic Fisher weights (CLARABEL stalls at "inaccurate" on the raw form).
        self.m_param = cp.Parameter((dim, dim), hermitian=True)
        self.delta = cp.Variable((dim, dim), symmetric=True)
        objective = cp.Minimize(cp.trace(self.delta))
        self.problem = cp.Problem(objective, [self.delta >> 0, self.m_param + self.delta >> 0])

    def solve(self, m: Any, weight: Any) -> RepairResult:
        r"""Solve the repair SDP for CP matrix ``m`` and weight matrix ``weight`` (both (2n, 2n)).

        Raises
        ------
        ValueError
            On malformed ``m`` / ``weight``.
        RepairSolverError
            If the solver fails or reports an inaccurate/infeasible status (the status is in the
            message), or :math:`\lambda_{\min}(M + \Delta D^*) < -\mathrm{tol}`.
        """
        mm = _check_m(m)
        w = repair_weight(weight, n_modes=self.n_modes)
        if mm.shape[0] != 2 * self.n_modes:
            raise ValueError(f"M must have shape ({2 * self.n_modes},)*2, got {mm.shape}")
        wv, we = np.linalg.eigh(w)
        w_half = (we * np.sqrt(wv)) @ we.T
        w_mhalf = (we / np.sqrt(wv)) @ we.T
        m_white = w_half @ mm @ w_half
        scale = max(float(np.max(np.abs(m_white))), 1e-300)
        self.m_param.value = 0.5 * (m_white + m_white.conj().T) / scale
        try:
            status, tol_reached = solve_with_retries(self.problem, self.solver, self.attempts, what="repair SDP")
        except SDPSolverError as exc:
            raise RepairSolverError(str(exc)) from exc
        if self.delta.value is None:
            raise RepairSolverError(f"repair SDP returned no solution ({self.solver})")
        dd = scale * w_mhalf @ np.asarray(self.delta.value, dtype=float) @ w_mhalf
        dd = 0.5 * (dd + dd.T)
        after = _lam_min(mm + dd)
        thresh = self.tol * max(1.0, float(np.max(np.abs(mm))))
        if after < -thresh:
            raise RepairSolverError(
                f"repair SDP (status {status!r}) returned lambda_min(M + dD) = {after:.3e} < -{thresh:.1e}"
            )
        return RepairResult(
            delta_d=dd,
            cost=0.25 * float(np.trace(w @ dd)),
            status=status,
            lambda_min_before=_lam_min(mm),
            lambda_min_after=after,
            weight=w,
            method=f"sdp:{self.solver}",
            solver_tol=tol_reached,
        )


def minimal_repair(
    M: Any,
    *,
    weight: RepairWeight | ArrayLike = "bkm",
    gamma_ref: Any = None,
    solver: str = "CLARABEL",
    problem: RepairProblem | None = None,
    tol: float = 1e-7,
) -> RepairResult:
    r"""Minimal added diffusion restoring complete positivity (SDP, any number of modes).

    .. math:: \Delta D^* = \arg\min_{\Delta D=\Delta D^T\succeq 0}\ \tfrac14\mathrm{tr}(W\Delta D)
              \quad\text{s.t.}\quad M + \Delta D \succeq 0,

    solved with cvxpy (``hermitian=True`` constraint, CLARABEL at tolerance 1e-10 by default).  With
    ``weight="bkm"`` the cost is the entropy production rate of the repair (de Bruijn identity).
    Conventions: HHW (see :mod:`quantum_diffusion.conventions`).

    Parameters
    ----------
    M : array_like or qutip.Qobj or GaussianGenerator, shape (2n, 2n)
        Hermitian generator CP matrix :math:`D + i(K\Omega + \Omega K^T)` (or the generator itself).
    weight : {"bkm", "sld", "identity"} or array_like, shape (2n, 2n)
        Objective weight; the Fisher weights need ``gamma_ref``.
    gamma_ref : array_like, shape (2n, 2n), optional
        Running reference covariance :math:`\Sigma_t`.
    solver : str
        cvxpy solver.
    problem : RepairProblem, optional
        A pre-built problem to reuse across a grid (must match ``n`` and ``solver``).
    tol : float
        Acceptance tolerance on :math:`\lambda_{\min}(M + \Delta D^*)`.

    Returns
    -------
    RepairResult

    Raises
    ------
    ValueError
        On a malformed or non-Hermitian ``M``, a bad weight or reference.
    RepairSolverError
        If the solver fails or is inaccurate (message includes the status), or the repaired matrix
        has :math:`\lambda_{\min} < -\mathrm{tol}`.
    """
    mm = _check_m(M)
    n = mm.shape[0] // 2
    w = repair_weight(weight, gamma_ref, n)
    if problem is None:
        problem = RepairProblem(n, solver=solver, tol=tol)
    elif problem.n_modes != n:
        raise ValueError(f"problem was built for {problem.n_modes} modes, M has {n}")
    return problem.solve(mm, w)


def repair_closed_form_core(a: np.ndarray, b: float, w: np.ndarray) -> np.ndarray:
    r"""Closed-form one-mode repair of ``M = a + i b sigma`` with weight ``w``, no validation (hot loops).

    Parameters
    ----------
    a : ndarray, shape (2, 2)
        Real symmetric part of ``M``.
    b : float
        Coefficient of ``i sigma`` in ``M``.
    w : ndarray, shape (2, 2)
        Positive-definite weight.

    Returns
    -------
    ndarray, shape (2, 2)
        :math:`\Delta D^*` (see :func:`minimal_repair_closed_form` for the formula).
    """
    wv, we = np.linalg.eigh(w)
    w_half = (we * np.sqrt(wv)) @ we.T
    w_mhalf = (we / np.sqrt(wv)) @ we.T
    ap = w_half @ a @ w_half
    ap = 0.5 * (ap + ap.T)
    c = abs(b) * np.sqrt(wv[0] * wv[1])
    (a1, a2), evecs = np.linalg.eigh(ap)
    if a1 >= 0 and a1 * a2 >= c * c:
        return np.zeros((2, 2))
    if c >= a2:
        add = c * np.eye(2) - ap
    else:
        e1 = evecs[:, 0]
        add = (c * c / a2 - a1) * np.outer(e1, e1)
    dd = w_mhalf @ add @ w_mhalf
    return 0.5 * (dd + dd.T)


def minimal_repair_closed_form(
    M: Any, *, weight: RepairWeight | ArrayLike = "bkm", gamma_ref: Any = None
) -> RepairResult:
    r"""Closed-form minimal repair for one mode (any Hermitian 2x2 ``M``, any weight ``W > 0``).

    Write :math:`M = A + ib\sigma`; :math:`M + \Delta D \succeq 0` iff :math:`B = A + \Delta D \succeq 0`
    and :math:`\det B \ge b^2`.  With :math:`A' = W^{1/2}AW^{1/2}` (eigen-pairs
    :math:`a_1 \le a_2`, :math:`e_1, e_2`) and :math:`c = |b|\sqrt{\det W}`, the optimum
    :math:`B' = W^{1/2}BW^{1/2}` is

    .. math::
        B' = \begin{cases} A', & A' \succeq 0,\ \det A' \ge c^2,\\
        c\,I, & c \ge a_2,\\
        A' + (c^2/a_2 - a_1)\,e_1e_1^T, & \text{otherwise,}\end{cases}

    (lower bound: :math:`\mathrm{tr}B' \ge \mu_2 + c^2/\mu_2` with :math:`\mu_2 \ge a_2` by Weyl), and
    :math:`\Delta D^* = W^{-1/2}(B' - A')W^{-1/2}`.  For the score-lift :math:`M = I + i\tau\sigma`
    and :math:`W \propto \Sigma^{-1}` this is :math:`(\tau^2 - 1)e_{\min}e_{\min}^T` along the
    anti-squeezed axis.  Conventions: HHW (see :mod:`quantum_diffusion.conventions`).

    Raises
    ------
    ValueError
        If ``M`` is not a Hermitian 2x2 matrix or the weight is invalid.
    """
    mm = _check_m(M)
    if mm.shape != (2, 2):
        raise ValueError(f"the closed form is for one mode (M of shape (2, 2)), got {mm.shape}")
    w = repair_weight(weight, gamma_ref, 1)
    dd = repair_closed_form_core(mm.real, float(mm[0, 1].imag), w)
    return RepairResult(
        delta_d=dd,
        cost=0.25 * float(np.trace(w @ dd)),
        status="closed_form",
        lambda_min_before=_lam_min(mm),
        lambda_min_after=_lam_min(mm + dd),
        weight=w,
        method="closed_form",
    )


def repair_cost_map(nu: Any, r: Any) -> np.ndarray:
    r"""Closed-form BKM repair cost of the one-mode score-lift (unit attenuator), vectorised.

    .. math:: \tfrac14\mathrm{tr}(J_{\rm BKM}\Delta D^*) = \tfrac12\,\mathrm{arccoth}(\nu)\,(\tau^2 - 1)_+\,e^{-2r},
              \qquad \tau = \frac{2\cosh 2r}{\nu} - 1,

    (the third case of :func:`minimal_repair_closed_form` always applies for :math:`W \propto \Sigma^{-1}`).
    Infinite at :math:`\nu = 1` where the score-lift violates CP.  HHW conventions (see
    :mod:`quantum_diffusion.conventions`).

    Returns
    -------
    ndarray, shape ``broadcast(nu, r).shape``

    Raises
    ------
    ValueError
        If any ``nu < 1`` or an argument is NaN/inf.
    """
    from .states import check_nu_r

    nu_a, r_a = check_nu_r(nu, r)
    tau = 2.0 * np.cosh(2.0 * r_a) / nu_a - 1.0
    excess = np.maximum(tau * tau - 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        acoth = np.where(nu_a > 1.0, np.arctanh(1.0 / np.maximum(nu_a, 1.0)), np.inf)
        out = np.where(excess > 0, 0.5 * acoth * excess * np.exp(-2.0 * r_a), 0.0)
    return out
