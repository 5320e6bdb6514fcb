"""Figures of the MNIST area: recovery of diffused digits by local and global denoisers, and the hybrid sampler.

The numbers come from :mod:`classical.pipeline` (training or resuming checkpoints in
``$QD_CACHE_DIR/classical/checkpoints/<config>/``); this module draws them and writes JSON and report sections.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from classical.pipeline import PipelineConfig, configure_threads, run_pipeline

from ..io import atomic_write_json
from .report import Section, axes_for, save_figure

__all__ = [
    "pipeline_data",
    "plot_recovery",
    "plot_hybrid",
    "write_outputs",
    "demo_sections",
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


def demo_sections(out: str | Path, cfg: PipelineConfig | None = None) -> list[Section]:
    """Run the ``cpu-small`` recovery + hybrid pipeline (resuming cached checkpoints) and return its sections."""
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
    ]
