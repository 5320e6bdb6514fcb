"""Figures of the toric-code area: exact vs Monte Carlo CMI, the Markov length along p, the scaling collapse.

Exact CMI vs Monte Carlo on the 4x4 torus, the Markov length along p, and the finite-size-scaling collapse.

The Markov-length panel and the collapse are drawn from the committed scaling run
(``results/toric_scaling/store.jsonl``, produced by ``examples/toric_scaling.py``: control-variate estimator,
hundreds of samples per point), so the demo only fits; without that store the Markov-length panel falls back to a
small Monte Carlo run.  The numbers come from :mod:`quantum_diffusion.toric`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write_json
from ..markov import markov_scan, peak_with_error
from ..sweep import load_results
from ..toric import bypass_cmi, square_regions, toric_cmi, toric_cmi_exact, torus_regions
from ..toric.scaling import collapse_fit, pool_batches
from ..typing import ToricMethod
from .cli import StageLog
from .report import Section, axes_for, format_value, save_figure

__all__ = [
    "P_C",
    "exact_vs_mc_data",
    "plot_exact_vs_mc",
    "exact_vs_mc_table",
    "markov_length_data",
    "markov_length_fits",
    "plot_markov_length",
    "SCALING_STORE",
    "scaling_markov_data",
    "collapse_data",
    "plot_collapse",
    "demo_sections",
]

#: The committed scaling run (``examples/toric_scaling.py``), relative to the repository root.
SCALING_STORE = Path(__file__).resolve().parents[2] / "results" / "toric_scaling" / "store.jsonl"

#: Nishimori point of the random-bond Ising model (the decoding threshold of the bit-flip toric code).
P_C = 0.109


def exact_vs_mc_data(p_grid: Sequence[float], p_mc: Sequence[float], *, n_samples: int,
                     seed: int = 0) -> dict[str, Any]:
    """Exact CMI on the 4x4 torus (r = 1, both loop sets) on ``p_grid`` and the Monte Carlo at ``p_mc``.

    Returns
    -------
    dict
        ``p``, ``exact_trivial``, ``exact_all`` (lists over ``p_grid``) and ``mc_trivial``, ``mc_all``
        (dicts with ``p``, ``cmi``, ``stderr``, ``n_samples``).
    """
    p_grid = [float(p) for p in p_grid]
    p_mc = [float(p) for p in p_mc]
    out: dict[str, Any] = {"L": 4, "r": 1, "geometry": "torus", "p": p_grid}
    for loops in ("trivial", "all"):
        out[f"exact_{loops}"] = [toric_cmi_exact(4, p, 1, geometry="torus", loops=loops) for p in p_grid]
        mc = [toric_cmi(torus_regions(4, 1), p, loops=loops, method="mc", n_samples=n_samples, seed=seed + k)
              for k, p in enumerate(p_mc)]
        out[f"mc_{loops}"] = {"p": p_mc, "cmi": [m.cmi for m in mc], "stderr": [m.stderr for m in mc],
                              "n_samples": n_samples}
    return out


def plot_exact_vs_mc(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw the exact CMI curves and the Monte Carlo points against p; return the figure."""
    fig, (ax,) = axes_for(ax, 1, figsize=(5.5, 3.8))
    for loops, c in (("trivial", "C0"), ("all", "C1")):
        ax.plot(data["p"], data[f"exact_{loops}"], color=c, label=f"exact, {loops} loops")
        m = data[f"mc_{loops}"]
        ax.errorbar(m["p"], m["cmi"], m["stderr"], fmt="o", color=c, ms=4, label=f"Monte Carlo, {loops}")
    ax.axvline(P_C, color="gray", ls=":", lw=1)
    n = data["mc_trivial"]["n_samples"]
    ax.set(xlabel="flip probability p", ylabel="I(A:C|B) [nats]",
           title=f"4x4 torus, r = 1, C = complement; MC: {n} samples")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def markov_length_fits(rs: Sequence[int], cmi: np.ndarray, err: np.ndarray, *, r_min: int = 2) -> list[dict[str, Any]]:
    """Markov-length fit per row of ``cmi`` (one row per p); a row that cannot be fitted gets NaN and the reason.

    A thin view of :func:`quantum_diffusion.markov.markov_scan` (the one fit loop).
    """
    scan = markov_scan(list(range(len(cmi))), rs, cmi, err, r_min=r_min)
    return [f if f else {"xi": float("nan"), "xi_err": float("nan"), "error": why}
            for f, why in zip(scan.fits, scan.reason)]


