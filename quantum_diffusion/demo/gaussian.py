r"""Figures of the Gaussian area: phase diagram, repair-cost map, noise floor and the two-mode example.

The Theorem-1 phase diagram, the repair-cost map, the Theorem-2 noise floor and the two-mode example.
``*_data`` functions return plain dicts (JSON-ready); ``plot_*`` functions draw them.

Conventions: HHW (see :mod:`quantum_diffusion.conventions`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..gaussian.channels import attenuator
from ..gaussian.multimode import two_mode_angle_scan
from ..gaussian.noise_floor import noise_floor_curve
from ..gaussian.repair import RepairProblem, minimal_repair, repair_cost_map
from ..gaussian.score_lift import bayes_min_eig_grid, bayes_reverse, theorem1_eigenvalues
from ..gaussian.states import squeezed_thermal
from ..io import atomic_write_json
from .cli import StageLog
from .report import Section, axes_for, save_figure

__all__ = [
    "phase_diagram_data",
    "plot_phase_diagram",
    "repair_map_data",
    "plot_repair_map",
    "noise_floor_data",
    "plot_noise_floor",
    "multimode_data",
    "plot_multimode",
    "demo_sections",
]


def phase_diagram_data(
    nu_range: tuple[float, float] = (1.0, 5.0),
    r_range: tuple[float, float] = (0.0, 1.5),
    n_nu: int = 161,
    n_r: int = 151,
) -> dict[str, Any]:
    r"""Numerical :math:`\lambda_{\min}(M^{\rm Bayes})` over :math:`(\nu, r)` vs the threshold :math:`\cosh 2r = \nu`.

    ``disagreements`` counts grid points where the sign of the batched-``eigvalsh`` eigenvalue
    disagrees with the threshold ``cosh 2r > nu`` (points within 1e-12 of the curve are skipped).

    Raises
    ------
    ValueError
        If the ranges contain ``nu < 1``.
    """
    nu = np.linspace(*nu_range, n_nu)
    r = np.linspace(*r_range, n_r)
    lam = bayes_min_eig_grid(nu[:, None], r[None, :])
    closed = theorem1_eigenvalues(nu[:, None], r[None, :])[..., 0]
    gap = np.cosh(2 * r[None, :]) - nu[:, None]
    decided = np.abs(gap) > 1e-12
    disagree = int(np.sum(((lam < 0) != (gap > 0)) & decided))
    return {
        "nu": nu,
        "r": r,
        "lambda_min": lam,
        "disagreements": disagree,
        "n_points": int(lam.size),
        "max_abs_diff_closed_form": float(np.max(np.abs(lam - closed))),
        "fraction_violating": float(np.mean(lam < 0)),
    }


def plot_phase_diagram(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw the phase diagram (lambda_min map, lambda_min = 0 contour and the curve cosh 2r = nu); return the figure."""
    from matplotlib.colors import TwoSlopeNorm

    nu, r, lam = data["nu"], data["r"], np.asarray(data["lambda_min"])
    fig, (ax,) = axes_for(ax, 1, figsize=(5.5, 4.2))
    vmin, vmax = min(float(lam.min()), -1e-9), max(float(lam.max()), 1e-9)
    norm = TwoSlopeNorm(vmin=vmin, vcenter=0.0, vmax=vmax)
    pc = ax.pcolormesh(nu, r, lam.T, cmap="RdBu", norm=norm, shading="auto")
    # TwoSlopeNorm stretches each side to half the bar; name ticks on both sides (default ticks may skip one)
    ticks = [*np.linspace(vmin, 0.0, 3)[:-1], 0.0, *np.linspace(0.0, vmax, 3)[1:]]
    cb = fig.colorbar(pc, ax=ax, label=r"$\lambda_{\min}(M^{\rm Bayes})$", ticks=ticks)
    cb.ax.set_yticklabels([f"{t:.2g}" for t in ticks])
    ax.contour(nu, r, lam.T, levels=[0.0], colors="k", linewidths=1.0)
    rr = np.linspace(0, r[-1], 300)
    curve = np.cosh(2 * rr)
    keep = curve <= nu[-1]
    ax.plot(curve[keep], rr[keep], "y--", lw=1.5, label=r"$\cosh 2r = \nu$")
    ax.set_xlabel(r"$\nu$")
    ax.set_ylabel(r"$r$")
    ax.set_title(f"score-lift CP phase diagram ({data['disagreements']} sign disagreements)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def repair_map_data(
    nu_range: tuple[float, float] = (1.05, 5.0),
    r_range: tuple[float, float] = (0.0, 1.5),
    n_nu: int = 80,
    n_r: int = 76,
    n_check: int = 5,
) -> dict[str, Any]:
    r"""Closed-form BKM repair cost map, spot-checked against the SDP on an ``n_check x n_check`` subgrid.

    The SDP uses one reused parametrised problem (:class:`RepairProblem`); ``sdp_max_rel_err`` is the
    largest relative cost difference (relative to ``max(cost, 1e-3)``).

    Raises
    ------
    ValueError, RepairSolverError
        On bad ranges or a failed SDP.
    """
    nu = np.linspace(*nu_range, n_nu)
    r = np.linspace(*r_range, n_r)
    cost = repair_cost_map(nu[:, None], r[None, :])
    problem = RepairProblem(1)
    gen = attenuator()
    checks = []
    for nu_c in np.linspace(nu_range[0], nu_range[1], n_check):
        for r_c in np.linspace(r_range[0], r_range[1], n_check):
            sig = squeezed_thermal(nu_c, r_c, 0.3)
            res = minimal_repair(bayes_reverse(gen, sig).cp_matrix(), weight="bkm", gamma_ref=sig, problem=problem)
            cf = float(repair_cost_map(nu_c, r_c))
            checks.append({"nu": nu_c, "r": r_c, "sdp": res.cost, "closed_form": cf})
    err = max(abs(c["sdp"] - c["closed_form"]) / max(c["closed_form"], 1e-3) for c in checks)
    return {"nu": nu, "r": r, "cost": cost, "sdp_checks": checks, "sdp_max_rel_err": float(err),
            "max_cost": float(np.max(cost))}


