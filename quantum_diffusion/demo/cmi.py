"""``python -m classical cmi``: the MNIST CMI heat map as a resumable sweep, written as PNG + JSON.

Application layer (writes files, plots); the library is :mod:`classical.information` (``heatmap``, ``grid``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

__all__ = ["add_cmi_parser", "run_cmi", "plot_heatmap"]


def add_cmi_parser(sub) -> argparse.ArgumentParser:
    """Register the ``cmi`` subcommand on an ``argparse`` sub-parser collection."""
    q = sub.add_parser("cmi", help="CMI heat map over (t, r) with error bars, exact reference, Markov length")
    q.add_argument("--out", type=Path, default=Path("results/cmi"))
    q.add_argument("--times", type=float, nargs="+", default=[round(0.1 * k, 1) for k in range(11)])
    q.add_argument("--radii", type=int, nargs="+", default=list(range(1, 13)))
    q.add_argument("--repeats", type=int, default=2, help="independent amortised predictive trainings")
    q.add_argument("--steps", type=int, default=4000, help="training steps of each predictive grid")
    q.add_argument("--n-images", type=int, default=60000, help="MNIST images for the estimator")
    q.add_argument("--ref-n", type=int, nargs="*", default=[10000, 20000, 60000],
                   help="N of the empirical-mixture reference (convergence in N); empty: skip")
    q.add_argument("--n-mc", type=int, default=1000, help="Monte Carlo samples of the reference per t")
    q.add_argument("--mine-cells", type=str, nargs="*", default=[], help="paper-mode MINE cells as t,r")
    q.add_argument("--mine-steps", type=int, default=3000)
    q.add_argument("--workers", type=int, default=1, help="process pool size (1: serial)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--threads", type=int, default=None, help="torch threads")
    return q


def run_cmi(args: argparse.Namespace) -> int:
    """Run (or resume) the sweep, combine, write ``cmi_heatmap.json`` and ``cmi_heatmap.png``; print a summary."""
    from classical.information.grid import CMIGrid
    from classical.information.heatmap import barrier, combine_repeats, converged_in_n, heatmap_point, markov_lengths
    from quantum_diffusion.io import atomic_write_json
    from quantum_diffusion.sweep import sweep

    times = tuple(args.times)
    radii = tuple(args.radii)
    pts = [{"kind": "predictive", "repeat": k, "n_images": args.n_images, "times": list(times),
            "radii": list(radii), "steps": args.steps} for k in range(args.repeats)]
    tref = [t for t in times if t > 0]
    pts += [{"kind": "empirical", "t": t, "n_images": n, "radii": list(radii), "n_mc": args.n_mc}
            for n in args.ref_n for t in tref]
    for cell in args.mine_cells:
        t, r = cell.split(",")
        pts.append({"kind": "mine_paper", "t": float(t), "r": int(r), "n_images": args.n_images,
                    "steps": args.mine_steps})
    args.out.mkdir(parents=True, exist_ok=True)
    recs = sweep(heatmap_point, pts, store=args.out / "cmi_store.jsonl", seed=args.seed,
                 executor="serial" if args.workers <= 1 else None, max_workers=args.workers, progress=False)
    grids = [CMIGrid(tuple(r["result"]["times"]), tuple(r["result"]["radii"]), np.asarray(r["result"]["value"]),
                     np.asarray(r["result"]["stderr"]), r["result"]["method"], r["result"]["diagnostics"])
             for r in recs if r["params"]["kind"] == "predictive"]
    out: dict = {"times": times, "radii": radii, "elapsed_s": {}}
    for r in recs:
        out["elapsed_s"].setdefault(r["params"]["kind"], 0.0)
        out["elapsed_s"][r["params"]["kind"]] += r["elapsed_s"]
    if grids:
        g = combine_repeats(grids)
        out["predictive"] = g.to_dict()
        out["markov_predictive"] = markov_lengths(g)
        out["barrier_predictive"] = [barrier(g, r).to_dict() for r in radii]
    emp_v: dict[int, np.ndarray] = {}
    emp_s: dict[int, np.ndarray] = {}
    for n in args.ref_n:
        v = np.full((len(times), len(radii)), np.nan)
        s = np.full_like(v, np.nan)
        for r in recs:
            p = r["params"]
            if p["kind"] == "empirical" and p["n_images"] == n:
                i = times.index(p["t"])
                v[i], s[i] = r["result"]["value"], r["result"]["stderr"]
        emp_v[n], emp_s[n] = v, s
    if emp_v:
        nmax = max(emp_v)
        out["empirical"] = {str(n): {"value": emp_v[n].tolist(), "stderr": emp_s[n].tolist()} for n in emp_v}
        if len(emp_v) > 1:
            out["empirical_converged"] = converged_in_n(emp_v, emp_s).tolist()
        ge = CMIGrid(times, radii, emp_v[nmax], emp_s[nmax], f"empirical-N{nmax}")
        sub = CMIGrid(tuple(tref), radii, emp_v[nmax][[times.index(t) for t in tref]],
                      emp_s[nmax][[times.index(t) for t in tref]], ge.method)
        out["markov_empirical"] = markov_lengths(sub)
        out["barrier_empirical"] = [barrier(sub, r).to_dict() for r in radii]
    out["mine_paper"] = [r["result"] for r in recs if r["params"]["kind"] == "mine_paper"]
    atomic_write_json(args.out / "cmi_heatmap.json", out)
    plot_heatmap(out, args.out / "cmi_heatmap.png")
    if grids:
        b = out["barrier_predictive"][0]
        print(f"predictive (r={b['r']}): peak t = {b['t_peak']:.2f} +- {b['t_peak_err']:.2f}, "
              f"height {b['height']:.4f} +- {b['height_err']:.4f} nats")
    print(f"wrote {args.out / 'cmi_heatmap.json'} and {args.out / 'cmi_heatmap.png'}")
    return 0


def plot_heatmap(data: dict, path: Path) -> None:
    """Heat maps (predictive, empirical with unconverged cells hatched) and Markov length vs t."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times, radii = np.asarray(data["times"]), np.asarray(data["radii"])
    panels = []
    if "predictive" in data:
        panels.append(("predictive (amortised), nats", np.asarray(data["predictive"]["value"]), None))
    if "empirical" in data:
        nmax = max(data["empirical"], key=int)
        conv = np.asarray(data.get("empirical_converged", np.ones((len(times), len(radii)), bool)))
        panels.append((f"empirical mixture N={nmax} (x: not converged in N)",
                       np.asarray(data["empirical"][nmax]["value"], dtype=float), conv))
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(5 * (len(panels) + 1), 4))
    axes = np.atleast_1d(axes)
    for ax, (title, v, conv) in zip(axes, panels):
        im = ax.imshow(np.clip(v, 0, None), origin="lower", aspect="auto", cmap="viridis",
                       extent=(radii[0] - 0.5, radii[-1] + 0.5, times[0] - 0.05, times[-1] + 0.05))
        if conv is not None:
            for i, t in enumerate(times):
                for k, r in enumerate(radii):
                    if np.isfinite(v[i, k]) and not conv[i, k]:
                        ax.plot(r, t, "wx", ms=4)
        ax.set(xlabel="r", ylabel="t", title=title)
        fig.colorbar(im, ax=ax)
    ax = axes[-1]
    for key, lab in (("markov_predictive", "predictive"), ("markov_empirical", "empirical")):
        if key in data:
            rows = [m for m in data[key] if np.isfinite(m["xi"])]
            ax.errorbar([m["t"] for m in rows], [m["xi"] for m in rows],
                        [m["xi_err"] if np.isfinite(m["xi_err"]) else 0 for m in rows], marker="o", label=lab)
    ax.set(xlabel="t", ylabel="Markov length xi (pixels)", title="Markov length per t")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

