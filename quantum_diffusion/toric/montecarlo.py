r"""Plain Monte Carlo CMI with exact partition functions per noise sample (theory note ``toric.md`` sections 5-6).

.. math::
    \hat I=\frac1n\sum_{s=1}^n D_{\rm KL}\bigl(P_{e_s}\,\|\,Q_{e_s}\bigr),\qquad
    \mathrm{stderr}=\mathrm{std}/\sqrt n,

with :math:`e_s` i.i.d. noise and :math:`P_e, Q_e` as in :mod:`~.sampler`.

**Regime of validity.**  The error bar is the central-limit one.  At small ``p`` (for example ``L = 4, r = 1,
p = 1e-3`` in the torus geometry, exact :math:`5.86\times10^{-3}`) the CMI is carried by noise configurations of
probability :math:`O(p^2)` that 300 samples rarely contain: plain sampling then reports
:math:`4\times10^{-5}\pm2\times10^{-5}`.  Such results have a small effective sample size and come back with
``reliable=False`` and a :class:`~.sampler.RareEventWarning`; use ``method="stratified"`` (exact strata
probabilities on the number of errors in :math:`B`) or many more samples there.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._threads import small_blas
from .sampler import CMIResult, KLSampler, check_n_samples, legacy_regions, make_result

__all__ = ["MCResult", "mc_estimate", "toric_cmi_mc", "cmi_mc_point"]

#: Former name of :class:`~.sampler.CMIResult`.
MCResult = CMIResult


def mc_estimate(sampler: KLSampler, *, n_samples: int = 1000, seed: Any = 0, progress: bool = False) -> CMIResult:
    r"""Plain Monte Carlo estimate (module docstring) for a prepared :class:`~.sampler.KLSampler`.

    Parameters
    ----------
    sampler : KLSampler
    n_samples : int
        Number of noise samples (``>= 2``).
    seed : int, Generator or None
        Passed to ``numpy.random.default_rng``.
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    CMIResult
        ``method="mc"``, equal weights ``1/n``.

    Raises
    ------
    ValueError
        ``n_samples < 2``.
    """
    n = check_n_samples(n_samples)
    rng = np.random.default_rng(seed)
    kl = np.zeros(n)
    if not sampler.trivial:
        from tqdm.auto import tqdm

        with small_blas():
            for s in tqdm(range(n), disable=not progress, desc=f"CMI p={sampler.p:g}", leave=False):
                kl[s] = sampler.kl(sampler.sample_noise(rng, 1)[0])
    return make_result("mc", kl, np.full(n, 1.0 / n), float(kl.mean()), float(kl.std(ddof=1) / np.sqrt(n)),
                       trivial=sampler.trivial)


def toric_cmi_mc(
    p: float,
    r: int,
    geometry: str = "square",
    r_C: int | None = None,
    L: int | None = None,
    loops: str = "trivial",
    *,
    n_samples: int = 1000,
    seed: Any = 0,
    progress: bool = False,
) -> CMIResult:
    r"""Estimate the CMI by plain Monte Carlo (deprecated: use ``toric_cmi(regions, p, method="mc")``).

    Same result as :func:`quantum_diffusion.toric.toric_cmi` with ``method="mc"`` on the regions
    ``(r, geometry, r_C, L)`` (``geometry`` defaults to ``"square"``, whose ``L`` is irrelevant); see the
    module docstring for the rare-event regime.

    Returns
    -------
    CMIResult

    Raises
    ------
    ValueError
        ``p`` outside ``[0, 1/2]``, ``r`` too large for ``L``, ``n_samples < 2``, unknown options.
    """
    warnings.warn("toric_cmi_mc is deprecated; use toric_cmi(regions, p, method='mc')", DeprecationWarning,
                  stacklevel=2)
    n = check_n_samples(n_samples)
    sampler = KLSampler(legacy_regions(r, geometry, r_C, L), p, loops=loops)
    return mc_estimate(sampler, n_samples=n, seed=seed, progress=progress)


def cmi_mc_point(
    p: float,
    r: int,
    geometry: str = "square",
    r_C: int | None = None,
    L: int | None = None,
    loops: str = "trivial",
    n_samples: int = 1000,
    stratify: bool = False,
    rng: np.random.Generator | None = None,
) -> dict[str, Any]:
    """Per-point function for :func:`quantum_diffusion.sweep.sweep`: a JSON-serialisable dict with the CMI.

    Returns ``{"cmi", "stderr", "n_samples", "method", "ess", "reliable"}``; ``stratify`` selects
    ``method="stratified"`` instead of plain sampling.
    """
    from .variance import stratified_estimate

    sampler = KLSampler(legacy_regions(r, geometry, r_C, L), p, loops=loops)
    if stratify:
        res = stratified_estimate(sampler, n_samples=n_samples, seed=rng)
    else:
        res = mc_estimate(sampler, n_samples=n_samples, seed=rng)
    return {**res.to_dict(), "method": "stratified" if stratify else "plain"}