def plot_repair_map(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw the repair-cost map (log colours where the cost is positive, threshold curve); return the figure."""
    from matplotlib.colors import LogNorm

    nu, r, cost = data["nu"], data["r"], np.asarray(data["cost"])
    fig, (ax,) = axes_for(ax, 1, figsize=(5.5, 4.2))
    masked = np.ma.masked_where(cost <= 0, cost)
    pc = ax.pcolormesh(nu, r, masked.T, cmap="viridis", shading="auto",
                       norm=LogNorm(vmin=max(float(masked.min()), 1e-4), vmax=float(masked.max())))
    fig.colorbar(pc, ax=ax, label=r"$\frac{1}{4}{\rm tr}(J_{\rm BKM}\Delta D^*)$ (nats / unit time)")
    rr = np.linspace(0, r[-1], 300)
    curve = np.cosh(2 * rr)
    keep = curve <= nu[-1]
    ax.plot(curve[keep], rr[keep], "r--", lw=1.5, label=r"$\cosh 2r = \nu$")
    pts = data["sdp_checks"]
    ax.plot([p["nu"] for p in pts], [p["r"] for p in pts], "m+", ms=7, label="SDP check")
    ax.set_xlabel(r"$\nu$")
    ax.set_ylabel(r"$r$")
    ax.set_title("minimal BKM repair cost (0 = white, CP already)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def noise_floor_data(
    depths: Sequence[float],
    families: dict[str, Sequence[tuple[float, float]]] | None = None,
) -> dict[str, Any]:
    r"""Both sides of the reconstructed Theorem 2 versus depth for each family of ``(nu0, r0)`` targets.

    Raises
    ------
    ValueError
        On bad depths or family members.
    """
    if families is None:
        families = {
            "mixed": [(nu, r) for nu in (1.5, 2.0, 3.0) for r in (0.6, 0.9, 1.2)],
            "near_pure": [(nu, r) for nu in (1.001, 1.01, 1.05) for r in (0.5, 1.0, 1.5)],
        }
    out: dict[str, Any] = {"depths": [float(t) for t in depths], "families": {}}
    for name, fam in families.items():
        gammas = [squeezed_thermal(nu, r) for nu, r in fam]
        rows = noise_floor_curve(gammas, depths)
        out["families"][name] = {
            "members": [list(p) for p in fam],
            "lhs_neg2_log_f_wc": [x.lhs for x in rows],
            "rhs_cgeom_i_wc": [x.rhs for x in rows],
            "i_wc": [x.i_wc for x in rows],
            "nu_min": [x.nu_min for x in rows],
            "c_geom": [x.c_geom for x in rows],
            "holds": [x.holds for x in rows],
            "lhs_over_i_wc_sq": [x.lhs / x.i_wc**2 if x.i_wc > 0 else float("nan") for x in rows],
        }
    return out


def plot_noise_floor(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw -2 ln F_wc and c_geom(nu_min) I_wc versus depth, one panel per family; return the figure."""
    fams = data["families"]
    fig, axes = axes_for(ax, len(fams), figsize=(5.5 * len(fams), 4.4))
    for ax, (name, f) in zip(axes, fams.items()):
        ax.plot(data["depths"], f["lhs_neg2_log_f_wc"], "o-", label=r"$-2\ln F_{\rm wc}$")
        rhs_label = r"$c_{\rm geom}(\nu_{\min})\,\mathcal{I}^{\rm wc}_{\rm dec}$"
        ax.plot(data["depths"], f["rhs_cgeom_i_wc"], "s--", label=rhs_label)
        ax.set_xlabel("depth T")
        members = ", ".join(f"({nu:g}, {r:g})" for nu, r in f["members"])
        ax.set_title(f"{name}: bound holds at {sum(f['holds'])}/{len(f['holds'])} depths\n"
                     f"worst case over (nu0, r0) in {{{members}}}", fontsize=8)
        ax.legend()
    fig.tight_layout()
    return fig


def multimode_data(n_angles: int = 13, *, nu: Sequence[float] = (1.2, 2.5), r: Sequence[float] = (0.9, 0.7),
                   theta: float = np.pi / 4) -> dict[str, Any]:
    """Two-mode defect and repair cost versus the relative squeezing angle (see :func:`two_mode_angle_scan`).

    Returns
    -------
    dict
        The scan's arrays and its parameters ``nu``, ``r``, ``theta``.
    """
    scan = two_mode_angle_scan(np.linspace(0.0, np.pi / 2, n_angles), nu=nu, r=r, theta=theta)
    return {**scan, "nu": [float(v) for v in nu], "r": [float(v) for v in r], "theta": float(theta)}


def plot_multimode(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw lambda_min and the repair costs (joint SDP vs mode-wise) versus angle (two panels); return the figure."""
    fig, (a1, a2) = axes_for(ax, 2, figsize=(10, 4.2))
    ang = np.asarray(data["angle"])
    if "nu" in data:
        nu, r = data["nu"], data["r"]
        fig.suptitle(f"two modes: nu = ({nu[0]:g}, {nu[1]:g}), r = ({r[0]:g}, {r[1]:g}), "
                     f"beam splitter theta = {data['theta']:.3g}", fontsize=10)
    a1.plot(ang, data["lambda_min"], "o-")
    a1.set_xlabel(r"relative squeezing angle $\phi_2$")
    a1.set_ylabel(r"$\lambda_{\min}(M^{\rm Bayes})$ (two modes)")
    a2.plot(ang, data["cost"], "o-", label="joint two-mode SDP")
    a2.plot(ang, data["modewise_cost"], "s--", label="sum of one-mode (reduced) repairs")
    a2.set_xlabel(r"relative squeezing angle $\phi_2$")
    a2.set_ylabel("BKM repair cost")
    a2.legend()
    fig.tight_layout()
    return fig


def demo_sections(out: Path) -> list[Section]:
    """Run the small default Gaussian figures (phase diagram, repair-cost map) into ``out``; return Sections."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sections = []

    log = StageLog("demo gaussian")
    log("phase diagram")
    t0 = time.perf_counter()
    pd = phase_diagram_data()
    save_figure(plot_phase_diagram(pd), out / "gaussian_phase_diagram.png")
    atomic_write_json(out / "gaussian_phase_diagram.json", pd)
    sections.append(Section(
        title="Gaussian score-lift: CP phase diagram (Theorem 1)",
        summary=("The fixed-diffusion score-lift of the pure-loss channel violates complete positivity exactly "
                 "where cosh 2r > nu: the batched-eigvalsh lambda_min changes sign on that curve."),
        figures=["gaussian_phase_diagram.png"],
        json="gaussian_phase_diagram.json",
        key_numbers={"grid points": pd["n_points"], "sign disagreements with cosh 2r = nu": pd["disagreements"],
                     "max |numeric - closed form|": pd["max_abs_diff_closed_form"]},
        seconds=time.perf_counter() - t0,
    ))

    log("repair-cost map and SDP spot checks")
    t0 = time.perf_counter()
    rm = repair_map_data()
    save_figure(plot_repair_map(rm), out / "gaussian_repair_map.png")
    atomic_write_json(out / "gaussian_repair_map.json", rm)
    sections.append(Section(
        title="Gaussian score-lift: minimal BKM repair cost",
        summary=("Entropy rate of the cheapest added diffusion that makes the score-lift CP; zero below the "
                 "threshold, closed form checked against the cvxpy SDP."),
        figures=["gaussian_repair_map.png"],
        json="gaussian_repair_map.json",
        key_numbers={"SDP vs closed form (max rel. err.)": rm["sdp_max_rel_err"], "max cost": rm["max_cost"]},
        seconds=time.perf_counter() - t0,
    ))
    return sections
