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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .estimators import estimate_cmi, estimate_mi
from .references import gaussian_cmi
from .regions import Regions

__all__ = ["Task", "generic_tasks", "run_task"]


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
