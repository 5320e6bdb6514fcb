"""Finite-size-scaling run of the toric-code CMI: a resumable sweep over (p, r, r_C, batch), then the collapse fit.

Every grid point is one batch of ``--batch-size`` noise samples (square geometry; an independent, unbiased
control-variate estimate with its own seed derived from the point).  Rerunning the same command skips finished
batches; raising ``--batches`` (or adding ``--p``/``--r``/``--r-c`` values) extends the run point by point.  The
grid is batch-major, so a run stopped at any time has about the same number of samples at every (p, r).  The
store is ``<out>/store.jsonl``; the fit (collapse I = r^-alpha Phi((p - p_c) r^(1/nu)) per geometry with bootstrap
errors, and the peak of xi(p)) goes to ``<out>/fit.json`` and ``<out>/toric_collapse.png``.

The committed run (results/toric_scaling/README.md):

    python examples/toric_scaling.py --out results/toric_scaling --r-c 0 4 --batches 40
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from quantum_diffusion.demo.cli import StageLog, configure_progress, example_parser, nonnegative_int, positive_int
from quantum_diffusion.demo.report import save_figure
from quantum_diffusion.demo.toric import collapse_data, plot_collapse
from quantum_diffusion.io import atomic_write_json
from quantum_diffusion.markov import markov_scan, peak_with_error
from quantum_diffusion.sweep import load_results, sweep
from quantum_diffusion.toric.scaling import pool_batches, scaling_point

NAME = "toric_scaling"
P_DEFAULT = [0.05, 0.07, 0.09, 0.10, 0.11, 0.12, 0.13, 0.15, 0.17, 0.20]
R_DEFAULT = [2, 3, 4, 5, 6, 7, 8]
#: Reference values the fit is compared with.
REFERENCES = {"Sang-Hsieh (PRL 134, 070403)": {"p_c": 0.11, "nu": 1.8, "alpha": 1.1},
              "RBIM Nishimori point (Hasenbusch et al. 2008)": {"p_c": 0.10919, "nu": 1.5}}


def _open_probability(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < v < 0.5:
        raise argparse.ArgumentTypeError(f"{text!r} must lie in (0, 0.5)")
    return v


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of this example."""
    ap = example_parser(NAME, __doc__)
    ap.add_argument("--p", type=_open_probability, nargs="+", default=P_DEFAULT,
                    help="flip probabilities (0 < p < 0.5)")
    ap.add_argument("--r", type=positive_int, nargs="+", default=R_DEFAULT, help="widths of B")
    ap.add_argument("--r-c", type=nonnegative_int, nargs="+", default=[0],
                    help="widths of C; 0 means r_C = r (Sang-Hsieh Fig. 3), e.g. 5 for their App. G")
    ap.add_argument("--batches", type=positive_int, default=10, help="batches per (p, r, r_C) point")
    ap.add_argument("--batch-size", type=positive_int, default=100, help="noise samples per batch (>= 4)")
    ap.add_argument("--method", default="cv", choices=["cv", "mc", "stratified", "stratified_cv", "crossed"],
                    help="Monte Carlo estimator of toric_cmi ('crossed': the smallest error at equal wall time at "
                         "small p, 13-19x plain MC at p = 0.05, r = 4; its batch size counts outer draws, >= 32; "
                         "the committed store used 'cv')")
    ap.add_argument("--seed", type=nonnegative_int, default=0, help="root seed of the sweep")
    ap.add_argument("--executor", default="serial", choices=["serial", "process", "dask"],
                    help="serial (this process), a local process pool, or a local dask.distributed cluster")
    ap.add_argument("--workers", type=positive_int, default=1, help="workers for --executor process/dask")
    ap.add_argument("--fit-only", action="store_true", help="skip the sweep, only fit the store")
    ap.add_argument("--r-min-fit", type=positive_int, default=2, help="smallest r in the fits")
    ap.add_argument("--degree", type=positive_int, default=4, help="degree of the polynomial ln Phi of the collapse")
    ap.add_argument("--n-boot", type=positive_int, default=200, help="bootstrap replicas of the collapse fit")
    return ap


def build_grid(ps: Sequence[float], rs: Sequence[int], r_cs: Sequence[int | None], batches: int, batch_size: int,
               method: str) -> list[dict]:
    """Batch-major list of sweep points (``r_C = None`` means ``r_C = r``)."""
    return [{"p": p, "r": r, "r_C": rc, "batch": b, "n_samples": batch_size, "method": method}
            for b in range(batches) for rc in r_cs for r in rs for p in ps]


