r"""The MNIST CMI heat map of the paper's Fig. 3a with error bars, exact references and Markov lengths.

Pieces (each a sweep point of :func:`heatmap_point`, so the grid runs through :func:`quantum_diffusion.sweep.sweep`,
resumable and on any executor):

* ``kind="predictive"``: one amortised predictive training over the whole (t, r) grid
  (:func:`classical.information.grid.predictive_cmi_grid`); independent repeats give the spread.
* ``kind="empirical"``: the exact CMI of the diffused empirical distribution of the first ``n_images`` crops at one
  t (all radii from one set of samples), for several N to see which cells have converged in N.
* ``kind="mine_paper"``: the seed paper's MINE protocol on one cell (shortened by ``steps``).

:func:`combine_repeats`, :func:`markov_lengths` (via :func:`quantum_diffusion.markov.markov_length`, the same fit
as the toric code) and :func:`barrier` turn the records into the figure's numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from quantum_diffusion.markov import markov_length

from .grid import CMIGrid, paper_mine_cell, predictive_cmi_grid
from .references import empirical_mixture_cmi_profile
from .regions import PAPER_RADII, crop_paper, paper_regions

__all__ = ["mnist_crops", "heatmap_point", "combine_repeats", "times_from", "markov_lengths", "Barrier", "barrier",
           "converged_in_n"]


def mnist_crops(n_images: int | None = None, *, cache_dir: str | None = None) -> np.ndarray:
    """Load the first ``n_images`` MNIST training images as the paper's 27 x 27 crops, shape (n, 27, 27), float32."""
    from classical.data import load_mnist

    data = load_mnist("train", cache_dir=cache_dir, limit=n_images)
    return crop_paper(data.images).astype(np.float32)


def heatmap_point(kind: str, *, n_images: int = 60000, t: float = 0.0, r: int = 1, repeat: int = 0,
                  times: Sequence[float] = (), radii: Sequence[int] = PAPER_RADII, steps: int = 2500,
                  n_mc: int = 1000, rng: np.random.Generator | None = None) -> dict:
    """One sweep point of the heat map (see the module docstring); returns a JSON-ready dict.

    Raises
    ------
    ValueError
        Unknown ``kind``.
    """
    seed = int(np.random.default_rng(rng).integers(0, 2**31 - 1))
    imgs = mnist_crops(n_images)
    if kind == "predictive":
        g = predictive_cmi_grid(imgs, times=tuple(times), radii=tuple(radii), steps=steps, seed=seed)
        return g.to_dict()
    if kind == "empirical":
        regs = [paper_regions(rr) for rr in radii]
        res = empirical_mixture_cmi_profile(imgs.reshape(len(imgs), -1), t, regs, n_mc=n_mc, seed=seed)
        return {"t": t, "n_images": n_images, "radii": list(radii), "value": [x.value for x in res],
                "stderr": [x.stderr for x in res]}
    if kind == "mine_paper":
        e = paper_mine_cell(imgs, t, r, seed=seed, steps=steps)
        return {"t": t, "r": r, **e.to_dict()}
    raise ValueError(f"kind must be 'predictive', 'empirical' or 'mine_paper', got {kind!r}")


def combine_repeats(grids: Sequence[CMIGrid]) -> CMIGrid:
    """Mean over independent grid trainings; stderr combines the spread over repeats and the held-out errors.

    Raises
    ------
    ValueError
        Empty input or grids on different (t, r).
    """
    if not grids:
        raise ValueError("need at least one grid")
    if any(g.times != grids[0].times or g.radii != grids[0].radii for g in grids):
        raise ValueError("grids must share times and radii")
    v = np.stack([np.asarray(g.value) for g in grids])
    s = np.stack([np.asarray(g.stderr) for g in grids])
    k = v.shape[0]
    spread = v.var(axis=0, ddof=1) if k > 1 else 0.0
    se = np.sqrt(np.mean(s**2, axis=0) / k + spread / k)
    return CMIGrid(grids[0].times, grids[0].radii, v.mean(axis=0), se, grids[0].method,
                   {"repeats": k, "repeat_spread": np.sqrt(spread).tolist() if k > 1 else None})


