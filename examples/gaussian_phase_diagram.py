"""Theorem-1 phase diagram of the Gaussian score-lift and the minimal BKM repair-cost map (PNG + JSON).

Usage::

    python examples/gaussian_phase_diagram.py --n-nu 401 --n-r 401
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from quantum_diffusion.demo.cli import StageLog, configure_progress, example_parser, positive_float, positive_int
from quantum_diffusion.demo.gaussian import phase_diagram_data, plot_phase_diagram, plot_repair_map, repair_map_data
from quantum_diffusion.demo.report import save_figure
from quantum_diffusion.io import atomic_write_json

NAME = "gaussian_phase_diagram"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of this example."""
    ap = example_parser(NAME, __doc__)
    ap.add_argument("--nu-max", type=positive_float, default=5.0, help="largest symplectic eigenvalue nu (> 1.05)")
    ap.add_argument("--r-max", type=positive_float, default=1.5, help="largest squeezing parameter r")
    ap.add_argument("--n-nu", type=positive_int, default=401, help="grid points along nu (>= 2)")
    ap.add_argument("--n-r", type=positive_int, default=401, help="grid points along r (>= 2)")
    ap.add_argument("--n-check", type=positive_int, default=8, help="SDP spot checks per axis on the repair map")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example; return the exit status."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.nu_max <= 1.05:
        ap.error(f"--nu-max must exceed 1.05 (the repair map starts there), got {args.nu_max}")
    if min(args.n_nu, args.n_r) < 4:
        ap.error("--n-nu and --n-r must be >= 4 (the repair map uses half of each)")
    configure_progress()
    import matplotlib

    matplotlib.use("Agg")
    log = StageLog(NAME)
    args.out.mkdir(parents=True, exist_ok=True)
    log(f"phase diagram on a {args.n_nu} x {args.n_r} grid")
    pd = phase_diagram_data((1.0, args.nu_max), (0.0, args.r_max), args.n_nu, args.n_r)
    save_figure(plot_phase_diagram(pd), args.out / "gaussian_phase_diagram.png")
    atomic_write_json(args.out / "gaussian_phase_diagram.json", pd)
    print(f"phase diagram: {pd['n_points']} points, {pd['disagreements']} sign disagreements with cosh 2r = nu")
    log(f"repair map with {args.n_check ** 2} SDP checks")
    rm = repair_map_data((1.05, args.nu_max), (0.0, args.r_max), args.n_nu // 2, args.n_r // 2, args.n_check)
    save_figure(plot_repair_map(rm), args.out / "gaussian_repair_map.png")
    atomic_write_json(args.out / "gaussian_repair_map.json", rm)
    print(f"repair map: SDP vs closed form max rel. error {rm['sdp_max_rel_err']:.2e}")
    log(f"wrote {args.out}/gaussian_phase_diagram.* and gaussian_repair_map.*")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
