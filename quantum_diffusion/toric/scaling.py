r"""Finite-size scaling of the toric-code CMI: the resumable sweep's point function and the collapse fit.

The run (``examples/toric_scaling.py``) evaluates :func:`scaling_point` over a grid of
``(p, r, r_C, batch)``; every batch is an independent unbiased Monte Carlo estimate with its own seed (derived by
:mod:`quantum_diffusion.sweep` from the point's key), so a run is extended point by point by adding batches, and
:func:`pool_batches` combines them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["scaling_point"]


def scaling_point(
    p: float,
    r: int,
    r_C: int | None = None,
    *,
    batch: int = 0,
    n_samples: int = 200,
    method: str = "cv",
    rng: Any = None,
) -> dict[str, Any]:
    r"""One batch of the scaling sweep: unbiased MC estimate of :math:`I(A:C|B)` (nats), square geometry.

    Parameters
    ----------
    p : float
        Flip probability in ``(0, 1/2)``.
    r : int
        Width of :math:`B`.
    r_C : int or None
        Width of :math:`C`; ``None`` means ``r_C = r`` ([SH] Fig. 3).
    batch : int
        Batch index: only enters the point's key (hence its seed); batches are i.i.d. replicas.
    n_samples : int
        Noise samples in this batch.
    method : str
        Estimator (``"cv"``, ``"mc"`` or ``"stratified"``), see :func:`quantum_diffusion.toric.toric_cmi`.
    rng : numpy.random.Generator
        Supplied by the sweep.

    Returns
    -------
    dict
        ``{"cmi", "stderr", "n_samples", "var", "ess", "method"}``: the batch mean, its standard error, the
        per-sample variance and the effective sample size.
    """
    from .controlvariate import toric_cmi_cv

    res = toric_cmi_cv(p, r, "square", r_C=r_C, n_samples=n_samples, seed=rng)
    x = np.asarray(res.samples, float)
    ess = float(np.sum(np.abs(x)) ** 2 / np.sum(x**2)) if np.any(x) else 0.0
    return {"cmi": res.cmi, "stderr": res.stderr, "n_samples": res.n_samples, "var": float(np.var(x, ddof=1)),
            "ess": ess, "method": method}
