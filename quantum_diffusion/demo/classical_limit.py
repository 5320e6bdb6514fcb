r"""Figures of the decoherence limit: recovery of a bimodal density and O(h^2) convergence.

The numbers come from :mod:`quantum_diffusion.classical_limit.studies` and
:mod:`quantum_diffusion.classical_limit.convergence`; this module draws them and writes the demo sections.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..classical_limit.convergence import convergence_study, hamiltonian_convergence
from ..classical_limit.studies import run_quantum_check, run_recovery, run_sde_levels
from ..io import atomic_write_json
from .cli import StageLog
from .report import Section, axes_for, save_figure

__all__ = [
    "recovery_data",
    "plot_recovery",
    "convergence_data",
    "plot_convergence",
    "demo_sections",
]


def recovery_data(*, quantum_n: int = 16, **kwargs: Any) -> dict[str, Any]:
    """Compute the numbers of the recovery figure.

    :func:`~quantum_diffusion.classical_limit.studies.run_recovery` (``kwargs``) and the quantum check
    :func:`~quantum_diffusion.classical_limit.studies.run_quantum_check` at ``quantum_n``.

    Returns
    -------
    dict
        ``{"recovery": ..., "quantum_check": ...}``.
    """
    keep = {k: kwargs[k] for k in ("length", "gamma", "T") if k in kwargs}
    return {"recovery": dataclasses.asdict(run_recovery(**kwargs)),
            "quantum_check": dataclasses.asdict(run_quantum_check(quantum_n, **keep))}


def convergence_data(ns=(16, 32, 64, 128), *, levels=((1000, 20, 20), (6000, 40, 60), (36000, 80, 180)),
                     gamma: float = 1.0, length: float = 12.0, T: float = 1.0, seed: int = 0,
                     sympy: bool = True) -> dict[str, Any]:
    """Numbers of the convergence figure: h-refinement of the generators, H_b on wavefunctions, SDE levels.

    Returns
    -------
    dict
        ``{"convergence", "hamiltonian", "sde_levels"}`` and, with ``sympy``, ``"sympy_residuals"``.
    """
    out: dict[str, Any] = {
        "convergence": convergence_study(ns, gamma=gamma).to_dict(),
        "hamiltonian": hamiltonian_convergence(ns, gamma=gamma, kinds=(("petz", 0.0), ("rotated", 0.7))),
        "sde_levels": dataclasses.asdict(run_sde_levels(levels, length=length, gamma=gamma, T=T, seed=seed)),
    }
    if sympy:
        from ..classical_limit.symbolic import all_residuals

        out["sympy_residuals"] = {k: str(v) for k, v in all_residuals().items()}
    return out


def plot_recovery(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw three panels: forward snapshots; recovery from p_T; recovery from noise; return the figure.

    ``data`` is :func:`recovery_data`'s result or its ``"recovery"`` entry.
    """
    data = data.get("recovery", data)
    x = np.asarray(data["x"])
    edges = np.asarray(data["hist_edges"])
    mids = 0.5 * (edges[1:] + edges[:-1])
    fig, ax = axes_for(ax, 3, figsize=(14, 4))
    for a in ax[1:]:
        a.sharey(ax[0])
    for t, f in data["forward_snapshots"].items():
        ax[0].plot(x, f, label=f"t = {t}")
    ax[0].set_title("forward: lattice heat flow of the sound jumps")
    for a, key, title in ((ax[1], "from_pT", r"backward from $p_T$"), (ax[2], "from_noise", "backward from noise")):
        a.bar(mids, data[f"sde_hist_{key}"], width=edges[1] - edges[0], alpha=0.35, color="C1",
              label="reverse SDE (histogram)")
        a.plot(x, data[f"lattice_{key}"], "o", ms=3, color="C0", label="lattice Petz flow")
        a.plot(x, data["p0_exact"], "k--", lw=1, label=r"exact $p_0$")
        a.set_title(f"{title}: KS = {data[f'ks_sde_vs_lattice_{key}']:.3g}")
    for a in ax:
        a.set_xlabel("x")
        a.legend(fontsize=8)
    ax[0].set_ylabel("density")
    fig.tight_layout()
    return fig


