"""Cost of the full 11 x 12 MNIST CMI heat map per method, as a ratio to the paper's MINE protocol.

Everything is measured in this run on the same machine: the per-iteration cost of paper-mode MINE on one cell
(CNN critic, batch 100, joint + marginal pass and backward) extrapolated to the paper's 165 runs x 300 000
iterations; the per-step cost of each honest critic method (MLP critic on the 729-pixel cell, two terms per cell,
132 cells); the amortised predictive estimator (one training for all cells + held-out evaluation, per variant,
at the honest methods' step count and at the default grid's, times the number of repeats); the exact
empirical-mixture reference (N = 60 000, per t).  Run: ``python benchmarks/cmi_bench.py [--steps 2500]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from classical.information.estimators import METHODS, estimate_mi
from classical.information.grid import PAPER_TIMES, cell_arrays, paper_mine_cell, predictive_cmi_grid
from classical.information.heatmap import mnist_crops
from classical.information.references import empirical_mixture_cmi_profile
from classical.information.regions import PAPER_RADII, paper_regions

CLOCK = time.perf_counter


def timed(fn, *a, **k) -> float:
    """Return the time of one call on ``CLOCK`` (wall, or this process's CPU time with ``--cpu-time``)."""
    t0 = CLOCK()
    fn(*a, **k)
    return CLOCK() - t0


def main() -> None:
    """Measure and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=60, help="iterations timed per method")
    p.add_argument("--steps", type=int, default=2500, help="training steps assumed for the honest methods")
    p.add_argument("--grid-steps", type=int, default=2500, help="steps of the default amortised predictive grid")
    p.add_argument("--repeats", type=int, default=2, help="independent grid trainings (error bars need 2)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cpu-time", action="store_true",
                   help="time with this process's CPU time (robust on a shared machine; use with --threads 1)")
    a = p.parse_args()
    global CLOCK
    if a.cpu_time:
        CLOCK = time.process_time
    torch.set_num_threads(a.threads)
    imgs = mnist_crops(20000)
    n_cells = len(PAPER_TIMES) * len(PAPER_RADII)
    # paper-mode MINE: 4 runs (3 + 1) of `iters` steps on one cell -> seconds per iteration
    s = timed(paper_mine_cell, imgs, 0.3, 3, steps=a.iters, seed=0) / (4 * a.iters)
    paper_total = 165 * 300_000 * s
    print(f"paper MINE: {1e3 * s:.1f} ms/iter -> full heat map {paper_total / 3600:.1f} h (165 runs x 300k)")
    rows = {"mine-paper": paper_total}
    a_, c_, b_ = cell_arrays(imgs, 0.3, 3, seed=0)
    y = np.concatenate([c_, b_], axis=1)
    for m in METHODS:
        if m == "predictive":
            continue
        per = timed(estimate_mi, a_, y, method=m, steps=a.iters, seed=0) / a.iters
        rows[f"{m}-honest"] = per * a.steps * 2 * n_cells
    for bl, sq, ft in (("linear", True, "mixture"), ("linear", True, "none"), ("none", False, "none")):
        kw = dict(seed=0, baseline=bl, square_inputs=sq, features=ft)
        t_grid = timed(predictive_cmi_grid, imgs, steps=a.iters, **kw)
        t_eval = timed(predictive_cmi_grid, imgs, steps=1, **kw)  # fit + evaluation
        per = (t_grid - t_eval) / max(1, a.iters - 1)
        for st in sorted({a.steps, a.grid_steps}):
            tag = f"{bl}{'+squares' if sq else ''}{'+mixture' if ft == 'mixture' else ''}"
            name = f"predictive-{tag} ({st} steps, x{a.repeats})"
            rows[name] = a.repeats * (per * st + t_eval)
    t_ref = timed(empirical_mixture_cmi_profile, imgs.reshape(len(imgs), -1), 0.3,
                  [paper_regions(r) for r in PAPER_RADII], n_mc=100, seed=0)
    rows["empirical-reference (N=60k, n_mc=300, 10 t)"] = t_ref * 3 * 3 * 10
    print(f"{'method':>44} {'full heat map':>14} {'ratio to paper MINE':>20}")
    for k, v in rows.items():
        print(f"{k:>44} {v / 60:>11.1f} min {v / paper_total:>20.2e}")


if __name__ == "__main__":
    main()
