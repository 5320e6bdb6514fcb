r"""One entry point for the toric-code CMI: :func:`toric_cmi` over a region object and an estimator name.

Methods (all in nats; conventions of :mod:`~.regions`, :mod:`~.exact` and :mod:`~.sampler`):

* ``"exact"``: label convolution (:func:`~.exact.cmi_exact`; any tripartition, label space up to
  :math:`2^{27}`), ``stderr = 0``;
* ``"mc"``: plain Monte Carlo over the noise with exact partition functions per sample
  (:func:`~.montecarlo.mc_estimate`); unreliable in the rare-event regime (small ``p``, see its docstring);
* ``"stratified"``: stratification on the number of errors in :math:`B` with exact binomial strata
  probabilities (:func:`~.variance.stratified_estimate`);
* ``"cv"``: the cross-fitted entropy-difference control variate (:func:`~.controlvariate.cv_estimate`);
* ``"stratified_cv"``: both (:func:`~.variance.stratified_estimate` with ``control_variate=True``);
* ``"crossed"``: the noise split into an inner part (the 5x5 block around :math:`A`), the rest of :math:`B` and
  :math:`C`, every combination of the draws of a block used, the partition functions of each combination by
  Woodbury updates of per-draw Kac-Ward environments, plus the control variate
  (:func:`~.crossed.crossed_estimate`); the smallest error at equal wall time at small ``p``.

All Monte Carlo methods are unbiased; every result carries the effective sample size and a ``reliable`` flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import numpy as np

from ..typing import SeedLike, ToricLoops, ToricMethod
from .controlvariate import cv_estimate
from .crossed import crossed_estimate
from .exact import cmi_exact
from .montecarlo import mc_estimate
from .regions import Tripartition
from .sampler import CMIResult, KLSampler, check_n_samples
from .variance import stratified_estimate

__all__ = ["METHODS", "toric_cmi"]

METHODS: tuple[str, ...] = get_args(ToricMethod)


def toric_cmi(
    regions: Tripartition,
    p: float,
    *,
    loops: ToricLoops = "trivial",
    method: ToricMethod = "exact",
    n_samples: int = 1000,
    seed: SeedLike = 0,
    progress: bool = False,
    options: Mapping[str, Any] | None = None,
) -> CMIResult:
    r"""CMI :math:`I(A:C|B)` (nats) of the bit-flip-noised classical toric code.

    .. math::
        I(A:C|B)=H(Y_{AB})+H(Y_{BC})-H(Y_B)-H(Y_{ABC})
        =\mathbb E_e\,D_{\rm KL}\bigl(P(a|b,c,h)\,\|\,P(a|b,q)\bigr)

    Parameters
    ----------
    regions : Tripartition
        :func:`~.regions.square_regions` (``r``, ``r_C``: [SH] geometry, independent of the torus size),
        :func:`~.regions.torus_regions` (``L``, ``r``: :math:`C` = rest of the torus) or, for
        ``method="exact"`` only, any :func:`~.regions.tripartition` / custom edge sets.
    p : float
        Flip probability in ``[0, 1/2]``.
    loops : {"trivial", "all"}
        Data set (trivial loops as [HLZG], or all closed loops); matters when :math:`ABC` wraps the torus.
    method : {"exact", "mc", "stratified", "cv", "stratified_cv", "crossed"}
        Module docstring.
    n_samples : int
        KL evaluations for the Monte Carlo methods (ignored by ``"exact"``); for ``"crossed"`` the number of
        outer noise draws (each costs about one KL evaluation).
    seed : int, Generator or None
        For ``numpy.random.default_rng``.
    progress : bool
        Progress bar (``"mc"``).
    options : mapping, optional
        Extra keyword options of the method's estimator (``rings``, ``tail``, ... for the stratified ones;
        ``lam`` for ``"cv"``; ``inner_radius``, ``levels``, ``inner_per_block``, ``outer_per_block``,
        ``c_per_block``, ``control_variate`` for ``"crossed"``).

    Returns
    -------
    CMIResult
        ``cmi``, ``stderr``, ``n_samples``, ``ess``, ``reliable`` and the per-sample values.

    Raises
    ------
    ValueError
        Unknown ``method`` or ``loops``, ``p`` outside ``[0, 1/2]``, too few samples, a custom tripartition
        with a Monte Carlo method, or bad ``options``.
    TypeError
        ``regions`` is not a :class:`~.regions.Tripartition`.

    Warns
    -----
    RareEventWarning
        When a Monte Carlo result has fewer than :data:`~.sampler.MIN_ESS` effective samples.

    Examples
    --------
    >>> from quantum_diffusion.toric import toric_cmi, torus_regions
    >>> round(toric_cmi(torus_regions(4, 1), 0.11).cmi, 4)
    0.2914
    """
    if not isinstance(regions, Tripartition):
        raise TypeError(f"regions must be a Tripartition (square_regions, torus_regions, tripartition), "
                        f"got {type(regions).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    opts = dict(options or {})
    if method == "exact":
        if opts:
            raise ValueError(f"method 'exact' takes no options, got {sorted(opts)}")
        val = cmi_exact(regions.L, p, regions.A, regions.B, regions.C, loops)
        return CMIResult(val, 0.0, 0, "exact", float("inf"), True, np.zeros(0), np.zeros(0))
    sampler = KLSampler(regions, p, loops=loops)
    if method == "mc":
        return mc_estimate(sampler, n_samples=check_n_samples(n_samples), seed=seed, progress=progress, **opts)
    if method == "cv":
        return cv_estimate(sampler, n_samples=n_samples, seed=seed, **opts)
    if method == "crossed":
        return crossed_estimate(sampler, n_samples=n_samples, seed=seed, **opts)
    return stratified_estimate(sampler, n_samples=n_samples, seed=seed,
                               control_variate=method == "stratified_cv", **opts)
