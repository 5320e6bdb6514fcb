"""The main job: run every area's small demo and write figures, JSON and ``results/README.md``.

Each area module of :mod:`quantum_diffusion.demo` exposes ``demo_sections(out) -> list[Section]``; this runner
times them, keeps going when one fails (and says so in the report), and updates the report: the sections of the
areas run now replace their earlier ones, every other area's sections are kept (see
:func:`~quantum_diffusion.demo.report.update_report`).  It is the only place
(besides the test configuration) that chooses the matplotlib backend.
"""

from __future__ import annotations

import importlib
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from .report import Section, update_report

__all__ = ["AREAS", "run_demo"]

#: area name -> module providing ``demo_sections(out)``; order is the report's order.
AREAS: dict[str, str] = {
    "gaussian": "quantum_diffusion.demo.gaussian",
    "gaussian_petz": "quantum_diffusion.demo.gaussian_petz",
    "petz": "quantum_diffusion.demo.petz",
    "classical_limit": "quantum_diffusion.demo.classical_limit",
    "toric": "quantum_diffusion.demo.toric",
    "cmi": "quantum_diffusion.demo.cmi",
    "mnist": "quantum_diffusion.demo.mnist",
}


def run_demo(out: str | Path = "results", areas: Sequence[str] | None = None) -> tuple[list[Section], list[str]]:
    """Run the demo sections of ``areas`` into ``out`` and write ``out/README.md``.

    Parameters
    ----------
    out : str or Path
        Output directory (created if missing).
    areas : sequence of str, optional
        Area names from :data:`AREAS`, in any order; default: all, in report order.

    Returns
    -------
    tuple
        ``(sections, failed)``: the sections written by this run and the names of the areas that raised.

    Raises
    ------
    ValueError
        If ``areas`` names an unknown area.
    """
    names = list(AREAS) if areas is None else list(areas)
    unknown = [a for a in names if a not in AREAS]
    if unknown:
        raise ValueError(f"areas: unknown demo area(s) {unknown}; choose from {list(AREAS)}")
    import matplotlib

    matplotlib.use("Agg")  # headless: the demo writes PNGs only
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sections: list[Section] = []
    failed: list[str] = []
    for name in names:
        t0 = time.perf_counter()
        print(f"[demo] {name} ...", flush=True)
        try:
            module = importlib.import_module(AREAS[name])
            new = list(module.demo_sections(out))
        except Exception:  # keep the other areas' results; report the failure loudly
            failed.append(name)
            tb = traceback.format_exc()
            print(tb, flush=True)
            new = [Section(title=f"{name}: FAILED", summary=f"```\n{tb}\n```", figures=[], json="")]
        elapsed = time.perf_counter() - t0
        for s in new:
            if not s.seconds:
                s.seconds = elapsed / max(1, len(new))
        print(f"[demo] {name} done in {elapsed:.1f} s", flush=True)
        sections.extend(new)
        update_report(out, {name: new}, order=list(AREAS))  # after each area: a crash later loses nothing
    return sections, failed
