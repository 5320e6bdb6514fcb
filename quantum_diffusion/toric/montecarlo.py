r"""Monte Carlo CMI with exact partition functions per noise sample (theory note ``toric.md`` sections 5-6).

Rao-Blackwellised KL form: with :math:`a` the anyons of the 5 plaquettes touching :math:`A`, :math:`b` those
inside :math:`B`, :math:`c` the rest and :math:`h` the homology parities (torus geometry, trivial loops),

.. math::
    I(A:C|B)=\mathbb E_{e}\,D_{\rm KL}\bigl(P(a\,|\,b,c,h)\,\|\,P(a\,|\,b,q)\bigr),\qquad
    P(a_f|b,c,h)\propto Z_{ABC}(J^{(f)}),\quad P(a_f|b,q)\propto Z_{AB}(J^{(f)}),

where :math:`J=(-1)^e` at the Nishimori temperature and :math:`f` runs over the 16 sign-flip patterns of
:math:`A`'s edges.  The KL does not depend on :math:`e_A` (flipping :math:`A` permutes the 16 patterns), so
:math:`e_A=0` is used.  Engines: :class:`~.partition.KacWardBlock` for planar blocks (:math:`AB`, and
:math:`ABC` in the square geometry) and :func:`~.partition.torus_flip_log_z` for the torus.

Variance reduction: :func:`quantum_diffusion.toric.variance.toric_cmi_stratified` (stratified sampling over
the number of flipped edges of :math:`B`, whose law is exactly :math:`\mathrm{Binomial}(|B|,p)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import logsumexp

from .._threads import small_blas
from .._validation import check_probability
from .exact import check_loops
from .partition import KacWardBlock, nishimori_beta, torus_flip_log_z
from .regions import block, tripartition

__all__ = ["MCResult", "KLSampler", "toric_cmi_mc", "cmi_mc_point", "kl_from_log_z"]


def kl_from_log_z(log_z_abc: np.ndarray, log_z_ab: np.ndarray) -> float:
    r""":math:`D_{\rm KL}(P\|Q)`, :math:`P_f\propto\exp\ln Z_{ABC}^{(f)}`, :math:`Q_f\propto\exp\ln Z_{AB}^{(f)}`."""
    lp = log_z_abc - logsumexp(log_z_abc)
    lq = log_z_ab - logsumexp(log_z_ab)
    return float(max(np.sum(np.exp(lp) * (lp - lq)), 0.0))


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


class KLSampler:
    r"""Per-noise-sample KL :math:`D_{\rm KL}(P(a|b,c,h)\|P(a|b,q))` for one geometry and flip probability.

    Parameters
    ----------
    p : flip probability in ``[0, 1/2]``.
    r : width of :math:`B`.
    geometry : ``"square"`` (C = ring of width ``r_C``, default ``r``; ``L`` is irrelevant and defaults to the
        smallest torus that holds :math:`ABC`) or ``"torus"`` (C = complement of :math:`AB` on the ``L x L``
        torus, ``3 <= L <= 12``).
    r_C, L, loops : as in :func:`quantum_diffusion.toric.toric_cmi_exact`.

    Attributes
    ----------
    L : torus size used; ``free_edges``: ids of the edges whose noise matters (:math:`B\cup C`);
    ``B_edges``: ids of :math:`B`.
    """

    def __init__(self, p: float, r: int, geometry: str = "square", r_C: int | None = None, L: int | None = None,
                 loops: str = "trivial"):
        self.p = check_probability(p, "p", hi=0.5)
        self.loops = check_loops(loops)
        if geometry == "square":
            rc = r if r_C is None else r_C
            if L is None:
                L = 2 * int(r) + 2 * int(rc) + 2
        elif L is None:
            raise ValueError("geometry 'torus' needs the torus size L")
        tri = tripartition(L, r, geometry, r_C)
        self.tri, self.L, self.geometry = tri, tri.L, geometry
        self.B_edges = tri.B
        self.C_edges = tri.C
        self.free_edges = np.concatenate([tri.B, tri.C])
        self.beta = nishimori_beta(self.p) if self.p > 0 else np.inf
        self._blk_ab = block(self.L, tri.center, tri.r)
        self._kw_ab = KacWardBlock(self._blk_ab.n)
        self._flip_ab = self._kw_ab.local_index(self._blk_ab, tri.A)
        if geometry == "square":
            self._blk_abc = block(self.L, tri.center, tri.r + tri.r_C)
            self._kw_abc = KacWardBlock(self._blk_abc.n)
            self._flip_abc = self._kw_abc.local_index(self._blk_abc, tri.A)

    def log_z(self, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The 16 values of :math:`\\ln Z_{ABC}(J^{(f)})` and :math:`\\ln Z_{AB}(J^{(f)})` for noise ``e``."""
        J = 1.0 - 2.0 * np.asarray(e, dtype=float)
        J[self.tri.A] = 1.0
        lz_ab = self._kw_ab.flip_log_z(self._kw_ab.local_couplings(J, self._blk_ab), self.beta, self._flip_ab)
        if self.geometry == "square":
            Jl = self._kw_abc.local_couplings(J, self._blk_abc)
            lz_abc = self._kw_abc.flip_log_z(Jl, self.beta, self._flip_abc)
        else:
            lz_abc = torus_flip_log_z(self.L, J, self.beta, self.tri.center, loops=self.loops)
        return lz_abc, lz_ab

    def kl(self, e: np.ndarray) -> float:
        """KL for one noise configuration ``e`` (uint8/bool array of shape ``(2 L^2,)``); 0 at ``p in {0, 1/2}``."""
        if self.p == 0.0 or self.p == 0.5:
            return 0.0
        return kl_from_log_z(*self.log_z(e))

    def sample_noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` i.i.d. Bernoulli(p) noise configurations on :math:`B\\cup C` (zero elsewhere): ``(n, 2L^2)``."""
        e = np.zeros((n, 2 * self.L * self.L), dtype=np.uint8)
        e[:, self.free_edges] = rng.random((n, self.free_edges.size)) < self.p
        return e


@dataclass
class MCResult:
    """Monte Carlo CMI estimate (nats) with its standard error and the per-sample values."""

    cmi: float
    stderr: float
    n_samples: int
    samples: np.ndarray = field(repr=False)
    weights: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"cmi": self.cmi, "stderr": self.stderr, "n_samples": self.n_samples}


def toric_cmi_mc(
    p: float,
    r: int,
    geometry: str = "square",
    r_C: int | None = None,
    L: int | None = None,
    loops: str = "trivial",
    *,
    n_samples: int = 1000,
    seed: int | np.random.Generator | None = 0,
    progress: bool = False,
) -> MCResult:
    r"""Monte Carlo estimate of :math:`I(A:C|B)` (nats) with exact partition functions per noise sample.

    .. math::
        \hat I=\frac1n\sum_{s=1}^n D_{\rm KL}\bigl(P(a|b_s,c_s,h_s)\,\|\,P(a|b_s,q_s)\bigr),\qquad
        \mathrm{stderr}=\mathrm{std}/\sqrt n

    (module docstring).  Conventions for ``geometry`` (which :math:`C`), ``r_C``, ``L`` and ``loops`` (which
    data set) are those of :func:`quantum_diffusion.toric.toric_cmi_exact`; ``geometry`` defaults to
    ``"square"`` (planar, independent of ``L``).

    Parameters
    ----------
    n_samples : number of noise samples (``>= 2``).
    seed : int, ``None`` or ``numpy.random.Generator``.
    progress : show a tqdm bar.

    Raises
    ------
    ValueError
        ``p`` outside ``[0, 1/2]``, ``r`` too large for ``L``, ``n_samples < 2``, unknown options.
    """
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    sampler = KLSampler(p, r, geometry, r_C, L, loops)
    rng = _rng(seed)
    n = int(n_samples)
    kl = np.zeros(n)
    if 0.0 < sampler.p < 0.5:
        from tqdm.auto import tqdm

        with small_blas():
            for s in tqdm(range(n), disable=not progress, desc=f"CMI p={p:g} r={r}", leave=False):
                kl[s] = sampler.kl(sampler.sample_noise(rng, 1)[0])
    return MCResult(float(kl.mean()), float(kl.std(ddof=1) / np.sqrt(n)), n, kl)


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

    Returns ``{"cmi", "stderr", "n_samples", "method"}``; ``stratify`` selects
    :func:`~.variance.toric_cmi_stratified` instead of plain sampling.
    """
    rng = _rng(rng)
    if stratify:
        from .variance import toric_cmi_stratified

        res = toric_cmi_stratified(p, r, geometry, r_C, L, loops, n_samples=n_samples, seed=rng)
        return {**res.to_dict(), "method": "stratified"}
    res = toric_cmi_mc(p, r, geometry, r_C, L, loops, n_samples=n_samples, seed=rng)
    return {**res.to_dict(), "method": "plain"}
