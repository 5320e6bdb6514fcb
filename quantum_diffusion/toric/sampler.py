r"""The noise sampler and per-sample quantities shared by every Monte Carlo CMI estimator.

Rao-Blackwellised KL form (theory note ``toric.md`` sections 5-6): with :math:`a` the anyons of the 5 plaquettes
touching :math:`A`, :math:`b` those inside :math:`B`, :math:`c` the rest and :math:`h` the homology parities
(torus geometry, trivial loops),

.. math::
    I(A:C|B)=\mathbb E_{e}\,D_{\rm KL}\bigl(P_e\,\|\,Q_e\bigr),\qquad
    P_e(f)=P(a_f\,|\,b,c,h)\propto Z_{ABC}(J^{(f)}),\quad Q_e(f)=P(a_f\,|\,b,q)\propto Z_{AB}(J^{(f)}),

where :math:`J=(-1)^e` at the Nishimori temperature and :math:`f` runs over the 16 sign-flip patterns of
:math:`A`'s edges.  The KL does not depend on :math:`e_A` (flipping :math:`A` permutes the 16 patterns), so
:math:`e_A=0` is used.  :math:`Q_e` depends on :math:`e_B` only.  Engines: :class:`~.partition.KacWardBlock`
for planar blocks (:math:`AB`, and :math:`ABC` in the square geometry) and :func:`~.partition.torus_flip_log_z`
for the torus.

Every estimator returns a :class:`CMIResult` carrying the Kish effective sample size of the contributions,
:math:`n_{\rm eff}=(\sum_i|w_ix_i|)^2/\sum_i(w_ix_i)^2`: the number of samples that actually carry the
estimate.  When :math:`n_{\rm eff}<` :data:`MIN_ESS` the central-limit error bar is not trustworthy (the
rare-event regime: a few samples hold the whole estimate, and events not yet seen may dominate it); the result
is then flagged ``reliable=False`` and a :class:`RareEventWarning` is issued.  Values at or below
:data:`KL_FLOOR` are rounding noise and do not count as contributions, so a run that never met a
contributing configuration has :math:`n_{\rm eff}=0`.  No sample-based diagnostic can see events that the sample
does not contain; the flag catches the case where the sample holds only a few of them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import logsumexp

from .._validation import check_probability
from .exact import check_loops
from .partition import KacWardBlock, nishimori_beta, torus_flip_log_z
from .regions import Tripartition, block, tripartition

__all__ = [
    "KL_FLOOR",
    "MIN_ESS",
    "CMIResult",
    "KLSampler",
    "RareEventWarning",
    "check_n_samples",
    "cv_terms",
    "effective_sample_size",
    "kl_from_log_z",
    "legacy_regions",
    "make_result",
]

#: Below this effective sample size an MC error bar is flagged unreliable.
MIN_ESS = 10.0
#: Per-sample values at or below this (nats) are double-precision noise of the partition functions, not
#: contributions (the same floor as :func:`quantum_diffusion.markov.markov_length`).
KL_FLOOR = 1e-11


class RareEventWarning(UserWarning):
    """A Monte Carlo CMI whose estimate rests on fewer than :data:`MIN_ESS` effective samples."""


def kl_from_log_z(log_z_abc: np.ndarray, log_z_ab: np.ndarray) -> float:
    r""":math:`D_{\rm KL}(P\|Q)`, :math:`P_f\propto\exp\ln Z_{ABC}^{(f)}`, :math:`Q_f\propto\exp\ln Z_{AB}^{(f)}`."""
    lp = log_z_abc - logsumexp(log_z_abc)
    lq = log_z_ab - logsumexp(log_z_ab)
    return float(max(np.sum(np.exp(lp) * (lp - lq)), 0.0))


def cv_terms(log_z_abc: np.ndarray, log_z_ab: np.ndarray) -> tuple[float, float]:
    r"""Per-sample :math:`(D_e, Y_e)`: the KL and the zero-mean control variate.

    :math:`Y_e=\sum_f(P_e(f)-Q_e(f))\ln Q_e(f)` (:mod:`~.controlvariate`).
    """
    lp = log_z_abc - logsumexp(log_z_abc)
    lq = log_z_ab - logsumexp(log_z_ab)
    P, Q = np.exp(lp), np.exp(lq)
    return float(np.sum(P * (lp - lq))), float(np.sum((P - Q) * lq))


def effective_sample_size(values: Any, weights: Any = None) -> float:
    r"""Kish effective sample size of the contributions :math:`w_ix_i`: :math:`(\sum|w_ix_i|)^2/\sum(w_ix_i)^2`.

    Equal weights when ``weights`` is ``None``; 0 when every contribution vanishes.

    Raises
    ------
    ValueError
        If the shapes differ or an entry is not finite.
    """
    x = np.asarray(values, float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, float)
    if w.shape != x.shape or not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))):
        raise ValueError("values and weights must be finite arrays of equal shape")
    c = np.abs(w * x)
    s2 = float(np.sum(c**2))
    return float(np.sum(c) ** 2 / s2) if s2 > 0 else 0.0


@dataclass(frozen=True)
class CMIResult:
    """A CMI estimate (nats) from :func:`quantum_diffusion.toric.toric_cmi`.

    Attributes
    ----------
    cmi, stderr : float
        Estimate and standard error (``stderr = 0`` for ``method="exact"``).
    n_samples : int
        KL evaluations spent (0 for the exact method).
    method : str
    ess : float
        Effective sample size of the contributions (:func:`effective_sample_size`; ``inf`` when exact, 0 when
        the estimate is 0 because ``p`` is 0 or 1/2).
    reliable : bool
        ``False`` when ``ess < MIN_ESS`` and the estimate is not exactly zero: the error bar is not trustworthy.
    samples : ndarray, shape (n,)
        Per-sample values (``cmi = sum(weights * samples)``).
    weights : ndarray, shape (n,)
        Their weights.
    """

    cmi: float
    stderr: float
    n_samples: int
    method: str
    ess: float
    reliable: bool
    samples: np.ndarray = field(repr=False, compare=False)
    weights: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the per-sample arrays)."""
        return {"cmi": self.cmi, "stderr": self.stderr, "n_samples": self.n_samples, "method": self.method,
                "ess": self.ess, "reliable": self.reliable}


