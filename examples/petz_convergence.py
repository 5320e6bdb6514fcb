"""O(dt) convergence of the Petz, rotated-Petz and twirled-Petz maps of exp(dt L) to their backward Lindbladians.

Plots the relative error ||(Map_dt - id)/dt - B|| / ||B|| against dt (log-log, slope 1) for random systems of the
given dimensions. Writes ``petz_convergence.png`` and ``petz_convergence.json`` into ``--out``.

    python examples/petz_convergence.py --dims 2 3 4 --theta 0.7
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from quantum_diffusion.demo.cli import StageLog, configure_progress, example_parser, positive_float, positive_int
from quantum_diffusion.demo.petz import convergence_data, plot_convergence
from quantum_diffusion.demo.report import save_figure
from quantum_diffusion.io import atomic_write_json

NAME = "petz_convergence"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of this example."""
    ap = example_parser(NAME, __doc__)
    ap.add_argument("--dims", type=positive_int, nargs="+", default=[2, 3, 4, 6],
                    help="Hilbert-space dimensions of the random systems (>= 2)")
    ap.add_argument("--theta", type=float, default=0.7, help="rotation angle of the rotated Petz map")
    ap.add_argument("--dt-min", type=positive_float, default=1e-6, help="smallest time step")
    ap.add_argument("--dt-max", type=positive_float, default=1e-1, help="largest time step")
    ap.add_argument("--n-dt", type=positive_int, default=11, help="number of time steps (log-spaced)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random systems")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example; return the exit status."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if min(args.dims) < 2:
        ap.error(f"--dims must be >= 2, got {args.dims}")
    if args.dt_min >= args.dt_max:
        ap.error(f"--dt-min ({args.dt_min}) must be smaller than --dt-max ({args.dt_max})")
    if args.n_dt < 3:
        ap.error("--n-dt must be >= 3 (the slope fit needs points)")
    configure_progress()
    import matplotlib

    matplotlib.use("Agg")
    log = StageLog(NAME)
    dts = np.logspace(np.log10(args.dt_max), np.log10(args.dt_min), args.n_dt)
    log(f"maps vs generators for d in {args.dims}, {args.n_dt} time steps")
    data = convergence_data(args.dims, dts, theta=args.theta, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    save_figure(plot_convergence(data), args.out / f"{NAME}.png")
    atomic_write_json(args.out / f"{NAME}.json", data)
    for kind, per_d in data["slopes"].items():
        print(kind, {d: round(s, 4) for d, s in per_d.items()})
    log(f"wrote {args.out / NAME}.png/.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
