"""Command line: ``python -m classical {train,recovery,hybrid,demo} ...`` (``main(argv)`` is testable).

``train`` works under ``torchrun`` (DDP: NCCL on CUDA, gloo on CPU), e.g.
``torchrun --nproc_per_node 2 -m classical train --config paper --model global``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m classical", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--config", default="cpu-small", choices=["cpu-small", "paper"])
        q.add_argument("--cache-dir", type=Path, default=None, help="checkpoints, classifier and MNIST cache")
        q.add_argument("--threads", type=int, default=None, help="torch threads (default: 2, or 1 if busy)")

    t = sub.add_parser("train", help="train or resume one model from its checkpoint")
    common(t)
    t.add_argument("--model", choices=["global", "local"], default="global")
    t.add_argument("--R", type=int, default=3, help="local receptive radius (1..12)")
    t.add_argument("--steps", type=int, default=None, help="override the configuration's step count")
    t.add_argument("--checkpoint", type=Path, default=None)

    for name, hlp in [("recovery", "recovery MSE matrix over (t_f, R)"),
                      ("hybrid", "hybrid sampler panels and window scan"),
                      ("demo", "recovery + hybrid pipeline (trains what is missing)")]:
        q = sub.add_parser(name, help=hlp)
        common(q)
        q.add_argument("--out", type=Path, default=Path("results"))
        q.add_argument("--radii", type=int, nargs="+", default=[1, 3, 6])
        q.add_argument("--hybrid-R", type=int, default=3)
        q.add_argument("--window", type=float, nargs=2, default=[0.2, 0.5])
        q.add_argument("--n-samples", type=int, default=256)
    return p


def _threads(n: int | None) -> None:
    import torch

    from .pipeline import configure_threads

    if n is None:
        configure_threads()
    else:
        torch.set_num_threads(max(1, n))


def _train(args: argparse.Namespace) -> int:
    import torch
    import torch.distributed as dist

    from .data import default_cache_dir, load_mnist
    from .train import default_device, named_config, train

    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = default_device()
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    cache = args.cache_dir or default_cache_dir()
    over = {} if args.steps is None else {"steps": args.steps}
    cfg = named_config(args.config, args.model, R=args.R if args.model == "local" else None, **over)
    name = "global" if args.model == "global" else f"local_R{args.R}"
    ck = args.checkpoint or cache / "checkpoints" / args.config / f"{name}.pt"
    data = load_mnist("train", cache_dir=cache).images
    t0 = time.perf_counter()
    try:
        res = train(cfg, data, ck, device=device)
    finally:
        if world > 1:
            dist.destroy_process_group()
    if not res.losses:
        print(f"{ck}: already trained ({res.step} steps)")
    else:
        print(f"{ck}: step {res.step}, last loss {res.losses[-1]:.4f}, {time.perf_counter() - t0:.1f} s")
    return 0


def _pipeline(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")  # this command writes PNGs only
    from quantum_diffusion.demo.mnist import demo_sections, plot_hybrid, plot_recovery
    from quantum_diffusion.demo.report import save_figure

    from .data import default_cache_dir
    from .pipeline import PipelineConfig, run_pipeline

    cfg = PipelineConfig(config=args.config, radii=tuple(args.radii), hybrid_R=args.hybrid_R,
                         window=tuple(args.window), n_samples=args.n_samples,
                         cache_dir=args.cache_dir or default_cache_dir())
    args.out.mkdir(parents=True, exist_ok=True)
    if args.cmd == "demo":
        for s in demo_sections(args.out, cfg):
            print(f"{s.title}: {s.summary}")
        return 0
    from quantum_diffusion.io import atomic_write_json

    res = run_pipeline(cfg, recovery=args.cmd == "recovery", hybrid=args.cmd == "hybrid")
    if args.cmd == "recovery":
        save_figure(plot_recovery(res["recovery"]), args.out / "mnist_recovery.png")
        atomic_write_json(args.out / "mnist_recovery.json", res["recovery"])
        print("0.03 crossing (local):", res["recovery"]["crossing_local"])
    else:
        save_figure(plot_hybrid(res), args.out / "mnist_hybrid.png")
        atomic_write_json(args.out / "mnist_hybrid.json", {"hybrid": res["hybrid"], "scan": res["scan"]})
        for k, v in res["hybrid"]["panels"].items():
            print(f"{k:>26}: FID {v['fid']:.2f}  FLOPs x{v['flops_ratio']:.3f}  wall x{v['wall_ratio']:.2f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit status."""
    args = build_parser().parse_args(argv)
    _threads(args.threads)
    if args.cmd == "train":
        return _train(args)
    return _pipeline(args)


if __name__ == "__main__":
    sys.exit(main())
