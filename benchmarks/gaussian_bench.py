"""Gaussian benchmarks: ratios measured in one run (no absolute targets).

1. Theorem-1 phase diagram on a 401x401 grid: batched eigvalsh vs a per-point eigvalsh loop (goal >= 100x).
2. Minimal-repair SDP: one reused DPP-parametrised problem vs a problem rebuilt per point (goal >= 3x),
   in ms per solve, plus the closed form.
3. Eight-mode repair SDP (BKM weight): first solve (with compilation), a reused solve, the tolerance reached
   (goal 1e-9).
4. Closed-form Gaussian Petz / rotated / twirled generators vs the finite-dimensional ``petz.petz_generator`` in a
   truncated Fock space, as the cutoff grows (goal: second-moment action to 1e-6 relative once the reference's
   Fock tail is below 1e-12), and the one-shot Gaussian Petz map vs its Fock-space counterpart.

    python benchmarks/gaussian_bench.py [--n-grid 401] [--n-sdp 40]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.linalg import expm

from quantum_diffusion._threads import small_blas
from quantum_diffusion.conventions import omega
from quantum_diffusion.gaussian import (
    RepairProblem,
    attenuator,
    bayes_min_eig_grid,
    bayes_reverse,
    minimal_repair,
    minimal_repair_closed_form,
    squeezed_thermal,
)

SIGMA = np.array([[0.0, 1.0], [-1.0, 0.0]])


def per_point_loop(nu: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Baseline: build M_Bayes for every (nu, r) and call eigvalsh on it, one point at a time."""
    out = np.empty((nu.size, r.size))
    eye = np.eye(2)
    for i, n in enumerate(nu):
        for j, rr in enumerate(r):
            sig_inv = np.diag([np.exp(2 * rr) / n, np.exp(-2 * rr) / n])
            k = -0.5 * eye + sig_inv
            out[i, j] = np.linalg.eigvalsh(eye + 1j * (k @ SIGMA + SIGMA @ k.T))[0]
    return out