def fit_store(store: Path, *, r_min: int = 2, degree: int = 4, n_boot: int = 200) -> dict:
    """Pool the store's batches and fit every geometry: collapse (p_c, nu, alpha) and the peak of xi(p)."""
    coll = collapse_data(store, n_boot=n_boot, degree=degree, r_min=r_min)
    out: dict = {"store": str(store), "references": REFERENCES, "r_min": r_min, "degree": degree,
                 "points": [q.to_dict() for q in pool_batches(load_results(store))], "geometries": {}}
    for geom, d in coll["geometries"].items():
        p, r = np.array(d["p"]), np.array(d["r"])
        cmi, err = np.array(d["cmi"]), np.array(d["stderr"])
        res: dict = {"n_points": int(p.size), "samples_per_point": [int(min(d["n_samples"])),
                                                                     int(max(d["n_samples"]))],
                     "collapse": d["fit"]}
        ps, rs = np.unique(p), np.unique(r)
        if all(((p == a) & (r == b)).sum() == 1 for a in ps for b in rs):
            grid = np.array([[cmi[(p == a) & (r == b)][0] for b in rs] for a in ps])
            egrid = np.array([[err[(p == a) & (r == b)][0] for b in rs] for a in ps])
            scan = markov_scan(ps, rs, grid, egrid, r_min=r_min)
            res["markov"] = scan.to_dict()
            try:
                res["xi_peak"] = peak_with_error(ps, np.array(scan.xi), np.array(scan.xi_err)).to_dict()
            except ValueError as exc:  # no interior peak, or too few p: said, not hidden
                res["xi_peak"] = {"error": str(exc)}
        out["geometries"][geom] = res
    return out


def _report(fit: dict, log: StageLog) -> None:
    for geom, res in fit["geometries"].items():
        c = res["collapse"]
        lo, hi = res["samples_per_point"]
        log(f"[{geom}] {res['n_points']} points, {lo}-{hi} samples each")
        if "error" in c:
            log(f"  collapse: {c['error']}")
        else:
            log(f"  collapse: p_c = {c['p_c']:.4f} +- {c['p_c_err']:.4f}, nu = {c['nu']:.2f} +- {c['nu_err']:.2f}, "
                f"alpha = {c['alpha']:.2f} +- {c['alpha_err']:.2f}  (chi2/dof {c['chi2_red']:.2f}, "
                f"{c['n_points']} points)")
        pk = res.get("xi_peak", {})
        if "p_peak" in pk:
            log(f"  xi(p) peaks at p = {pk['p_peak']:.3f} +- {pk['p_peak_err']:.3f}")
        elif pk:
            log(f"  xi(p): {pk['error']}")
    for name, ref in fit["references"].items():
        log(f"  reference {name}: " + ", ".join(f"{k} = {v}" for k, v in ref.items()))


def main(argv: Sequence[str] | None = None) -> int:
    """Run (or extend) the sweep, then fit; return the exit status."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.batch_size < 4:
        ap.error(f"--batch-size must be >= 4, got {args.batch_size}")
    configure_progress()
    import matplotlib

    matplotlib.use("Agg")
    log = StageLog(NAME)
    store = args.out / "store.jsonl"
    if not args.fit_only:
        r_cs = [None if rc == 0 else rc for rc in args.r_c]
        grid = build_grid(args.p, args.r, r_cs, args.batches, args.batch_size, args.method)
        log(f"sweep over {len(grid)} batches into {store}")
        executor: object = "serial" if args.executor == "serial" else None
        client = None
        if args.executor == "dask":
            from dask.distributed import Client

            client = Client(n_workers=args.workers, threads_per_worker=1)
            executor = client.get_executor()
        try:
            sweep(scaling_point, grid, store=store, seed=args.seed, executor=executor, max_workers=args.workers,
                  code_version="toric-scaling-v1")
        finally:
            if client is not None:
                client.close()
    log(f"fitting {store}")
    fit = fit_store(store, r_min=args.r_min_fit, degree=args.degree, n_boot=args.n_boot)
    atomic_write_json(args.out / "fit.json", fit)
    coll = {"store": str(store), "r_min": args.r_min_fit, "degree": args.degree,
            "geometries": {g: {**{k: [q[k] for q in fit["points"] if q["geometry"] == g]
                                  for k in ("p", "r", "cmi", "stderr", "n_samples")}, "fit": res["collapse"]}
                           for g, res in fit["geometries"].items()}}
    save_figure(plot_collapse(coll), args.out / "toric_collapse.png")
    _report(fit, log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