def _peak(ps: Sequence[float], fits: list[dict[str, Any]]) -> dict[str, Any]:
    xi = np.array([f["xi"] for f in fits], float)
    xe = np.array([f["xi_err"] for f in fits], float)
    try:
        return peak_with_error(ps, xi, xe, n_boot=500).to_dict()
    except ValueError as exc:  # NoInteriorPeakError included: said, not hidden
        return {"error": str(exc)}


def markov_length_data(ps: Sequence[float], rs: Sequence[int], *, n_samples: int, seed: int = 0,
                       method: ToricMethod = "crossed") -> dict[str, Any]:
    """Square geometry (r_C = r) CMI vs r by Monte Carlo, the Markov-length fits (r >= 2) and the bypass CMI.

    ``method`` is the Monte Carlo method of :func:`~quantum_diffusion.toric.toric_cmi` (default ``"crossed"``,
    the one with the smallest error at equal wall time; ``n_samples`` outer draws cost about as much as
    ``n_samples`` plain samples).

    Returns
    -------
    dict
        ``p``, ``r``, ``cmi`` and ``stderr`` (shape ``(len(ps), len(rs))``), ``fits`` (one per p),
        ``xi_peak`` (:class:`~quantum_diffusion.markov.PeakEstimate` as a dict, or ``{"error": ...}``), ``bypass_cmi``
        and ``n_samples``.
    """
    ps, rs = [float(p) for p in ps], [int(r) for r in rs]
    cmi = np.zeros((len(ps), len(rs)))
    err = np.zeros_like(cmi)
    for i, p in enumerate(ps):
        for j, r in enumerate(rs):
            res = toric_cmi(square_regions(r), p, method=method, n_samples=n_samples, seed=seed + 100 * i + j)
            cmi[i, j], err[i, j] = res.cmi, res.stderr
    fits = markov_length_fits(rs, cmi, err)
    bypass = [[bypass_cmi(2 * r + 2 * r + 2, p, r, geometry="square", segment="stars") for r in rs] for p in ps]
    return {"geometry": "square", "r_C": "r", "p": ps, "r": rs, "cmi": cmi, "stderr": err, "fits": fits,
            "xi_peak": _peak(ps, fits) if len(ps) >= 3 else {"error": "fewer than 3 p"},
            "bypass_cmi": bypass, "n_samples": n_samples, "estimator": method}


def scaling_markov_data(store: str | Path = SCALING_STORE, *, geometry: str = "r_C=r") -> dict[str, Any]:
    """CMI vs r and the Markov lengths from the committed scaling run (no Monte Carlo here).

    Returns
    -------
    dict
        As :func:`markov_length_data`, with ``n_samples`` the smallest sample count of any point.

    Raises
    ------
    FileNotFoundError
        If the store does not exist.
    ValueError
        If the store has no complete (p, r) grid for ``geometry``.
    """
    store = Path(store)
    if not store.exists():
        raise FileNotFoundError(f"scaling store {store} not found (run examples/toric_scaling.py)")
    pts = [q for q in pool_batches(load_results(store)) if q.geometry == geometry]
    ps, rs = sorted({q.p for q in pts}), sorted({q.r for q in pts})
    table = {(q.p, q.r): q for q in pts}
    if len(table) != len(ps) * len(rs) or not pts:
        raise ValueError(f"{store}: no complete (p, r) grid for {geometry}")
    cmi = np.array([[table[(p, r)].cmi for r in rs] for p in ps])
    err = np.array([[table[(p, r)].stderr for r in rs] for p in ps])
    fits = markov_length_fits(rs, cmi, err)
    bypass = [[bypass_cmi(4 * r + 2, p, r, geometry="square", segment="stars") for r in rs] for p in ps]
    return {"geometry": "square", "r_C": "r", "p": ps, "r": rs, "cmi": cmi, "stderr": err, "fits": fits,
            "xi_peak": _peak(ps, fits), "bypass_cmi": bypass, "store": str(store), "estimator": "cv",
            "n_samples": int(min(q.n_samples for q in pts))}


