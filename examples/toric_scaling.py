"""Finite-size-scaling run of the toric-code CMI: a resumable sweep over (p, r, r_C, batch), then the collapse fit.

Every grid point is one batch of ``--batch-size`` noise samples (an independent, unbiased estimate with its own
seed derived from the point).  Rerunning the same command skips finished batches; raising ``--batches`` (or
adding ``--p``/``--r`` values) extends the run point by point.  The grid is ordered batch-major, so a run that is
stopped at any time has about the same number of samples at every (p, r).

Usage: ``python examples/toric_scaling.py [--store results/toric_scaling/store.jsonl] [--batches 10]
[--executor serial|process|dask] [--fit-only]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from quantum_diffusion.io import atomic_write_json
from quantum_diffusion.markov import markov_scan, peak_with_error
from quantum_diffusion.sweep import load_results, sweep
from quantum_diffusion.toric.scaling import collapse_fit, pool_batches, scaling_point

#: Reference values the fit is compared with.
REFERENCES = {"Sang-Hsieh (PRL 134, 070403)": {"p_c": 0.11, "nu": 1.8, "alpha": 1.1},
              "RBIM Nishimori point (Hasenbusch et al. 2008)": {"p_c": 0.10919, "nu": 1.5}}

P_DEFAULT = [0.05, 0.07, 0.09, 0.10, 0.11, 0.12, 0.13, 0.15, 0.17, 0.20]
R_DEFAULT = [2, 3, 4, 5, 6, 7, 8]


def build_grid(ps: list[float], rs: list[int], r_cs: list[int | None], batches: int, batch_size: int,
               method: str) -> list[dict]:
    """Batch-major list of sweep points (``r_C = None`` means ``r_C = r``)."""
    return [{"p": p, "r": r, "r_C": rc, "batch": b, "n_samples": batch_size, "method": method}
            for b in range(batches) for rc in r_cs for r in rs for p in ps]


def fit_store(store: Path, *, r_min: int = 2, degree: int = 4, n_boot: int = 200, seed: int = 0) -> dict:
    """Pool the store's batches and fit every geometry: collapse (p_c, nu, alpha) and the peak of xi(p)."""
    points = pool_batches(load_results(store))
    out: dict = {"store": str(store), "references": REFERENCES, "r_min": r_min, "degree": degree,
                 "points": [q.to_dict() for q in points], "geometries": {}}
    for geom in sorted({q.geometry for q in points}):
        pts = [q for q in points if q.geometry == geom]
        p = np.array([q.p for q in pts])
        r = np.array([q.r for q in pts])
        cmi = np.array([q.cmi for q in pts])
        err = np.array([q.stderr for q in pts])
        res: dict = {"n_points": len(pts), "samples_per_point": [int(min(q.n_samples for q in pts)),
                                                                  int(max(q.n_samples for q in pts))]}
        try:
            res["collapse"] = collapse_fit(p, r, cmi, err, degree=degree, r_min=r_min, n_boot=n_boot,
                                           seed=seed).to_dict()
        except ValueError as exc:
            res["collapse"] = {"error": str(exc)}
        ps, rs = np.unique(p), np.unique(r)
        if all(((p == a) & (r == b)).sum() == 1 for a in ps for b in rs):
            grid = np.array([[cmi[(p == a) & (r == b)][0] for b in rs] for a in ps])
            egrid = np.array([[err[(p == a) & (r == b)][0] for b in rs] for a in ps])
            scan = markov_scan(ps, rs, grid, egrid, r_min=r_min)
            res["markov"] = scan.to_dict()
            try:
                res["xi_peak"] = peak_with_error(ps, np.array(scan.xi), np.array(scan.xi_err), seed=seed).to_dict()
            except ValueError as exc:  # NoInteriorPeakError, or too few p
                res["xi_peak"] = {"error": str(exc)}
        out["geometries"][geom] = res
    return out


