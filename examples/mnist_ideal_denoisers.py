"""Ideal (training-free) local denoisers on MNIST: recovery three ways, locality vs CMI, hybrid sampler (issue 12).

A thin script over :mod:`classical.ideal_pipeline` and :mod:`quantum_diffusion.demo.mnist`: trains (or resumes from
``$QD_CACHE_DIR/classical/checkpoints/<config>/``) the global and local U-Nets of the preset, builds the ideal
denoisers (posterior means under the empirical training distribution), and writes ``mnist_ideal_recovery.png``,
``mnist_locality_cmi.png``, ``mnist_hybrid_ideal.png`` and ``mnist_ideal.json`` (keys ``fid_global`` and
``fid_hybrid_ideal`` on top).

Presets (``--preset``):
  cpu-small  the demo's sizes (ideal denoisers on 2000 digits, 64 recovery images, 128 hybrid samples).
  paper      all 60 000 digits, R = 1..12 grid, paper-size nets: one GPU (``make paper-gpu``), < 10 min by its
             own estimate; not executed on the project's CPU machines.
  smoke      tiny sizes and a few training steps: the CPU test of the paper code path.

    python examples/mnist_ideal_denoisers.py --preset cpu-small
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from quantum_diffusion.demo.cli import StageLog, configure_progress, example_parser

NAME = "mnist_ideal_denoisers"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of this example."""
    ap = example_parser(NAME, __doc__)
    ap.add_argument("--preset", default="cpu-small", choices=["cpu-small", "paper", "smoke"],
                    help="study size (see above)")
    ap.add_argument("--estimate-only", action="store_true", help="print the preset's time estimate and stop")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="MNIST, classifier and checkpoint cache (default: $QD_CACHE_DIR/classical)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example; return the exit status."""
    args = build_parser().parse_args(argv)
    configure_progress()
    import matplotlib

    matplotlib.use("Agg")
    from classical.ideal_pipeline import STUDY_PRESETS, estimate_seconds, run_ideal_study, study_to_json
    from quantum_diffusion.demo.mnist import write_ideal_outputs

    log = StageLog(NAME)
    est = estimate_seconds(STUDY_PRESETS[args.preset])
    log(f"preset {args.preset}: estimated {est['total']:.0f} s on a 30 TFLOP/s GPU")
    if args.estimate_only:
        return 0
    study = run_ideal_study(args.preset, cache_dir=args.cache_dir)
    files = write_ideal_outputs(study, args.out)
    js = study_to_json(study)
    log(f"FID global {js['fid_global']:.2f}, hybrid with ideal local {js['fid_hybrid_ideal']:.2f}; "
        f"timings {', '.join(f'{k} {v:.1f} s' for k, v in study.seconds.items())}")
    log(f"wrote {', '.join(files.values())} into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
