r"""Classical toric code under bit-flip diffusion: exact and Monte Carlo CMI, Markov length, scaling, bypass path.

Public contract: :func:`toric_cmi` over a region object (:func:`square_regions`, :func:`torus_regions`,
:func:`tripartition`) with ``method`` in ``"exact" | "mc" | "stratified" | "cv" | "stratified_cv" | "crossed"``,
returning a :class:`CMIResult`; :func:`toric_cmi_exact` (float); :func:`markov_length`, :func:`locate_peak`,
:func:`peak_with_error`; :func:`collapse_fit` (finite-size scaling); :func:`bypass_cmi`;
:func:`flip_probability`.  :func:`toric_cmi_mc` is a deprecated wrapper.
Conventions: lattice labels in :mod:`quantum_diffusion.toric.lattice`, regions in
:mod:`quantum_diffusion.toric.regions`, data sets ("trivial" vs "all" loops) in
:mod:`quantum_diffusion.toric.exact`; entropies in nats and :math:`p(t)` as in
:mod:`quantum_diffusion.conventions`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..markov import (
    MarkovFit,
    NoDecayError,
    NoInteriorPeakError,
    PeakEstimate,
    locate_peak,
    markov_length,
    markov_scan,
    peak_with_error,
)
from .bypass import bypass_cmi
from .cmi import toric_cmi
from .controlvariate import toric_cmi_cv
from .exact import cmi_exact, toric_cmi_exact
from .montecarlo import toric_cmi_mc
from .regions import Tripartition, square_regions, torus_regions, tripartition
from .sampler import CMIResult, RareEventWarning
from .variance import toric_cmi_stratified

__all__ = [
    "flip_probability",
    "toric_cmi",
    "CMIResult",
    "RareEventWarning",
    "Tripartition",
    "square_regions",
    "torus_regions",
    "tripartition",
    "toric_cmi_exact",
    "cmi_exact",
    "toric_cmi_mc",
    "toric_cmi_stratified",
    "toric_cmi_cv",
    "MarkovFit",
    "NoDecayError",
    "NoInteriorPeakError",
    "PeakEstimate",
    "markov_length",
    "markov_scan",
    "locate_peak",
    "peak_with_error",
    "bypass_cmi",
]


def flip_probability(t: Any) -> Any:
    r"""Flip probability after time ``t`` of unit-rate bit-flip diffusion, :math:`p(t)=\tfrac12(1-e^{-2t})`.

    This is the off-diagonal entry of :math:`e^{tG}`, :math:`G=\begin{pmatrix}-1&1\\1&-1\end{pmatrix}`
    (theory note S57; :mod:`quantum_diffusion.conventions`).  Accepts scalars or arrays; returns the same kind.

    Raises
    ------
    ValueError
        If any ``t`` is negative or not finite.
    """
    arr = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"t must be finite and >= 0, got {t!r}")
    out = 0.5 * (-np.expm1(-2.0 * arr))
    return float(out) if np.ndim(t) == 0 else out
