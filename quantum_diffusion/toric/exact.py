r"""Exact entropies and CMI of the noisy classical toric code (theory note ``toric.md`` sections 2, 4, 5).

Data sets (``loops``):

* ``"trivial"`` ([HLZG]): :math:`x` uniform on :math:`\mathcal C_0=\operatorname{im}\delta` (topologically
  trivial closed dual loops, :math:`2^{L^2-1}` configurations);
* ``"all"``: :math:`x` uniform on all closed loops :math:`\mathcal C` (4 homology sectors).

Noise: every edge flips independently with probability :math:`p`, :math:`y=x\oplus e`.

Two independent methods:

* **brute force** (``L <= 3``): the full :math:`P(y)=|\mathcal D|^{-1}\sum_{x\in\mathcal D}p^{|x\oplus y|}
  (1-p)^{|E|-|x\oplus y|}` on all :math:`2^{2L^2}` configurations, then marginalised;
* **label decomposition** (S60-S63): with :math:`X_R=\{x_R: x\in\mathcal D\}`,
  :math:`P(y_R)=|X_R|^{-1}\Pr(\ell_R(e_R))` where the label :math:`\ell_R=M e_R` (rows of :math:`M` span the
  annihilator of :math:`X_R`), so :math:`H(Y_R)=\log|X_R|+H(\ell_R)`; for trivial loops
  :math:`\log_2|X_R|=|V_R|-c_R`.  :math:`\Pr(\ell)` is built by :math:`|R|` in-place convolutions
  :math:`P\leftarrow(1-p)P+pP(\cdot\oplus\mu_e)` over the :math:`2^{d_R}` labels.

All entropies are in nats (:mod:`quantum_diffusion.conventions`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from .._validation import check_probability
from . import _gf2
from .lattice import check_size, edge_components, homology_representatives, vertex_edges
from .regions import check_tripartition, tripartition

__all__ = [
    "LOOPS",
    "check_loops",
    "data_generators",
    "vertex_components",
    "label_matrix",
    "label_distribution",
    "region_entropy",
    "brute_force_distribution",
    "cmi_exact",
    "toric_cmi_exact",
]

LOOPS = ("trivial", "all")
MAX_LABEL_BITS = 27  # 2^27 doubles = 1 GiB: refuse anything larger


def check_loops(loops: str) -> str:
    """Validate the data-set name.

    Raises
    ------
    ValueError
        If ``loops`` is not ``"trivial"`` or ``"all"``.
    """
    if loops not in LOOPS:
        raise ValueError(f"loops must be one of {LOOPS}, got {loops!r}")
    return loops


def data_generators(L: int, loops: str = "trivial") -> np.ndarray:
    r"""GF(2) generators of the data set: the :math:`L^2` stars :math:`\delta 1_v` (+ 2 homology loops for "all").

    Returns
    -------
    uint8 array of shape ``(L^2, 2L^2)`` or ``(L^2 + 2, 2L^2)``.
    """
    L = check_size(L)
    check_loops(loops)
    G = np.zeros((L * L, 2 * L * L), dtype=np.uint8)
    for v, es in enumerate(vertex_edges(L)):
        G[v, es] = 1
    if loops == "all":
        G = np.vstack([G, homology_representatives(L)])
    return G


def vertex_components(L: int, R: Any) -> tuple[int, int]:
    r"""``(|V_R|, c_R)``: vertices touched by the edge set ``R`` and connected components of :math:`G_R`."""
    sizes = edge_components(L, R)
    return int(sizes.sum()), int(sizes.size)


def label_matrix(L: int, R: Any, loops: str = "trivial") -> tuple[np.ndarray, int]:
    r"""Label map of region ``R``: ``(M, log2_N)`` with :math:`\ell_R(y)=M y_R \bmod 2` and :math:`N_R=2^{\rm log2\_N}`.

    :math:`\ker M = X_R` (restricted data configurations), :math:`M` has :math:`d_R=|R|-\log_2 N_R` rows.

    Returns
    -------
    M : uint8 array ``(d_R, |R|)`` (columns in the order of ``R``); log2_N : int.
    """
    R = np.asarray(R, dtype=np.int64)
    G = data_generators(L, loops)[:, R]
    log2_N = _gf2.rank(G)
    M = _gf2.nullspace(G)
    return M, log2_N


def label_distribution(M: np.ndarray, p: float) -> np.ndarray:
    r"""Distribution of the label :math:`\ell=Me` for i.i.d. Bernoulli(``p``) errors ``e``.

    Implements :math:`P\leftarrow(1-p)P+pP(\cdot\oplus\mu_e)` for every column :math:`\mu_e` of ``M``; the
    XOR shift is a flip of the corresponding axes of the ``(2,)*d`` tensor (a view, no index arrays).

    Returns
    -------
    float array of shape ``(2,) * d`` (``d = M.shape[0]``) summing to one.

    Raises
    ------
    ValueError
        If ``d`` exceeds the memory guard (``2^27`` entries).
    """
    d = M.shape[0]
    if d > MAX_LABEL_BITS:
        raise ValueError(f"label space has 2^{d} entries; the exact method is limited to 2^{MAX_LABEL_BITS}")
    P = np.zeros((2,) * d)
    P[(0,) * d] = 1.0
    for mu in M.T:
        axes = tuple(np.nonzero(mu)[0].tolist())
        if not axes or p == 0.0:
            continue
        P = (1.0 - p) * P + p * np.flip(P, axis=axes)
    return P


def _shannon(P: np.ndarray) -> float:
    q = P[P > 0]
    return float(-np.sum(q * np.log(q)))


@lru_cache(maxsize=8)
def _brute(L: int, p: float, loops: str) -> np.ndarray:
    n = 2 * L * L
    noise = np.ones((1,))
    for _ in range(n):  # product distribution; axis e <-> edge e
        noise = np.multiply.outer(noise, np.array([1.0 - p, p]))
    noise = noise.reshape((2,) * n)
    G = data_generators(L, loops)
    R, _ = _gf2.rref(G)
    k = R.shape[0]
    P = np.zeros_like(noise)
    for c in range(2**k):  # every x in the data set (span of the independent generators)
        bits = np.array([(c >> i) & 1 for i in range(k)], dtype=np.uint8)
        x = (bits @ R) % 2
        axes = tuple(np.nonzero(x)[0].tolist())
        P += np.flip(noise, axis=axes) if axes else noise
    P /= 2**k
    P.setflags(write=False)
    return P


def brute_force_distribution(L: int, p: float, loops: str = "trivial") -> np.ndarray:
    r"""Full :math:`P(y)` by enumeration, as a ``(2,) * 2L^2`` tensor (axis ``e`` = edge ``e``); ``L <= 3``.

    Raises
    ------
    ValueError
        If ``L > 3`` (:math:`2^{32}` configurations) or ``p`` is outside ``[0, 1/2]``.
    """
    L = check_size(L)
    if L > 3:
        raise ValueError(f"brute force enumerates 2^(2L^2) configurations; only L <= 3 is feasible, got {L}")
    p = check_probability(p, "p", hi=0.5)
    return _brute(L, p, check_loops(loops))


def region_entropy(L: int, R: Any, p: float, loops: str = "trivial", method: str = "label") -> float:
    r"""Shannon entropy :math:`H(Y_R)` in nats of the noisy data restricted to edge set ``R``.

    ``method="label"``: :math:`H(Y_R)=\log N_R+H(\ell_R)` (S63); ``method="brute"``: marginal of the full
    distribution (``L <= 3``).

    Raises
    ------
    ValueError
        Bad ``p``, ``loops``, ``method``, out-of-range edge ids, or an infeasible size.
    """
    L = check_size(L)
    p = check_probability(p, "p", hi=0.5)
    check_loops(loops)
    R = np.unique(np.asarray(R, dtype=np.int64))
    if R.size and (R.min() < 0 or R.max() >= 2 * L * L):
        raise ValueError(f"edge ids must lie in [0, {2 * L * L})")
    if R.size == 0:
        return 0.0
    if method == "label":
        M, log2_N = label_matrix(L, R, loops)
        return float(log2_N * np.log(2.0) + _shannon(label_distribution(M, p)))
    if method == "brute":
        P = brute_force_distribution(L, p, loops)
        other = tuple(np.setdiff1d(np.arange(2 * L * L), R).tolist())
        return _shannon(P.sum(axis=other) if other else P)
    raise ValueError(f"method must be 'label' or 'brute', got {method!r}")


def cmi_exact(L: int, p: float, A: Any, B: Any, C: Any, loops: str = "trivial", method: str = "label") -> float:
    r"""Exact :math:`I(A:C|B)=H(Y_{AB})+H(Y_{BC})-H(Y_B)-H(Y_{ABC})` (nats) for any tripartition of edges.

    Raises
    ------
    ValueError
        Overlapping/empty/out-of-range regions, ``p`` outside ``[0, 1/2]``, unknown ``loops`` or ``method``.
    """
    A, B, C = check_tripartition(L, A, B, C)
    p = check_probability(p, "p", hi=0.5)
    H = lambda *rs: region_entropy(L, np.concatenate(rs), p, loops, method)  # noqa: E731
    h_b = H(B) if B.size else 0.0
    return float(H(A, B) + H(B, C) - h_b - H(A, B, C))


def toric_cmi_exact(
    L: int,
    p: float,
    r: int,
    *,
    geometry: str = "torus",
    r_C: int | None = None,
    loops: str = "trivial",
    method: str = "label",
) -> float:
    r"""Exact CMI :math:`I(A:C|B)` in nats of the bit-flip-noised classical toric code.

    .. math::
        I(A:C|B)=H(\ell_{AB})+H(\ell_{BC})-H(\ell_B)-H(\ell_{ABC})\quad\text{(S64)}

    Parameters
    ----------
    L : torus size.
    p : flip probability in ``[0, 1/2]`` (see :func:`quantum_diffusion.toric.flip_probability`).
    r : width of :math:`B` (:math:`A` = one plaquette, :math:`B(r)` = the :math:`(1+2r)` block minus :math:`A`).
    geometry : ``"torus"``: :math:`C` = complement of :math:`AB` (needs ``L >= 2r+2``); ``"square"``:
        :math:`C` = ring of width ``r_C`` (default ``r``), rest traced out (needs ``L >= 2r+2r_C+2``).
    r_C : ring width, square geometry only.
    loops : data set, ``"trivial"`` (the paper's, :math:`\mathcal C_0`) or ``"all"`` (:math:`\mathcal C`); it
        matters only when :math:`ABC` wraps the torus (the torus geometry).
    method : ``"label"`` (any ``L`` with label space up to :math:`2^{27}`; torus ``L <= 5``) or ``"brute"``
        (``L <= 3``; no geometry with ``r >= 1`` fits, so use :func:`cmi_exact` there).

    Returns
    -------
    float, the CMI in nats.

    Raises
    ------
    ValueError
        ``r`` too large for ``L``, ``p`` outside ``[0, 1/2]``, ``r_C`` with the torus geometry, unknown options.

    Examples
    --------
    >>> abs(toric_cmi_exact(6, 0.0, 1, geometry="square", r_C=1)) < 1e-12  # noiseless data: no CMI
    True
    >>> round(toric_cmi_exact(4, 0.11, 1, geometry="torus", loops="trivial"), 4)  # 4x4 torus, C = complement
    0.2914
    """
    tri = tripartition(L, r, geometry, r_C)
    return cmi_exact(L, p, tri.A, tri.B, tri.C, loops, method)
