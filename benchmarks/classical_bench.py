"""Classical (MNIST) benchmark: training throughput per model and hybrid-sampler cost relative to the global one.

Prints ratios against a baseline measured in the same run (the cpu-small global U-Net), never absolute asserts:

* training throughput (images/s) of the cpu-small global net, the cpu-small strictly local nets (R = 1, 3, 6),
  and the authors'-size local net (base 16, R = 3) for comparison;
* FLOPs (torch FlopCounterMode) and wall time of the hybrid sampler (global only in [0.2, 0.5]) and of the
  local-only sampler, as ratios to the global sampler at the same number of Euler steps;
* if a demo result exists (``--results``/mnist_hybrid.json), the FID ratio hybrid / global from it;
* the ideal local denoiser's sampler (R = 3 on 10 000 MNIST training images, goal <= 60 s on 2 cores) against the
  global samplers: ``benchmarks/ideal_bench.py`` (run at the end of this script; ``--only-ideal`` runs only it).

Usage: ``python benchmarks/classical_bench.py [--steps 3] [--batch 64] [--samples 64] [--results results]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from classical.models import build_model
from classical.pipeline import configure_threads, hybrid_panels
from classical.quality import count_flops
from classical.sampling import hybrid_sample
from classical.train import TrainConfig, named_config, train


def _throughput(cfg: TrainConfig, data: torch.Tensor, steps: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        ck = Path(tmp) / "b.pt"
        train(cfg, data, ck, progress=False, stop_after=1)  # warm-up step (allocations, oneDNN kernels)
        t0 = time.perf_counter()
        train(cfg, data, ck, progress=False)
        return (steps * cfg.batch_size) / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3, help="timed training steps per model")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--samples", type=int, default=64, help="samples for the sampler wall time")
    p.add_argument("--n-steps", type=int, default=32, help="Euler steps")
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--ideal-n", type=int, default=10000, help="training images of the ideal denoiser")
    p.add_argument("--ideal-R", type=int, default=3)
    p.add_argument("--only-ideal", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: 2, or 1 if the machine is busy)")
    args = p.parse_args(argv)
    threads = configure_threads() if args.threads is None else args.threads
    torch.set_num_threads(threads)
    print(f"torch threads: {threads}")
    if args.only_ideal:
        _ideal(args)
        return
    data = torch.rand(4 * args.batch, 1, 28, 28, generator=torch.Generator().manual_seed(0))

    models = {"global w16 (cpu-small)": named_config("cpu-small", "global")}
    for R in (1, 3, 6):
        models[f"strict local R={R} (cpu-small)"] = named_config("cpu-small", "local", R=R)
    models["authors' local R=3 (base 16)"] = named_config("paper", "local", R=3)
    print("\n== training throughput (images/s), ratio to the global w16 net ==")
    base = None
    for name, cfg in models.items():
        cfg = TrainConfig(**{**cfg.__dict__, "steps": args.steps + 1, "batch_size": args.batch, "ckpt_every": 10**6})
        ips = _throughput(cfg, data, args.steps)
        base = base or ips
        flops = count_flops(lambda cfg=cfg: build_model(cfg.model)(torch.zeros(1, 1, 28, 28), torch.zeros(1)))
        print(f"{name:>32}: {ips:8.1f} img/s   x{ips / base:5.2f}   forward {flops / 2e6:7.2f} MMAC/img")

    print(f"\n== sampler cost at {args.n_steps} Euler steps, ratio to the global sampler ==")
    torch.manual_seed(0)
    glob = build_model(named_config("cpu-small", "global").model).eval()
    x1 = torch.randn(args.samples, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    for label, loc_cfg in [("cpu-small strict R=3", named_config("cpu-small", "local", R=3)),
                           ("authors' R=3 base 16", named_config("paper", "local", R=3))]:
        loc = build_model(loc_cfg.model).eval()
        panels = hybrid_panels(glob, loc, (0.2, 0.5))
        res = {}
        for name in ("global", "global in window", "local"):
            segs = panels[name]
            fl = count_flops(lambda segs=segs: hybrid_sample(segs, x1[:1], args.n_steps))
            hybrid_sample(segs, x1[:8], 2)  # warm-up
            t0 = time.perf_counter()
            hybrid_sample(segs, x1, args.n_steps)
            res[name] = (fl, time.perf_counter() - t0)
        g_fl, g_wall = res["global"]
        for name, (fl, wall) in res.items():
            print(f"[{label}] {name:>17}: FLOPs x{fl / g_fl:6.3f}   wall x{wall / g_wall:5.2f}   "
                  f"({fl / 1e9:.2f} GFLOP/sample, {wall:.2f} s for {args.samples})")

    path = args.results / "mnist_hybrid.json"
    if path.is_file():
        panels = json.loads(path.read_text())["hybrid"]["panels"]
        g, h = panels["global"], panels["global in window"]
        print(f"\n== from {path}: FID global {g['fid']:.2f}, hybrid {h['fid']:.2f}, ratio {h['fid'] / g['fid']:.3f}; "
              f"FLOPs x{h['flops_ratio']:.3f}, wall x{h['wall_ratio']:.2f} ==")
    else:
        print(f"\n(no {path}: run the demo for the FID ratio)")
    _ideal(args)


def _ideal(args: argparse.Namespace) -> None:
    from ideal_bench import main as ideal_main  # benchmarks/ is on sys.path when this runs as a script

    ideal_main(["--n-train", str(args.ideal_n), "--R", str(args.ideal_R), "--samples", str(args.samples),
                "--n-steps", str(args.n_steps), "--threads", str(torch.get_num_threads())])


if __name__ == "__main__":
    main()
