"""Figures of the MNIST area: recovery of diffused digits by local and global denoisers, and the hybrid sampler.

The numbers come from :mod:`classical.ideal_pipeline` (``make demo``: :func:`demo_sections`, the ``demo`` preset)
and :mod:`classical.pipeline` (the trained-net window scan: :func:`pipeline_sections`), both training or resuming
checkpoints in ``$QD_CACHE_DIR/classical/checkpoints/<config>/``; this module draws them and writes JSON and report
sections.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from classical.pipeline import PipelineConfig, configure_threads, run_pipeline

from ..io import atomic_write_json
from .cli import StageLog
from .report import Section, axes_for, save_figure

__all__ = [
    "pipeline_data",
    "plot_recovery",
    "plot_hybrid",
    "write_outputs",
    "demo_sections",
    "pipeline_sections",
    "ideal_study_data",
    "plot_ideal_recovery",
    "plot_locality",
    "plot_hybrid_ideal",
    "write_ideal_outputs",
    "ideal_sections",
]


def pipeline_data(cfg: PipelineConfig | None = None, *, progress: bool = True, recovery: bool = True,
                  hybrid: bool = True) -> dict[str, Any]:
    """Numbers of both MNIST figures: :func:`classical.pipeline.run_pipeline` with ``cfg`` (default: cpu-small)."""
    return run_pipeline(cfg or PipelineConfig(), progress=progress, recovery=recovery, hybrid=hybrid)


def _grid(imgs: np.ndarray, ncol: int = 8) -> np.ndarray:
    n, h, w = imgs.shape
    nrow = math.ceil(n / ncol)
    out = np.ones((nrow * (h + 1) + 1, ncol * (w + 1) + 1))
    for k in range(n):
        r, c = divmod(k, ncol)
        out[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + c * (w + 1):1 + c * (w + 1) + w] = imgs[k]
    return out


def plot_recovery(rec: dict[str, Any], ax: Any = None) -> Any:
    """Draw MSE curves and matrix with the 0.03 threshold and one example per (model, t_f); return the figure.

    ``rec`` is the ``"recovery"`` entry of :func:`pipeline_data`.
    """
    fig, ax = axes_for(ax, 3, figsize=(15, 4.2))
    t = np.array(rec["t_f"])
    for i, R in enumerate(rec["R"]):
        ax[0].semilogy(t, rec["mse_local"][i], "o-", label=f"local R={R}")
    ax[0].semilogy(t, rec["mse_global"], "ks-", label="global")
    ax[0].axhline(rec["threshold"], color="orange", ls="--", label="0.03")
    ax[0].set(xlabel="$t_f$", ylabel="recovery MSE", title="denoise from $t_f$ to 0")
    ax[0].legend(fontsize=8)
    half = 0.5 * (t[-1] - t[0]) / max(1, len(t) - 1)
    im = ax[1].imshow(np.log10(rec["mse_local"]), aspect="auto", origin="lower", cmap="viridis",
                      extent=(t[0] - half, t[-1] + half, -0.5, len(rec["R"]) - 0.5))
    ax[1].set_yticks(range(len(rec["R"])), [str(r) for r in rec["R"]])
    if len(rec["R"]) > 1:
        ax[1].contour(t, np.arange(len(rec["R"])), rec["mse_local"], levels=[rec["threshold"]], colors="orange")
    ax[1].set(xlabel="$t_f$", ylabel="R", title="log10 MSE (local), orange = 0.03")
    fig.colorbar(im, ax=ax[1])
    ex = rec["examples"]
    rows = [ex[r] for r in range(ex.shape[0])]
    ax[2].imshow(np.clip(_grid(np.concatenate(rows), ncol=ex.shape[1]), 0, 1), cmap="gray")
    ax[2].set_title("rows: noisy, global, " + ", ".join(f"R={r}" for r in rec["R"]), fontsize=9)
    ax[2].axis("off")
    fig.tight_layout()
    return fig


def plot_hybrid(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw the sample grids of every panel and the window-edge FID scan (8 axes); return the figure.

    ``data`` holds the ``"hybrid"`` and ``"scan"`` entries of :func:`pipeline_data`.
    """
    hyb, scan = data["hybrid"], data["scan"]
    names = list(hyb["samples"])
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.subplots(2, 4, figsize=(16, 8.4))[1]
    fig, ax = axes_for(ax, 8, figsize=(16, 8.4))
    for k, name in enumerate(names):
        p = hyb["panels"][name]
        ax[k].imshow(_grid(hyb["samples"][name]), cmap="gray", vmin=0, vmax=1)
        ax[k].set_title(f"{name}\nFID {p['fid']:.2f}, conf {p['confident_rate']:.2f}, "
                        f"FLOPs x{p['flops_ratio']:.2f}", fontsize=9)
        ax[k].axis("off")
    im = ax[6].imshow(scan["fid"], origin="lower", cmap="magma_r")
    ax[6].set_xticks(range(len(scan["t_up"])), [str(v) for v in scan["t_up"]])
    ax[6].set_yticks(range(len(scan["t_dn"])), [str(v) for v in scan["t_dn"]])
    for i in range(len(scan["t_dn"])):
        for j in range(len(scan["t_up"])):
            if np.isfinite(scan["fid"][i, j]):
                ax[6].text(j, i, f"{scan['fid'][i, j]:.1f}\n{scan['flops_ratio'][i, j]:.2f}", ha="center",
                           va="center", fontsize=7, color="cyan")
    ax[6].set(xlabel="$t_{up}$", ylabel="$t_{dn}$", title="FID (and FLOP ratio): global only in window")
    fig.colorbar(im, ax=ax[6])
    ax[7].axis("off")
    fig.tight_layout()
    return fig