def collapse_data(store: str | Path = SCALING_STORE, *, n_boot: int = 100, degree: int = 4,
                  r_min: int = 2) -> dict[str, Any]:
    """Pooled points of every geometry of the scaling store and their collapse fits (:func:`collapse_fit`).

    Returns
    -------
    dict
        ``geometries``: per geometry the points (``p``, ``r``, ``cmi``, ``stderr``, ``n_samples``) and ``fit``
        (:meth:`CollapseFit.to_dict`, or ``{"error": ...}``).

    Raises
    ------
    FileNotFoundError
        If the store does not exist.
    """
    store = Path(store)
    if not store.exists():
        raise FileNotFoundError(f"scaling store {store} not found (run examples/toric_scaling.py)")
    pts = pool_batches(load_results(store))
    out: dict[str, Any] = {"store": str(store), "r_min": r_min, "degree": degree, "geometries": {}}
    for geom in sorted({q.geometry for q in pts}):
        sel = [q for q in pts if q.geometry == geom]
        d = {k: [getattr(q, k) for q in sel] for k in ("p", "r", "cmi", "stderr", "n_samples")}
        try:
            d["fit"] = collapse_fit(d["p"], d["r"], d["cmi"], d["stderr"], n_boot=n_boot, degree=degree,
                                    r_min=r_min).to_dict()
        except ValueError as exc:
            d["fit"] = {"error": str(exc)}
        out["geometries"][geom] = d
    return out