def times_from(grid: CMIGrid, t_min: float) -> CMIGrid:
    r"""Return the rows of ``grid`` with :math:`t \ge` ``t_min`` (for the Markov-length and barrier fits).

    The MNIST grid's t = 0 row is not a CMI the estimator can be trusted on (dequantised atoms; it grows with r), so
    the fits start at t = 0.1 by default (:func:`quantum_diffusion.demo.cmi.heatmap_data`).

    Raises
    ------
    ValueError
        If no row has :math:`t \ge` ``t_min``.
    """
    keep = [i for i, t in enumerate(grid.times) if t >= t_min]
    if not keep:
        raise ValueError(f"t_min = {t_min} leaves no row of the grid (times {list(grid.times)})")
    return CMIGrid(tuple(grid.times[i] for i in keep), grid.radii, np.asarray(grid.value)[keep],
                   np.asarray(grid.stderr)[keep], grid.method, grid.diagnostics)


def markov_lengths(grid: CMIGrid, *, r_min: int = 2) -> list[dict]:
    """Per-t Markov length from the decay of the CMI in r (``quantum_diffusion.markov.markov_length``).

    Rows whose fit fails (fewer than two positive points) get ``xi = nan`` and the reason.
    """
    out = []
    for i, t in enumerate(grid.times):
        try:
            fit = markov_length(np.asarray(grid.radii, dtype=float), np.asarray(grid.value)[i],
                                np.asarray(grid.stderr)[i], r_min=r_min, floor=1e-4)
            out.append({"t": t, **fit.to_dict()})
        except ValueError as exc:
            out.append({"t": t, "xi": float("nan"), "xi_err": float("nan"), "reason": str(exc)})
    return out


@dataclass(frozen=True)
class Barrier:
    """Peak of the CMI over t at fixed r: location and height with bootstrap uncertainties (nats).

    Attributes
    ----------
    r : radius.  t_peak, t_peak_err : mean and standard deviation of the arg-max over parametric resamples.
    height, height_err : CMI at the peak (max over t of resampled rows: mean and standard deviation).
    interior : whether the peak lies strictly inside the t grid (a barrier) rather than at an end.
    """

    r: int
    t_peak: float
    t_peak_err: float
    height: float
    height_err: float
    interior: bool

    def to_dict(self) -> dict:
        """Plain-Python form (for JSON)."""
        return asdict(self)


def barrier(grid: CMIGrid, r: int, *, n_boot: int = 2000, seed: int | None = 0) -> Barrier:
    """Locate the CMI peak over t at radius ``r`` (parametric bootstrap from each cell's value and stderr).

    Raises
    ------
    ValueError
        If ``r`` is not on the grid.
    """
    if r not in grid.radii:
        raise ValueError(f"r = {r} is not on the grid radii {grid.radii}")
    k = grid.radii.index(r)
    v = np.asarray(grid.value)[:, k]
    s = np.asarray(grid.stderr)[:, k]
    ok = np.isfinite(v)
    times = np.asarray(grid.times)[ok]
    rng = np.random.default_rng(seed)
    samp = v[ok][None, :] + s[ok][None, :] * rng.standard_normal((n_boot, ok.sum()))
    arg = samp.argmax(axis=1)
    tp = times[arg]
    i0 = int(np.argmax(v[ok]))
    return Barrier(int(r), float(tp.mean()), float(tp.std()), float(samp.max(axis=1).mean()),
                   float(samp.max(axis=1).std()), bool(0 < i0 < ok.sum() - 1))


def converged_in_n(values: dict[int, np.ndarray], stderrs: dict[int, np.ndarray], *, rel: float = 0.15,
                   n_sigma: float = 3.0) -> np.ndarray:
    """Cells whose empirical-mixture CMI at the largest N agrees with the next-largest N.

    Agreement: ``|I_N - I_N'| <= max(rel * |I_N|, n_sigma * combined stderr, 0.005)``.

    Raises
    ------
    ValueError
        Fewer than two N.
    """
    ns = sorted(values)
    if len(ns) < 2:
        raise ValueError("need the CMI at two or more N")
    a, b = np.asarray(values[ns[-1]]), np.asarray(values[ns[-2]])
    sa, sb = np.asarray(stderrs[ns[-1]]), np.asarray(stderrs[ns[-2]])
    tol = np.maximum(np.maximum(rel * np.abs(a), n_sigma * np.hypot(sa, sb)), 0.005)
    return np.abs(a - b) <= tol
