r"""Validation tasks with known (C)MI: generic Gaussian tasks and the MNIST-fitted mixture along the path.

Generic tasks (exact values in closed form):

* ``gauss-d{d}-mi{I}``: :math:`y = \rho x + \sqrt{1-\rho^2}\,\epsilon` in d independent coordinates,
  :math:`I = -\tfrac d2\ln(1-\rho^2)`.
* ``cubic-d{d}-mi{I}``: the same with :math:`y \to y^3` (invertible, coordinate-wise: MI unchanged).
* ``chain-cmi``: :math:`z = 0.9x + 0.5\epsilon_1`, :math:`y = 0.8z + 0.6x + 0.5\epsilon_2` (scalars);
  :math:`I(X:Y\mid Z)` from :func:`classical.information.references.gaussian_cmi`.

:func:`run_task` runs one estimator on one task and returns value, stderr and error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .estimators import estimate_cmi, estimate_mi
from .references import GaussianMixture, gaussian_cmi
from .regions import Regions, paper_regions

__all__ = ["Task", "generic_tasks", "run_task", "save_mixture", "load_mixture", "exact_terms",
           "mixture_validation_point"]


@dataclass(frozen=True)
class Task:
    """A distribution with known MI (``z`` is None) or CMI: ``sample(n, rng) -> (x, y, z)`` and ``exact`` nats."""

    name: str
    exact: float
    sample: Callable


def _gauss(d: int, mi: float, cubic: bool) -> Task:
    rho = float(np.sqrt(1 - np.exp(-2 * mi / d)))

    def sample(n: int, rng: np.random.Generator):
        x = rng.standard_normal((n, d))
        y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, d))
        return x, (y**3 if cubic else y), None

    return Task(f"{'cubic' if cubic else 'gauss'}-d{d}-mi{mi:g}", mi, sample)


def _chain() -> Task:
    a, b, c = 0.9, 0.8, 0.6
    # covariance of (x, y, z): x ~ N(0,1), z = a x + .5 e1, y = b z + c x + .5 e2
    vz = a * a + 0.25
    cxz = a
    cxy = b * a + c
    cyz = b * vz + c * a
    vy = b * b * vz + c * c + 2 * b * c * a + 0.25
    cov = np.array([[1.0, cxy, cxz], [cxy, vy, cyz], [cxz, cyz, vz]])
    exact = gaussian_cmi(cov, 0.0, Regions(a=[0], b=[2], c=[1], size=3))

    def sample(n: int, rng: np.random.Generator):
        x = rng.standard_normal(n)
        z = a * x + 0.5 * rng.standard_normal(n)
        y = b * z + c * x + 0.5 * rng.standard_normal(n)
        return x, y, z

    return Task("chain-cmi", float(exact), sample)


def generic_tasks() -> list[Task]:
    """Return the generic validation tasks (MI up to 1 nat)."""
    return [_gauss(1, 0.5, False), _gauss(5, 1.0, False), _gauss(5, 1.0, True), _chain()]


def run_task(task: Task, method: str, *, n: int = 10_000, seed: int = 0, steps: int = 1000) -> dict:
    """Run ``method`` on ``task`` with ``n`` samples; return exact, value, stderr, error and diagnostics."""
    rng = np.random.default_rng(seed)
    x, y, z = task.sample(n, rng)
    if z is None:
        r = estimate_mi(x, y, method=method, seed=seed, steps=steps)
    else:
        r = estimate_cmi(x, y, z, method=method, seed=seed, steps=steps)
    return {"task": task.name, "method": method, "exact": task.exact, "value": r.value, "stderr": r.stderr,
            "error": r.value - task.exact, "n": n, "steps": steps}


# ----------------------------------------------------------------------------------------------- mixture reference
def save_mixture(mixture: GaussianMixture, path: str | Path) -> None:
    """Write a :class:`GaussianMixture` to ``path`` (``.npz``; for :func:`mixture_validation_point`)."""
    np.savez(path, weights=mixture.weights, means=mixture.means, diag=mixture.diag, factors=mixture.factors)


def load_mixture(path: str | Path) -> GaussianMixture:
    """Read a mixture written by :func:`save_mixture`."""
    with np.load(path) as f:
        return GaussianMixture(f["weights"], f["means"], f["diag"], f["factors"])


def exact_terms(mixture: GaussianMixture, t: float, radii: Sequence[int], *, n_mc: int = 4000,
                seed: int | np.random.Generator | None = 0) -> dict:
    r"""Exact CMI, conditional entropies and MIs of :math:`x_t` on the paper's regions, by MC (nats).

    For each r, from one set of ``n_mc`` exact samples of :math:`p_t` (per-sample combinations of exact
    marginal log-densities; value and stderr of each mean):
    ``cmi`` :math:`I(A:C\mid B_r)`, ``h_b`` :math:`H(A\mid B_r) = E[\ln p(x_B) - \ln p(x_{AB})]`,
    ``h_full`` :math:`H(A\mid BC)`, ``mi_b`` :math:`I(A:B_r)`, ``mi_full`` :math:`I(A:BC)` (r-independent).
    The CMI equals ``h_b - h_full`` = ``mi_full - mi_b`` sample by sample.
    """
    mt = mixture.diffuse(t)
    x = mt.sample(int(n_mc), seed=seed)
    side = int(round(np.sqrt(mixture.dim)))
    regs = [paper_regions(int(r), size=side) for r in radii]
    sets = [regs[0].a] + [s for reg in regs for s in (reg.b, np.concatenate([reg.a, reg.b]))]
    sets += [np.concatenate([regs[0].b, regs[0].c]), np.arange(mixture.dim)]
    keys = [np.sort(s).tobytes() for s in sets]
    masks = np.zeros((len(sets), mixture.dim), dtype=bool)
    for j, s in enumerate(sets):
        masks[j, s] = True
    # every marginal from one pass over the samples (atoms of the masks: the rings)
    cache = dict(zip(keys, mt.marginal_logpdfs(x, masks)))

    def lp(idx: np.ndarray) -> np.ndarray:
        return cache[np.sort(idx).tobytes()]

    def mean_se(v: np.ndarray) -> list[float]:
        return [float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))]

    out: dict = {"t": float(t), "radii": [int(r) for r in radii], "n_mc": int(n_mc)}
    for reg in regs:
        a, b, c = reg.a, reg.b, reg.c
        ab, bc, abc = np.concatenate([a, b]), np.concatenate([b, c]), np.concatenate([a, b, c])
        h_b = lp(b) - lp(ab)
        h_full = lp(bc) - lp(abc)
        for name, v in (("cmi", h_b - h_full), ("h_b", h_b), ("h_full", h_full), ("mi_b", lp(ab) - lp(a) - lp(b)),
                        ("mi_full", lp(abc) - lp(a) - lp(bc))):
            out.setdefault(name, []).append(mean_se(v))
    return out


def mixture_validation_point(kind: str, *, mixture: str, t: float = 0.3, r: int = 1,
                             times: Sequence[float] = (), radii: Sequence[int] = (), n_mc: int = 4000,
                             n_images: int = 60000, steps: int = 2500, baseline: str = "linear", repeat: int = 0,
                             test_fraction: float = 0.2, square_inputs: bool = True, features: str = "mixture",
                             rng: np.random.Generator | None = None) -> dict:
    """One point of the mixture validation sweep (``examples/cmi_validation.py``); returns a JSON-ready dict.

    ``kind="exact"``: :func:`exact_terms` at ``t`` on ``radii``.  ``kind="grid"``: ``n_images`` fresh samples
    :math:`x_0` of the mixture, one :func:`~classical.information.grid.predictive_cmi_grid` training
    (``baseline``, ``square_inputs``, ``features``, ``steps``) on ``times`` x ``radii``.
    ``kind="mine_paper"``: ``n_images`` fresh samples,
    :func:`~classical.information.grid.paper_mine_cell` at (t, r) with ``steps`` iterations and ``test_fraction``
    of them held out for the training-batch diagnostic.  ``repeat`` only labels independent points.

    Raises
    ------
    ValueError
        Unknown ``kind``.
    """
    from .grid import paper_mine_cell, predictive_cmi_grid

    gm = load_mixture(mixture)
    side = int(round(np.sqrt(gm.dim)))
    seed = int(np.random.default_rng(rng).integers(0, 2**31 - 1))
    if kind == "exact":
        return exact_terms(gm, t, radii, n_mc=n_mc, seed=seed)
    x0 = gm.sample(int(n_images), seed=seed).astype(np.float32).reshape(-1, side, side)
    if kind == "grid":
        g = predictive_cmi_grid(x0, times=tuple(times), radii=tuple(radii), steps=steps, seed=seed + 1,
                                baseline=baseline, square_inputs=square_inputs, features=features)
        return g.to_dict()
    if kind == "mine_paper":
        e = paper_mine_cell(x0, t, r, seed=seed + 1, steps=steps, test_fraction=test_fraction)
        return {"t": float(t), "r": int(r), **e.to_dict()}
    raise ValueError(f"kind must be 'exact', 'grid' or 'mine_paper', got {kind!r}")
