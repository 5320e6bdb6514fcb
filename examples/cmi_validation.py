"""Validate the MI/CMI estimators against exact references; writes JSON.

``python examples/cmi_validation.py [--part generic|mixture|all]`` (default output ``results/examples/cmi_validation``).
Generic tasks: every method, n = 10 000.  Mixture: a low-rank Gaussian mixture fitted to MNIST crops
(:func:`classical.information.fit_mixture`, K = 30, rank 5), exact MC CMI and conditional entropies at every (t, r)
of the paper's grid, the amortised predictive grid (each baseline, several repeats on fresh samples) against them,
and paper-mode MINE on a few cells with a held-out diagnostic; a resumable sweep, tables in
``mixture_tables.md``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classical.information import fit_mixture
from classical.information.estimators import METHODS
from classical.information.grid import PAPER_TIMES
from classical.information.heatmap import mnist_crops
from classical.information.validation import generic_tasks, mixture_validation_point, run_task, save_mixture
from quantum_diffusion.demo.cli import StageLog, configure_progress, example_parser, positive_int
from quantum_diffusion.io import atomic_write_json
from quantum_diffusion.sweep import load_results

NAME = "cmi_validation"
#: code version of each part's sweep keys (set by hand: bump a part's when its code changes)
VERSIONS = {"exact": "s4-1", "grid": "s5-1", "mine": "s3-1"}


def generic(out: Path, steps: int) -> None:
    """Every method on every generic task."""
    rows = []
    for task in generic_tasks():
        for m in METHODS:
            t0 = time.perf_counter()
            rec = run_task(task, m, steps=steps)
            rec["seconds"] = time.perf_counter() - t0
            rows.append(rec)
            print(f"{task.name:>16} {m:>10}: {rec['value']:.4f} +- {rec['stderr']:.4f} (exact {task.exact:.4f})",
                  flush=True)
            atomic_write_json(out / "generic.json", rows)


#: the Gaussian-mixture references: name -> (components, rank) of ``fit_mixture`` on 20 000 MNIST crops
REFERENCES = {"K30-rank5": (30, 5), "K100-diag": (100, 0)}
#: grid variants: name -> options of ``predictive_cmi_grid``
VARIANTS = {
    "none": {"baseline": "none", "square_inputs": False, "features": "none"},
    "linear": {"baseline": "linear", "square_inputs": False, "features": "none"},
    "linear+squares": {"baseline": "linear", "square_inputs": True, "features": "none"},
    "linear+squares+mixture": {"baseline": "linear", "square_inputs": True, "features": "mixture"},
}


def reference_path(out: Path, name: str) -> Path:
    """Fit (once) and return the ``.npz`` of reference ``name`` (deterministic: seed 0, first 20 000 crops)."""
    k, q = REFERENCES[name]
    path = out / f"mixture_{name}.npz"
    if not path.exists():
        crops = mnist_crops(20000)
        save_mixture(fit_mixture(crops.reshape(len(crops), -1), n_components=k, rank=q, min_var=1e-3, seed=0), path)
    return path


def mixture(out: Path, *, reference: str, steps: int, repeats: int, variants: Sequence[str],
            cells: Sequence[tuple[float, int]], mine_steps: int, mine_images: int, n_mc: int, times: Sequence[float],
            parts: Sequence[str]) -> None:
    """One MNIST-fitted mixture: exact terms per t, amortised grids per variant and repeat, paper-mode MINE cells.

    Every piece is a point of a resumable sweep (one store ``mixture_store_<part>.jsonl`` per part in
    ``out/<reference>/``, so parts can run in separate processes; ``code_version`` is set by hand per part in
    ``VERSIONS``, so a killed run loses only the point in progress); the tables are rebuilt from the stores.
    """
    from quantum_diffusion.sweep import sweep

    out = out / reference
    out.mkdir(parents=True, exist_ok=True)
    mix = str(reference_path(out, reference))
    radii = list(range(1, 13))
    kw = dict(seed=0, executor="serial", progress=False)
    pts = {
        "exact": [{"kind": "exact", "mixture": mix, "t": t, "radii": radii, "n_mc": n_mc} for t in times],
        "grid": [{"kind": "grid", "mixture": mix, "times": list(times), "radii": radii, "steps": steps,
                  **VARIANTS[v], "repeat": k} for k in range(repeats) for v in variants],
        "mine": [{"kind": "mine_paper", "mixture": mix, "t": t, "r": r, "steps": mine_steps, "n_images": mine_images,
                  "test_fraction": 0.2} for t, r in cells],
    }
    for part in parts:
        for p in pts[part]:
            t0 = time.perf_counter()
            sweep(mixture_validation_point, [p], store=out / f"mixture_store_{part}.jsonl", code_version=VERSIONS[part],
                  **kw)
            print(f"{reference} {part} {({k: v for k, v in p.items() if k not in ('mixture', 'radii', 'times')})} "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    records = [r for f in sorted(out.glob("mixture_store_*.jsonl")) for r in load_results(f)]
    atomic_write_json(out / "mixture.json", records)
    (out / "mixture_tables.md").write_text(f"## Reference {reference}\n\n" + mixture_tables(records))


def _mean_se(recs: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over repeats, spread (sample std, 0 for one repeat) and mean held-out stderr of grid records."""
    v = np.array([r["result"]["value"] for r in recs])
    s = np.array([r["result"]["stderr"] for r in recs])
    spread = v.std(axis=0, ddof=1) if len(recs) > 1 else np.zeros(v.shape[1:])
    return v.mean(0), spread, s.mean(0)