def plot_collapse(data: dict[str, Any], ax: Any = None) -> Any:
    r"""Draw :math:`r^{\alpha}I` against :math:`(p-p_c)r^{1/\nu}` per geometry with the fitted :math:`\Phi`."""
    geoms = list(data["geometries"])
    fig, axes = axes_for(ax, max(len(geoms), 1), figsize=(5.0 * max(len(geoms), 1), 3.9))
    for a, geom in zip(np.atleast_1d(axes), geoms):
        d = data["geometries"][geom]
        f = d["fit"]
        if "error" in f:
            a.text(0.5, 0.5, f"{geom}: no collapse fit\n{f['error']}", ha="center", va="center",
                   transform=a.transAxes, fontsize=7, wrap=True)
            continue
        p, r = np.array(d["p"]), np.array(d["r"])
        cmi, err = np.array(d["cmi"]), np.array(d["stderr"])
        use = (r >= data["r_min"]) & (cmi > 0) & (err < 0.5 * cmi)
        x = (p - f["p_c"]) * r ** (1 / f["nu"])
        y, ye = cmi * r ** f["alpha"], err * r ** f["alpha"]
        for rr in np.unique(r[use]):
            k = use & (r == rr)
            a.errorbar(x[k], y[k], ye[k], fmt="o", ms=3, label=f"r = {rr}")
        xs = np.linspace(x[use].min(), x[use].max(), 200)
        a.plot(xs, np.exp(np.polyval(f["phi"][::-1], xs)), "k-", lw=1, label="fitted Phi")
        a.set_yscale("log")
        a.set(xlabel="(p - p_c) r^(1/nu)", ylabel="r^alpha I(A:C|B)",
              title=f"{geom}: p_c = {format_value(f['p_c'], f['p_c_err'])}, nu = {format_value(f['nu'], f['nu_err'])}"
                    f", alpha = {format_value(f['alpha'], f['alpha_err'])}")
        a.title.set_fontsize(8)
        a.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def plot_markov_length(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw CMI vs r per p (log scale) and the fitted Markov length vs p (two panels); return the figure.

    The bypass-path statement (when ``data`` has ``bypass_cmi``) is a legend entry, so the legend cannot cover it;
    the r axis has integer ticks.
    """
    from matplotlib.ticker import MaxNLocator

    fig, (a1, a2) = axes_for(ax, 2, figsize=(9.5, 3.8))
    cmi, err = np.asarray(data["cmi"]), np.asarray(data["stderr"])
    for i, p in enumerate(data["p"]):
        ok = cmi[i] > 0
        a1.errorbar(np.array(data["r"])[ok], cmi[i][ok], err[i][ok], fmt="o-", ms=3, label=f"p={p:g}")
    if "bypass_cmi" in data:
        worst = float(np.max(np.abs(data["bypass_cmi"])))
        bound = "I = 0 exactly" if worst == 0 else f"|I| <= {worst:.0e}"
        a1.plot([], [], " ", label=f"bypass path:\n{bound}")
    a1.set_yscale("log")
    a1.xaxis.set_major_locator(MaxNLocator(integer=True))
    a1.set(xlabel="r (width of B = width of C)", ylabel="I(A:C|B) [nats]",
           title=f"square geometry, {data['n_samples']} samples per point")
    a1.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
    xi = [f["xi"] for f in data["fits"]]
    xe = [f["xi_err"] for f in data["fits"]]
    r_min = data.get("r_min_fit", 2)
    a2.errorbar(data["p"], xi, xe, fmt="s-")
    a2.axvline(P_C, color="gray", ls=":", lw=1)
    a2.set(xlabel="p", ylabel=f"Markov length xi (fit r >= {r_min})", title=f"Markov length (dotted: p_c ~ {P_C})")
    fig.tight_layout()
    return fig


def exact_vs_mc_table(data: dict[str, Any]) -> dict[str, str]:
    """Key numbers comparing exact and Monte Carlo CMI at the SAME p: every Monte Carlo p must be on the exact grid.

    Returns
    -------
    dict
        Per loop set and Monte Carlo p: the exact value, the Monte Carlo value with its error bar and
        z = (MC - exact) / stderr.

    Raises
    ------
    ValueError
        If a Monte Carlo p is not on the exact grid (the comparison would be at different p).
    """
    grid = np.asarray(data["p"], float)
    table: dict[str, str] = {}
    for loops in ("trivial", "all"):
        mc = data[f"mc_{loops}"]
        for p, cmi, err in zip(mc["p"], mc["cmi"], mc["stderr"]):
            hit = np.flatnonzero(np.isclose(grid, p, rtol=0, atol=1e-12))
            if hit.size == 0:
                raise ValueError(f"data: Monte Carlo p={p} is not on the exact grid; compare at the same p")
            exact = float(data[f"exact_{loops}"][hit[0]])
            z = (cmi - exact) / err if err > 0 else float("nan")
            table[f"p={p:g}, {loops} loops: exact I"] = format_value(exact)
            table[f"p={p:g}, {loops} loops: MC I"] = format_value(cmi, err)
            table[f"p={p:g}, {loops} loops: z = (MC - exact)/stderr"] = f"{z:.1f}"
    return table


def demo_sections(out: str | Path) -> list[Section]:
    """Run the small toric-code demo into ``out`` (PNG + JSON per section) and return its sections."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sections = []

    log = StageLog("demo toric")
    log("exact CMI on the 4x4 torus and Monte Carlo at the same p")
    t0 = time.perf_counter()
    d1 = exact_vs_mc_data(np.linspace(0.0, 0.5, 26), [0.06, 0.1, 0.2], n_samples=300)  # MC p on the exact grid
    save_figure(plot_exact_vs_mc(d1), out / "toric_exact_vs_mc.png")
    atomic_write_json(out / "toric_exact_vs_mc.json", d1)
    table = exact_vs_mc_table(d1)
    worst = max(abs(float(v)) for k, v in table.items() if k.endswith("stderr"))
    sections.append(Section(
        title="Toric code: exact CMI vs Monte Carlo (4x4 torus)",
        summary="The exact label-decomposition CMI on the 4x4 torus (trivial vs all closed loops) and the "
                "Rao-Blackwellised Monte Carlo with exact partition functions, compared at the same p: the largest "
                f"deviation is {worst:.1f} standard errors.",
        figures=["toric_exact_vs_mc.png"], json="toric_exact_vs_mc.json",
        key_numbers={**table, "MC samples per point": d1["mc_trivial"]["n_samples"]},
        seconds=time.perf_counter() - t0))

    t0 = time.perf_counter()
    try:
        log(f"Markov length from the committed scaling run {SCALING_STORE}")
        d2 = scaling_markov_data()
        source = f"the committed scaling run ({d2['n_samples']}+ control-variate samples per point)"
    except (FileNotFoundError, ValueError) as exc:
        log(f"{exc}; small Monte Carlo run instead")
        d2 = markov_length_data([0.05, 0.08, 0.11, 0.15, 0.2], [1, 2, 3, 4], n_samples=120)
        source = f"a small Monte Carlo run (method {d2['estimator']!r}, {d2['n_samples']} draws per point)"
    ps = d2["p"]
    save_figure(plot_markov_length(d2), out / "toric_markov_length.png")
    atomic_write_json(out / "toric_markov_length.json", d2)
    pk = d2["xi_peak"]
    peak = format_value(pk["p_peak"], pk["p_peak_err"]) if "p_peak" in pk else pk["error"]
    sections.append(Section(
        title="Toric code: Markov length along bit-flip diffusion",
        summary="CMI vs r in the square geometry (r_C = r) decays exponentially away from p_c ~ 0.109 and the "
                "fitted Markov length peaks near p_c, while the bypass path (reset, flips, star flips) has zero CMI. "
                f"Data: {source}.",
        figures=["toric_markov_length.png"], json="toric_markov_length.json",
        key_numbers={**{f"xi(p={p:g})": format_value(f["xi"], f["xi_err"]) for p, f in zip(ps, d2["fits"])},
                     "xi peak at p (bootstrap over the fitted xi)": peak,
                     "max abs(bypass CMI)": f"{float(np.max(np.abs(d2['bypass_cmi']))):.1e}",
                     "samples per point (smallest)": d2["n_samples"]},
        seconds=time.perf_counter() - t0))

    if SCALING_STORE.exists():
        t0 = time.perf_counter()
        log("finite-size-scaling collapse of the committed run")
        d3 = collapse_data(n_boot=60)
        save_figure(plot_collapse(d3), out / "toric_collapse.png")
        atomic_write_json(out / "toric_collapse.json", d3)
        keys: dict[str, Any] = {}
        for geom, d in d3["geometries"].items():
            f = d["fit"]
            if "error" in f:
                keys[f"{geom}: collapse"] = f["error"]
                continue
            keys[f"{geom}: p_c"] = format_value(f["p_c"], f["p_c_err"])
            keys[f"{geom}: nu"] = format_value(f["nu"], f["nu_err"])
            keys[f"{geom}: alpha"] = format_value(f["alpha"], f["alpha_err"])
            keys[f"{geom}: chi2/dof"] = f"{f['chi2_red']:.2f}"
        keys["Sang-Hsieh (p_c, nu, alpha)"] = "(0.11, 1.8, 1.1)"
        keys["RBIM Nishimori point (p_c, nu)"] = "(0.10919(7), ~1.5)"
        sections.append(Section(
            title="Toric code: finite-size-scaling collapse I = r^-alpha Phi((p - p_c) r^(1/nu))",
            summary="Collapse fit (polynomial ln Phi, weighted least squares in ln I, bootstrap errors) of the "
                    "committed scaling run, for r_C = r and fixed r_C, compared with Sang-Hsieh and the RBIM.",
            figures=["toric_collapse.png"], json="toric_collapse.json", key_numbers=keys,
            seconds=time.perf_counter() - t0))
    return sections