def make_result(method: str, samples: Any, weights: Any, cmi: float, stderr: float, *,
                trivial: bool = False) -> CMIResult:
    """Assemble a :class:`CMIResult`, computing the ESS and warning in the rare-event regime.

    ``trivial`` marks an estimate that is exactly zero (``p`` in {0, 1/2}); it is never flagged.

    Warns
    -----
    RareEventWarning
        When the effective sample size is below :data:`MIN_ESS`.
    """
    x = np.asarray(samples, float)
    w = np.asarray(weights, float)
    ess = effective_sample_size(np.where(np.abs(x) > KL_FLOOR, x, 0.0), w) if x.size else 0.0
    reliable = trivial or ess >= MIN_ESS
    if not reliable:
        warnings.warn(
            f"CMI estimate {cmi:.3g} +- {stderr:.3g} ({method}) rests on {ess:.1f} effective samples "
            f"(< {MIN_ESS:g}): rare-event regime, the error bar is not reliable. Use more samples or "
            "method='crossed' (or 'cv').",
            RareEventWarning,
            stacklevel=3,
        )
    return CMIResult(float(cmi), float(stderr), int(x.size), method, ess, bool(reliable), x, w)


class KLSampler:
    r"""Noise sampler and per-sample partition functions for one tripartition and flip probability.

    Parameters
    ----------
    regions : Tripartition
        A standard geometry from :func:`~.regions.square_regions`, :func:`~.regions.torus_regions` or
        :func:`~.regions.tripartition` (``geometry`` ``"square"`` or ``"torus"``; :math:`A` one plaquette).
    p : float
        Flip probability in ``[0, 1/2]``.
    loops : {"trivial", "all"}
        Data set (:mod:`~.exact`); matters only for the torus geometry.

    Attributes
    ----------
    tri : Tripartition
    L : int
        Torus size.
    free_edges : ndarray
        Ids of the edges whose noise matters (:math:`B\cup C`).
    B_edges, C_edges : ndarray

    Raises
    ------
    ValueError
        ``regions`` not a standard geometry, ``p`` outside ``[0, 1/2]``, unknown ``loops``, or a torus
        larger than the transfer-matrix engine allows (``L <= 12``).
    """

    def __init__(self, regions: Tripartition, p: float, *, loops: str = "trivial"):
        if not isinstance(regions, Tripartition):
            raise TypeError(f"regions must be a Tripartition, got {type(regions).__name__}")
        if regions.geometry not in ("square", "torus") or regions.r is None or regions.center is None:
            raise ValueError(
                "Monte Carlo needs a standard geometry (square_regions / torus_regions), got "
                f"geometry={regions.geometry!r}; use method='exact' for a custom tripartition"
            )
        self.p = check_probability(p, "p", hi=0.5)
        self.loops = check_loops(loops)
        tri = regions
        self.tri, self.L, self.geometry = tri, tri.L, tri.geometry
        self.B_edges = tri.B
        self.C_edges = tri.C
        self.free_edges = np.concatenate([tri.B, tri.C])
        self.beta = nishimori_beta(self.p) if self.p > 0 else np.inf
        self._blk_ab = block(self.L, tri.center, tri.r)
        self._kw_ab = KacWardBlock(self._blk_ab.n)
        self._flip_ab = self._kw_ab.local_index(self._blk_ab, tri.A)
        if self.geometry == "square":
            self._blk_abc = block(self.L, tri.center, tri.r + tri.r_C)
            self._kw_abc = KacWardBlock(self._blk_abc.n)
            self._flip_abc = self._kw_abc.local_index(self._blk_abc, tri.A)
        elif self.L > 12:
            raise ValueError(f"the torus geometry's transfer matrix needs L <= 12, got L = {self.L}")

    @property
    def trivial(self) -> bool:
        """``True`` at ``p`` in {0, 1/2}, where every KL is 0."""
        return self.p == 0.0 or self.p == 0.5

    def _couplings(self, e: np.ndarray) -> np.ndarray:
        J = 1.0 - 2.0 * np.asarray(e, dtype=float)
        J[self.tri.A] = 1.0
        return J

    def log_z_ab(self, e: np.ndarray) -> np.ndarray:
        r"""Return the 16 values :math:`\ln Z_{AB}(J^{(f)})` (they depend on :math:`e_B` only)."""
        J = self._couplings(e)
        return self._kw_ab.flip_log_z(self._kw_ab.local_couplings(J, self._blk_ab), self.beta, self._flip_ab)

    def log_z_abc(self, e: np.ndarray) -> np.ndarray:
        r"""Return the 16 values :math:`\ln Z_{ABC}(J^{(f)})`."""
        J = self._couplings(e)
        if self.geometry == "square":
            Jl = self._kw_abc.local_couplings(J, self._blk_abc)
            return self._kw_abc.flip_log_z(Jl, self.beta, self._flip_abc)
        return torus_flip_log_z(self.L, J, self.beta, self.tri.center, loops=self.loops)

    def log_z(self, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""``(ln Z_ABC, ln Z_AB)``, each of shape ``(16,)``, for noise ``e`` of shape ``(2 L^2,)``."""
        return self.log_z_abc(e), self.log_z_ab(e)

    def kl(self, e: np.ndarray) -> float:
        """KL for one noise configuration ``e`` (uint8/bool array of shape ``(2 L^2,)``); 0 at ``p in {0, 1/2}``."""
        if self.trivial:
            return 0.0
        return kl_from_log_z(*self.log_z(e))

    def terms(self, e: np.ndarray) -> tuple[float, float]:
        r"""``(D_e, Y_e)`` of :func:`cv_terms` for noise ``e``; ``(0, 0)`` at ``p in {0, 1/2}``."""
        if self.trivial:
            return 0.0, 0.0
        return cv_terms(*self.log_z(e))

    def sample_noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        r"""Draw ``n`` i.i.d. Bernoulli(p) noise configurations on :math:`B\cup C` (zero elsewhere): ``(n, 2L^2)``."""
        e = np.zeros((n, 2 * self.L * self.L), dtype=np.uint8)
        e[:, self.free_edges] = rng.random((n, self.free_edges.size)) < self.p
        return e


def check_n_samples(n_samples: Any, minimum: int = 2) -> int:
    """Return ``n_samples`` as int after checking it is an integer ``>= minimum``.

    Raises
    ------
    ValueError
        If it is not an integer or is too small.
    """
    try:
        ok = not isinstance(n_samples, bool) and float(n_samples).is_integer() and n_samples >= minimum
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"n_samples must be an integer >= {minimum}, got {n_samples!r}")
    return int(n_samples)


def legacy_regions(r: int, geometry: str, r_C: int | None, L: int | None):
    """Build the tripartition meant by the former ``(r, geometry, r_C, L)`` arguments (``L`` optional for "square").

    Raises
    ------
    ValueError
        ``geometry="torus"`` without ``L``, or what :func:`~.regions.tripartition` raises.
    """
    if geometry == "square" and L is None:
        rc = r if r_C is None else r_C
        L = 2 * int(r) + 2 * int(rc) + 2
    elif L is None:
        raise ValueError("geometry 'torus' needs the torus size L")
    return tripartition(L, r, geometry, r_C)
