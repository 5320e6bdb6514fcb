r"""The bypass path and its exact CMI.

Reset the data to all-zero, re-noise with independent flips, then star ("dual plaquette") flips.

Segments, each starting from the all-zero configuration:

* ``"flips"``: :math:`y=e`, :math:`e_e\sim\mathrm{Bernoulli}(q)` i.i.d. (``q`` from 0 to 1/2 ends in the
  uniform noise), a product distribution, so :math:`H(Y_R)=|R|\,h(q)` and :math:`I(A:C|B)=0`;
* ``"stars"``: :math:`y=\delta\sigma` with :math:`\sigma_v\sim\mathrm{Bernoulli}(q)` i.i.d., i.e. each dual
  plaquette (the 4 edges at a vertex) flips with probability ``q``; ``q = 1/2`` gives the trivial-loop data
  :math:`P_0`.  Given :math:`y_R`, :math:`\sigma` on :math:`V_R` is fixed up to one global flip per connected
  component :math:`\kappa` of :math:`G_R`, so

.. math::
    H(Y_R)=|V_R|\,h(q)-\sum_\kappa g(|\kappa|),\qquad
    g(n)=\sum_{k=0}^n\binom nk q^k(1-q)^{n-k}\,h\Bigl(\frac{q^k(1-q)^{n-k}}{q^k(1-q)^{n-k}+q^{n-k}(1-q)^k}\Bigr)

with :math:`h` the binary entropy in nats.  For :math:`A` one plaquette with :math:`V_A\subseteq V_B` and
connected :math:`B`, :math:`y_A` is a function of :math:`y_B` and the CMI vanishes identically (short range).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, gammaln

from .._validation import check_probability
from .lattice import check_size, edge_components
from .regions import check_tripartition, tripartition

__all__ = ["bypass_region_entropy", "bypass_cmi", "bypass_tripartite_cmi"]


def _h(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 1e-300, 1.0)
    y = np.clip(1.0 - x, 1e-300, 1.0)
    return -(x * np.log(x) + y * np.log(y))


def _g(n: int, q: float) -> float:
    if q in (0.0, 1.0):
        return 0.0
    k = np.arange(n + 1)
    logw = k * np.log(q) + (n - k) * np.log1p(-q)
    logw2 = (n - k) * np.log(q) + k * np.log1p(-q)
    post = expit(logw - logw2)  # 1 / (1 + exp(logw2 - logw)) without overflow
    logb = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return float(np.sum(np.exp(logb + logw) * _h(post)))


def bypass_region_entropy(L: int, R: Any, q: float, segment: str = "stars") -> float:
    """Exact :math:`H(Y_R)` (nats) on a bypass segment (module docstring for the formula).

    Raises
    ------
    ValueError
        Unknown segment, ``q`` outside ``[0, 1/2]``, bad edge ids.
    """
    L = check_size(L)
    q = check_probability(q, "q", hi=0.5)
    R = np.unique(np.asarray(R, dtype=np.int64))
    if R.size and (R.min() < 0 or R.max() >= 2 * L * L):
        raise ValueError(f"edge ids must lie in [0, {2 * L * L})")
    if R.size == 0:
        return 0.0
    if segment == "flips":
        return float(R.size * _h(np.array(q))) if q > 0 else 0.0
    if segment != "stars":
        raise ValueError(f"segment must be 'flips' or 'stars', got {segment!r}")
    sizes = edge_components(L, R).tolist()
    hq = float(_h(np.array(q))) if q > 0 else 0.0
    return sum(n * hq - _g(n, q) for n in sizes)


def bypass_tripartite_cmi(L: int, q: float, A: Any, B: Any, C: Any, segment: str = "stars") -> float:
    """Exact bypass-path CMI :math:`I(A:C|B)` (nats) for any tripartition of edges.

    Raises
    ------
    ValueError
        Overlapping or empty regions, ``q`` outside ``[0, 1/2]``, unknown segment.
    """
    A, B, C = check_tripartition(L, A, B, C)
    H = lambda *rs: bypass_region_entropy(L, np.concatenate(rs), q, segment)  # noqa: E731
    return H(A, B) + H(B, C) - (H(B) if B.size else 0.0) - H(A, B, C)


def bypass_cmi(L: int, q: float, r: int, *, geometry: str = "square", r_C: int | None = None,
               segment: str = "stars") -> float:
    """Bypass-path CMI for the standard regions of :func:`~.regions.tripartition` (``A`` one plaquette).

    Raises
    ------
    ValueError
        As :func:`~.regions.tripartition` and :func:`bypass_region_entropy`.
    """
    tri = tripartition(L, r, geometry, r_C)
    return bypass_tripartite_cmi(L, q, tri.A, tri.B, tri.C, segment)
