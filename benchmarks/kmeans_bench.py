"""k-means of ``fit_mixture``: ``kmeans="blas"`` (distances as matrix products) against ``scipy.cluster.vq.kmeans2``.

Both run 20 Lloyd iterations from a k-means++ start on the same samples of a planted mixture in the grid's
dimension (d = 729), in this run and on this machine; the script prints each time, their ratio, and the
within-cluster sum of squares of each partition (equal quality is part of the claim).  Run:
``python benchmarks/kmeans_bench.py [--n 43200 --k 200]`` (the grid's feature fit on 60 000 images: n = 43 200).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.cluster.vq import kmeans2

from classical.information.references import GaussianMixture, _kmeans_blas


def inertia(x: np.ndarray, lab: np.ndarray) -> float:
    """Within-cluster sum of squares per sample."""
    return float(sum(((x[lab == j] - x[lab == j].mean(0)) ** 2).sum() for j in np.unique(lab)) / x.shape[0])


def main() -> None:
    """Time both and print the ratio."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000, help="samples")
    p.add_argument("--k", type=int, default=100, help="clusters")
    p.add_argument("--d", type=int, default=729, help="dimension")
    a = p.parse_args()
    if min(a.n, a.k, a.d) < 1 or a.k > a.n:
        p.error("need n >= k >= 1 and d >= 1")
    rng = np.random.default_rng(0)
    k_true = a.k
    gm = GaussianMixture(np.full(k_true, 1.0 / k_true), rng.standard_normal((k_true, a.d)),
                         np.full((k_true, a.d), 0.5), 0.3 * rng.standard_normal((k_true, a.d, 2)))
    x = gm.sample(a.n, seed=1)
    t0 = time.perf_counter()
    lab_b = _kmeans_blas(x, a.k, np.random.default_rng(2), iters=20)
    t_b = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, lab_s = kmeans2(x, a.k, iter=20, minit="++", seed=np.random.default_rng(2))
    t_s = time.perf_counter() - t0
    print(f"n = {a.n}, d = {a.d}, K = {a.k}")
    print(f"scipy kmeans2: {t_s:.1f} s, inertia {inertia(x, lab_s):.2f}")
    print(f"blas:          {t_b:.1f} s, inertia {inertia(x, lab_b):.2f}")
    print(f"speed-up (scipy / blas): {t_s / t_b:.1f}x")


if __name__ == "__main__":
    main()
