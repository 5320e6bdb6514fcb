"""Classical-limit benchmark: cost of the classical lattice shortcuts relative to the general quantum objects.

Prints timings as ratios against a baseline measured in the same run (no absolute numbers are asserted):

1. one application of the backward generator to a diagonal state: the O(n) reverse chain (P.33, baseline)
   vs ``petz_generator(...).apply`` (Petz, twirled; O(n^3)) vs the dense (n^2, n^2) superoperator matvec;
2. the whole denoising flow: ``backward_evolve`` (baseline) vs the package's quantum ``recover``;
3. exact lattice heat evolution: Bessel-kernel convolution (baseline) vs ``scipy.linalg.expm`` times a vector.

    python benchmarks/classical_limit_bench.py [--n 48] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.linalg import expm

from quantum_diffusion._threads import small_blas
from quantum_diffusion.classical_limit.lattice import (
    PeriodicGrid,
    apply_reverse_fp,
    backward_evolve,
    heat_evolve,
    heat_generator,
    sound_jumps,
)
from quantum_diffusion.classical_limit.studies import BIMODAL, NOISE
from quantum_diffusion.petz import Lindbladian, petz_generator, recover


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=48, help="lattice sites")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n, rep = args.n, args.repeat
    grid = PeriodicGrid.centered(n, 12.0)
    p0 = BIMODAL.pdf(grid.x)
    p0 /= p0.sum()
    f = NOISE.pdf(grid.x)
    f /= f.sum()
    F = np.diag(f).astype(complex)
    forward = Lindbladian(np.zeros((n, n)), sound_jumps(grid))
    with small_blas():
        base = best_of(lambda: apply_reverse_fp(f, p0, grid), rep)
        bp = petz_generator(forward, np.diag(p0), "petz")
        bt = petz_generator(forward, np.diag(p0), "twirled")
        sup = bp.superop()
        print(f"[1] backward generator on a diagonal state, n = {n} (baseline reverse chain P.33 = 1)")
        print(f"    petz_generator.apply (petz)    : {best_of(lambda: bp.apply(F), rep) / base:10.1f}x")
        print(f"    petz_generator.apply (twirled) : {best_of(lambda: bt.apply(F), rep) / base:10.1f}x")
        print(f"    dense superoperator matvec     : {best_of(lambda: sup @ F.reshape(-1), rep) / base:10.1f}x")

        m = min(n, 16)
        g2 = PeriodicGrid.centered(m, 12.0)
        q0 = BIMODAL.pdf(g2.x)
        q0 /= q0.sum()
        qT = NOISE.pdf(g2.x)
        qT /= qT.sum()
        fw2 = Lindbladian(np.zeros((m, m)), sound_jumps(g2))
        base2 = best_of(lambda: backward_evolve(qT, q0, g2, 1.0, 1.0), 2)
        quant = best_of(lambda: recover(fw2, np.diag(qT), np.diag(q0), 1.0, "petz"), 1)
        print(f"[2] denoising flow T = 1, n = {m} (baseline backward_evolve = 1)")
        print(f"    quantum recover (petz)         : {quant / base2:10.1f}x")

        t = 0.5
        base3 = best_of(lambda: heat_evolve(p0, grid, 1.0, t), rep)
        G = heat_generator(grid)
        print(f"[3] lattice heat evolution, n = {n} (baseline Bessel convolution = 1)")
        print(f"    scipy.linalg.expm @ vector     : {best_of(lambda: expm(t * G) @ p0, rep) / base3:10.1f}x")


if __name__ == "__main__":
    main()