def write_outputs(res: dict[str, Any], out: str | Path) -> dict[str, str]:
    """Write the recovery/hybrid figures and one JSON per figure into ``out``; return their file names."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_figure(plot_recovery(res["recovery"]), out / "mnist_recovery.png", dpi=110)
    save_figure(plot_hybrid(res), out / "mnist_hybrid.png", dpi=100)
    rec = {k: v for k, v in res["recovery"].items()}
    common = {k: res[k] for k in ("config", "parameters", "reference", "train_seconds_this_run", "threads")}
    atomic_write_json(out / "mnist_recovery.json", {**common, "recovery": rec})
    atomic_write_json(out / "mnist_hybrid.json", {**common, "hybrid": res["hybrid"], "scan": res["scan"]})
    return {"recovery_png": "mnist_recovery.png", "recovery_json": "mnist_recovery.json",
            "hybrid_png": "mnist_hybrid.png", "hybrid_json": "mnist_hybrid.json"}


def demo_sections(out: str | Path, *, preset: str = "demo", cache_dir: str | Path | None = None) -> list[Section]:
    """Run the MNIST area of ``make demo``: the ideal-denoiser study at ``preset`` size; return its sections.

    The study trains (or resumes) the ``cpu-small`` global net and the local R = 3 net, so it covers recovery
    three ways (ideal local, trained local, global), locality vs CMI and the hybrid sampler at the demo's cost.
    ``mnist_hybrid.json`` carries the headline keys ``fid_global`` and ``fid_hybrid_ideal``.  The trained-net
    window scan of :func:`pipeline_sections` is ``python -m classical demo`` / ``examples/mnist_local_denoisers.py``.
    """
    import json

    out = Path(out)
    configure_threads()
    sections = ideal_sections(out, preset, cache_dir=cache_dir)
    head = json.loads((out / "mnist_ideal.json").read_text())
    atomic_write_json(out / "mnist_hybrid.json", {
        **{k: head[k] for k in ("fid_global", "fid_hybrid_ideal", "fid_hybrid_trained", "fid_ratio_ideal", "window")},
        "hybrid": head["hybrid"], "fid_floor": head["fid_floor"], "preset": preset})
    return sections


def pipeline_sections(out: str | Path, cfg: PipelineConfig | None = None) -> list[Section]:
    """Run the trained-net recovery + hybrid pipeline (resuming cached checkpoints) and return its sections.

    Beside the two trained-net sections it runs the ``cpu-small`` ideal-denoiser study (:func:`ideal_sections`).
    """
    out = Path(out)
    configure_threads()
    cfg = cfg or PipelineConfig()
    res = pipeline_data(cfg, progress=True)
    files = write_outputs(res, out)
    rec, hyb = res["recovery"], res["hybrid"]["panels"]
    R = cfg.hybrid_R
    i = rec["R"].index(R)
    cross = rec["crossing_local"][R]
    key_rec = {f"MSE local R={R} at t_f={t:g}": float(rec["mse_local"][i, j]) for j, t in enumerate(rec["t_f"])
               if t in (0.2, 0.4, 0.6)}
    key_rec.update({f"MSE global at t_f={t:g}": float(rec["mse_global"][j]) for j, t in enumerate(rec["t_f"])
                    if t in (0.2, 0.4, 0.6)})
    key_rec[f"0.03 crossing, local R={R}"] = cross if cross is not None else "none"
    hw = hyb["global in window"]
    ideal = ideal_sections(out, "cpu-small", cache_dir=cfg.cache_dir)
    # the hybrid JSON also carries the ideal-denoiser headline (same keys as mnist_ideal.json)
    import json

    head = json.loads((out / "mnist_ideal.json").read_text())
    hyb_json = json.loads((out / files["hybrid_json"]).read_text())
    hyb_json.update({k: head[k] for k in ("fid_global", "fid_hybrid_ideal", "fid_hybrid_trained", "window")})
    atomic_write_json(out / files["hybrid_json"], hyb_json)
    return [
        Section(
            title="MNIST: local denoisers fail near the transition (recovery)",
            summary=(f"Test digits diffused to t_f and denoised back by strictly local nets (R in {list(rec['R'])}) "
                     f"and the global U-Net ({cfg.config}); the local MSE crosses 0.03 at t_f = "
                     f"{cross if cross is None else round(cross, 3)} for R={R}."),
            figures=[files["recovery_png"]], json=files["recovery_json"], key_numbers=key_rec,
        ),
        Section(
            title="MNIST: hybrid sampler (global net only in the transition window)",
            summary=(f"Samples with the global net only on t in {list(cfg.window)} and the local R={R} net elsewhere "
                     f"reach FID {hw['fid']:.2f} vs {hyb['global']['fid']:.2f} for global-only, at "
                     f"{hw['flops_ratio']:.2f} of its FLOPs and {hw['wall_ratio']:.2f} of its wall time."),
            figures=[files["hybrid_png"]], json=files["hybrid_json"],
            key_numbers={**{f"FID {k}": v["fid"] for k, v in hyb.items()},
                         "FLOP ratio hybrid/global": hw["flops_ratio"], "wall ratio hybrid/global": hw["wall_ratio"],
                         "confident rate hybrid": hw["confident_rate"],
                         "confident rate global": hyb["global"]["confident_rate"],
                         "real-vs-real FID floor": res["reference"]["real_vs_real_fid"]},
        ),
        *ideal,
    ]


# ------------------------------------------------------------------------- ideal denoisers (issue 12)
def ideal_study_data(preset: str = "cpu-small", *, cache_dir: str | Path | None = None) -> Any:
    """Numbers of the ideal-denoiser figures: :func:`classical.ideal_pipeline.run_ideal_study` with ``preset``."""
    from classical.ideal_pipeline import run_ideal_study

    return run_ideal_study(preset, cache_dir=cache_dir, progress=True, log=StageLog("mnist"))


def plot_ideal_recovery(study: Any, ax: Any = None) -> Any:
    """Draw recovery MSE vs t_f three ways on held-out and on training digits (0.03 line); return the figure.

    Left: held-out test digits; right: training digits of the ideal denoisers' own subset (where the ideal local
    denoiser is the best strictly local one).  Solid: ideal, dashed: trained.
    """
    fig, ax = axes_for(ax, 2, figsize=(13, 4.5))
    for a, rec, which in ((ax[0], study.recovery, "held-out test"), (ax[1], study.recovery_train, "training")):
        colours: dict[str, str] = {}
        for name, row in zip(rec.names, rec.mse):
            r = name.rpartition("R=")[2]
            c = colours.setdefault(r, f"C{len(colours)}") if "R=" in name else "k"
            style = "-" if name.startswith("ideal") else "--"
            marker = "s" if name.endswith("global") else "o"
            a.semilogy(rec.t_f, np.maximum(row, 1e-8), style, color=c, marker=marker, ms=4, label=name)
        a.axhline(rec.threshold, color="orange", ls=":", label=f"{rec.threshold:g}")
        a.set(xlabel="$t_f$", ylabel="recovery MSE", title=f"recovery of {rec.n_images} {which} digits (solid: ideal)")
        a.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_locality(study: Any, ax: Any = None) -> Any:
    """Draw Delta(t, r), the bound I/2 and their ratio 2 Delta / I as heat maps over (r, t); return the figure."""
    fig, ax = axes_for(ax, 3, figsize=(15, 4.2))
    loc = study.locality
    for k, (arr, title) in enumerate([(loc.delta, r"$\Delta(t, r)$ (excess MSE at A)"),
                                      (loc.bound, r"$I(X_{0,A} : X_{t,C} \mid X_{t,U_r})\,/\,2$ (nats)"),
                                      (loc.ratio, r"$2\Delta / I$ (1 = Pinsker tight)")]):
        im = ax[k].imshow(arr, origin="lower", aspect="auto", cmap="viridis")
        ax[k].set_xticks(range(len(loc.radii)), [str(r) for r in loc.radii])
        ax[k].set_yticks(range(len(loc.t)), [f"{t:g}" for t in loc.t])
        ax[k].set(xlabel="r", ylabel="t", title=title)
        fig.colorbar(im, ax=ax[k])
    fig.suptitle(f"diffused empirical distribution of {loc.n_train} MNIST digits, {loc.n_samples} samples per t",
                 fontsize=10)
    fig.tight_layout()
    return fig


def plot_hybrid_ideal(study: Any, ax: Any = None) -> Any:
    """Draw FID per window and sampler (bars) and the headline samples; return the figure."""
    fig, ax = axes_for(ax, 4, figsize=(18, 4.6))
    h = study.hybrid
    x = np.arange(len(h.windows))
    width = 0.8 / len(h.names)
    for k, name in enumerate(h.names):
        ax[0].bar(x + k * width, h.fid[:, k], width, label=name)
    ax[0].axhline(study.fid_floor, color="grey", ls=":", label="real-vs-real floor")
    ax[0].set_xticks(x + 0.4 - width / 2, [f"[{lo:g}, {hi:g}]" for lo, hi in h.windows])
    ax[0].set(xlabel="global window", ylabel="FID", title=f"FID, {h.n_samples} samples, {h.n_steps} steps")
    ax[0].legend(fontsize=7)
    w0 = h.windows[0]
    for k, name in enumerate(h.names[:3]):
        key = f"{name} @ {tuple(w0)}"
        ax[k + 1].imshow(_grid(study.samples[key]), cmap="gray", vmin=0, vmax=1)
        ax[k + 1].set_title(f"{name}, window {list(w0)}: FID {h.fid[0, k]:.2f}, FLOPs x{h.flops_ratio[0, k]:.2f}",
                            fontsize=9)
        ax[k + 1].axis("off")
    fig.tight_layout()
    return fig


def write_ideal_outputs(study: Any, out: str | Path) -> dict[str, str]:
    """Write the three ideal-denoiser figures and ``mnist_ideal.json`` into ``out``; return their file names."""
    from classical.ideal_pipeline import study_to_json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_figure(plot_ideal_recovery(study), out / "mnist_ideal_recovery.png", dpi=110)
    save_figure(plot_locality(study), out / "mnist_locality_cmi.png", dpi=110)
    save_figure(plot_hybrid_ideal(study), out / "mnist_hybrid_ideal.png", dpi=100)
    atomic_write_json(out / "mnist_ideal.json", study_to_json(study))
    return {"recovery_png": "mnist_ideal_recovery.png", "locality_png": "mnist_locality_cmi.png",
            "hybrid_png": "mnist_hybrid_ideal.png", "json": "mnist_ideal.json"}


def ideal_sections(out: str | Path, preset: str = "cpu-small", *, cache_dir: str | Path | None = None
                   ) -> list[Section]:
    """Run the ideal-denoiser study at ``preset`` size and return its report sections."""
    from classical.ideal_pipeline import study_to_json

    study = ideal_study_data(preset, cache_dir=cache_dir)
    files = write_ideal_outputs(study, out)
    js = study_to_json(study)
    rec, loc = study.recovery, study.locality
    tight = np.nanmax(loc.ratio) if np.isfinite(loc.ratio).any() else float("nan")
    i, j = np.unravel_index(np.nanargmax(np.where(np.isfinite(loc.ratio), loc.ratio, -1)), loc.ratio.shape)
    return [
        Section(
            title="MNIST: ideal vs trained local denoisers (recovery three ways)",
            summary=(f"Ideal (training-free) local denoisers on {study.config['n_train']} training digits vs the "
                     f"trained local nets: ideal MSE <= trained at every t_f for R = "
                     f"{[r for r, ok in study.ideal_not_worse.items() if ok]} on held-out digits (not for "
                     f"{[r for r, ok in study.ideal_not_worse.items() if not ok]}), for R = "
                     f"{[r for r, ok in study.ideal_not_worse_train.items() if ok]} on training digits (not for "
                     f"{[r for r, ok in study.ideal_not_worse_train.items() if not ok]})."),
            figures=[files["recovery_png"]], json=files["json"],
            key_numbers={**{f"0.03 crossing, {n}": c for n, c in zip(rec.names, rec.crossing)},
                         **{f"0.03 crossing (training digits), {n}": c
                            for n, c in zip(study.recovery_train.names, study.recovery_train.crossing)}},
        ),
        Section(
            title="MNIST: locality vs CMI, Delta <= I/2 checked exactly",
            summary=(f"Excess MSE of the ideal local over the ideal global denoiser at the centre pixel against "
                     f"half the CMI I(X0A : XtC | XtU) on the diffused empirical distribution; tightest cell "
                     f"2 Delta / I = {tight:.3f} at t = {loc.t[i]:g}, r = {loc.radii[j]}."),
            figures=[files["locality_png"]], json=files["json"],
            key_numbers={"max 2 Delta / I": float(tight),
                         "cells violating Delta <= I/2 by > 3 SE": int(np.sum(
                             loc.delta - loc.bound > 3 * (loc.delta_se + 0.5 * loc.cmi_se)))},
        ),
        Section(
            title="MNIST: hybrid sampler with ideal local denoisers",
            summary=(f"Global net only in {js['window']}, ideal local R={study.config['hybrid_R']} elsewhere: "
                     f"FID {js['fid_hybrid_ideal']:.2f} vs {js['fid_global']:.2f} all-global "
                     f"(ratio {js['fid_ratio_ideal']:.2f}; trained local: {js['fid_hybrid_trained']:.2f})."),
            figures=[files["hybrid_png"]], json=files["json"],
            key_numbers={"fid_global": js["fid_global"], "fid_hybrid_ideal": js["fid_hybrid_ideal"],
                         "fid_hybrid_trained": js["fid_hybrid_trained"], "real-vs-real floor": study.fid_floor,
                         **{f"seconds {k}": v for k, v in study.seconds.items()}},
        ),
    ]