def plot_convergence(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw relative error vs h (log-log, h^2 guide, H_b errors) and KS distance vs sample size; return the figure.

    ``data`` is :func:`convergence_data`'s result.
    """
    conv, levels, ham = data["convergence"], data["sde_levels"], data.get("hamiltonian")
    h = np.asarray(conv["h"])
    fig, ax = axes_for(ax, 2, figsize=(11, 4))
    ax[0].loglog(h, conv["forward"], "o-", label=f"forward (slope {conv['slopes']['forward']:.2f})")
    for i, (k, v) in enumerate(conv["backward"].items()):
        ax[0].loglog(h, v, "s-" if i == 0 else "x--", label=f"backward {k} (slope {conv['slopes'][k]:.2f})")
    if ham is not None:
        for k in ham["slopes"]:
            ax[0].loglog(ham["h"], ham[k], "d-.", ms=4, label=f"$H_b$ {k} (slope {ham['slopes'][k]:.2f})")
    ax[0].loglog(h, conv["control_error"], "v:", color="0.4", label="central momentum (control)")
    ax[0].loglog(h, conv["forward"][-1] * (h / h[-1]) ** 2, "k:", lw=0.8, label=r"$\propto h^2$")
    ax[0].set_xlabel("lattice spacing h")
    ax[0].set_ylabel("relative max error vs continuum")
    ax[0].legend(fontsize=7, loc="lower right")
    ax[0].set_title("lattice generators -> continuum PDEs")
    m = np.array([lv[0] for lv in levels["levels"]])
    ax[1].loglog(m, levels["from_pT"], "o-", label=r"from $p_T$")
    ax[1].loglog(m, levels["from_noise"], "s-", label="from noise")
    ax[1].loglog(m, 1.0 / np.sqrt(m), "k:", lw=0.8, label=r"$1/\sqrt{m}$")
    ax[1].set_xlabel("samples m (grid and SDE steps grow too)")
    ax[1].set_ylabel("Kolmogorov distance SDE vs lattice")
    ax[1].legend(fontsize=8)
    ax[1].set_title("reverse SDE vs lattice Petz flow")
    fig.tight_layout()
    return fig


def demo_sections(out: str | Path) -> list[Section]:
    """Run the small default decoherence-limit experiments into ``out``; return two report sections."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = StageLog("demo classical_limit")
    log("recovery of a bimodal density (lattice Petz flow, reverse SDE, quantum check)")
    t0 = time.perf_counter()
    rd = recovery_data()
    rec, quantum = rd["recovery"], rd["quantum_check"]
    save_figure(plot_recovery(rd), out / "decoherence_limit_recovery.png", dpi=110)
    atomic_write_json(out / "decoherence_limit_recovery.json", rd)
    t1 = time.perf_counter()
    log("h-refinement, SDE levels and sympy residuals")
    cd = convergence_data()  # the example runs one SDE level more
    conv, ham, levels, residuals = cd["convergence"], cd["hamiltonian"], cd["sde_levels"], cd["sympy_residuals"]
    save_figure(plot_convergence(cd), out / "decoherence_limit_convergence.png", dpi=110)
    atomic_write_json(out / "decoherence_limit_convergence.json", cd)
    t2 = time.perf_counter()
    worst_q = max(v["max_diag_deviation"] for v in quantum["kinds"].values())
    worst_c = max(v["max_coherence"] for v in quantum["kinds"].values())
    s1 = Section(
        title="Decoherence limit: Petz backward flow of diagonal states = reverse-time diffusion",
        summary=("A bimodal density diffused by the sound lattice momentum jumps is recovered by the lattice "
                 "Petz flow and by the score reverse SDE, which agree from p_T and from pure noise."),
        figures=["decoherence_limit_recovery.png"],
        json="decoherence_limit_recovery.json",
        key_numbers={
            "KS SDE vs lattice (from p_T)": rec["ks_sde_vs_lattice_from_pT"],
            "KS SDE vs lattice (from noise)": rec["ks_sde_vs_lattice_from_noise"],
            "L1 lattice Petz recovery from p_T vs p0 (solver tol.)": rec["l1_lattice_from_pT_vs_exact_p0"],
            f"quantum recover() vs lattice, n={quantum['n']} (max over kinds)": worst_q,
            "largest coherence created (quantum flow)": worst_c,
        },
        seconds=t1 - t0,
    )
    s2 = Section(
        title="Decoherence limit: O(h^2) convergence, negative control, sympy proofs",
        summary=("The package's forward Lindbladian and Petz/rotated/twirled generators on lattice diagonal states "
                 "converge to the heat and reverse Fokker-Planck equations as h^2, the single Hermitian momentum "
                 "does not, and the SDE-lattice distance falls with sample and grid size."),
        figures=["decoherence_limit_convergence.png"],
        json="decoherence_limit_convergence.json",
        key_numbers={
            "slope forward": conv["slopes"]["forward"],
            "slope backward (petz)": conv["slopes"]["petz"],
            "slope backward (twirled)": conv["slopes"]["twirled"],
            "slope H_b rotated(0.7) on wavefunctions": ham["slopes"]["rotated(0.7)"],
            "central-momentum diffusion ratio (-> 0.5)": float(conv["control_ratio"][-1]),
            "KS at largest level (from p_T)": levels["from_pT"][-1],
            "sympy residuals equal to 0": f"{sum(v == '0' for v in residuals.values())}/{len(residuals)}",
        },
        seconds=t2 - t1,
    )
    return [s1, s2]
