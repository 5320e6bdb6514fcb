r"""Variance reduction for the Monte Carlo CMI at small ``p``: stratification on error counts in rings of :math:`B`.

At small :math:`p` the per-sample KL of :func:`~.montecarlo.toric_cmi_mc` is heavy-tailed: its conditional mean
grows by orders of magnitude with the number of flipped edges of :math:`B`.  Split (part of) :math:`B\cup C`
into rings :math:`R_1,\dots,R_m` (default: all of :math:`B` as one ring; ``"inner"``: the 20 edges of the
:math:`3\times3` block around :math:`A` and the rest of :math:`B`).  The counts :math:`k=(k_1,\dots,k_m)` are
independent binomials, so every stratum has an exactly known probability
:math:`\pi_k=\prod_i\binom{|R_i|}{k_i}p^{k_i}(1-p)^{|R_i|-k_i}`.  The estimator

.. math::
    \hat I=\sum_{s}\pi_s\,\bar D_s,\qquad \widehat{\rm Var}(\hat I)=\sum_s \pi_s^2\,s_s^2/n_s

uses the most probable strata inside the box :math:`k_i<K_i` (:math:`K_i`: binomial tail below ``tail``) and
one remainder stratum holding everything else (sampled by rejection on the counts, so no configuration is
dropped and the estimator is unbiased).  Within a stratum the flipped edges of each ring are a uniform random
:math:`k_i`-subset; the other edges flip i.i.d.  After an equal-allocation pilot the budget is split as
:math:`n_s\propto\pi_s[\lambda+(1-\lambda)s_s/\sum_t\pi_t s_t]` (half proportional, half Neyman by default,
so that a pilot which missed the rare large values cannot starve a stratum).  The ideal gain over plain
sampling is :math:`\sigma^2_{\rm plain}/(\sum_s\pi_s\sigma_s)^2` samples for equal error.

The pilot values stay in the stratum means while the later allocation depends on their spread; this couples
the number of samples of a stratum to its pilot values, an effect of order :math:`1/n` against a standard error
of order :math:`1/\sqrt n` (not detected by the z-score tests over seeds at ``L = 4``).  With
``control_variate=True`` the entropy-difference control variate of :mod:`~.controlvariate` is added inside the
strata (method ``"stratified_cv"``).  Measured at ``p = 0.05, r = 4`` (``benchmarks/toric_bench.py
--estimators``) neither stratification beats the plain control variate: the variance sits within the strata
(a heavy tail of rare configurations), not between error counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import binom

from .._threads import small_blas
from .regions import block_edges
from .sampler import CMIResult, KLSampler, check_n_samples, legacy_regions, make_result

__all__ = ["toric_cmi_stratified", "stratified_estimate", "neyman_gain", "default_rings"]


def default_rings(sampler: KLSampler, kind: str = "inner") -> list[np.ndarray]:
    """Rings for stratification: ``"B"`` (all of B as one ring) or ``"inner"`` (3x3 block minus A; rest of B)."""
    B = sampler.B_edges
    if kind == "B" or sampler.tri.r == 1:
        return [B]
    if kind != "inner":
        raise ValueError(f"rings must be 'B', 'inner' or a list of edge arrays, got {kind!r}")
    inner = np.setdiff1d(block_edges(sampler.L, sampler.tri.center, 1), sampler.tri.A)
    return [inner, np.setdiff1d(B, inner)]


def neyman_gain(samples: np.ndarray, k: np.ndarray, m: int, p: float) -> float:
    r"""Estimated gain :math:`\sigma^2_{\rm plain}/(\sum_k\pi_k\sigma_k)^2` of stratifying plain samples on ``k``.

    Parameters
    ----------
    samples : per-sample KL values from plain sampling, shape ``(n,)``.
    k : number of flipped edges (in a ring of ``m`` edges) of each sample, shape ``(n,)``.
    m : ring size; p : flip probability.
    """
    samples = np.asarray(samples, float)
    k = np.asarray(k)
    tot = 0.0
    for kk in np.unique(k):
        sel = k == kk
        if sel.sum() > 1:
            tot += binom.pmf(kk, m, p) * samples[sel].std(ddof=1)
    return float(samples.var(ddof=1) / tot**2) if tot > 0 else float("inf")


def _explicit_strata(sizes: list[int], p: float, tail: float, max_strata: int) -> tuple[list[tuple], np.ndarray]:
    ranges = []
    for m in sizes:
        sf = binom.sf(np.arange(m + 1) - 1, m, p)  # P(k >= j)
        K = int(np.argmax(sf < tail)) if np.any(sf < tail) else m + 1
        ranges.append(np.arange(max(K, 1)))
    pmfs = [binom.pmf(np.arange(m + 1), m, p) for m in sizes]
    tuples = list(itertools.product(*ranges))
    probs = np.array([np.prod([pmfs[i][k] for i, k in enumerate(t)]) for t in tuples])
    order = np.argsort(probs)[::-1][:max_strata]
    return [tuples[i] for i in order], probs[order]


def toric_cmi_stratified(
    p: float,
    r: int,
    geometry: str = "square",
    r_C: int | None = None,
    L: int | None = None,
    loops: str = "trivial",
    *,
    n_samples: int = 1000,
    seed: int | np.random.Generator | None = 0,
    **options: Any,
) -> CMIResult:
    r"""Stratified Monte Carlo CMI (nats); same as ``toric_cmi(regions, p, method="stratified")``.

    Arguments ``(p, r, geometry, r_C, L, loops)`` as :func:`~.montecarlo.toric_cmi_mc`; ``options`` as
    :func:`stratified_estimate`.

    Returns
    -------
    CMIResult

    Raises
    ------
    ValueError
        As :func:`stratified_estimate` and :func:`~.regions.tripartition`.
    """
    sampler = KLSampler(legacy_regions(r, geometry, r_C, L), p, loops=loops)
    return stratified_estimate(sampler, n_samples=n_samples, seed=seed, **options)


def stratified_estimate(
    sampler: KLSampler,
    *,
    n_samples: int = 1000,
    seed: int | np.random.Generator | None = 0,
    rings: str | Sequence[np.ndarray] = "B",
    pilot_fraction: float = 0.3,
    pilot_per_stratum: int = 3,
    tail: float = 1e-4,
    proportional_share: float = 0.5,
    control_variate: bool = False,
) -> CMIResult:
    r"""Stratified Monte Carlo estimate of :math:`I(A:C|B)` in nats (module docstring).

    Parameters
    ----------
    sampler : KLSampler
    n_samples : int
        Total number of KL evaluations (pilot included).
    seed : int, Generator or None
    rings : ``"B"`` (default), ``"inner"``, or a list of disjoint edge-id arrays inside :math:`B\cup C`.
    pilot_fraction : float
        Share of the budget spent on the pilot (it fixes the number of explicit strata,
        ``pilot_fraction * n_samples / pilot_per_stratum``).
    pilot_per_stratum : int
    tail : float
        Per-ring binomial tail beyond which counts go to the remainder stratum.
    proportional_share : float
        Share of the post-pilot budget allocated proportionally to :math:`\pi_s`; the rest follows the Neyman
        allocation estimated from the pilot.
    control_variate : bool
        Use :math:`X=D+\hat\lambda Y` (module :mod:`~.controlvariate`) inside every stratum instead of
        :math:`D`.  The stratified mean of :math:`Y`, :math:`\sum_s\pi_s\bar Y_s`, is an unbiased estimate of
        :math:`\mathbb EY=0` (exact :math:`\pi_s`), so adding :math:`\lambda` times it keeps the estimator
        unbiased for any :math:`\lambda` independent of the samples it multiplies: :math:`\hat\lambda` is
        cross-fitted (samples split into two halves; each half uses the coefficient that minimises the
        stratified variance on the other half).

    Returns
    -------
    CMIResult whose ``weights`` satisfy ``cmi = sum(weights * samples)``; ``method`` is ``"stratified"`` or
    ``"stratified_cv"``.

    Raises
    ------
    ValueError
        Overlapping rings or rings outside :math:`B\cup C`,
        ``pilot_fraction`` outside (0, 1), or a budget too small for 2 strata.
    """
    if not 0.0 < pilot_fraction < 1.0:
        raise ValueError(f"pilot_fraction must lie in (0, 1), got {pilot_fraction}")
    n = check_n_samples(n_samples)
    rng = np.random.default_rng(seed)
    method = "stratified_cv" if control_variate else "stratified"
    if sampler.trivial:
        return make_result(method, np.zeros(n), np.full(n, 1.0 / n), 0.0, 0.0, trivial=True)
    ring_list = default_rings(sampler, rings) if isinstance(rings, str) else [np.asarray(x, np.int64) for x in rings]
    allr = np.concatenate(ring_list)
    if np.unique(allr).size != allr.size or not np.isin(allr, sampler.free_edges).all():
        raise ValueError("rings must be disjoint edge sets inside B and C")
    others = np.setdiff1d(sampler.free_edges, allr)
    sizes = [x.size for x in ring_list]
    max_strata = max(1, int(pilot_fraction * n) // pilot_per_stratum - 1)
    if max_strata < 2:
        need = 3 * pilot_per_stratum / pilot_fraction
        raise ValueError(f"n_samples = {n} is too small for stratification (need >= {need:.0f})")
    tuples, probs = _explicit_strata(sizes, sampler.p, tail, max_strata)
    p_rem = max(0.0, 1.0 - float(probs.sum()))
    strata_p = np.append(probs, p_rem)
    n_strata = strata_p.size

    radix = np.cumprod([1] + [m + 1 for m in sizes[:-1]])  # mixed-radix code of a count tuple
    explicit_codes = np.array([int(np.dot(t, radix)) for t in tuples], dtype=np.int64)

    def counts_for(s: int) -> tuple:
        if s < len(tuples):
            return tuples[s]
        while True:  # rejection on the (cheap) counts: the remainder stratum
            draw = np.stack([rng.binomial(m, sampler.p, size=65536) for m in sizes], axis=1)
            hit = np.nonzero(~np.isin(draw @ radix, explicit_codes))[0]
            if hit.size:
                return tuple(int(x) for x in draw[hit[0]])

    def draw(s: int) -> tuple[float, float]:
        e = np.zeros(2 * sampler.L * sampler.L, dtype=np.uint8)
        for ring, k in zip(ring_list, counts_for(s)):
            e[ring[rng.choice(ring.size, size=k, replace=False)]] = 1
        e[others] = rng.random(others.size) < sampler.p
        return sampler.terms(e)

    def pilot_value(v: tuple[float, float]) -> float:
        return v[0] + v[1] if control_variate else v[0]  # lam = 1 (entropy difference) as the pilot's proxy

    active = [s for s in range(n_strata) if strata_p[s] > 0]
    values: list[list[tuple[float, float]]] = [[] for _ in range(n_strata)]
    with small_blas():
        for s in active:
            values[s] += [draw(s) for _ in range(pilot_per_stratum)]
        sd = np.array([np.std([pilot_value(x) for x in v], ddof=1) if len(v) > 1 else 0.0 for v in values])
        rest = n - pilot_per_stratum * len(active)
        score = strata_p * sd
        if rest > 0:
            # defensive allocation: share `proportional_share` allocated proportionally to pi_s (never worse than
            # plain sampling by more than 1/proportional_share), the rest Neyman (pi_s * s_s) from the pilot; a
            # pure Neyman allocation starves strata whose pilot missed the rare large values
            share = strata_p / strata_p.sum()
            if score.sum() > 0:
                share = proportional_share * share + (1.0 - proportional_share) * score / score.sum()
            alloc = np.floor(rest * share).astype(int)
            alloc[np.argmax(score)] += rest - alloc.sum()
            for s in active:
                values[s] += [draw(s) for _ in range(alloc[s])]
    d = [np.array([x[0] for x in v]) for v in values]
    y = [np.array([x[1] for x in v]) for v in values]
    if control_variate:
        half = [np.arange(len(v)) % 2 for v in values]
        lam = [_stratified_lambda(d, y, half, strata_p, h) for h in (0, 1)]
        xs = [d[s] + np.where(half[s] == 0, lam[1], lam[0]) * y[s] for s in range(n_strata)]
    else:
        xs = d
    means = np.array([x.mean() if x.size else 0.0 for x in xs])
    var = np.array([x.var(ddof=1) / x.size if x.size > 1 else 0.0 for x in xs])
    cmi = float(np.sum(strata_p * means))
    err = float(np.sqrt(np.sum(strata_p**2 * var)))
    samples = np.concatenate(xs)
    weights = np.concatenate([np.full(x.size, strata_p[s] / x.size) for s, x in enumerate(xs)])
    return make_result(method, samples, weights, cmi, err)


def _stratified_lambda(d: list[np.ndarray], y: list[np.ndarray], half: list[np.ndarray], pi: np.ndarray,
                       h: int) -> float:
    r"""Coefficient minimising :math:`\sum_s\pi_s^2\mathrm{Var}_s(D+\lambda Y)/n_s` on half ``h`` of the samples."""
    num = den = 0.0
    for s in range(len(d)):
        sel = half[s] == h
        if sel.sum() < 2:
            continue
        ds, ys = d[s][sel], y[s][sel]
        c = pi[s] ** 2 / sel.sum()
        num += c * np.mean((ds - ds.mean()) * (ys - ys.mean()))
        den += c * np.var(ys)
    return float(-num / den) if den > 0 else 0.0
