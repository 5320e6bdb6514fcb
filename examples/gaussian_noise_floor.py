"""Both sides of the reconstructed Theorem 2 (-2 ln F_wc vs c_geom(nu_min) I_wc) versus depth (PNG + JSON).

For mixed targets the inequality fails at small depth (-2 ln F is quadratic in the injected noise,
I_dec linear); near-pure targets satisfy it.  Both sides are reported, never forced.

    python examples/gaussian_noise_floor.py --depths 0.05 0.1 0.2 0.5 1 2
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from quantum_diffusion.demo.cli import StageLog, configure_progress, example_parser, positive_float
from quantum_diffusion.demo.gaussian import noise_floor_data, plot_noise_floor
from quantum_diffusion.demo.report import save_figure
from quantum_diffusion.io import atomic_write_json

NAME = "gaussian_noise_floor"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of this example."""
    ap = example_parser(NAME, __doc__)
    ap.add_argument("--depths", type=positive_float, nargs="+", default=[0.05, 0.1, 0.2, 0.5, 1.0, 2.0],
                    help="diffusion depths T")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example; return the exit status."""
    args = build_parser().parse_args(argv)
    configure_progress()
    import matplotlib

    matplotlib.use("Agg")
    log = StageLog(NAME)
    log(f"noise floor at {len(args.depths)} depths")
    data = noise_floor_data(args.depths)
    args.out.mkdir(parents=True, exist_ok=True)
    save_figure(plot_noise_floor(data), args.out / f"{NAME}.png")
    atomic_write_json(args.out / f"{NAME}.json", data)
    for name, fam in data["families"].items():
        print(f"{name}: bound holds at {sum(fam['holds'])}/{len(fam['holds'])} depths; "
              f"-2lnF/I^2 in [{min(fam['lhs_over_i_wc_sq']):.2f}, {max(fam['lhs_over_i_wc_sq']):.2f}]")
    log(f"wrote {args.out / NAME}.png/.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
