r"""Where the two seed papers meet: Petz-type backward generators vs the score lift, its minimal repair and C*.

For a forward generator :math:`(K, D)` and a running reference :math:`\Sigma` this module evaluates, in the cost
functionals the package already uses,

* the **C functional** :math:`C = \mathrm{tr}(\Sigma^{-1}D_{\rm rev})` of a reverse generator (its minimum over
  exactly-retracing CP generators is :math:`C^*`, :func:`~quantum_diffusion.gaussian.exact_reverse_cost`);
* the **repair weight** :math:`\tfrac14\mathrm{tr}(J_{\rm BKM}(\Sigma)\,\Delta)` of a diffusion change
  :math:`\Delta` (the entropy rate it injects, de Bruijn identity): for the score lift, :math:`\Delta = \Delta D^*`
  (its minimal repair); for a Petz-type generator, :math:`\Delta = D_b - D` (what it adds to, or removes from, the
  forward diffusion that the score lift keeps).

Two facts used below (both checked in the tests): every Petz-type generator retraces the marginal exactly and is
CP, so :math:`C(\text{Petz}) \ge C^*`; and :math:`\mathrm{tr}\,K_b^\theta` does not depend on :math:`\theta`
(the :math:`\theta`-dependent part of :math:`\tilde B` has zero diagonal trace per mode), hence neither does
:math:`C(\text{Petz}_\theta) = -2\,\mathrm{tr}K_b - \mathrm{tr}(\Sigma^{-1}\dot\Sigma)`: the rotation angle can only
matter for the repair weight, and for one mode (where :math:`J_{\rm BKM}\propto\Sigma^{-1}`) it does not either.
Conventions: HHW (see :mod:`quantum_diffusion.conventions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar

from ..typing import CovarianceLike
from .channels import GaussianGenerator, attenuator
from .petz import petz_backward_generator
from .repair import RepairProblem, minimal_repair, minimal_repair_closed_form
from .reverse_cost import exact_reverse_cost
from .score_lift import bayes_reverse
from .states import bkm_fisher, check_covariance, check_nu_r, squeezed_thermal

__all__ = ["PetzComparison", "PetzComparisonGrid", "compare_petz_bayes", "petz_comparison_grid"]


@dataclass(frozen=True)
class PetzComparison:
    r"""Petz / rotated / twirled backward generators vs the score lift at one reference.

    Attributes
    ----------
    c_star : float
        :math:`C^*` (minimum over exactly-retracing CP reverse generators; pure loss only, else ``nan``).
    c_bayes : float
        :math:`\mathrm{tr}(\Sigma^{-1}D)` of the score lift (a valid reverse generator only if ``bayes_is_cp``).
    bayes_is_cp : bool
        Whether :math:`M^{\rm Bayes}\succeq 0`.
    bayes_lambda_min : float
        :math:`\lambda_{\min}(M^{\rm Bayes})`.
    c_bayes_repaired : float
        :math:`\mathrm{tr}(\Sigma^{-1}(D + \Delta D^*))` (the repaired lift does not retrace the marginal).
    bayes_repair_cost : float
        :math:`\tfrac14\mathrm{tr}(J_{\rm BKM}\Delta D^*)`.
    c_petz : float
        :math:`\mathrm{tr}(\Sigma^{-1}D_b)`, the same for every kind and angle.
    petz_excess_cost, twirled_excess_cost, rotated_excess_cost : float
        :math:`\tfrac14\mathrm{tr}(J_{\rm BKM}(D_b - D))` (negative: the generator removes diffusion); rotated at
        ``theta_opt``.
    petz_added_diffusion, twirled_added_diffusion, rotated_added_diffusion : float
        :math:`\lambda_{\max}(D_b - D)`: positive iff the generator adds diffusion along some direction.
    theta_opt : float
        Angle in ``[-theta_max, theta_max]`` minimising the rotated excess cost if that depends on theta, otherwise
        minimising the rotated added diffusion :math:`\lambda_{\max}(D_b^\theta - D)`.
    excess_cost_theta_spread : float
        max - min of the rotated excess cost over the angle grid (0 up to round-off: both functionals are
        angle-independent, see the module docstring).
    """

    c_star: float
    c_bayes: float
    bayes_is_cp: bool
    bayes_lambda_min: float
    c_bayes_repaired: float
    bayes_repair_cost: float
    c_petz: float
    petz_excess_cost: float
    twirled_excess_cost: float
    rotated_excess_cost: float
    petz_added_diffusion: float
    twirled_added_diffusion: float
    rotated_added_diffusion: float
    theta_opt: float
    excess_cost_theta_spread: float


def _is_pure_loss(gen: GaussianGenerator) -> bool:
    n = gen.n_modes
    return bool(np.allclose(gen.K, -0.5 * gen.D[0, 0] * np.eye(2 * n), atol=1e-14)
                and np.allclose(gen.D, gen.D[0, 0] * np.eye(2 * n), atol=1e-14) and gen.D[0, 0] > 0)


def compare_petz_bayes(
    forward: GaussianGenerator,
    gamma_ref: CovarianceLike,
    *,
    theta_max: float = 4.0,
    n_theta: int = 41,
    search_theta: bool = True,
    problem: RepairProblem | None = None,
) -> PetzComparison:
    r"""Costs of the Petz, rotated and twirled backward generators vs the score lift, its repair and C*.

    See the module docstring for the two functionals.  The score lift is
    :func:`~quantum_diffusion.gaussian.bayes_reverse`, its repair
    :func:`~quantum_diffusion.gaussian.minimal_repair` (closed form for one mode, SDP otherwise) with the BKM
    weight, the Petz-type generators :func:`~quantum_diffusion.gaussian.petz_backward_generator`, and
    :math:`C^*` :func:`~quantum_diffusion.gaussian.exact_reverse_cost` (pure loss).  The best rotation angle is
    found on a grid of ``n_theta`` angles in ``[-theta_max, theta_max]`` refined by bounded Brent minimisation
    (criterion: see ``PetzComparison.theta_opt``).

    Parameters
    ----------
    forward : GaussianGenerator
        Forward generator on ``n`` modes.
    gamma_ref : array_like, shape (2n, 2n)
        Faithful running reference covariance.
    theta_max : float
        Half-width of the angle search.
    n_theta : int
        Grid size of the angle search (>= 3).
    search_theta : bool
        If False, skip the angle search: ``theta_opt = 0`` and the rotated fields equal the Petz ones (exact for
        the excess cost, which does not depend on the angle).
    problem : RepairProblem, optional
        A compiled repair SDP to reuse (n modes).

    Returns
    -------
    PetzComparison

    Raises
    ------
    ValueError
        If the reference is not faithful or has the wrong size, or ``theta_max``/``n_theta`` are invalid.
    """
    if not isinstance(forward, GaussianGenerator):
        raise TypeError(f"forward must be a GaussianGenerator, got {type(forward).__name__}")
    sig = check_covariance(gamma_ref, "gamma_ref", n_modes=forward.n_modes)
    if not np.isfinite(theta_max) or theta_max <= 0:
        raise ValueError(f"theta_max must be finite and > 0, got {theta_max!r}")
    if int(n_theta) != n_theta or n_theta < 3:
        raise ValueError(f"n_theta must be an integer >= 3, got {n_theta!r}")
    n = forward.n_modes
    sig_inv = np.linalg.inv(sig)
    w = bkm_fisher(sig)
    bayes = bayes_reverse(forward, sig)
    m_bayes = bayes.cp_matrix()
    lam_bayes = float(np.linalg.eigvalsh(m_bayes)[0])
    if n == 1:
        rep = minimal_repair_closed_form(m_bayes, weight=w)
    else:
        rep = minimal_repair(m_bayes, weight=w, problem=problem)

    def excess(gen: GaussianGenerator) -> tuple[float, float]:
        delta = gen.D - forward.D
        return 0.25 * float(np.sum(w * delta)), float(np.linalg.eigvalsh(delta)[-1])

    petz = petz_backward_generator(forward, sig)
    twirled = petz_backward_generator(forward, sig, kind="twirled")

    if not search_theta:
        n_theta = 1
    grid = np.linspace(-theta_max, theta_max, int(n_theta)) if search_theta else np.zeros(1)
    rows = np.array([excess(petz_backward_generator(forward, sig, kind="rotated", theta=t)) for t in grid])
    spread = float(np.max(rows[:, 0]) - np.min(rows[:, 0]))
    dependent = spread > 1e-10 * max(1.0, float(np.max(np.abs(rows[:, 0]))))
    col = 0 if dependent else 1  # the excess cost if it varies, else the added diffusion

    def objective(theta: float) -> float:
        return excess(petz_backward_generator(forward, sig, kind="rotated", theta=theta))[col]

    j = int(np.argmin(rows[:, col]))
    theta_opt = float(grid[j])
    if search_theta:
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
        opt = minimize_scalar(objective, bounds=(lo, hi), method="bounded", options={"xatol": 1e-8})
        theta_opt = float(opt.x) if opt.fun <= rows[j, col] else theta_opt
    rotated = petz_backward_generator(forward, sig, kind="rotated", theta=theta_opt)
    pe, pa = excess(petz)
    te, ta = excess(twirled)
    re, ra = excess(rotated)
    c_star = exact_reverse_cost(sig, rate=float(forward.D[0, 0])) if _is_pure_loss(forward) else float("nan")
    return PetzComparison(
        c_star=float(c_star),
        c_bayes=float(np.trace(sig_inv @ bayes.D)),
        bayes_is_cp=lam_bayes >= -1e-12,
        bayes_lambda_min=lam_bayes,
        c_bayes_repaired=float(np.trace(sig_inv @ (bayes.D + rep.delta_d))),
        bayes_repair_cost=float(rep.cost),
        c_petz=float(np.trace(sig_inv @ petz.D)),
        petz_excess_cost=pe,
        twirled_excess_cost=te,
        rotated_excess_cost=re,
        petz_added_diffusion=pa,
        twirled_added_diffusion=ta,
        rotated_added_diffusion=ra,
        theta_opt=theta_opt,
        excess_cost_theta_spread=spread,
    )


@dataclass(frozen=True)
class PetzComparisonGrid:
    r"""One-mode comparison over the :math:`(\nu, r)` plane (unit attenuator, reference :math:`\Sigma(\nu, r)`).

    Attributes
    ----------
    nu : ndarray, shape (m,)
    r : ndarray, shape (k,)
    c_star, c_bayes, c_bayes_repaired, c_petz : ndarray, shape (m, k)
        C functional of each generator (see :class:`PetzComparison`).
    bayes_repair_cost, petz_excess_cost, twirled_excess_cost : ndarray, shape (m, k)
        BKM repair-weight costs.
    petz_added_diffusion, twirled_added_diffusion : ndarray, shape (m, k)
        :math:`\lambda_{\max}(D_b - I)`.
    bayes_is_cp : ndarray of bool, shape (m, k)
        :math:`\cosh 2r \le \nu`.
    """

    nu: np.ndarray
    r: np.ndarray
    c_star: np.ndarray
    c_bayes: np.ndarray
    c_bayes_repaired: np.ndarray
    c_petz: np.ndarray
    bayes_repair_cost: np.ndarray
    petz_excess_cost: np.ndarray
    twirled_excess_cost: np.ndarray
    petz_added_diffusion: np.ndarray
    twirled_added_diffusion: np.ndarray
    bayes_is_cp: np.ndarray


def petz_comparison_grid(nu: ArrayLike, r: ArrayLike) -> PetzComparisonGrid:
    r"""Evaluate :func:`compare_petz_bayes` for the unit attenuator over a :math:`(\nu, r)` grid (one mode).

    For one mode the rotated excess cost does not depend on the angle (module docstring), so the rotated column
    equals the Petz one and is not stored.

    Parameters
    ----------
    nu : array_like, shape (m,)
        Symplectic eigenvalues, all > 1 (faithful references).
    r : array_like, shape (k,)
        Squeezing parameters.

    Returns
    -------
    PetzComparisonGrid

    Raises
    ------
    ValueError
        If some ``nu <= 1`` or an entry is not finite.
    """
    nu_a, r_a = check_nu_r(np.atleast_1d(nu), np.atleast_1d(r))
    if nu_a.ndim != 1 or r_a.ndim != 1:
        raise ValueError("nu and r must be 1-D grids")
    if np.any(nu_a <= 1.0):
        raise ValueError(f"nu must be > 1 (faithful references), got min nu = {np.min(nu_a):.6g}")
    gen = attenuator()
    fields = ["c_star", "c_bayes", "c_bayes_repaired", "c_petz", "bayes_repair_cost", "petz_excess_cost",
              "twirled_excess_cost", "petz_added_diffusion", "twirled_added_diffusion", "bayes_is_cp"]
    out = {f: np.empty((nu_a.size, r_a.size)) for f in fields}
    for i, nv in enumerate(nu_a):
        for j, rv in enumerate(r_a):
            res = compare_petz_bayes(gen, squeezed_thermal(float(nv), float(rv)), search_theta=False)
            for f in fields:
                out[f][i, j] = getattr(res, f)
    out["bayes_is_cp"] = out["bayes_is_cp"].astype(bool)
    return PetzComparisonGrid(nu=nu_a, r=r_a, **out)
