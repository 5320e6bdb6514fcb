r"""Beyond one mode: the score-lift obstruction for two modes with non-commuting squeezing directions.

Reference: two thermal modes at different temperatures correlated by a beam splitter (angle ``theta``),
then squeezed locally along axes ``phi_1`` and ``phi_2``; the forward generator is the unit attenuator on
both modes.  (Passive optics alone would not do: under an orthogonal symplectic ``O`` the CP matrix
transforms as ``O M O^T``, so a beam splitter after the squeezers leaves the spectrum unchanged.  The
relative squeezing angle matters only because the state is correlated before it is squeezed.)  For one mode
only :math:`\mathrm{tr}\,\Sigma^{-1}` enters the CP test; for two modes the full matrix
:math:`\Sigma^{-1}\Omega + \Omega\Sigma^{-1}` does, so the defect and the repaired noise are not the sum of
the one-mode (reduced-state) answers.  Conventions: HHW (see :mod:`quantum_diffusion.conventions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import block_diag

from .channels import attenuator
from .repair import RepairProblem, RepairResult, minimal_repair, minimal_repair_closed_form
from .score_lift import bayes_reverse

__all__ = ["beam_splitter", "two_mode_reference", "TwoModeResult", "two_mode_example", "two_mode_angle_scan"]


def beam_splitter(theta: float) -> np.ndarray:
    r"""Beam-splitter symplectic matrix (xpxp), shape (4, 4).

    :math:`B = [[\cos\theta\, I, \sin\theta\, I], [-\sin\theta\, I, \cos\theta\, I]]`.

    Raises
    ------
    ValueError
        If ``theta`` is not finite.
    """
    if not np.isfinite(theta):
        raise ValueError(f"beam-splitter angle must be finite, got {theta!r}")
    c, s = np.cos(theta), np.sin(theta)
    return np.block([[c * np.eye(2), s * np.eye(2)], [-s * np.eye(2), c * np.eye(2)]])


def _squeezer(r: float, phi: float) -> np.ndarray:
    c, s = np.cos(phi), np.sin(phi)
    rot = np.array([[c, -s], [s, c]])
    return rot @ np.diag([np.exp(-r), np.exp(r)]) @ rot.T


def two_mode_reference(
    nu: Sequence[float] = (1.2, 2.5),
    r: Sequence[float] = (0.9, 0.7),
    phi: Sequence[float] = (0.0, np.pi / 4),
    theta: float = np.pi / 4,
) -> np.ndarray:
    r"""Correlated two-mode reference with squeezing along axes ``phi``, shape (4, 4).

    .. math:: \Sigma = L\,B(\theta)\,(\nu_1 I\oplus\nu_2 I)\,B(\theta)^T L^T,\qquad
              L = S(r_1, \phi_1)\oplus S(r_2, \phi_2),\quad S(r, \phi) = R_\phi\,\mathrm{diag}(e^{-r}, e^{r})R_\phi^T.

    Symplectic eigenvalues are :math:`\nu_1, \nu_2`.  HHW conventions (see :mod:`quantum_diffusion.conventions`).

    Raises
    ------
    ValueError
        If some ``nu < 1`` or an argument is not finite / not of length 2.
    """
    if len(nu) != 2 or len(r) != 2 or len(phi) != 2:
        raise ValueError("nu, r and phi must each have two entries (one per mode)")
    vals = np.array([*nu, *r, *phi, theta], dtype=float)
    if not np.all(np.isfinite(vals)):
        raise ValueError("two_mode_reference parameters must be finite")
    if min(nu) < 1.0:
        raise ValueError(f"symplectic eigenvalues nu must be >= 1, got {tuple(nu)}")
    b = beam_splitter(theta)
    loc = block_diag(_squeezer(r[0], phi[0]), _squeezer(r[1], phi[1]))
    s = loc @ b
    return s @ np.diag([nu[0], nu[0], nu[1], nu[1]]) @ s.T


@dataclass(frozen=True)
class TwoModeResult:
    r"""Two-mode score-lift defect and its repair.

    Attributes
    ----------
    gamma_ref : ndarray, shape (4, 4)
    cp_eigenvalues : ndarray, shape (4,)
        Spectrum of the two-mode :math:`M^{\\rm Bayes}`.
    repair : RepairResult
        Two-mode SDP repair (BKM weight).
    repair_eigenvalues : ndarray, shape (4,)
        Spectrum of :math:`\\Delta D^*`.
    modewise_lambda_min : ndarray, shape (2,)
        :math:`\\lambda_{\\min}` of the one-mode :math:`M^{\\rm Bayes}` of each reduced state.
    modewise_cost : float
        Sum of the one-mode closed-form repair costs of the reduced states.
    commutator : float
        :math:`\\|[\\Sigma_A, \\Sigma_B]\\|_F` of the reduced covariances (0 iff squeezing axes commute).
    """

    gamma_ref: np.ndarray
    cp_eigenvalues: np.ndarray
    repair: RepairResult
    repair_eigenvalues: np.ndarray
    modewise_lambda_min: np.ndarray
    modewise_cost: float
    commutator: float


def two_mode_example(
    nu: Sequence[float] = (1.2, 2.5),
    r: Sequence[float] = (0.9, 0.7),
    phi: Sequence[float] = (0.0, np.pi / 4),
    theta: float = np.pi / 4,
    *,
    problem: RepairProblem | None = None,
) -> TwoModeResult:
    r"""CP defect of the two-mode score-lift and its minimal (BKM-weighted) repair, vs the mode-wise answer.

    .. math:: M^{\rm Bayes} = I + i\big[(\Sigma^{-1} - \tfrac12 I)\Omega + \Omega(\Sigma^{-1} - \tfrac12 I)\big]

    for the unit attenuator on both modes (:func:`bayes_reverse`), repaired by :func:`minimal_repair`.

    Raises
    ------
    ValueError
        On invalid parameters; RepairSolverError if the SDP fails.
    """
    gam = two_mode_reference(nu, r, phi, theta)
    gen = attenuator(1.0, 2)
    m = bayes_reverse(gen, gam).cp_matrix()
    rep = minimal_repair(m, weight="bkm", gamma_ref=gam, problem=problem)
    one = attenuator()
    lam_modes, cost_modes = [], 0.0
    for j in range(2):
        red = gam[2 * j : 2 * j + 2, 2 * j : 2 * j + 2]
        mj = bayes_reverse(one, red).cp_matrix()
        lam_modes.append(float(np.linalg.eigvalsh(mj)[0]))
        cost_modes += minimal_repair_closed_form(mj, weight="bkm", gamma_ref=red).cost
    sa, sb = gam[:2, :2], gam[2:, 2:]
    return TwoModeResult(
        gamma_ref=gam,
        cp_eigenvalues=np.linalg.eigvalsh(m),
        repair=rep,
        repair_eigenvalues=np.linalg.eigvalsh(rep.delta_d),
        modewise_lambda_min=np.array(lam_modes),
        modewise_cost=float(cost_modes),
        commutator=float(np.linalg.norm(sa @ sb - sb @ sa)),
    )


def two_mode_angle_scan(
    angles: Sequence[float],
    nu: Sequence[float] = (1.2, 2.5),
    r: Sequence[float] = (0.9, 0.7),
    theta: float = np.pi / 4,
) -> dict[str, np.ndarray]:
    r"""Scan the relative squeezing angle :math:`\phi_2` (with :math:`\phi_1 = 0`), reusing one SDP.

    Returns
    -------
    dict of ndarray, each shape (len(angles),)
        ``angle``, ``lambda_min``, ``cost``, ``modewise_cost``, ``commutator``, ``rank_repair``.

    Raises
    ------
    ValueError, RepairSolverError
        As :func:`two_mode_example`.
    """
    problem = RepairProblem(2)
    rows = [two_mode_example(nu, r, (0.0, float(a)), theta, problem=problem) for a in angles]
    return {
        "angle": np.asarray(angles, dtype=float),
        "lambda_min": np.array([x.cp_eigenvalues[0] for x in rows]),
        "cost": np.array([x.repair.cost for x in rows]),
        "modewise_cost": np.array([x.modewise_cost for x in rows]),
        "commutator": np.array([x.commutator for x in rows]),
        "rank_repair": np.array(
            [int(np.sum(x.repair_eigenvalues > 1e-6 * max(1.0, x.repair_eigenvalues[-1]))) for x in rows]
        ),
    }
