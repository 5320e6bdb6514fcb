"""Toric-code benchmark: per-sample cost of each partition-function engine vs block size, and the gain of every
variance-reduced CMI estimator over plain Monte Carlo at p = 0.05, r = 4.

Ratios are against baselines measured in the same run (no absolute timing claims):
* engines: time per noise sample (16 flip patterns of A) relative to the dense Kac-Ward determinant at the same
  block size;
* estimators (``--estimators``): the work-normalised gain ``(stderr_plain^2 * time_plain) / (stderr^2 * time)``,
  i.e. how many times less wall time the estimator needs for the same standard error, with the same number of
  samples and independent seeds (issue 14 goal: >= 10);
* crossed (``--crossed``): the same gain for ``method="crossed"`` (and ``"cv"``) against plain sampling at
  several ``p``, from variance x time products: plain ``var(D) * (time per sample)``, crossed
  ``stderr^2 * time``; the 16-84% interval of each gain comes from a bootstrap over the plain samples and the
  crossed blocks (the per-sample variance is heavy-tailed at small ``p``).

Usage: ``python benchmarks/toric_bench.py [--estimators | --crossed [--outer N] [--options JSON]] [--samples 600]
[--r 4] [--p 0.05 0.1]``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from quantum_diffusion._threads import small_blas
from quantum_diffusion.toric import square_regions, toric_cmi
from quantum_diffusion.toric.controlvariate import toric_cmi_cv
from quantum_diffusion.toric.montecarlo import toric_cmi_mc
from quantum_diffusion.toric.partition import (
    KacWardBlock,
    flip_patterns,
    log_z_transfer,
    nishimori_beta,
    torus_flip_log_z,
)
from quantum_diffusion.toric.variance import toric_cmi_stratified


def _time(fn, reps: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def engines(p: float = 0.11, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    beta = nishimori_beta(p)
    print("per-sample cost (16 flip patterns of A) relative to the dense Kac-Ward baseline at the same size")
    print(f"{'side n':>6} {'edges':>6} {'dense KW':>9} {'sparse KW+lemma':>16} {'open TM x16':>12}")
    for n in (3, 5, 7, 9, 13, 17):
        kw = KacWardBlock(n)
        J = np.where(rng.random(kw.n_edges) < p, -1.0, 1.0)
        flip = np.array([0, 1, n, kw.n_edges - 1])
        reps = 3 if n < 17 else 1
        t_dense = _time(lambda: kw.flip_log_z(J, beta, flip, dense=True), reps)  # noqa: B023
        t_sparse = _time(lambda: kw.flip_log_z(J, beta, flip), reps)  # noqa: B023
        tm = "-"
        if n <= 9:
            def run_tm(J=J, n=n, flip=flip):
                for signs in flip_patterns(4):
                    Jf = J.copy()
                    Jf[flip] *= signs
                    log_z_transfer(Jf[: (n + 1) * n].reshape(n + 1, n), Jf[(n + 1) * n :].reshape(n, n + 1), beta,
                                   periodic=False)
            tm = f"{_time(run_tm, reps) / t_dense:12.3f}"
        print(f"{n:6d} {kw.n_edges:6d} {1.0:9.3f} {t_sparse / t_dense:16.4f} {tm:>12}")
    print("torus transfer matrix with A's corners open (one contraction for 16 patterns) vs 16 plain contractions")
    for L in (4, 6, 8, 9):
        J = np.where(rng.random(2 * L * L) < p, -1.0, 1.0)
        t_env = _time(lambda: torus_flip_log_z(L, J, beta, (1, 1)), 2)  # noqa: B023
        g = J.reshape(L, L, 2)
        t_one = _time(lambda: log_z_transfer(g[..., 0], g[..., 1], beta, periodic=True), 2)  # noqa: B023
        print(f"  L={L}: environment / (16 x plain) = {t_env / (16 * t_one):.3f}")


def variance(p: float, r: int, n: int, rel: float = 0.1, seed: int = 1) -> None:
    with small_blas():
        t0 = time.perf_counter()
        plain = toric_cmi_mc(p, r, "square", n_samples=n, seed=seed)
        t1 = time.perf_counter()
        strat = toric_cmi_stratified(p, r, "square", n_samples=n, seed=seed + 1)
        t2 = time.perf_counter()
    need = lambda res: n * (res.stderr / (rel * res.cmi)) ** 2  # noqa: E731
    print(f"square geometry p={p} r={r}, {n} samples each; samples needed for {rel:.0%} relative error")
    print(f"  plain      : I = {plain.cmi:.5f} +- {plain.stderr:.5f}  -> n = {need(plain):9.0f}")
    print(f"  stratified : I = {strat.cmi:.5f} +- {strat.stderr:.5f}  -> n = {need(strat):9.0f}")
    print(f"  gain (n_plain / n_stratified) = {need(plain) / need(strat):.2f};  time ratio per sample "
          f"{(t2 - t1) / (t1 - t0):.2f}")


def control_variate(p: float, r: int, n: int, rel: float = 0.1, seed: int = 1) -> None:
    """Plain KL vs the cross-fitted control variate (independent seeds): samples and wall time for ``rel`` error."""
    with small_blas():
        t0 = time.perf_counter()
        plain = toric_cmi_mc(p, r, "square", n_samples=n, seed=seed)
        t1 = time.perf_counter()
        cv = toric_cmi_cv(p, r, "square", n_samples=n, seed=seed + 1)
        t2 = time.perf_counter()
    need = lambda res: n * (res.stderr / (rel * res.cmi)) ** 2  # noqa: E731
    print(f"square geometry p={p} r={r}, {n} samples each; samples needed for {rel:.0%} relative error")
    for lab, res, dt in (("plain", plain, t1 - t0), ("control variate", cv, t2 - t1)):
        print(f"  {lab:15s} : I = {res.cmi:.5f} +- {res.stderr:.5f}  -> n = {need(res):9.0f}  ({dt:.1f} s)")
    print(f"  gain: samples {need(plain) / need(cv):.2f}; wall time "
          f"{need(plain) * (t1 - t0) / (need(cv) * (t2 - t1)):.2f}")


def estimators(p: float, r: int, n: int, seed: int = 1, repeats: int = 1) -> None:
    """Work-normalised gain of every Monte Carlo method of ``toric_cmi`` over plain sampling (same run)."""
    regions = square_regions(r)
    methods = ["mc", "cv", "stratified", "stratified_cv"]
    stats = {m: [] for m in methods}
    with small_blas():
        for rep in range(repeats):
            for k, m in enumerate(methods):  # interleaved, so a change in machine load hits every method alike
                t0 = time.perf_counter()
                res = toric_cmi(regions, p, method=m, n_samples=n, seed=seed + 10 * rep + k)
                stats[m].append((res.cmi, res.stderr, time.perf_counter() - t0, res.ess))
    print(f"square geometry p={p} r={r} (r_C = r), {n} samples per method, {repeats} repeat(s)")
    work = {}
    for m in methods:
        a = np.array(stats[m])
        var = np.mean(a[:, 1] ** 2)
        work[m] = var * a[:, 2].mean()
        print(f"  {m:14s}: I = {a[:, 0].mean():.5f} +- {np.sqrt(var / repeats):.5f}  time/sample "
              f"{a[:, 2].mean() / n * 1e3:6.1f} ms  ESS {a[:, 3].mean():7.1f}")
    for m in methods[1:]:
        print(f"  gain {m:14s} vs plain (equal error, equal wall time): {work['mc'] / work[m]:.2f}")


def _work(res, dt: float, rng: np.random.Generator, n_boot: int = 400) -> tuple[float, np.ndarray]:
    """Variance x time of one result and bootstrap replicas of it (resampling its per-sample values)."""
    x = res.samples
    n = x.size
    boot = np.array([x[rng.integers(0, n, n)].var(ddof=1) for _ in range(n_boot)]) / n * dt
    return x.var(ddof=1) / n * dt, boot


def crossed(ps: list[float], r: int, n_plain: int, n_crossed: int, repeats: int = 1, seed: int = 11,
            options: dict | None = None) -> None:
    """Gain of ``method="crossed"`` (and ``"cv"``) over plain Monte Carlo, equal error, equal wall time."""
    regions = square_regions(r)
    rng = np.random.default_rng(seed)
    print(f"square geometry r={r} (r_C = r); plain/cv {n_plain} samples, crossed {n_crossed} outer draws "
          f"(options {options or 'default'}), {repeats} repeat(s); gains = variance x time of plain / of method "
          "(16-84% bootstrap interval)")
    for p in ps:
        runs: dict[str, list] = {"mc": [], "cv": [], "crossed": []}
        with small_blas():
            for rep in range(repeats):
                for k, m in enumerate(runs):  # interleaved, so a change in machine load hits every method alike
                    t0 = time.perf_counter()
                    res = toric_cmi(regions, p, method=m, n_samples=n_crossed if m == "crossed" else n_plain,
                                    seed=seed + 10 * rep + k, options=options if m == "crossed" else None)
                    runs[m].append((res, time.perf_counter() - t0))
        work = {}
        for m, rr in runs.items():
            w = [_work(res, dt, rng) for res, dt in rr]
            work[m] = (np.mean([x[0] for x in w]), np.mean([x[1] for x in w], axis=0))
            cm = np.mean([res.cmi for res, _ in rr])
            se = np.sqrt(np.mean([res.stderr**2 for res, _ in rr]) / len(rr))
            unit = np.mean([dt / (res.samples.size if m != "crossed" else n_crossed) for res, dt in rr])
            print(f"  p={p:<5g} {m:8s}: I = {cm:.5f} +- {se:.5f}  time per sample/outer draw {unit * 1e3:6.1f} ms  "
                  f"ESS {np.mean([res.ess for res, _ in rr]):7.1f}")
        for m in ("cv", "crossed"):
            g = work["mc"][0] / work[m][0]
            lo, hi = np.percentile(work["mc"][1] / work[m][1], [16, 84])
            print(f"  p={p:<5g} gain {m:8s} vs plain (equal error, equal wall time): {g:6.2f}  [{lo:.2f}, {hi:.2f}]")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1200, help="samples per estimator")
    ap.add_argument("--r", type=int, default=4, help="width of B (square geometry, r_C = r)")
    ap.add_argument("--p", type=float, nargs="+", default=[0.05], help="flip probabilities")
    ap.add_argument("--crossed", action="store_true", help="gain of method='crossed' (and 'cv') over plain MC")
    ap.add_argument("--outer", type=int, default=None, help="outer draws of the crossed estimator (default --samples)")
    ap.add_argument("--options", type=json.loads, default=None,
                    help='options of the crossed estimator as JSON, e.g. \'{"c_per_block": 4}\'')
    ap.add_argument("--control-variate", action="store_true", help="only plain vs control-variate estimator")
    ap.add_argument("--estimators", action="store_true", help="gain of every toric_cmi method over plain MC")
    ap.add_argument("--repeats", type=int, default=1, help="repeats of the estimator comparison")
    ap.add_argument("--seed", type=int, default=11, help="base seed of the --crossed comparison")
    args = ap.parse_args(argv)
    if args.crossed:
        crossed(args.p, args.r, args.samples, args.outer or args.samples, repeats=args.repeats, seed=args.seed,
                options=args.options)
        return
    if args.estimators:
        estimators(args.p[0], args.r, args.samples, repeats=args.repeats)
        return
    if args.control_variate:
        control_variate(args.p[0], args.r, args.samples)
        return
    engines()
    variance(args.p[0], args.r, args.samples)


if __name__ == "__main__":
    main()
