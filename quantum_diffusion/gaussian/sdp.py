r"""One retry loop for the package's small semidefinite programs (cvxpy + CLARABEL), cvxpy imported lazily.

The repair and reverse-cost SDPs are degenerate (their optima sit on the boundary of both cones, and cvxpy's real
embedding of the Hermitian cone doubles the ranks), so CLARABEL sometimes stops at "optimal_inaccurate" depending on
round-off in the data.  :func:`solve_with_retries` therefore tries a ladder of tolerances, tight first, and reports
the tolerance that succeeded.  Every attempt states all its tolerances (a cached CLARABEL solver keeps earlier
settings); each rung is tried cold, then warm-started (see :func:`solve_with_retries`).
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = [
    "CLARABEL_TIGHT",
    "CLARABEL_1E9",
    "CLARABEL_1E9_NODYN",
    "CLARABEL_DEFAULT",
    "CLARABEL_LOOSE",
    "DEFAULT_SOLVER_OPTS",
    "SDPSolverError",
    "solver_attempts",
    "solve_with_retries",
]

CLARABEL_TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "tol_ktratio": 1e-8}
CLARABEL_1E9 = {"tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9, "tol_ktratio": 1e-7,
                "max_step_fraction": 0.8}  # shorter steps: measured 0/800 failures on score-lift instances
# CLARABEL's dynamic regularisation (delta = 2e-7) makes the interior-point steps stall near 1e-8 on these degenerate
# problems ("AlmostSolved", step 0); without it the 8-mode repair reaches 1e-9 (measured: 4/4 random 8-mode
# references, 300/300 one-mode score-lift references; benchmarks/gaussian_bench.py).
CLARABEL_1E9_NODYN = {**CLARABEL_1E9, "dynamic_regularization_enable": False, "max_iter": 400}
CLARABEL_DEFAULT = {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8, "tol_ktratio": 1e-6,
                    "max_step_fraction": 0.5}
CLARABEL_LOOSE = {"tol_gap_abs": 1e-7, "tol_gap_rel": 1e-7, "tol_feas": 1e-7, "tol_ktratio": 1e-5,
                  "max_step_fraction": 0.5}
DEFAULT_SOLVER_OPTS: dict[str, list[dict[str, Any]]] = {
    "CLARABEL": [CLARABEL_TIGHT, CLARABEL_1E9_NODYN, CLARABEL_1E9, CLARABEL_DEFAULT, CLARABEL_LOOSE]
}


class SDPSolverError(RuntimeError):
    """An SDP failed, was inaccurate at every tolerance tried, or its answer violates the constraints."""


def solver_attempts(solver: str, solver_opts: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Return the option sets to try: ``[solver_opts]`` if given, else the default ladder for ``solver``.

    Parameters
    ----------
    solver : str
        cvxpy solver name.
    solver_opts : dict, optional
        One explicit option set (then no retries).

    Returns
    -------
    list of dict
        Option sets, tried in order.
    """
    if solver_opts is not None:
        return [dict(solver_opts)]
    return [dict(o) for o in DEFAULT_SOLVER_OPTS.get(solver, [{}])]


def solve_with_retries(problem: Any, solver: str, attempts: list[dict[str, Any]], *, what: str) -> tuple[str, float]:
    """Solve a cvxpy problem, retrying with the next option set while the status is not optimal.

    Parameters
    ----------
    problem : cvxpy.Problem
        The problem (solved in place; read the variables afterwards).
    solver : str
        cvxpy solver name.
    attempts : list of dict
        Option sets (see :func:`solver_attempts`).
    what : str
        Name of the problem for error messages.

    Returns
    -------
    status : str
        ``"optimal"``.
    tol : float
        ``tol_gap_rel`` of the attempt that succeeded (``nan`` if the options do not say).

    Raises
    ------
    SDPSolverError
        If no attempt ends with status ``"optimal"`` (a solver exception counts as a failed attempt; the last
        status is named).
    """
    import cvxpy as cp

    status = "not_run"
    for i, opts in enumerate(attempts):
        # Each rung is tried from a fresh solver first, then warm-started from the previous (failed) state: the cold
        # start is what lets the 8-mode repair reach 1e-9 (a cached CLARABEL solver keeps the stalled state and
        # settings of a failed attempt), the warm start is what rescues some correlated 3-mode reverse-cost SDPs.
        for warm in (False,) if i == 0 else (False, True):
            try:
                with warnings.catch_warnings():
                    # an inaccurate status is handled here (retry, then an SDPSolverError)
                    warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                    problem.solve(solver=solver, warm_start=warm, **opts)
            except cp.error.SolverError as exc:  # numerical failure at this tolerance: try the next one
                status = f"solver error: {exc}"
                continue
            status = problem.status
            if status == cp.OPTIMAL:
                return status, float(opts.get("tol_gap_rel", float("nan")))
    raise SDPSolverError(f"{what} not solved to optimality at any of {len(attempts)} tolerance(s): last status "
                         f"{status!r} ({solver})")
