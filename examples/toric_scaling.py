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

from quantum_diffusion.sweep import sweep
from quantum_diffusion.toric.scaling import scaling_point

P_DEFAULT = [0.05, 0.07, 0.09, 0.10, 0.11, 0.12, 0.13, 0.15, 0.17, 0.20]
R_DEFAULT = [2, 3, 4, 5, 6, 7, 8]


def build_grid(ps: list[float], rs: list[int], r_cs: list[int | None], batches: int, batch_size: int,
               method: str) -> list[dict]:
    """Batch-major list of sweep points (``r_C = None`` means ``r_C = r``)."""
    return [{"p": p, "r": r, "r_C": rc, "batch": b, "n_samples": batch_size, "method": method}
            for b in range(batches) for rc in r_cs for r in rs for p in ps]


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
