"""Decoherence limit: a bimodal density diffused forward and recovered by the lattice Petz flow and the reverse SDE.

Writes ``decoherence_limit_recovery.png`` (forward snapshots; recovery from p_T and from noise: lattice Petz
flow vs reverse-SDE histogram vs exact p0) and ``decoherence_limit_convergence.png`` (O(h^2) convergence of the
package's quantum generators on lattice diagonal states, the central-momentum negative control, and the
SDE-vs-lattice Kolmogorov distance), each with a JSON of every number shown.

    python examples/decoherence_limit.py --n-grid 256 --n-samples 100000 --sde-steps 800
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from quantum_diffusion.demo.classical_limit import convergence_data, plot_convergence, plot_recovery, recovery_data
from quantum_diffusion.demo.cli import StageLog, configure_progress, example_parser, positive_float, positive_int
from quantum_diffusion.demo.report import save_figure
from quantum_diffusion.io import atomic_write_json

NAME = "decoherence_limit"
#: (reverse-SDE samples, lattice sites, Euler-Maruyama steps) of the SDE-vs-lattice study
SDE_LEVELS = ((1000, 20, 20), (6000, 40, 60), (36000, 80, 180), (100000, 160, 400))


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of this example."""
    ap = example_parser(NAME, __doc__)
    ap.add_argument("--n-grid", type=positive_int, default=256, help="lattice sites for the recovery figure (>= 8)")
    ap.add_argument("--length", type=positive_float, default=12.0, help="period of the lattice")
    ap.add_argument("--gamma", type=positive_float, default=1.0, help="momentum-noise rate")
    ap.add_argument("--T", type=positive_float, default=1.0, help="forward diffusion time")
    ap.add_argument("--n-samples", type=positive_int, default=100_000, help="reverse-SDE samples")
    ap.add_argument("--sde-steps", type=positive_int, default=800,
                    help="Euler-Maruyama steps of the reverse SDE over the whole time interval [0, T]")
    ap.add_argument("--ns", type=positive_int, nargs="+", default=[16, 32, 64, 128, 256],
                    help="lattice sizes of the h-refinement study (>= 2 sizes, each >= 8)")
    ap.add_argument("--quantum-n", type=positive_int, default=24,
                    help="lattice size of the full quantum recover() check")
    ap.add_argument("--sde-levels", type=positive_int, default=len(SDE_LEVELS),
                    help=f"how many of the (samples, sites, steps) levels {SDE_LEVELS} the SDE-vs-lattice study runs")
    ap.add_argument("--seed", type=int, default=0, help="seed of the SDE samples")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example; return the exit status."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if min(args.n_grid, args.quantum_n, *args.ns) < 8:
        ap.error("--n-grid, --quantum-n and every --ns must be >= 8 lattice sites")
    if args.sde_levels > len(SDE_LEVELS):
        ap.error(f"--sde-levels must be <= {len(SDE_LEVELS)}, got {args.sde_levels}")
    if len(set(args.ns)) < 2:
        ap.error(f"--ns needs at least two different sizes for a slope, got {args.ns}")
    configure_progress()
    import matplotlib

    matplotlib.use("Agg")
    log = StageLog(NAME)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    log(f"recovery on {args.n_grid} sites, {args.n_samples} SDE samples; quantum check on {args.quantum_n} sites")
    rd = recovery_data(quantum_n=args.quantum_n, n_grid=args.n_grid, length=args.length, gamma=args.gamma, T=args.T,
                       n_samples=args.n_samples, n_steps=args.sde_steps, seed=args.seed)
    save_figure(plot_recovery(rd), out / "decoherence_limit_recovery.png", dpi=110)
    atomic_write_json(out / "decoherence_limit_recovery.json", rd)
    log(f"h-refinement on {sorted(args.ns)} and {args.sde_levels} SDE levels")
    cd = convergence_data(sorted(args.ns), levels=SDE_LEVELS[:args.sde_levels], gamma=args.gamma,
                          length=args.length, T=args.T, seed=args.seed, sympy=False)
    save_figure(plot_convergence(cd), out / "decoherence_limit_convergence.png", dpi=110)
    atomic_write_json(out / "decoherence_limit_convergence.json", cd)

    rec, conv = rd["recovery"], cd["convergence"]
    print(f"KS SDE vs lattice: from p_T {rec['ks_sde_vs_lattice_from_pT']:.4f}, "
          f"from noise {rec['ks_sde_vs_lattice_from_noise']:.4f}")
    print("slopes:", {k: round(v, 3) for k, v in conv["slopes"].items()})
    print("quantum recover() vs lattice:", rd["quantum_check"]["kinds"])
    log(f"wrote {out}/decoherence_limit_*.png/.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