def _report(fit: dict) -> None:
    for geom, res in fit["geometries"].items():
        c = res["collapse"]
        lo, hi = res["samples_per_point"]
        print(f"[{geom}] {res['n_points']} points, {lo}-{hi} samples each")
        if "error" in c:
            print(f"  collapse: {c['error']}")
        else:
            print(f"  collapse: p_c = {c['p_c']:.4f} +- {c['p_c_err']:.4f}, nu = {c['nu']:.2f} +- {c['nu_err']:.2f}, "
                  f"alpha = {c['alpha']:.2f} +- {c['alpha_err']:.2f}  (chi2/dof {c['chi2_red']:.2f}, "
                  f"{c['n_points']} points)")
        pk = res.get("xi_peak", {})
        if "p_peak" in pk:
            print(f"  xi(p) peaks at p = {pk['p_peak']:.3f} +- {pk['p_peak_err']:.3f}")
        elif pk:
            print(f"  xi(p): {pk['error']}")
    for name, ref in fit["references"].items():
        print(f"  reference {name}: " + ", ".join(f"{k} = {v}" for k, v in ref.items()))


def main(argv: list[str] | None = None) -> int:
    """Run (or extend) the sweep, then fit; return the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--store", type=Path, default=Path("results/toric_scaling/store.jsonl"),
                    help="JSON-lines results store (created or extended)")
    ap.add_argument("--p", type=float, nargs="+", default=P_DEFAULT, help="flip probabilities")
    ap.add_argument("--r", type=int, nargs="+", default=R_DEFAULT, help="widths of B")
    ap.add_argument("--r-c", type=int, nargs="+", default=[0],
                    help="widths of C; 0 means r_C = r (Sang-Hsieh Fig. 3), e.g. 5 for their App. G")
    ap.add_argument("--batches", type=int, default=10, help="batches per (p, r, r_C)")
    ap.add_argument("--batch-size", type=int, default=100, help="noise samples per batch")
    ap.add_argument("--method", default="cv", choices=["cv", "mc", "stratified"], help="estimator")
    ap.add_argument("--seed", type=int, default=0, help="root seed of the sweep")
    ap.add_argument("--executor", default="serial", choices=["serial", "process", "dask"],
                    help="serial (one process), a local process pool, or a dask.distributed Client")
    ap.add_argument("--workers", type=int, default=1, help="workers for --executor process/dask")
    ap.add_argument("--fit-only", action="store_true", help="skip the sweep, only fit the store")
    ap.add_argument("--no-fit", action="store_true", help="only run the sweep")
    ap.add_argument("--r-min-fit", type=int, default=2, help="smallest r in the fits")
    ap.add_argument("--degree", type=int, default=4, help="degree of the polynomial ln Phi of the collapse")
    ap.add_argument("--n-boot", type=int, default=200, help="bootstrap replicas of the collapse fit")
    ap.add_argument("--fit-out", type=Path, default=None,
                    help="where to write the fit JSON (default: fit.json beside the store)")
    args = ap.parse_args(argv)

    if not args.fit_only:
        r_cs = [None if rc == 0 else rc for rc in args.r_c]
        grid = build_grid(args.p, args.r, r_cs, args.batches, args.batch_size, args.method)
        executor: object = "serial" if args.executor == "serial" else None
        client = None
        if args.executor == "dask":
            from dask.distributed import Client

            client = Client(n_workers=args.workers, threads_per_worker=1)
            executor = client.get_executor()
        try:
            sweep(scaling_point, grid, store=args.store, seed=args.seed, executor=executor,
                  max_workers=args.workers, code_version="toric-scaling-v1", progress=sys.stderr.isatty())
        finally:
            if client is not None:
                client.close()
    if args.no_fit:
        return 0
    fit = fit_store(args.store, r_min=args.r_min_fit, degree=args.degree, n_boot=args.n_boot, seed=args.seed)
    atomic_write_json(args.fit_out or args.store.with_name("fit.json"), fit)
    _report(fit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
