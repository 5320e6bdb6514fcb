"""Local vs global MNIST denoisers: recovery-MSE matrix over (t_f, R) and the hybrid sampler (Figs. 3b, S2, 4).

A thin script over :mod:`classical.pipeline` and :mod:`quantum_diffusion.demo.mnist`: trains (or resumes from the
checkpoints in ``$QD_CACHE_DIR/classical/checkpoints/<config>/``, default ``QD_CACHE_DIR=~/.cache/quantum_diffusion``)
the global U-Net and the strictly local U-Nets of the chosen configuration, then writes ``mnist_recovery.png/.json``
and ``mnist_hybrid.png/.json``.

Configurations (``--config``):
  cpu-small  small nets (global U-Net width 16; strictly local U-Nets base 4), 300 optimiser steps each: about
             12 minutes on 2 CPU cores the first time, seconds once the checkpoints exist.
  paper      the authors' specification (global width 64; local base 16), 15 epochs each: meant for a GPU.

    python examples/mnist_local_denoisers.py --radii 1 3 6 --window 0.2 0.5
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from quantum_diffusion.demo.cli import StageLog, configure_progress, example_parser, positive_int, probability

NAME = "mnist_local_denoisers"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of this example."""
    ap = example_parser(NAME, __doc__)
    ap.add_argument("--config", default="cpu-small", choices=["cpu-small", "paper"],
                    help="named training configuration (see above)")
    ap.add_argument("--radii", type=positive_int, nargs="+", default=[1, 3, 6],
                    help="receptive radii R of the strictly local nets (1..12)")
    ap.add_argument("--hybrid-R", type=positive_int, default=3,
                    help="local net used by the hybrid sampler (one of --radii)")
    ap.add_argument("--window", type=probability, nargs=2, default=[0.2, 0.5],
                    help="time window (t_lo t_hi) in which the hybrid sampler uses the global net")
    ap.add_argument("--n-samples", type=positive_int, default=256, help="samples per hybrid panel")
    ap.add_argument("--n-recovery", type=positive_int, default=256, help="test images in the recovery experiment")
    ap.add_argument("--n-real", type=positive_int, default=2000, help="real test digits used as the FID reference")
    ap.add_argument("--euler-steps", type=positive_int, default=32,
                    help="Euler steps of the sampler over the whole time interval t in [0, 1]")
    ap.add_argument("--train-steps", type=positive_int, default=None,
                    help="override the configuration's number of optimiser steps per net (default: the config's)")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="MNIST, classifier and checkpoint cache (default: $QD_CACHE_DIR/classical)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example; return the exit status."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if any(r > 12 for r in args.radii):
        ap.error(f"--radii must lie in 1..12, got {args.radii}")
    if args.hybrid_R not in args.radii:
        ap.error(f"--hybrid-R {args.hybrid_R} must be one of --radii {args.radii}")
    if not args.window[0] < args.window[1]:
        ap.error(f"--window needs t_lo < t_hi, got {args.window}")
    if args.n_real + args.n_samples > 10_000:
        ap.error("--n-real + --n-samples must not exceed the 10000 MNIST test digits")
    configure_progress()
    import matplotlib

    matplotlib.use("Agg")
    from classical.data import default_cache_dir
    from classical.pipeline import PipelineConfig, configure_threads, run_pipeline
    from quantum_diffusion.demo.mnist import write_outputs

    over = {} if args.train_steps is None else {"steps": args.train_steps}
    try:
        cfg = PipelineConfig(config=args.config, radii=tuple(args.radii), hybrid_R=args.hybrid_R,
                             window=tuple(args.window), n_samples=args.n_samples, n_steps=args.euler_steps,
                             n_recovery=args.n_recovery, n_real=args.n_real, train_overrides=over,
                             cache_dir=args.cache_dir or default_cache_dir())
    except ValueError as exc:
        ap.error(str(exc))
    log = StageLog(NAME)
    configure_threads()
    log(f"{args.config}: training or resuming the global net and local nets R in {args.radii}, then evaluating")
    res = run_pipeline(cfg)
    files = write_outputs(res, args.out)
    log(f"wrote {', '.join(files.values())} into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
