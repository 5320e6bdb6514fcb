"""Why the ideal local denoiser can lose to a trained local net at small t_f (issue 12, recovery goal): held-out vs
training digits, the number N of training images, and the translation-equivariant (ELS) variant.

The ideal local denoiser (:class:`classical.ideal.IdealDenoiser`) is the minimum-MSE strictly local denoiser under
the *empirical* distribution of its N training images.  On a held-out digit at small t each noisy patch is
explained by the nearest of only N training patches at that position, a generalisation gap that a trained net
(which interpolates) need not have.  This script measures, on the same digits and noise:

* recovery MSE (``ceil(32 t_f)`` Euler steps from t_f to 0, as in :func:`classical.locality.recovery_grid`) and the
  one-step posterior-mean MSE :math:`E\\|\\hat x_0(x_t) - x_0\\|^2` (the quantity the ideal denoiser minimises), on
  held-out test digits and on training digits contained in every ideal denoiser's subset (nested subsets);
* the ideal position-specific denoiser at several N, the equivariant one at a small N (it sees N x 784 patches;
  its cost is 784 times higher per image), the cpu-small trained local nets found in the checkpoint cache
  (``local_R<R>.pt``, and ``local_R<R>_noise.pt`` from ``python -m classical train --model local --prediction noise``)
  and the cpu-small global net.

One command, about 5-10 minutes on 2 idle cores (defaults)::

    python benchmarks/ideal_recovery_gap.py [--n-train 2000 10000 30000] [--n-images 32] [--out results/x.json]

(A script's own folder, not the current one, is first on ``sys.path``: in a git worktree whose venv has another
checkout installed in editable mode, prefix ``PYTHONPATH=.`` or the other checkout's code is timed.)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

from classical.data import default_cache_dir, load_mnist
from classical.ideal import IdealDenoiser
from classical.locality import recovery_grid
from classical.path import interpolate, velocity_to_clean
from classical.pipeline import configure_threads
from classical.train import load_model


@torch.no_grad()
def one_step_mse(model, images: torch.Tensor, t_values, seed: int = 42) -> np.ndarray:
    """MSE of the posterior-mean estimate x0_hat = x_t - t v(x_t, t), same noise as recovery_grid."""
    z = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed), dtype=images.dtype)
    out = []
    for t in t_values:
        xt = interpolate(images, z, t)
        tt = torch.full((images.shape[0],), t)
        out.append(float(torch.mean((velocity_to_clean(model(xt, tt), xt, tt) - images) ** 2)))
    return np.array(out)


def main(argv: list[str] | None = None) -> None:
    """Run the diagnosis and print both tables (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-train", type=int, nargs="+", default=[2000, 10000, 30000])
    p.add_argument("--R", type=int, nargs="+", default=[3], help="radii (the first one for the equivariant part)")
    p.add_argument("--n-images", type=int, default=32)
    p.add_argument("--t-f", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4, 0.5])
    p.add_argument("--equivariant-n", type=int, default=100, help="N of the equivariant variant (0: skip)")
    p.add_argument("--equivariant-images", type=int, default=8)
    p.add_argument("--equivariant-t-f", type=float, nargs="+", default=[0.1, 0.2])
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--out", type=Path, default=None, help="write the tables as JSON here")
    args = p.parse_args(argv)
    print(f"threads {configure_threads()}, load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    cache = args.cache_dir or default_cache_dir()
    train_all = load_mnist("train", cache_dir=cache).images
    perm = np.random.default_rng(0).permutation(train_all.shape[0])  # nested subsets: perm[:N]
    test = load_mnist("test", cache_dir=cache).images
    sets = {
        "held-out": torch.from_numpy(test[torch.randperm(test.shape[0],
                                                         generator=torch.Generator().manual_seed(42))[:args.n_images]]),
        "training": torch.from_numpy(train_all[perm[:args.n_images]]),  # in every subset below
    }
    models = {}
    ck = cache / "checkpoints" / "cpu-small"
    names = ["global"] + [f"local_R{r}{sfx}" for r in args.R for sfx in ("", "_noise")]
    for name in names:
        if (ck / f"{name}.pt").is_file():  # trained nets of the cache (python -m classical train ...)
            label = name.replace("local_R", "R=").replace("_noise", " (noise pred.)")
            models[f"trained {label}"] = load_model(ck / f"{name}.pt", "cpu")
    for r in args.R:
        for n in args.n_train:
            t0 = time.perf_counter()
            models[f"ideal R={r} N={n}"] = IdealDenoiser(train_all[perm[:n]], radius=r, max_cache_bytes=2**32)
            print(f"built ideal R={r} N={n} in {time.perf_counter() - t0:.1f} s")
    results: dict[str, dict] = {}
    for which, imgs in sets.items():
        rec = recovery_grid(models, imgs, args.t_f)
        one = {name: one_step_mse(m, imgs, args.t_f) for name, m in models.items()}
        results[which] = {"t_f": list(args.t_f), "recovery": dict(zip(rec.names, rec.mse.tolist())),
                          "one_step": {k: v.tolist() for k, v in one.items()},
                          "seconds": dict(zip(rec.names, rec.seconds))}
        print(f"\n== {which} digits ({imgs.shape[0]}): recovery MSE | one-step posterior-mean MSE, per t_f ==")
        print(f"{'model':>28} " + " ".join(f"{t:>7g}" for t in args.t_f) + " | "
              + " ".join(f"{t:>7g}" for t in args.t_f))
        for i, name in enumerate(rec.names):
            print(f"{name:>28} " + " ".join(f"{v:7.4f}" for v in rec.mse[i]) + " | "
                  + " ".join(f"{v:7.4f}" for v in one[name]))
    if args.equivariant_n > 0:
        n, k, r = args.equivariant_n, args.equivariant_images, args.R[0]
        sub = {f"ideal R={r} N={n}": IdealDenoiser(train_all[perm[:n]], radius=r),
               f"equivariant R={r} N={n}": IdealDenoiser(train_all[perm[:n]], radius=r, equivariant=True),
               f"ideal R={r} N={args.n_train[0]}": models[f"ideal R={r} N={args.n_train[0]}"]}
        sub.update({name: m for name, m in models.items() if name.startswith(f"trained R={r}")})
        for which, imgs in sets.items():
            t0 = time.perf_counter()
            rec = recovery_grid(sub, imgs[:k], args.equivariant_t_f)
            one = {name: one_step_mse(m, imgs[:k], args.equivariant_t_f) for name, m in sub.items()}
            results[f"equivariant, {which}"] = {"t_f": list(args.equivariant_t_f),
                                               "recovery": dict(zip(rec.names, rec.mse.tolist())),
                                               "one_step": {a: b.tolist() for a, b in one.items()}}
            print(f"\n== equivariant vs position-specific, {which} digits ({k}), {time.perf_counter() - t0:.0f} s ==")
            for i, name in enumerate(rec.names):
                print(f"{name:>28} " + " ".join(f"{v:7.4f}" for v in rec.mse[i]) + " | "
                      + " ".join(f"{v:7.4f}" for v in one[name]))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=lambda o: None if math.isnan(o) else o))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
