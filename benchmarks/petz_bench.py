"""Petz-area benchmarks; every number is a ratio against a baseline measured in the same run.

1. Backward vs forward: integrating the backward (Petz / rotated / twirled) equation, including building the
   generator from the running reference at every right-hand-side evaluation and the forward reference solve, vs
   integrating the forward equation alone, on the same 6-qubit system (TFIM Hamiltonian, amplitude damping on
   every site). Goal: backward <= 3x forward. The Petz and rotated flows are also timed in their one-shot
   (Heisenberg) form, one forward + one adjoint solve; the twirled flow with the exact kernel (baseline) and with
   the theta quadrature and with the certified low-rank kernel (same run, with the relative differences).
2. Local recovery cost vs ring length n: building the radius-1 local twirled generators for noise on every site
   (from the reduced neighbourhood states, taken as given) and applying them to an operator on the
   neighbourhood, vs building + applying the global generator (dimension 2^n). Goal: linear in n.
3. small_blas(): a loop of many small dense generator builds + applications with and without BLAS capped to 1 thread.
4. Twirled jump kernel, exact vs theta quadrature, per application, over d and the number of jumps J: the measured
   crossover behind ``twirl_method="auto"``.

    python benchmarks/petz_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.integrate import solve_ivp

from quantum_diffusion._threads import small_blas
from quantum_diffusion.info import partial_trace
from quantum_diffusion.petz import Lindbladian, petz_generator, recover, reference_path, solve_recovery
from quantum_diffusion.petz.local import embed_lindbladian, embed_operator, ring_neighbourhood
from quantum_diffusion.petz.models import gibbs_state, tfim_ring_hamiltonian


def _timeit(fn, repeat: int = 1, clock=time.process_time) -> float:
    """Return the best of ``repeat`` runs.

    Default clock: process CPU time, robust to other users' load on a shared machine (every timed block runs with
    BLAS capped to one thread, so CPU time is the single-core cost).
    """
    best = np.inf
    for _ in range(repeat):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def ring_system(n: int, gamma: float = 0.5, beta: float = 1.0) -> tuple[Lindbladian, np.ndarray]:
    """Return the TFIM ring with amplitude damping on every site and its Gibbs state."""
    h = tfim_ring_hamiltonian(n).toarray()
    low = np.array([[0.0, 1.0], [0.0, 0.0]])
    jumps = [np.sqrt(gamma) * embed_operator(low, [2] * n, [i], list(range(n))) for i in range(n)]
    return Lindbladian(0.2 * h, jumps), gibbs_state(h, beta)


def bench_backward_vs_forward(n: int = 6, T: float = 0.5, beta: float = 1.0, rtol: float = 1e-6,
                              atol: float = 1e-8, kinds=(("petz", 0.0), ("rotated", 0.5), ("twirled", 0.0))) -> dict:
    """Time the backward flows against the forward solve (section 1)."""
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
    ref = reference_path(lind, sigma, T, rtol=rtol / 10, atol=atol / 10)
    p_min = float(np.linalg.eigvalsh(sigma)[0])
    out = {"n": n, "dim": d, "beta": beta, "p_min": p_min, "forward_s": t_fwd}
    print(f"  beta={beta}: forward {t_fwd:.3f} s ({nfev['forward']} RHS evaluations), d={d}, "
          f"p_min/p_max of the reference = {p_min / np.linalg.eigvalsh(sigma)[-1]:.1e}")
    states = {}
    for kind, theta in kinds:
        methods = ("exact", "quadrature", "lowrank") if kind == "twirled" else ("auto",)
        for tm in methods:
            label = kind if kind != "twirled" else f"twirled[{tm}]"

            def backward(k=kind, th=theta, tm=tm, label=label):
                res = solve_recovery(lind, rho_T, sigma, T, kind=k, theta=th, rtol=rtol, atol=atol, twirl_method=tm,
                                     picture="schrodinger")
                nfev[label], states[label] = res.n_rhs, res.state

            def backward_reused(k=kind, th=theta):
                recover(lind, rho_T, sigma, T, kind=k, theta=th, rtol=rtol, atol=atol, reference=ref)

            t_b = _timeit(backward, 1 if kind == "twirled" else 2)
            t_r = t_b if kind == "twirled" else _timeit(backward_reused, 2)  # twirled: expensive, run once
            ratio, ev_ratio = t_b / t_fwd, nfev[label] / nfev["forward"]
            out[f"{label}_ratio"], out[f"{label}_nfev_ratio"] = ratio, ev_ratio
            out[f"{label}_ratio_reused_ref"] = t_r / t_fwd
            print(f"    backward {label:20s} / forward = {ratio:7.2f}  = {ev_ratio:.2f} (RHS evaluations) x "
                  f"{ratio / ev_ratio:.2f} (cost per evaluation, incl. reference solve); "
                  f"reference reused: {t_r / t_fwd:.2f}")
    if "twirled[exact]" in states:
        a = states["twirled[exact]"]
        for m in ("quadrature", "lowrank"):
            rel = float(np.max(np.abs(a - states[f"twirled[{m}]"])) / np.max(np.abs(a)))
            out[f"twirled_{m}_vs_exact_rel"] = rel
            print(f"    twirled flow, {m} vs exact kernel: max relative difference {rel:.1e} (integrator rtol "
                  f"{rtol:.0e}); speed-up exact/{m} = {out['twirled[exact]_ratio'] / out[f'twirled[{m}]_ratio']:.2f}")
    for kind, theta in kinds:
        if kind == "twirled":
            continue

        def heisenberg(k=kind, th=theta):
            res = solve_recovery(lind, rho_T, sigma, T, kind=k, theta=th, rtol=rtol, atol=atol, picture="heisenberg")
            states[f"{k}_h"] = res.state

        t_h = _timeit(heisenberg, 2)
        out[f"{kind}_heisenberg_ratio"] = t_h / t_fwd
        diff = float(np.max(np.abs(states[f"{kind}_h"] - states[kind])))
        print(f"    backward {kind}, one-shot (Heisenberg) form / forward = {t_h / t_fwd:7.2f}   "
              f"[vs Schroedinger flow: {out[f'{kind}_ratio'] / (t_h / t_fwd):.1f}x faster, max |diff| {diff:.1e}]")
    return out


def bench_twirl_kernel(ds=(4, 8, 12, 16, 24, 32, 48, 64), n_jumps=(1, 4), width: float = 10.0) -> dict:
    """Time one application of the twirled jump part, exact P.22 kernel vs theta quadrature (section 4).

    The exact kernel is built per generator, as in the flow; the reference has spectral width ``width``
    (``ln p_max - ln p_min``).
    """
    from quantum_diffusion.petz.spectral import twirl_quadrature

    rng = np.random.default_rng(2)
    res = []
    q = twirl_quadrature(width)[0].size
    from quantum_diffusion.petz.spectral import twirl_lowrank_rank

    print(f"  spectral width {width} -> Q = {q} quadrature nodes, rank {twirl_lowrank_rank(width)} low-rank terms "
          "(kernel error <= 1e-8)")
    for d in ds:
        for nj in n_jumps:
            jumps = [0.3 * (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) for _ in range(nj)]
            h = rng.normal(size=(d, d))
            lind = Lindbladian(h + h.T, jumps)
            p = np.exp(-np.linspace(0.0, width, d))
            u = np.linalg.qr(rng.normal(size=(d, d)))[0]
            sigma = u @ np.diag(p / p.sum()) @ u.T
            g = rng.normal(size=(d, d))
            x = g + g.T
            times = {}
            for tm in ("exact", "quadrature", "lowrank"):
                def run(tm=tm, lind=lind, sigma=sigma, x=x):
                    with small_blas():
                        petz_generator(lind, sigma, kind="twirled", twirl_method=tm).apply(x)

                times[tm] = _timeit(run, 3 if d <= 32 else 1)
            auto = petz_generator(lind, sigma, kind="twirled").twirl_kernel_method()
            r, r2 = times["exact"] / times["quadrature"], times["exact"] / times["lowrank"]
            res.append({"d": d, "J": nj, "exact_s": times["exact"], "quadrature_s": times["quadrature"],
                        "lowrank_s": times["lowrank"], "exact_over_quadrature": r, "exact_over_lowrank": r2,
                        "auto": auto})
            best = min(times, key=times.get)
            print(f"  d={d:3d} J={nj}: exact / quadrature = {r:6.2f}   exact / lowrank = {r2:6.2f}  "
                  f"(exact {1e3 * times['exact']:8.2f} ms)  auto -> {auto}"
                  f"{'' if best == auto else f'   [fastest: {best}]'}")
    return {"Q": q, "rows": res}


def bench_local_vs_global(ns=(6, 7, 8, 9), r: int = 2, global_max: int = 8) -> dict:
    """Time the local generators against the global one over the ring length (section 2)."""
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
    """Time many small generator builds with and without the BLAS thread cap (section 3)."""
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
    """Run the benchmark sections (command line: ``--quick``, ``--only``)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--only", nargs="+", type=int, choices=[1, 2, 3, 4], default=[1, 2, 3, 4],
                    help="run only these sections (default: all)")
    args = ap.parse_args(argv)
    if 1 in args.only:
        section_backward(args.quick)
    if 2 in args.only:
        print("2. local recovery cost vs ring length (ratios to the smallest n)")
        bench_local_vs_global(ns=(6, 7, 8) if args.quick else (6, 7, 8, 9, 10), global_max=9)
    if 3 in args.only:
        print("3. BLAS thread cap")
        bench_small_blas()
    if 4 in args.only:
        print("4. twirled jump kernel: exact (O(J d^4)) vs theta quadrature (O(Q J d^3)) vs low rank (O(r J d^3)); "
              "ratios > 1: the separable form is faster")
        bench_twirl_kernel(ds=(4, 8, 16, 32) if args.quick else (4, 8, 12, 16, 24, 32, 48, 64))


def section_backward(quick: bool) -> None:
    """Section 1 (both temperatures)."""
    print("1. backward vs forward integration (6 qubits; TFIM Gibbs reference, amplitude damping on every site)")
    for beta in (0.3, 1.0):
        bench_backward_vs_forward(n=5 if quick else 6, beta=beta,
                                  kinds=(("petz", 0.0), ("rotated", 0.5)) if beta < 1 else
                                  (("petz", 0.0), ("rotated", 0.5), ("twirled", 0.0)))


if __name__ == "__main__":
    main()
