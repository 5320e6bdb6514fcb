"""Petz-area benchmarks; every number is a ratio against a baseline measured in the same run.

1. Backward vs forward: integrating the backward (Petz / rotated / twirled) equation, including building the
   generator from the running reference at every right-hand-side evaluation and the forward reference solve, vs
   integrating the forward equation alone, on the same 6-qubit system (TFIM Hamiltonian, amplitude damping on
   every site). Goal: backward <= 3x forward.
2. Local recovery cost vs ring length n: building the radius-1 local twirled generators for noise on every site
   (from the reduced neighbourhood states, taken as given) and applying them to an operator on the
   neighbourhood, vs building + applying the global generator (dimension 2^n). Goal: linear in n.
3. small_blas(): a loop of many small dense generator builds + applications with and without BLAS capped to 1 thread.

    python benchmarks/petz_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.integrate import solve_ivp

from quantum_diffusion._threads import small_blas
from quantum_diffusion.info import partial_trace
from quantum_diffusion.petz import Lindbladian, petz_generator, recover, reference_path
from quantum_diffusion.petz.local import embed_lindbladian, embed_operator, ring_neighbourhood
from quantum_diffusion.petz.models import gibbs_state, tfim_ring_hamiltonian


def _timeit(fn, repeat: int = 1, clock=time.process_time) -> float:
    """Best of ``repeat`` runs. Default clock: process CPU time, robust to other users' load on a shared machine
    (every timed block runs with BLAS capped to one thread, so CPU time is the single-core cost)."""
    best = np.inf
    for _ in range(repeat):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def ring_system(n: int, gamma: float = 0.5, beta: float = 1.0) -> tuple[Lindbladian, np.ndarray]:
    h = tfim_ring_hamiltonian(n).toarray()
    low = np.array([[0.0, 1.0], [0.0, 0.0]])
    jumps = [np.sqrt(gamma) * embed_operator(low, [2] * n, [i], list(range(n))) for i in range(n)]
    return Lindbladian(0.2 * h, jumps), gibbs_state(h, beta)


def bench_backward_vs_forward(n: int = 6, T: float = 0.5, beta: float = 1.0, rtol: float = 1e-6,
                              atol: float = 1e-8, kinds=(("petz", 0.0), ("rotated", 0.5), ("twirled", 0.0))) -> dict:
    lind, sigma = ring_system(n, beta=beta)
    d = lind.dim
    rng = np.random.default_rng(0)
    psi = rng.normal(size=d) + 1j * rng.normal(size=d)
    rho_T = 0.5 * sigma + 0.5 * np.outer(psi, psi.conj()) / np.vdot(psi, psi).real
    nfev = {}

    def forward():
        with small_blas():
            sol = solve_ivp(lambda t, y: lind.apply(y.reshape(d, d)).reshape(-1), (0, T),
                            sigma.reshape(-1).astype(complex), rtol=rtol, atol=atol)
        nfev["forward"] = sol.nfev

    t_fwd = _timeit(forward, 3)
    with small_blas():
        ref = reference_path(lind, sigma, T, rtol=rtol / 10, atol=atol / 10)
    p_min = float(np.linalg.eigvalsh(sigma)[0])
    out = {"n": n, "dim": d, "beta": beta, "p_min": p_min, "forward_s": t_fwd}
    print(f"  beta={beta}: forward {t_fwd:.3f} s ({nfev['forward']} RHS evaluations), d={d}, "
          f"p_min/p_max of the reference = {p_min / np.linalg.eigvalsh(sigma)[-1]:.1e}")
    for kind, theta in kinds:
        def backward(k=kind, th=theta):
            _, sol = recover(lind, rho_T, sigma, T, kind=k, theta=th, rtol=rtol, atol=atol, return_solution=True)
            nfev[k] = sol.nfev

        def backward_reused(k=kind, th=theta):
            recover(lind, rho_T, sigma, T, kind=k, theta=th, rtol=rtol, atol=atol, reference=ref)

        t_b = _timeit(backward, 1 if kind == "twirled" else 2)
        t_r = t_b if kind == "twirled" else _timeit(backward_reused, 2)  # twirled: O(d^4) per RHS, run once
        ratio, ev_ratio = t_b / t_fwd, nfev[kind] / nfev["forward"]
        out[f"{kind}_ratio"], out[f"{kind}_nfev_ratio"], out[f"{kind}_ratio_reused_ref"] = ratio, ev_ratio, t_r / t_fwd
        print(f"    backward {kind:8s} / forward = {ratio:7.2f}  = {ev_ratio:.2f} (RHS evaluations) x "
              f"{ratio / ev_ratio:.2f} (cost per evaluation, incl. reference solve); "
              f"reference reused: {t_r / t_fwd:.2f}")

    def heisenberg():
        recover(lind, rho_T, sigma, T, kind="petz", rtol=rtol, atol=atol, picture="heisenberg")

    t_h = _timeit(heisenberg, 2)
    out["petz_heisenberg_ratio"] = t_h / t_fwd
    print(f"    backward petz, Heisenberg picture (rho = sigma^1/2 Y sigma^1/2) / forward = {t_h / t_fwd:7.2f}")
    return out


def bench_local_vs_global(ns=(6, 7, 8, 9), r: int = 2, global_max: int = 8) -> dict:
    res = {"n": list(ns), "local_s": [], "global_s": []}
    for n in ns:
        lind, sigma = ring_system(n)
        dims = [2] * n
        low = Lindbladian(np.zeros((2, 2)), [np.sqrt(0.5) * np.array([[0.0, 1.0], [0.0, 0.0]])])
        nbs = [ring_neighbourhood([i], r, n) for i in range(n)]
        reduced = [partial_trace(sigma, dims, nb) for nb in nbs]  # taken as given (not timed)
        rng = np.random.default_rng(n)
        x_loc = []
        for nb in nbs:  # a generic (non-commuting) operand on the neighbourhood: the general P.22 kernel path
            g = rng.normal(size=(2 ** len(nb),) * 2)
            x_loc.append(g + g.T)

        def local(nbs=nbs, reduced=reduced, x_loc=x_loc, dims=dims, low=low):
            with small_blas():
                for i, (nb, s_ab, x) in enumerate(zip(nbs, reduced, x_loc)):
                    gen = petz_generator(embed_lindbladian(low, dims, [i], nb), s_ab, kind="twirled")
                    gen.apply(x)

        t_loc = _timeit(local, 3)
        res["local_s"].append(t_loc)
        if n <= global_max:
            def glob(lind=lind, sigma=sigma):
                with small_blas():
                    petz_generator(lind, sigma, kind="petz").apply(sigma)

            res["global_s"].append(_timeit(glob, 1))
        else:
            res["global_s"].append(float("nan"))
    base_l, base_g = res["local_s"][0], res["global_s"][0]
    for n, tl, tg in zip(ns, res["local_s"], res["global_s"]):
        print(f"  n={n:2d}: local (all n sites) {tl / base_l:6.2f}x   [n/n0 = {n / ns[0]:.2f}; per site "
              f"{1e3 * tl / n:.1f} ms]   global Petz generator {tg / base_g:8.2f}x")
    return res


def bench_small_blas(d: int = 32, iters: int = 40) -> dict:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    jumps = [0.3 * (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) for _ in range(3)]
    lind = Lindbladian(a + a.conj().T, jumps)
    w = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    sigma = w @ w.conj().T
    sigma /= np.trace(sigma).real

    def loop():
        for _ in range(iters):
            petz_generator(lind, sigma, kind="rotated", theta=0.3).apply(sigma)

    t_free = _timeit(loop, 2, clock=time.perf_counter)  # wall time: threads are the point here

    def capped():
        with small_blas():
            loop()

    t_cap = _timeit(capped, 2, clock=time.perf_counter)
    print(f"  small_blas: default threads / 1 thread = {t_free / t_cap:.2f}  (d={d}, {iters} builds+applies)")
    return {"d": d, "ratio_default_over_capped": t_free / t_cap}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    args = ap.parse_args(argv)
    print("1. backward vs forward integration (6 qubits; TFIM Gibbs reference, amplitude damping on every site)")
    for beta in (0.3, 1.0):
        bench_backward_vs_forward(n=5 if args.quick else 6, beta=beta,
                                  kinds=(("petz", 0.0), ("rotated", 0.5)) if beta < 1 else
                                  (("petz", 0.0), ("rotated", 0.5), ("twirled", 0.0)))
    print("2. local recovery cost vs ring length (ratios to the smallest n)")
    bench_local_vs_global(ns=(6, 7, 8) if args.quick else (6, 7, 8, 9, 10), global_max=9)
    print("3. BLAS thread cap")
    bench_small_blas()


if __name__ == "__main__":
    main()
