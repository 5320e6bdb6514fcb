"""Ideal local denoiser sampler speed (issue 12 goal: R = 3 on 10 000 MNIST training images, a 32-step sample of 64
images in <= 60 s on 2 cores), as ratios to the global U-Nets' samplers timed in the same run.

One command, about 2-4 minutes on 2 idle cores::

    python benchmarks/ideal_bench.py

(A script's own folder, not the current one, is first on ``sys.path``: in a git worktree whose venv has another
checkout installed in editable mode, prefix ``PYTHONPATH=.`` or the other checkout's code is timed.)

Prints, in order:

* the load average (1, 5, 15 min) before and after, and the torch thread count (default 2: the goal's 2 cores);
* the 32-step, 64-image Euler sampler of the cpu-small global U-Net (width 16, the demo's) and of the paper's
  global U-Net (width 64): wall times, the baselines (random weights: the cost does not depend on them);
* the ideal local denoiser (:class:`classical.ideal.IdealDenoiser`, position-specific): build time, the same
  sampler's wall time, seconds per step, matmul FLOPs per step (all-zero patches skipped) and the ratios to both
  global samplers, and whether the <= 60 s goal is met;
* wall time and process CPU time of every sampler: on a machine shared with other jobs, wall time with 2 threads
  is unreliable (OpenMP threads spin against the other jobs; we saw 10-50x slow-downs at load 6 on 2 cores), while
  the CPU time of a ``--threads 1`` run stays close to the idle single-core wall time, an upper bound of the idle
  2-core wall time;
* exactness of the fast (cached, float32) path against the uncached float64 reference on 4 images at
  t = 0.05, 0.3, 0.9 (max |difference| of the denoised pixels, which lie in [0, 1]).

``--chunk-scan`` additionally times one denoiser step at several ``max_chunk_bytes`` (the memory/cache trade-off of
the streaming log-sum-exp).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from classical.data import load_mnist
from classical.ideal import IdealDenoiser
from classical.models import build_model
from classical.quality import count_flops
from classical.sampling import euler_sample
from classical.train import named_config


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _time_sampler(model, x1: torch.Tensor, n_steps: int) -> tuple[float, float]:
    """Wall and process CPU seconds of one sampler run (after a warm-up)."""
    euler_sample(model, x1[:8], 1)  # warm-up (allocations, oneDNN kernels)
    t0, c0 = time.perf_counter(), time.process_time()
    euler_sample(model, x1, n_steps)
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-train", type=int, default=10000, help="training images of the ideal denoiser")
    p.add_argument("--R", type=int, default=3, help="radius of the ideal local denoiser")
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--n-steps", type=int, default=32, help="Euler steps on [0, 1]")
    p.add_argument("--threads", type=int, default=2, help="torch threads (the goal is stated for 2 cores)")
    p.add_argument("--chunk-scan", action="store_true", help="also time one step at several max_chunk_bytes")
    p.add_argument("--no-paper-global", action="store_true", help="skip the width-64 global U-Net baseline")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"load average before: {_load()}   cores: {os.cpu_count()}   torch threads: {torch.get_num_threads()}")
    x1 = torch.randn(args.samples, 1, 28, 28, generator=torch.Generator().manual_seed(0))

    torch.manual_seed(0)
    base = {}
    for name in ("cpu-small",) + (() if args.no_paper_global else ("paper",)):
        net = build_model(named_config(name, "global").model).eval()
        with torch.no_grad():
            base[name], cpu = _time_sampler(net, x1, args.n_steps)
        print(f"global U-Net ({name}): {args.n_steps}-step sample of {args.samples}: {base[name]:.2f} s "
              f"(CPU {cpu:.2f} s)")

    imgs = load_mnist("train", limit=args.n_train).images
    t0 = time.perf_counter()
    den = IdealDenoiser(imgs, radius=args.R)
    build = time.perf_counter() - t0
    wall, cpu = _time_sampler(den, x1, args.n_steps)
    fl = count_flops(lambda: den(x1, torch.full((args.samples,), 0.5)))
    dense = 2 * args.n_train * 28 * 28 * (2 * args.R + 1) ** 2 * args.samples
    ratios = ", ".join(f"x{wall / v:.1f} the {k} global sampler" for k, v in base.items())
    print(f"ideal local R={args.R} on {args.n_train} images (patch cache: {den.cached}): build {build:.1f} s; "
          f"{args.n_steps}-step sample of {args.samples}: {wall:.1f} s (CPU {cpu:.1f} s) = "
          f"{wall / args.n_steps:.2f} s/step "
          f"(goal <= 60 s: {'met' if wall <= 60 else 'NOT met'}); {ratios}")
    print(f"  matmul FLOPs per step {fl / 1e9:.1f} G ({fl / dense:.2f} of the dense count: all-zero patches "
          f"skipped), {fl * args.n_steps / wall / 1e9:.1f} GFLOP/s sustained")

    # exactness of the fast path: cached float32 vs the uncached float64 reference
    ref = IdealDenoiser(imgs, radius=args.R, dtype=torch.float64, max_cache_bytes=0)
    z = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    x0 = torch.from_numpy(load_mnist("test", limit=4).images)
    worst = 0.0
    for t in (0.05, 0.3, 0.9):
        xt = (1 - t) * x0 + t * z
        worst = max(worst, float((den.denoise(xt, t).double() - ref.denoise(xt.double(), t)).abs().max()))
    print(f"  fast path vs float64 reference (4 test images, t = 0.05, 0.3, 0.9): max |diff| {worst:.2e}")

    if args.chunk_scan:
        xt = 0.5 * x1 + 0.5 * torch.rand(x1.shape, generator=torch.Generator().manual_seed(2))
        for cb in (2**20, 2**22, 2**23, 2**24, 2**25, 2**27):
            den.max_chunk_bytes = cb
            den.denoise(xt[:8], 0.5)
            t0 = time.perf_counter()
            den.denoise(xt, 0.5)
            print(f"  max_chunk_bytes 2^{cb.bit_length() - 1}: {time.perf_counter() - t0:.2f} s per step")
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