def _best_of(fn, repeats: int = 5) -> tuple[np.ndarray, float]:
    """Return the result and the best wall time of ``repeats`` calls (the minimum is the least load-sensitive)."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def bench_phase_diagram(n_grid: int) -> None:
    """Time the batched phase diagram against a per-point loop."""
    nu = np.linspace(1.0, 5.0, n_grid)
    r = np.linspace(0.0, 1.5, n_grid)
    vec, t_vec = _best_of(lambda: bayes_min_eig_grid(nu[:, None], r[None, :]))
    vec_lapack, t_lapack = _best_of(lambda: bayes_min_eig_grid(nu[:, None], r[None, :], method="eigvalsh"))
    with small_blas():
        t0 = time.perf_counter()
        loop = per_point_loop(nu, r)
        t_loop = time.perf_counter() - t0
    assert np.allclose(vec, loop, atol=1e-12) and np.allclose(vec_lapack, loop, atol=1e-12)
    print(f"[phase diagram {n_grid}x{n_grid}] per-point eigvalsh loop {t_loop * 1e3:.0f} ms; best of 5: vectorised 2x2 "
          f"formula {t_vec * 1e3:.1f} ms, ratio {t_loop / t_vec:.0f}x (goal >= 100x); batched LAPACK eigvalsh "
          f"{t_lapack * 1e3:.1f} ms, ratio {t_loop / t_lapack:.0f}x")


def _points(n: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    gen = attenuator()
    pts = []
    for _ in range(n):
        sig = squeezed_thermal(rng.uniform(1.05, 5.0), rng.uniform(0.0, 1.5), rng.uniform(0, np.pi))
        pts.append((bayes_reverse(gen, sig).cp_matrix(), sig))
    return pts


def bench_repair(n_sdp: int) -> None:
    """Time the reused vs rebuilt one-mode repair SDP and the closed form."""
    pts = _points(n_sdp)
    with small_blas():
        problem = RepairProblem(1)
        minimal_repair(pts[0][0], weight="bkm", gamma_ref=pts[0][1], problem=problem)  # compile once
        t0 = time.perf_counter()
        reused = [minimal_repair(m, weight="bkm", gamma_ref=s, problem=problem).cost for m, s in pts]
        t_reuse = (time.perf_counter() - t0) / n_sdp
        t0 = time.perf_counter()
        rebuilt = [minimal_repair(m, weight="bkm", gamma_ref=s).cost for m, s in pts]
        t_rebuild = (time.perf_counter() - t0) / n_sdp
        t0 = time.perf_counter()
        closed = [minimal_repair_closed_form(m, weight="bkm", gamma_ref=s).cost for m, s in pts]
        t_closed = (time.perf_counter() - t0) / n_sdp
    err = max(abs(a - c) / max(c, 1e-2) for a, c in zip(reused, closed))
    assert np.allclose(reused, rebuilt, rtol=1e-6, atol=1e-8)
    print(f"[repair SDP, {n_sdp} one-mode points] reused {t_reuse * 1e3:.2f} ms/solve, rebuilt "
          f"{t_rebuild * 1e3:.2f} ms/solve, ratio {t_rebuild / t_reuse:.1f}x (goal >= 3x); closed form "
          f"{t_closed * 1e6:.0f} us ({t_reuse / t_closed:.0f}x faster than reused SDP); "
          f"max rel. SDP error {err:.1e}")


def bench_eight_modes(seed: int = 1) -> None:
    """Solve one 8-mode repair SDP and report the time and the solver tolerance reached (goal 1e-9)."""
    n = 8
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(2 * n, 2 * n)) * 0.3
    s = expm(omega(n) @ (h + h.T) / 2)
    gam = s @ np.diag(np.repeat(rng.uniform(1.1, 3.0, n), 2)) @ s.T
    m = bayes_reverse(attenuator(1.0, n), gam).cp_matrix()
    with small_blas():
        t0 = time.perf_counter()
        problem = RepairProblem(n)
        res = minimal_repair(m, weight="bkm", gamma_ref=gam, problem=problem)
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        minimal_repair(m, weight="bkm", gamma_ref=gam, problem=problem)
        t_second = time.perf_counter() - t0
    print(f"[8-mode repair SDP, 16x16] first solve (incl. build) {t_first * 1e3:.0f} ms, reused solve "
          f"{t_second * 1e3:.0f} ms; lambda_min {res.lambda_min_before:.3f} -> {res.lambda_min_after:.1e}, "
          f"status {res.status} at tol {res.solver_tol:g}")


def _fock_moments(x: np.ndarray, quads: list[np.ndarray]) -> np.ndarray:
    """Second moments <{R_k, R_l}> of an operator in a truncated Fock space."""
    return np.array([[np.trace((u @ w + w @ u) @ x).real for w in quads] for u in quads])


def bench_fock_crosscheck(cutoffs: tuple[int, ...] = (8, 12, 16, 20, 26, 32, 40)) -> None:
    """Closed-form Gaussian Petz generators vs petz_generator on a truncated Fock space, error vs cutoff.

    Squeezed reference Sigma(nu, r) seen from its squeezed frame (unitarily equivalent, and exact in Fock space):
    thermal reference diag((1-q) q^n) and forward jump cosh(r) a - sinh(r) a^dag plus H = 0.3 a^dag a.  The probe is
    a squeezed thermal state with a smaller tail.  Error: max-norm of the second-moment action, relative.
    """
    import qutip

    from quantum_diffusion.gaussian import GaussianGenerator, gaussian_petz_map, petz_backward_generator
    from quantum_diffusion.petz import Lindbladian, petz_generator

    nu, r = 1.6, 0.4
    q = (nu - 1) / (nu + 1)
    c = np.cosh(r) * np.array([1, 1j]) / np.sqrt(2) - np.sinh(r) * np.array([1, -1j]) / np.sqrt(2)
    gen = GaussianGenerator.from_lindblad(0.3 * np.eye(2), [c])
    closed = {k: petz_backward_generator(gen, nu * np.eye(2), kind=k, theta=th)
              for k, th in (("petz", 0.0), ("rotated", 0.7), ("twirled", 0.0))}
    print(f"[Fock cross-check, one mode, nu={nu}, r={r} (squeezed frame)] relative error of the second-moment action")
    met = None
    for n_fock in cutoffs:
        a = qutip.destroy(n_fock).full()
        lind = Lindbladian(0.3 * a.conj().T @ a, [np.cosh(r) * a - np.sinh(r) * a.conj().T])
        p_ref = (1 - q) * q ** np.arange(n_fock)
        sig = np.diag(p_ref / p_ref.sum())  # truncated and renormalised
        sq = qutip.squeeze(n_fock, 0.1 * np.exp(-0.8j))
        rho = (sq * qutip.thermal_dm(n_fock, 0.15) * sq.dag()).full()
        rho = rho / np.trace(rho).real
        qq = (a + a.conj().T) / np.sqrt(2)
        pp = (a - a.conj().T) / (1j * np.sqrt(2))
        quads = [qq, pp]
        g = _fock_moments(rho, quads)
        errs = {}
        for kind, th in (("petz", 0.0), ("rotated", 0.7), ("twirled", 0.0)):
            # exact diagonal Fock reference (its tail is below the default rank threshold on purpose)
            gen_fock = petz_generator(lind, sig, kind=kind, theta=th, rank_tol=1e-300, twirl_method="exact")
            rate = _fock_moments(gen_fock.apply(rho), quads)
            ref = closed[kind].rhs(g)
            errs[kind] = float(np.max(np.abs(rate - ref)) / np.max(np.abs(ref)))
        tail = q**n_fock
        print(f"  cutoff {n_fock:3d}: reference tail {tail:.1e}; petz {errs['petz']:.1e}, rotated "
              f"{errs['rotated']:.1e}, twirled {errs['twirled']:.1e}")
        if met is None and tail < 1e-12:
            met = (n_fock, max(errs.values()))
    if met is not None:
        print(f"  first cutoff with tail < 1e-12: {met[0]}, worst relative error {met[1]:.1e} (goal <= 1e-6)")
    # one-shot map vs its Fock-space counterpart (pure loss is exact in a truncated Fock space)
    from scipy.special import comb

    eta, nu0, n_fock = 0.6, 1.8, 40
    kraus = []
    for k in range(n_fock):
        a_k = np.zeros((n_fock, n_fock))
        for m in range(k, n_fock):
            a_k[m - k, m] = np.sqrt(comb(m, k) * eta ** (m - k) * (1 - eta) ** k)
        kraus.append(a_k)
    q0 = (nu0 - 1) / (nu0 + 1)
    p_sig = (1 - q0) * q0 ** np.arange(n_fock)
    w = np.diag(sum(a_k @ np.diag(p_sig) @ a_k.T for a_k in kraus)).real
    a = qutip.destroy(n_fock).full()
    quads = [(a + a.conj().T) / np.sqrt(2), (a - a.conj().T) / (1j * np.sqrt(2))]
    sq = qutip.squeeze(n_fock, 0.3 * np.exp(1.0j))
    rho = (sq * qutip.thermal_dm(n_fock, 0.1) * sq.dag()).full()
    g_in = _fock_moments(rho, quads)
    for kind, th in (("petz", 0.0), ("rotated", 0.8)):
        ap, bp = (1 + 1j * th) / 2, (1 - 1j * th) / 2
        inner = (w**-ap)[:, None] * rho * (w**-bp)[None, :]
        out = (p_sig**ap)[:, None] * sum(a_k.T @ inner @ a_k for a_k in kraus) * (p_sig**bp)[None, :]
        rec = gaussian_petz_map(attenuator().channel(-np.log(eta)), nu0 * np.eye(2), kind=kind, theta=th)
        pred = rec.apply(g_in)
        err = np.max(np.abs(_fock_moments(out, quads) - pred)) / np.max(np.abs(pred))
        print(f"[one-shot Gaussian {kind} map vs Fock space, cutoff {n_fock}, tail {q0**n_fock:.0e}] "
              f"relative error {err:.1e}")


def main(argv: list[str] | None = None) -> None:
    """Run every Gaussian benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-grid", type=int, default=401)
    ap.add_argument("--n-sdp", type=int, default=40)
    args = ap.parse_args(argv)
    bench_phase_diagram(args.n_grid)
    bench_repair(args.n_sdp)
    bench_eight_modes()
    bench_fock_crosscheck()


if __name__ == "__main__":
    main()