def mixture_tables(records: list[dict]) -> str:
    """Markdown tables of the mixture validation from the sweep records (exact vs each grid variant, MINE)."""
    ex = {r["params"]["t"]: r["result"] for r in records if r["params"]["kind"] == "exact"}
    if not ex:
        return "no exact terms yet\n"
    times = sorted(ex)
    radii = ex[times[0]]["radii"]
    exact = np.array([[c[0] for c in ex[t]["cmi"]] for t in times])
    ex_se = np.array([[c[1] for c in ex[t]["cmi"]] for t in times])
    lines = []
    groups: dict[tuple, list] = {}
    for r in records:
        p = r["params"]
        if p["kind"] == "grid" and [float(x) for x in p["times"]] == times:
            groups.setdefault((p["baseline"], p["steps"], bool(p.get("square_inputs", False)),
                               p.get("features", "none")), []).append(r)
    for (bl, st, sq, ft), recs in sorted(groups.items()):
        mean, spread, se = _mean_se(recs)
        qual = exact >= 0.02
        ok = np.abs(mean - exact) <= np.maximum(0.01, 0.15 * exact)
        secs = [r["elapsed_s"] for r in recs]
        lines += [f"### baseline={bl}{', square_inputs' if sq else ''}{', features=' + ft if ft != 'none' else ''}, "
                  f"{st} steps, {len(recs)} repeat(s): "
                  "mean (spread) / exact, nats", "",
                  "| t \\ r | " + " | ".join(map(str, radii)) + " |", "|---" * (len(radii) + 1) + "|"]
        for i, t in enumerate(times):
            cells = []
            for k in range(len(radii)):
                txt = f"{mean[i, k]:.3f} ({spread[i, k]:.3f}) / {exact[i, k]:.3f}"
                cells.append(f"**{txt}**" if qual[i, k] and not ok[i, k] else txt)
            lines.append(f"| {t:g} | " + " | ".join(cells) + " |")
        err = (mean - exact)[qual]
        lines += ["", "Qualifying cells (exact >= 0.02) inside max(0.01, 15 %): "
                  f"{int(ok[qual].sum())}/{int(qual.sum())} (bold: outside); mean error on them {err.mean():+.4f}, "
                  f"max |error| {np.abs(err).max():.4f}; "
                  f"max |error| on the other cells {np.abs(mean - exact)[~qual].max():.4f}; held-out stderr <= "
                  f"{se.max():.4f}; exact MC stderr <= {ex_se.max():.4f}; training {np.mean(secs):.0f} s per repeat.",
                  ""]
        tn = np.mean([np.array(r["result"]["diagnostics"]["term_nll"]) for r in recs], axis=0)
        hb = np.array([[c[0] for c in ex[t]["h_b"]] for t in times])
        hf = np.array([[ex[t]["h_full"][0][0]] for t in times])
        kl_b, kl_f = tn[:, :-1] - hb, tn[:, -1:] - hf
        lines += [f"Excess cross-entropy (model - exact conditional entropy, nats; the CMI error is KL_B - KL_full): "
                  f"KL_full per t = {np.round(kl_f[:, 0], 3).tolist()}; KL_B(r=1) per t = "
                  f"{np.round(kl_b[:, 0], 3).tolist()}; KL_B(r=4) per t = {np.round(kl_b[:, 3], 3).tolist()}", ""]
    mine = [r for r in records if r["params"]["kind"] == "mine_paper"]
    if mine:
        lines += ["### Paper-mode MINE on mixture cells (I(A:BC) max of 3 runs, I(A:B) one run, training-batch "
                  "reporting)", "", "| t | r | steps | exact CMI | paper CMI | I(A:BC) runs: train-batch / held-out "
                  "(exact) | max-of-3 bias | train-batch bias | I(A:B): train-batch / held-out (exact) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in mine:
            p, res = r["params"], r["result"]
            e = ex.get(p["t"])
            k = radii.index(p["r"]) if e else 0
            d = res["diagnostics"]
            yz = [(x["train_batch_estimate"], x["held_out"]) for x in d["runs_yz"]]
            zz = [(x["train_batch_estimate"], x["held_out"]) for x in d["runs_z"]]
            tb = np.array([x[0] for x in yz])
            ho = np.array([x[1] for x in yz])
            ecmi = f"{e['cmi'][k][0]:.3f}" if e else "?"
            emf = f"{e['mi_full'][k][0]:.3f}" if e else "?"
            emb = f"{e['mi_b'][k][0]:.3f}" if e else "?"
            lines.append(f"| {p['t']:g} | {p['r']} | {p['steps']} | {ecmi} | {res['value']:.3f} | "
                         + ", ".join(f"{a:.3f}/{b:.3f}" for a, b in yz) + f" ({emf}) | {tb.max() - tb.mean():+.3f} | "
                         f"{(tb - ho).mean():+.3f} (I(A:BC)), {zz[0][0] - zz[0][1]:+.3f} (I(A:B)) | "
                         f"{zz[0][0]:.3f}/{zz[0][1]:.3f} ({emb}) |")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> tuple[float, int]:
    """Parse ``t,r`` with t in (0, 1] and r in 1..12."""
    try:
        t_s, r_s = text.split(",")
        t, r = float(t_s), int(r_s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected t,r (e.g. 0.3,1), got {text!r}") from exc
    if not (0.0 < t <= 1.0) or not (1 <= r <= 12):
        raise argparse.ArgumentTypeError(f"need 0 < t <= 1 and 1 <= r <= 12, got {text!r}")
    return t, r


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of this example."""
    ap = example_parser(NAME, __doc__)
    ap.add_argument("--part", choices=["generic", "mixture", "all"], default="all",
                    help="generic MI tasks, the MNIST-fitted mixture, or both")
    ap.add_argument("--train-steps", type=positive_int, default=1000,
                    help="optimiser steps of each estimator on the generic tasks")
    ap.add_argument("--mixture-parts", nargs="+", choices=["exact", "grid", "mine"], default=["exact", "grid", "mine"],
                    help="pieces of the mixture validation to run (in this order)")
    ap.add_argument("--times", type=float, nargs="+", default=list(PAPER_TIMES), help="t grid of the mixture part")
    ap.add_argument("--n-mc", type=positive_int, default=64000, help="MC samples of the exact terms per t")
    ap.add_argument("--grid-steps", type=positive_int, default=2500,
                    help="optimiser steps of each amortised predictive grid on the mixture")
    ap.add_argument("--repeats", type=positive_int, default=2, help="independent grid trainings per baseline")
    ap.add_argument("--references", nargs="+", choices=list(REFERENCES), default=list(REFERENCES),
                    help="MNIST-fitted mixture references (each in its own sub-folder)")
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=["linear+squares+mixture"],
                    help="predictive-grid variants compared (see VARIANTS)")
    ap.add_argument("--cells", type=_cell, nargs="*", default=[(0.1, 1), (0.3, 1)],
                    help="(t, r) cells, written t,r, where paper-mode MINE runs")
    ap.add_argument("--mine-steps", type=positive_int, default=1000, help="iterations of each paper-mode MINE run "
                    "(the paper: 300 000)")
    ap.add_argument("--mine-images", type=positive_int, default=10000,
                    help="mixture samples per MINE cell (20 %% held out for the training-batch diagnostic)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the validation; return the exit status (long: minutes for generic, about an hour for the mixture)."""
    args = build_parser().parse_args(argv)
    configure_progress()
    log = StageLog(NAME)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.part in ("generic", "all"):
        log("generic tasks, every method")
        generic(args.out, args.train_steps)
    if args.part in ("mixture", "all"):
        log("MNIST-fitted mixture: exact terms, amortised grids, paper-mode MINE cells")
        for ref in args.references:
            mixture(args.out, reference=ref, steps=args.grid_steps, repeats=args.repeats, variants=args.variants,
                    cells=args.cells, mine_steps=args.mine_steps, mine_images=args.mine_images, n_mc=args.n_mc,
                    times=[round(t, 6) for t in args.times], parts=args.mixture_parts)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
