r"""Computations behind the decoherence-limit figures (figures are in :mod:`quantum_diffusion.demo.classical_limit`).

* :func:`run_recovery` - a bimodal Gaussian mixture diffused forward by the lattice heat equation (the
  sound momentum jumps, P.32), recovered by (i) the lattice Petz backward flow (P.33) and (ii) the
  Euler-Maruyama reverse SDE with the exact score, from the forward-evolved density and from a Gaussian
  "noise" start.
* :func:`run_sde_levels` - Kolmogorov distance SDE vs lattice as samples, grid and steps grow together.
* :func:`run_quantum_check` - the package's full quantum backward flow
  (:func:`quantum_diffusion.petz.recover`, Petz / rotated / twirled) on a small lattice vs the classical
  lattice flow.
* :func:`quantum_diffusion.classical_limit.convergence.convergence_study` - O(h^2) refinement.

Every function returns a frozen dataclass (``dataclasses.asdict`` gives the JSON-ready numbers).  Time convention:
see quantum_diffusion.conventions (denoising from ``t = T`` down to 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .lattice import PeriodicGrid, backward_evolve, heat_evolve, sound_jumps
from .sde import GaussianMixture1D, kolmogorov_distance, reverse_sde

__all__ = [
    "RecoveryStudy",
    "SdeLevels",
    "QuantumCheck",
    "BIMODAL",
    "NOISE",
    "run_recovery",
    "run_sde_levels",
    "run_quantum_check",
]

#: the bimodal reference density at t = 0 and the Gaussian "pure noise" start used throughout
BIMODAL = GaussianMixture1D([0.4, 0.6], [-1.5, 1.5], [0.5, 0.6])
NOISE = GaussianMixture1D([1.0], [0.0], [1.5])


@dataclass(frozen=True)
class RecoveryStudy:
    """Result of :func:`run_recovery` (lattice densities normalised to ``h * sum = 1``).

    Attributes
    ----------
    params : dict
        The arguments and the mixture used.
    x : ndarray, shape (n_grid,)
        Lattice sites.
    p0_exact : ndarray, shape (n_grid,)
        Exact initial density.
    forward_snapshots : dict of str to ndarray
        Forward (heat-flow) densities at the snapshot times.
    lattice_from_pT, lattice_from_noise : ndarray, shape (n_grid,)
        Lattice Petz recoveries from the forward-evolved density and from :data:`NOISE`.
    hist_edges : ndarray, shape (n_bins + 1,)
        Histogram bin edges of the SDE samples.
    sde_hist_from_pT, sde_hist_from_noise : ndarray, shape (n_bins,)
        Reverse-SDE sample densities.
    ks_sde_vs_lattice_from_pT, ks_sde_vs_lattice_from_noise, ks_sde_from_noise_vs_p0 : float
        Kolmogorov distances.
    l1_lattice_from_pT_vs_exact_p0, l1_lattice_from_noise_vs_exact_p0 : float
        L1 distances of the lattice recoveries to the exact ``p0``.
    mass_lattice_from_noise : float
        Total mass of the recovery from noise.
    """

    params: dict[str, Any]
    x: np.ndarray
    p0_exact: np.ndarray
    forward_snapshots: dict[str, np.ndarray]
    lattice_from_pT: np.ndarray
    lattice_from_noise: np.ndarray
    hist_edges: np.ndarray
    sde_hist_from_pT: np.ndarray
    sde_hist_from_noise: np.ndarray
    ks_sde_vs_lattice_from_pT: float
    ks_sde_vs_lattice_from_noise: float
    ks_sde_from_noise_vs_p0: float
    l1_lattice_from_pT_vs_exact_p0: float
    l1_lattice_from_noise_vs_exact_p0: float
    mass_lattice_from_noise: float


@dataclass(frozen=True)
class SdeLevels:
    """Result of :func:`run_sde_levels`: Kolmogorov distance SDE vs lattice per (samples, grid, steps) level."""

    levels: list[list[int]]
    from_pT: list[float]
    from_noise: list[float]


@dataclass(frozen=True)
class QuantumCheck:
    """Result of :func:`run_quantum_check`: per kind, ``max_diag_deviation`` and ``max_coherence``."""

    n: int
    kinds: dict[str, dict[str, float]]


def _l1(a: np.ndarray, b: np.ndarray, h: float) -> float:
    return float(h * np.sum(np.abs(a - b)))


def run_recovery(
    *,
    n_grid: int = 128,
    length: float = 12.0,
    gamma: float = 1.0,
    T: float = 1.0,
    n_samples: int = 20000,
    n_steps: int = 200,
    snapshots: Sequence[float] = (0.0, 0.25, 0.5, 1.0),
    n_bins: int = 60,
    seed: int = 0,
) -> RecoveryStudy:
    r"""Forward diffusion of :data:`BIMODAL` and its recovery by the lattice Petz flow and the reverse SDE.

    Returns a :class:`RecoveryStudy` with the grid, the exact :math:`p_0`, forward snapshots, the lattice
    recoveries from :math:`p_T` and from :data:`NOISE`, SDE histograms (``n_bins`` bins on the grid's range), and
    Kolmogorov / L1 distances.  Lattice densities are normalised to :math:`h\sum_k f_k = 1`.

    Raises
    ------
    ValueError
        For invalid sizes or parameters (from the lattice / SDE constructors).
    """
    grid = PeriodicGrid.centered(n_grid, length)
    x, h = grid.x, grid.h
    p0 = BIMODAL.pdf(x)
    p0 /= h * p0.sum()
    snaps = {f"{t:g}": heat_evolve(p0, grid, gamma, t) for t in snapshots}
    pT = heat_evolve(p0, grid, gamma, T)
    _, q_from_pT = backward_evolve(pT, p0, grid, gamma, T)
    noise = NOISE.pdf(x)
    noise /= h * noise.sum()
    _, q_from_noise = backward_evolve(noise, p0, grid, gamma, T)
    rng = np.random.default_rng(seed)
    x_pT = reverse_sde(BIMODAL.diffused(T, gamma).sample(n_samples, rng), BIMODAL, gamma=gamma, T=T,
                       n_steps=n_steps, seed=rng)
    x_noise = reverse_sde(NOISE.sample(n_samples, rng), BIMODAL, gamma=gamma, T=T, n_steps=n_steps, seed=rng)
    edges = np.linspace(x[0] - h / 2, x[-1] + h / 2, n_bins + 1)
    hist_pT, _ = np.histogram(x_pT, bins=edges, density=True)
    hist_noise, _ = np.histogram(x_noise, bins=edges, density=True)
    return RecoveryStudy(**{
        "params": {"n_grid": n_grid, "length": length, "gamma": gamma, "T": T, "n_samples": n_samples,
                   "n_steps": n_steps, "seed": seed, "mixture": {"weights": BIMODAL.weights,
                   "means": BIMODAL.means, "stds": BIMODAL.stds}, "noise_std": float(NOISE.stds[0])},
        "x": x, "p0_exact": BIMODAL.pdf(x), "forward_snapshots": snaps,
        "lattice_from_pT": q_from_pT[-1], "lattice_from_noise": q_from_noise[-1],
        "hist_edges": edges, "sde_hist_from_pT": hist_pT, "sde_hist_from_noise": hist_noise,
        "ks_sde_vs_lattice_from_pT": kolmogorov_distance(x_pT, q_from_pT[-1], x),
        "ks_sde_vs_lattice_from_noise": kolmogorov_distance(x_noise, q_from_noise[-1], x),
        "ks_sde_from_noise_vs_p0": kolmogorov_distance(x_noise, p0, x),
        "l1_lattice_from_pT_vs_exact_p0": _l1(q_from_pT[-1], BIMODAL.pdf(x), h),
        "l1_lattice_from_noise_vs_exact_p0": _l1(q_from_noise[-1], BIMODAL.pdf(x), h),
        "mass_lattice_from_noise": float(h * q_from_noise[-1].sum()),
    })


def run_sde_levels(
    levels: Sequence[tuple[int, int, int]] = ((1000, 20, 20), (6000, 40, 60), (36000, 80, 180), (100000, 160, 400)),
    *,
    length: float = 12.0,
    gamma: float = 1.0,
    T: float = 1.0,
    seed: int = 0,
) -> SdeLevels:
    """Kolmogorov distance between reverse-SDE samples and the lattice Petz flow, per (samples, grid, steps).

    Both start from the forward-evolved density (``"from_pT"``) or from :data:`NOISE` (``"from_noise"``).

    Raises
    ------
    ValueError
        For invalid sizes.
    """
    out: dict[str, Any] = {"levels": [list(lv) for lv in levels], "from_pT": [], "from_noise": []}
    rng = np.random.default_rng(seed)
    for m, n, steps in levels:
        grid = PeriodicGrid.centered(n, length)
        p0 = BIMODAL.pdf(grid.x)
        for key, q_T, start in (("from_pT", heat_evolve(p0, grid, gamma, T), BIMODAL.diffused(T, gamma)),
                                ("from_noise", NOISE.pdf(grid.x), NOISE)):
            _, q = backward_evolve(q_T, p0, grid, gamma, T)
            xs = reverse_sde(start.sample(m, rng), BIMODAL, gamma=gamma, T=T, n_steps=steps, seed=rng)
            out[key].append(kolmogorov_distance(xs, q[-1], grid.x))
    return SdeLevels(**out)


def run_quantum_check(n: int = 16, *, length: float = 12.0, gamma: float = 1.0, T: float = 1.0) -> QuantumCheck:
    r"""Compare the package's quantum backward flow (:func:`quantum_diffusion.petz.recover`) with the lattice flow.

    Starts from the diagonal state of :data:`NOISE` on an ``n``-site lattice with the sound jumps and the
    reference :math:`\sigma_0=\mathrm{diag}(p_0)`; reports, per kind, the largest deviation of the
    recovered diagonal from :func:`~.lattice.backward_evolve` and the largest recovered coherence.

    Raises
    ------
    ValueError
        For invalid sizes (and as raised by ``recover``).
    """
    from ..petz import Lindbladian, recover

    grid = PeriodicGrid.centered(n, length)
    p0 = BIMODAL.pdf(grid.x)
    p0 /= p0.sum()
    qT = NOISE.pdf(grid.x)
    qT /= qT.sum()
    _, q = backward_evolve(qT, p0, grid, gamma, T, rtol=1e-10, atol=1e-14)
    forward = Lindbladian(np.zeros((n, n)), sound_jumps(grid, gamma))
    out: dict[str, Any] = {"n": n, "kinds": {}}
    for kind, theta in (("petz", 0.0), ("rotated", 0.9), ("twirled", 0.0)):
        rho = np.asarray(recover(forward, np.diag(qT), np.diag(p0), T, kind, theta, rtol=1e-10, atol=1e-13))
        key = kind if kind != "rotated" else f"rotated({theta:g})"
        out["kinds"][key] = {
            "max_diag_deviation": float(np.max(np.abs(np.diag(rho).real - q[-1]))),
            "max_coherence": float(np.max(np.abs(rho - np.diag(np.diag(rho))))),
        }
    return QuantumCheck(**out)
