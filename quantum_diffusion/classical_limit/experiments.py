r"""Demo and example computations for the decoherence limit (compute functions, plot functions, demo sections).

* :func:`run_recovery` - a bimodal Gaussian mixture diffused forward by the lattice heat equation (the
  sound momentum jumps, P.32), recovered by (i) the lattice Petz backward flow (P.33) and (ii) the
  Euler-Maruyama reverse SDE with the exact score, from the forward-evolved density and from a Gaussian
  "noise" start.
* :func:`run_sde_levels` - Kolmogorov distance SDE vs lattice as samples, grid and steps grow together.
* :func:`run_quantum_check` - the package's full quantum backward flow
  (:func:`quantum_diffusion.petz.recover`, Petz / rotated / twirled) on a small lattice vs the classical
  lattice flow.
* :func:`quantum_diffusion.classical_limit.convergence.convergence_study` - O(h^2) refinement.

Every compute function returns a JSON-ready dict; plotting only reads those dicts.  Time convention:
see quantum_diffusion.conventions (denoising from ``t = T`` down to 0).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io import atomic_write_json  # noqa: E402
from ..report import Section  # noqa: E402
from .convergence import convergence_study, hamiltonian_convergence  # noqa: E402
from .lattice import PeriodicGrid, backward_evolve, heat_evolve, sound_jumps  # noqa: E402
from .sde import GaussianMixture1D, kolmogorov_distance, reverse_sde  # noqa: E402

__all__ = [
    "BIMODAL",
    "NOISE",
    "run_recovery",
    "run_sde_levels",
    "run_quantum_check",
    "plot_recovery",
    "plot_convergence",
    "demo_sections",
]

#: the bimodal reference density at t = 0 and the Gaussian "pure noise" start used throughout
BIMODAL = GaussianMixture1D([0.4, 0.6], [-1.5, 1.5], [0.5, 0.6])
NOISE = GaussianMixture1D([1.0], [0.0], [1.5])


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
) -> dict[str, Any]:
    r"""Forward diffusion of :data:`BIMODAL` and its recovery by the lattice Petz flow and the reverse SDE.

    Returns a dict with the grid, the exact :math:`p_0`, forward snapshots, the lattice recoveries from
    :math:`p_T` and from :data:`NOISE`, SDE histograms (``n_bins`` bins on the grid's range), and
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
    return {
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
    }


def run_sde_levels(
    levels: Sequence[tuple[int, int, int]] = ((1000, 20, 20), (6000, 40, 60), (36000, 80, 180), (100000, 160, 400)),
    *,
    length: float = 12.0,
    gamma: float = 1.0,
    T: float = 1.0,
    seed: int = 0,
) -> dict[str, Any]:
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
    return out


def run_quantum_check(n: int = 16, *, length: float = 12.0, gamma: float = 1.0, T: float = 1.0) -> dict[str, Any]:
    r"""The package's quantum backward flow (:func:`quantum_diffusion.petz.recover`) vs the lattice flow.

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
        rho = np.asarray(recover(forward, np.diag(qT), np.diag(p0), T, kind=kind, theta=theta, rtol=1e-10, atol=1e-13))
        key = kind if kind != "rotated" else f"rotated({theta:g})"
        out["kinds"][key] = {
            "max_diag_deviation": float(np.max(np.abs(np.diag(rho).real - q[-1]))),
            "max_coherence": float(np.max(np.abs(rho - np.diag(np.diag(rho))))),
        }
    return out


def plot_recovery(data: dict[str, Any], path: str | Path) -> Path:
    """Three panels: forward snapshots; recovery from p_T; recovery from noise (lattice Petz vs SDE vs exact)."""
    x = np.asarray(data["x"])
    edges = np.asarray(data["hist_edges"])
    mids = 0.5 * (edges[1:] + edges[:-1])
    fig, ax = plt.subplots(1, 3, figsize=(14, 4), sharey=True)
    for t, f in data["forward_snapshots"].items():
        ax[0].plot(x, f, label=f"t = {t}")
    ax[0].set_title("forward: lattice heat flow of the sound jumps")
    for a, key, title in ((ax[1], "from_pT", r"backward from $p_T$"), (ax[2], "from_noise", "backward from noise")):
        a.bar(mids, data[f"sde_hist_{key}"], width=edges[1] - edges[0], alpha=0.35, color="C1",
              label="reverse SDE (histogram)")
        a.plot(x, data[f"lattice_{key}"], "o", ms=3, color="C0", label="lattice Petz flow")
        a.plot(x, data["p0_exact"], "k--", lw=1, label=r"exact $p_0$")
        a.set_title(f"{title}: KS = {data[f'ks_sde_vs_lattice_{key}']:.3g}")
    for a in ax:
        a.set_xlabel("x")
        a.legend(fontsize=8)
    ax[0].set_ylabel("density")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_convergence(
    conv: dict[str, Any], levels: dict[str, Any], path: str | Path, ham: dict[str, Any] | None = None
) -> Path:
    """Two panels: relative error vs h (log-log, with an h^2 guide; optionally the H_b errors of
    :func:`~.convergence.hamiltonian_convergence`); KS distance vs sample size."""
    h = np.asarray(conv["h"])
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    ax[0].loglog(h, conv["forward"], "o-", label=f"forward (slope {conv['slopes']['forward']:.2f})")
    for i, (k, v) in enumerate(conv["backward"].items()):
        ax[0].loglog(h, v, "s-" if i == 0 else "x--", label=f"backward {k} (slope {conv['slopes'][k]:.2f})")
    if ham is not None:
        for k in ham["slopes"]:
            ax[0].loglog(ham["h"], ham[k], "d-.", ms=4, label=f"$H_b$ {k} (slope {ham['slopes'][k]:.2f})")
    ax[0].loglog(h, conv["control_error"], "v:", color="0.4", label="central momentum (control)")
    ax[0].loglog(h, conv["forward"][-1] * (h / h[-1]) ** 2, "k:", lw=0.8, label=r"$\propto h^2$")
    ax[0].set_xlabel("lattice spacing h")
    ax[0].set_ylabel("relative max error vs continuum")
    ax[0].legend(fontsize=7, loc="lower right")
    ax[0].set_title("lattice generators -> continuum PDEs")
    m = np.array([lv[0] for lv in levels["levels"]])
    ax[1].loglog(m, levels["from_pT"], "o-", label=r"from $p_T$")
    ax[1].loglog(m, levels["from_noise"], "s-", label="from noise")
    ax[1].loglog(m, 1.0 / np.sqrt(m), "k:", lw=0.8, label=r"$1/\sqrt{m}$")
    ax[1].set_xlabel("samples m (grid and SDE steps grow too)")
    ax[1].set_ylabel("Kolmogorov distance SDE vs lattice")
    ax[1].legend(fontsize=8)
    ax[1].set_title("reverse SDE vs lattice Petz flow")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def demo_sections(out: Path) -> list[Section]:
    """Run the small default decoherence-limit experiments into ``out``; return two report sections."""
    from .symbolic import all_residuals

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rec = run_recovery()
    quantum = run_quantum_check()
    plot_recovery(rec, out / "decoherence_limit_recovery.png")
    atomic_write_json(out / "decoherence_limit_recovery.json", {"recovery": rec, "quantum_check": quantum})
    t1 = time.perf_counter()
    conv = convergence_study((16, 32, 64, 128)).to_dict()
    ham = hamiltonian_convergence((16, 32, 64, 128), kinds=(("petz", 0.0), ("rotated", 0.7)))
    levels = run_sde_levels(((1000, 20, 20), (6000, 40, 60), (36000, 80, 180)))  # example: one level more
    residuals = {k: str(v) for k, v in all_residuals().items()}
    plot_convergence(conv, levels, out / "decoherence_limit_convergence.png", ham)
    atomic_write_json(out / "decoherence_limit_convergence.json",
                      {"convergence": conv, "hamiltonian": ham, "sde_levels": levels, "sympy_residuals": residuals})
    t2 = time.perf_counter()
    worst_q = max(v["max_diag_deviation"] for v in quantum["kinds"].values())
    worst_c = max(v["max_coherence"] for v in quantum["kinds"].values())
    s1 = Section(
        title="Decoherence limit: Petz backward flow of diagonal states = reverse-time diffusion",
        summary=("A bimodal density diffused by the sound lattice momentum jumps is recovered by the lattice "
                 "Petz flow and by the score reverse SDE, which agree from p_T and from pure noise."),
        figures=["decoherence_limit_recovery.png"],
        json="decoherence_limit_recovery.json",
        key_numbers={
            "KS SDE vs lattice (from p_T)": rec["ks_sde_vs_lattice_from_pT"],
            "KS SDE vs lattice (from noise)": rec["ks_sde_vs_lattice_from_noise"],
            "L1 lattice Petz recovery from p_T vs p0 (solver tol.)": rec["l1_lattice_from_pT_vs_exact_p0"],
            f"quantum recover() vs lattice, n={quantum['n']} (max over kinds)": worst_q,
            "largest coherence created (quantum flow)": worst_c,
        },
        seconds=t1 - t0,
    )
    s2 = Section(
        title="Decoherence limit: O(h^2) convergence, negative control, sympy proofs",
        summary=("The package's forward Lindbladian and Petz/rotated/twirled generators on lattice diagonal states "
                 "converge to the heat and reverse Fokker-Planck equations as h^2, the single Hermitian momentum "
                 "does not, and the SDE-lattice distance falls with sample and grid size."),
        figures=["decoherence_limit_convergence.png"],
        json="decoherence_limit_convergence.json",
        key_numbers={
            "slope forward": conv["slopes"]["forward"],
            "slope backward (petz)": conv["slopes"]["petz"],
            "slope backward (twirled)": conv["slopes"]["twirled"],
            "slope H_b rotated(0.7) on wavefunctions": ham["slopes"]["rotated(0.7)"],
            "central-momentum diffusion ratio (-> 0.5)": float(conv["control_ratio"][-1]),
            "KS at largest level (from p_T)": levels["from_pT"][-1],
            "sympy residuals equal to 0": f"{sum(v == '0' for v in residuals.values())}/{len(residuals)}",
        },
        seconds=t2 - t1,
    )
    return [s1, s2]
