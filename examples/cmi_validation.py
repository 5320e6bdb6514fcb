"""Validate the MI/CMI estimators against exact references; writes JSON.

``python examples/cmi_validation.py [--part generic|mixture|all]`` (default output ``results/examples/cmi_validation``).
Generic tasks: every method, n = 10 000.  Mixture: a low-rank Gaussian mixture fitted to MNIST crops
(:func:`classical.information.fit_mixture`), the amortised predictive grid on samples of it against the exact
Monte Carlo CMI at every (t, r); critic methods and paper-mode MINE on a few cells (CPU budget).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classical.information import fit_mixture, mixture_cmi_profile, paper_regions
from classical.information.estimators import METHODS, estimate_cmi
from classical.information.grid import cell_arrays, paper_mine_cell, predictive_cmi_grid
from classical.information.heatmap import mnist_crops
from classical.information.validation import generic_tasks, run_task
from quantum_diffusion.demo.cli import StageLog, configure_progress, example_parser, positive_int
from quantum_diffusion.io import atomic_write_json

NAME = "cmi_validation"


def generic(out: Path, steps: int) -> None:
    """Every method on every generic task."""
    rows = []
    for task in generic_tasks():
        for m in METHODS:
            t0 = time.perf_counter()
            rec = run_task(task, m, steps=steps)
            rec["seconds"] = time.perf_counter() - t0
            rows.append(rec)
            print(f"{task.name:>16} {m:>10}: {rec['value']:.4f} +- {rec['stderr']:.4f} (exact {task.exact:.4f})",
                  flush=True)
            atomic_write_json(out / "generic.json", rows)


def mixture(out: Path, steps: int, cells: list[tuple[float, int]], critic_steps: int) -> None:
    """Amortised grid on the MNIST-fitted mixture against its exact CMI; critic methods on a few cells."""
    t0 = time.perf_counter()
    crops = mnist_crops(20000)
    gm = fit_mixture(crops.reshape(len(crops), -1), n_components=30, rank=5, min_var=1e-3, seed=0)
    x0 = gm.sample(60000, seed=1).astype(np.float32).reshape(-1, 27, 27)
    times = (0.1, 0.3, 0.5, 0.7, 0.9)
    radii = tuple(range(1, 13))
    res: dict = {"K": int(gm.weights.size), "rank": 5, "times": times, "radii": radii,
                 "fit_seconds": time.perf_counter() - t0}
    exact = [[x.to_dict() for x in mixture_cmi_profile(gm, t, [paper_regions(r) for r in radii], n_mc=1000,
                                                      seed=2)] for t in times]
    res["exact"] = exact
    print("exact done", flush=True)
    atomic_write_json(out / "mixture.json", res)
    t1 = time.perf_counter()
    g = predictive_cmi_grid(x0, times=times, radii=radii, steps=steps, seed=0)
    res["predictive"] = g.to_dict()
    res["predictive_seconds"] = time.perf_counter() - t1
    atomic_write_json(out / "mixture.json", res)
    print("grid done", flush=True)
    res["cells"] = []
    for t, r in cells:
        ex = exact[times.index(t)][radii.index(r)]
        a, c, b = cell_arrays(x0[:10000], t, r, seed=3)
        for m in METHODS:
            t2 = time.perf_counter()
            e = estimate_cmi(a, c, b, method=m, seed=0, steps=critic_steps)
            res["cells"].append({"t": t, "r": r, "method": m, "exact": ex["value"], "value": e.value,
                                 "stderr": e.stderr, "seconds": time.perf_counter() - t2,
                                 "diagnostics": {k: v for k, v in e.diagnostics.items() if k.startswith("I_")}})
            print(t, r, m, e.value, ex["value"], flush=True)
            atomic_write_json(out / "mixture.json", res)
        t2 = time.perf_counter()
        e = paper_mine_cell(x0[:10000], t, r, seed=0, steps=critic_steps)
        res["cells"].append({"t": t, "r": r, "method": "mine-paper", "exact": ex["value"], "value": e.value,
                             "stderr": e.stderr, "seconds": time.perf_counter() - t2, "repeats": e.repeats})
        atomic_write_json(out / "mixture.json", res)


def _cell(text: str) -> tuple[float, int]:
    """Parse ``t,r`` with t in (0, 1] and r in 1..12."""
    try:
        t_s, r_s = text.split(",")
        t, r = float(t_s), int(r_s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected t,r (e.g. 0.3,1), got {text!r}") from exc
    if not (0.0 < t <= 1.0) or not (1 <= r <= 12):
        raise argparse.ArgumentTypeError(f"need 0 < t <= 1 and 1 <= r <= 12, got {text!r}")
    return t, r


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of this example."""
    ap = example_parser(NAME, __doc__)
    ap.add_argument("--part", choices=["generic", "mixture", "all"], default="all",
                    help="generic MI tasks, the MNIST-fitted mixture, or both")
    ap.add_argument("--train-steps", type=positive_int, default=1000,
                    help="optimiser steps of each estimator on the generic tasks and the critic cells")
    ap.add_argument("--grid-steps", type=positive_int, default=2500,
                    help="optimiser steps of the amortised predictive grid on the mixture")
    ap.add_argument("--cells", type=_cell, nargs="*", default=[(0.3, 1)],
                    help="(t, r) cells, written t,r, where the critic methods and paper-mode MINE run")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the validation; return the exit status (long: minutes for generic, about an hour for the mixture)."""
    args = build_parser().parse_args(argv)
    configure_progress()
    log = StageLog(NAME)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.part in ("generic", "all"):
        log("generic tasks, every method")
        generic(args.out, args.train_steps)
    if args.part in ("mixture", "all"):
        log("MNIST-fitted mixture: exact CMI, amortised grid, critic cells")
        mixture(args.out, args.grid_steps, list(args.cells), args.train_steps)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
