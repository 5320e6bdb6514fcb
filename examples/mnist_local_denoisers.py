"""Local vs global MNIST denoisers: recovery-MSE matrix over (t_f, R) and the hybrid sampler (Figs. 3b, S2, 4).

A thin script over :mod:`classical.pipeline` and :mod:`quantum_diffusion.demo.mnist`: trains (or resumes from
cached checkpoints) the global U-Net and
the strictly local U-Nets of the chosen configuration, then writes ``mnist_recovery.png/.json`` and
``mnist_hybrid.png/.json``.  The ``cpu-small`` default takes about 12 minutes on 2 cores the first time;
``--config paper`` is the authors' specification and is meant for a GPU.

    python examples/mnist_local_denoisers.py --radii 1 3 6 --window 0.2 0.5 --out results
"""

from __future__ import annotations

import argparse
from pathlib import Path

from classical.pipeline import PipelineConfig, run_pipeline
from quantum_diffusion.demo.mnist import write_outputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="cpu-small", choices=["cpu-small", "paper"])
    ap.add_argument("--radii", type=int, nargs="+", default=[1, 3, 6], help="local receptive radii R (1..12)")
    ap.add_argument("--hybrid-R", type=int, default=3, help="local net used by the hybrid sampler")
    ap.add_argument("--window", type=float, nargs=2, default=[0.2, 0.5], help="global-net window (t_lo t_hi)")
    ap.add_argument("--samples", type=int, default=256, help="samples per hybrid panel")
    ap.add_argument("--steps", type=int, default=32, help="Euler steps per unit time")
    ap.add_argument("--out", type=Path, default=Path("results"))
    args = ap.parse_args()
    if args.hybrid_R not in args.radii:
        ap.error(f"--hybrid-R {args.hybrid_R} must be one of --radii {args.radii}")
    cfg = PipelineConfig(config=args.config, radii=tuple(args.radii), hybrid_R=args.hybrid_R,
                         window=tuple(args.window), n_samples=args.samples, n_steps=args.steps)
    res = run_pipeline(cfg)
    files = write_outputs(res, args.out)
    print(f"wrote {', '.join(files.values())} into {args.out} ({res['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
