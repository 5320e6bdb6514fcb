r"""Random-bond Ising partition functions at the Nishimori temperature, all in log space.

For an edge set :math:`R` with couplings :math:`J_e=(-1)^{y_e}` and :math:`\beta_N=\tfrac12\ln\frac{1-p}{p}`,

.. math::
    Z_R(J)=\sum_{\sigma\in\{\pm1\}^{V_R}}\exp\Bigl(\beta\sum_{\langle uv\rangle\in R}J_{uv}\sigma_u\sigma_v\Bigr),
    \qquad P(y_R)=2^{-|V_R|}\bigl(p(1-p)\bigr)^{|R|/2}Z_R(J)

(theory note ``toric.md`` section 6; the identity holds for the trivial-loop data set).  Engines:

* :func:`log_z_brute`: enumeration over :math:`2^{|V_R|}` spins (any graph, ``|V_R| <= 20``);
* :func:`log_z_transfer`: column transfer matrix on an ``n_r x n_c`` vertex grid, open or periodic
  (:math:`O(n_c n_r 4^{n_r})` on the torus, :math:`O(n_c n_r 2^{n_r})` open);
* :func:`torus_flip_log_z`: the torus transfer matrix with the 4 corner spins of the plaquette :math:`A` kept
  open, giving :math:`\ln Z(J^{(f)})` for all 16 sign-flip patterns :math:`f` of :math:`A` at the cost of one
  contraction (and optionally summed over the 4 homology twists, the "all loops" data set);
* :class:`KacWardBlock`: planar open block, :math:`Z=2^{|V|}\prod_e\cosh(\beta J_e)\,\sqrt{\det(I-T)}` with the
  Kac-Ward transition matrix :math:`T` (sparse LU), and the 16 flips of :math:`A` by the matrix determinant lemma;
  ``dense=True`` gives the dense-determinant baseline.

Flip patterns: bit ``k`` of ``f`` (``f = 0..15``) flips the sign of the ``k``-th edge of :math:`A` in sorted
edge-id order (:mod:`quantum_diffusion.toric.lattice`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu
from scipy.special import logsumexp

from .._validation import check_probability
from .lattice import check_size, h_edge, v_edge
from .regions import Block

__all__ = [
    "TRANSFER_MAX_ROWS",
    "nishimori_beta",
    "log_z_brute",
    "log_z_transfer",
    "torus_flip_log_z",
    "KacWardBlock",
    "flip_patterns",
]

#: Largest number of vertex rows for which the open transfer matrix is used as the exact fallback.
TRANSFER_MAX_ROWS = 14
#: Smallest flip probability for which the Kac-Ward engine keeps ln Z accurate to ~1e-9 (measured against the
#: transfer matrix: 2e-9 at p = 1e-3 on a 7x7 block, 6e-6 at p = 1e-4, 2e-2 at p = 1e-5; the determinant
#: cancels between even subgraphs of weights tanh(beta J) = +-(1 - 2p)).
KW_P_MIN = 1e-3


def _nishimori_beta_unchecked(p: float) -> float:
    return 0.5 * float(np.log((1.0 - p) / p))


_KW_BETA_MAX = _nishimori_beta_unchecked(KW_P_MIN) * (1 + 1e-12)


def nishimori_beta(p: float) -> float:
    r"""Nishimori inverse temperature :math:`\beta_N=\tfrac12\ln\frac{1-p}{p}` for ``0 < p <= 1/2``.

    Raises
    ------
    ValueError
        If ``p`` is outside ``(0, 1/2]`` (at ``p = 0`` the temperature is zero).
    """
    p = check_probability(p, "p", hi=0.5)
    if p == 0.0:
        raise ValueError("p = 0 has infinite Nishimori beta; handle the noiseless case separately")
    return 0.5 * np.log((1.0 - p) / p)


def flip_patterns(k: int = 4) -> np.ndarray:
    """Sign patterns: array ``(2^k, k)`` with ``out[f, i] = -1`` if bit ``i`` of ``f`` is set, else ``+1``."""
    f = np.arange(2**k)[:, None]
    return 1 - 2 * ((f >> np.arange(k)[None, :]) & 1)


def _check_couplings(J: Any, shape: tuple[int, ...], name: str = "J") -> np.ndarray:
    J = np.asarray(J, dtype=float)
    if J.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {J.shape}")
    if not np.all(np.isfinite(J)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return J


def log_z_brute(edges: Any, J: Any, beta: float) -> float:
    r""":math:`\ln Z` by enumerating all spins on the vertices touched by ``edges``.

    Parameters
    ----------
    edges : int array ``(m, 2)`` of vertex labels (any integers).
    J : float array ``(m,)`` of couplings.
    beta : inverse temperature.

    Raises
    ------
    ValueError
        Shape mismatch, non-finite couplings, or more than 22 vertices.
    """
    edges = np.asarray(edges, dtype=np.int64)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ValueError(f"edges must have shape (m, 2), got {edges.shape}")
    J = _check_couplings(J, (edges.shape[0],))
    verts, inv = np.unique(edges, return_inverse=True)
    inv = inv.reshape(edges.shape)
    n = verts.size
    if n > 22:
        raise ValueError(f"brute force over 2^{n} spin configurations is too large (limit 2^22)")
    s = np.arange(2**n)[:, None]
    sigma = 1 - 2 * ((s >> np.arange(n)[None, :]) & 1)
    energy = (sigma[:, inv[:, 0]] * sigma[:, inv[:, 1]]) @ J
    return float(logsumexp(beta * energy))


def _spins(n: int) -> np.ndarray:
    s = np.arange(2**n)[:, None]
    return (1 - 2 * ((s >> (n - 1 - np.arange(n))[None, :]) & 1)).astype(float)  # axis i <-> bit n-1-i


def _apply_h(psi: np.ndarray, Jcol: np.ndarray, beta: float) -> np.ndarray:
    """Multiply the last axis (column state, 2^n) by prod_i exp(beta J_i s_i s'_i), one spin at a time."""
    batch, dim = psi.shape
    n = Jcol.size
    for i in range(n):  # a zero coupling is the all-ones 2x2 (free sum over s'_i), not the identity
        w = np.exp(beta * Jcol[i] * np.array([[1.0, -1.0], [-1.0, 1.0]]))
        x = psi.reshape(batch, 2**i, 2, 2 ** (n - 1 - i))
        psi = np.einsum("xaby,bc->xacy", x, w).reshape(batch, dim)
    return psi


def _log_diag(sig: np.ndarray, Jv: np.ndarray, beta: float, periodic: bool) -> np.ndarray:
    n = sig.shape[1]
    if periodic:
        pairs = sig * np.roll(sig, -1, axis=1)
        return beta * pairs @ Jv
    if n == 1:
        return np.zeros(sig.shape[0])
    return beta * (sig[:, :-1] * sig[:, 1:]) @ Jv


def log_z_transfer(Jh: Any, Jv: Any, beta: float, *, periodic: bool) -> float:
    r""":math:`\ln Z` of an Ising model on an ``n_r x n_c`` vertex grid by a column transfer matrix.

    Parameters
    ----------
    Jh : horizontal couplings, ``Jh[i, j]`` between vertices ``(i, j)`` and ``(i, j+1)``; shape
        ``(n_r, n_c)`` if ``periodic`` (torus, ``j+1`` mod ``n_c``) else ``(n_r, n_c - 1)``.
    Jv : vertical couplings, ``Jv[i, j]`` between ``(i, j)`` and ``(i+1, j)``; shape ``(n_r, n_c)`` if
        ``periodic`` else ``(n_r - 1, n_c)``.
    beta : inverse temperature.
    periodic : torus (both directions periodic) or open rectangle.

    A zero coupling is a missing edge (every grid vertex is summed over, so an isolated vertex adds ``ln 2``).

    Raises
    ------
    ValueError
        Inconsistent shapes, non-finite couplings, or ``n_r > 13`` (periodic) / ``n_r > 22`` (open).
    """
    Jh = np.asarray(Jh, dtype=float)
    if Jh.ndim != 2:
        raise ValueError(f"Jh must be 2-D, got shape {Jh.shape}")
    n_r = Jh.shape[0]
    n_c = Jh.shape[1] if periodic else Jh.shape[1] + 1
    Jv = _check_couplings(Jv, (n_r, n_c) if periodic else (n_r - 1, n_c), "Jv")
    _check_couplings(Jh, Jh.shape, "Jh")
    if n_r > (13 if periodic else 22):
        raise ValueError(f"transfer matrix over 2^{n_r} column states is too large")
    sig = _spins(n_r)
    log_scale = 0.0
    if periodic:
        psi = np.diag(np.exp(_log_diag(sig, Jv[:, 0], beta, True)))
    else:
        psi = np.exp(_log_diag(sig, Jv[:, 0], beta, False))[None, :]
    for j in range(n_c - 1 if not periodic else n_c):
        psi = _apply_h(psi, Jh[:, j], beta)
        nxt = (j + 1) % n_c
        if periodic and nxt == 0:
            break
        psi = psi * np.exp(_log_diag(sig, Jv[:, nxt], beta, periodic))[None, :]
        m = psi.max()
        psi /= m
        log_scale += np.log(m)
    total = np.trace(psi) if periodic else psi.sum()
    return float(log_scale + np.log(total))


def torus_flip_log_z(L: int, J: Any, beta: float, center: tuple[int, int], *, loops: str = "trivial") -> np.ndarray:
    r""":math:`\ln Z_{\rm torus}(J^{(f)})` for the 16 sign-flip patterns of plaquette ``center``'s 4 edges.

    One column-transfer contraction with the 4 corner spins of :math:`A` left open gives the environment
    :math:`E(\sigma_{\rm corners})`; then :math:`Z(J^{(f)})=\sum_{\sigma}E(\sigma)\prod_{e\in A}
    e^{\beta f_e J_e\sigma_u\sigma_v}`.  With ``loops="all"`` the 4 homology twists (sign flips along two
    non-contractible seams that avoid :math:`A`) are summed: :math:`Z_{\rm all}=\sum_h Z(J\odot(-1)^{x_h})`.

    Parameters
    ----------
    L : torus size (3 <= L <= 12).
    J : couplings indexed by edge id, shape ``(2 L^2,)``.
    beta : inverse temperature.
    center : plaquette ``(i0, j0)`` carrying :math:`A`.
    loops : ``"trivial"`` or ``"all"``.

    Returns
    -------
    float array ``(16,)``, pattern order of :func:`flip_patterns` over :math:`A`'s edges in sorted-id order.

    Raises
    ------
    ValueError
        Bad ``L``, ``J`` shape, or ``loops``.
    """
    L = check_size(L, 3)
    if L > 12:
        raise ValueError(f"the torus transfer matrix needs 4^L memory; L <= 12, got {L}")
    if loops not in ("trivial", "all"):
        raise ValueError(f"loops must be 'trivial' or 'all', got {loops!r}")
    J = _check_couplings(J, (2 * L * L,))
    i0, j0 = center
    Jr = np.roll(J.reshape(L, L, 2), (-i0, -j0), axis=(0, 1))  # A now at plaquette (0, 0)
    Jh, Jv = Jr[..., 0].copy(), Jr[..., 1].copy()
    # A's edges in rolled coordinates and their corner spins (corner index: 2*col + row over rows 0,1, cols 0,1)
    a_local = {h_edge(0, 0, L): ("h", 0, 0, (0, 2)), h_edge(1, 0, L): ("h", 1, 0, (1, 3)),
               v_edge(0, 0, L): ("v", 0, 0, (0, 1)), v_edge(0, 1, L): ("v", 0, 1, (2, 3))}
    a_global = {h_edge(i0, j0, L): h_edge(0, 0, L), h_edge(i0 + 1, j0, L): h_edge(1, 0, L),
                v_edge(i0, j0, L): v_edge(0, 0, L), v_edge(i0, j0 + 1, L): v_edge(0, 1, L)}
    order = sorted(a_global)
    JA = np.array([J[g] for g in order])
    pairs = [a_local[a_global[g]][3] for g in order]
    Jh[0, 0] = Jh[1, 0] = 0.0
    Jv[0, 0] = Jv[0, 1] = 0.0
    twists = [(0, 0)] if loops == "trivial" else [(0, 0), (1, 0), (0, 1), (1, 1)]
    sig = _spins(L)
    corners = np.array([[a, b, c, d] for a in (1, -1) for b in (1, -1) for c in (1, -1) for d in (1, -1)], float)
    fp = flip_patterns(4)
    bond = np.stack([corners[:, u] * corners[:, v] for u, v in pairs], axis=1)  # (16 corner configs, 4)
    out = []
    for t1, t2 in twists:
        h = Jh.copy()
        v = Jv.copy()
        if t1:
            v[1, :] *= -1.0  # seam x1: vertical edges of row 1 (avoids A's v(0, .))
        if t2:
            h[:, 1] *= -1.0  # seam x2: horizontal edges of column 1 (avoids A's h(., 0))
        log_env, scale = _torus_environment(h, v, beta, sig)
        # log_env[c00, c10, c01, c11] -> flatten in the same order as `corners`
        energies = beta * (fp * JA[None, :]) @ bond.T  # (16 patterns, 16 corner configs)
        out.append(scale + logsumexp(log_env.reshape(-1)[None, :] + energies, axis=1))
    return logsumexp(np.array(out), axis=0) if len(out) > 1 else out[0]


def _torus_environment(Jh: np.ndarray, Jv: np.ndarray, beta: float, sig: np.ndarray) -> tuple[np.ndarray, float]:
    L = Jh.shape[0]
    psi = np.diag(np.exp(_log_diag(sig, Jv[:, 1], beta, True)))  # psi[s1_init, s_current], start at column 1
    log_scale = 0.0
    for j in range(1, L):
        psi = _apply_h(psi, Jh[:, j], beta)
        psi = psi * np.exp(_log_diag(sig, Jv[:, (j + 1) % L], beta, True))[None, :]
        m = psi.max()
        psi /= m
        log_scale += np.log(m)
    # psi[s1, s0]; close with the column-0 -> column-1 bonds (A's h bonds already zeroed)
    log_h0 = beta * (sig * Jh[:, 0][None, :]) @ sig.T  # [s0, s1]
    K = psi.T * np.exp(log_h0 - log_h0.max())
    log_scale += log_h0.max()
    rest = 2 ** (L - 2)
    E = K.reshape(2, 2, rest, 2, 2, rest).sum(axis=(2, 5))  # [c00, c10, c01, c11]
    with np.errstate(divide="ignore"):
        return np.log(E), log_scale


class KacWardBlock:
    r"""Kac-Ward engine for the open ``n x n``-plaquette block (an ``(n+1) x (n+1)`` vertex grid).

    .. math::
        \ln Z = |V|\ln 2+\sum_e\ln\cosh(\beta J_e)+\tfrac12\ln\det(I-T),\qquad
        T_{d,d'}=\tanh(\beta J_{e(d')})\,e^{i\theta(d,d')/2}

    for directed edges :math:`d=(u\to v)`, :math:`d'=(v\to w)`, :math:`w\ne u`, with :math:`\theta` the turning
    angle (Kac-Ward: :math:`\det(I-T)=Z_{\rm even}^2` on planar graphs).  Edge order: the ``(n+1) x n``
    horizontal edges row-major, then the ``n x (n+1)`` vertical edges, as in :class:`~.regions.Block`.

    Parameters
    ----------
    n : side in plaquettes (``>= 1``).
    """

    def __init__(self, n: int):
        if int(n) != n or n < 1:
            raise ValueError(f"block side n must be a positive integer, got {n!r}")
        self.n = n = int(n)
        nv = (n + 1) ** 2
        vid = lambda a, b: a * (n + 1) + b  # noqa: E731
        ends = [(vid(a, b), vid(a, b + 1)) for a in range(n + 1) for b in range(n)]
        ends += [(vid(a, b), vid(a + 1, b)) for a in range(n) for b in range(n + 1)]
        self.edges = np.array(ends, dtype=np.int64)
        self.n_vertices = nv
        m = len(ends)
        self.n_edges = m
        xy = np.array([(b, -a) for a in range(n + 1) for b in range(n + 1)], dtype=float)
        # directed edge 2k: u->v, 2k+1: v->u
        tail = np.empty(2 * m, np.int64)
        head = np.empty(2 * m, np.int64)
        tail[0::2], head[0::2] = self.edges[:, 0], self.edges[:, 1]
        tail[1::2], head[1::2] = self.edges[:, 1], self.edges[:, 0]
        ang = np.arctan2(*(xy[head] - xy[tail])[:, ::-1].T)
        out_of = [[] for _ in range(nv)]
        for d in range(2 * m):
            out_of[tail[d]].append(d)
        rows, cols, ph = [], [], []
        for d in range(2 * m):
            for d2 in out_of[head[d]]:
                if head[d2] == tail[d]:
                    continue  # no backtracking
                turn = (ang[d2] - ang[d] + np.pi) % (2 * np.pi) - np.pi
                rows.append(d)
                cols.append(d2)
                ph.append(np.exp(0.5j * turn))
        self._rows = np.array(rows)
        self._cols = np.array(cols)
        self._phase = np.array(ph)
        self._col_edge = self._cols // 2
        self._N = 2 * m
        self._csc: tuple[np.ndarray, np.ndarray] | None = None
        self._csc_src: np.ndarray | None = None
        self.ratio_tol = 1e-10
        self.n_refactor = 0

    @property
    def transitions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""Non-zero pattern of :math:`T` as ``(rows, cols, phase)``.

        :math:`T_{d,d'}=` ``phase * tanh(beta J[cols // 2])``; directed edge ``2k`` runs along edge ``k``,
        ``2k+1`` against it.
        """
        return self._rows.copy(), self._cols.copy(), self._phase.copy()

    def local_couplings(self, J: Any, blk: Block) -> np.ndarray:
        """Couplings in this engine's edge order from a torus-indexed ``J`` (shape ``(2 L^2,)``) and a block."""
        J = np.asarray(J, dtype=float)
        return np.concatenate([J[blk.h_ids.ravel()], J[blk.v_ids.ravel()]])

    def local_index(self, blk: Block, edge_ids: Any) -> np.ndarray:
        """Positions of torus edge ids inside this engine's edge order."""
        allids = np.concatenate([blk.h_ids.ravel(), blk.v_ids.ravel()])
        where = {int(e): k for k, e in enumerate(allids)}
        try:
            return np.array([where[int(e)] for e in edge_ids], dtype=np.int64)
        except KeyError as exc:
            raise ValueError(f"edge {exc.args[0]} is not in the block") from None

    def matrix(self, J: Any, beta: float) -> sp.csc_matrix:
        """Return the sparse Kac-Ward matrix :math:`I-T`, shape ``(2m, 2m)`` complex."""
        J = _check_couplings(J, (self.n_edges,))
        t = np.tanh(beta * J)
        if self._csc is None:  # fixed sparsity pattern: I plus the non-backtracking turns (built once)
            rows = np.concatenate([np.arange(self._N), self._rows])
            cols = np.concatenate([np.arange(self._N), self._cols])
            pattern = sp.csc_matrix((np.arange(1, rows.size + 1, dtype=float), (rows, cols)),
                                    shape=(self._N, self._N))
            self._csc_src = pattern.data.astype(np.int64) - 1  # entry k of the CSC data <- source index
            self._csc = (pattern.indices.copy(), pattern.indptr.copy())
        src = np.concatenate([np.ones(self._N, complex), -self._phase * t[self._col_edge]])
        return sp.csc_matrix((src[self._csc_src], *self._csc), shape=(self._N, self._N))

    def transfer_log_z(self, J: Any, beta: float) -> float:
        r""":math:`\ln Z` of the block by the open column transfer matrix (:func:`log_z_transfer`).

        Exact for any ``beta``; cost :math:`O(n^2 2^n)`, so only for ``n + 1 <= TRANSFER_MAX_ROWS``.

        Raises
        ------
        ValueError
            If the block is too large for the transfer matrix.
        """
        J = _check_couplings(J, (self.n_edges,))
        n = self.n
        if n + 1 > TRANSFER_MAX_ROWS:
            raise ValueError(f"transfer matrix over 2^{n + 1} states: block side n must be < {TRANSFER_MAX_ROWS}")
        nh = (n + 1) * n
        return log_z_transfer(J[:nh].reshape(n + 1, n), J[nh:].reshape(n, n + 1), beta, periodic=False)

    def _const(self, J: np.ndarray, beta: float) -> float:
        return self.n_vertices * np.log(2.0) + float(np.sum(np.log(np.cosh(beta * J))))

    def log_z(self, J: Any, beta: float, *, dense: bool = False) -> float:
        r""":math:`\ln Z` of the block (sparse LU, or dense ``slogdet`` when ``dense``).

        Below ``p = KW_P_MIN`` the exact transfer matrix is used instead (see :meth:`flip_log_z`).

        Raises
        ------
        ValueError
            Bad couplings, or ``beta`` beyond the Kac-Ward precision on a block too large for the transfer matrix.
        """
        J = _check_couplings(J, (self.n_edges,))
        if beta > _KW_BETA_MAX and not dense:
            return float(self.flip_log_z(J, beta, np.zeros(0, np.int64))[0])
        Mx = self.matrix(J, beta)
        if dense:
            _, logdet = np.linalg.slogdet(Mx.toarray())
        else:
            lu = splu(Mx)
            logdet = float(np.sum(np.log(np.abs(lu.U.diagonal()))))
        return self._const(J, beta) + 0.5 * float(np.real(logdet))

    def flip_log_z(self, J: Any, beta: float, flip: Any, *, dense: bool = False) -> np.ndarray:
        r""":math:`\ln Z(J^{(f)})` for all :math:`2^k` sign patterns of the edges ``flip`` (local indices).

        Sparse path: one LU and the matrix determinant lemma,
        :math:`\det(I-T^{(f)})=\det(I-T)\det(I_s+2[(I-T)^{-1}T]_{s,s})` over the flipped directed edges
        :math:`s`.  ``dense=True`` is the baseline: one dense ``slogdet`` per pattern.

        Returns
        -------
        float array ``(2^k,)`` in the order of :func:`flip_patterns`.

        Below ``p = KW_P_MIN`` (:math:`\beta` above :math:`\beta_N(10^{-3})`) the determinant loses double
        precision; every pattern is then computed by the exact open transfer matrix (blocks of side
        ``< TRANSFER_MAX_ROWS``), and larger blocks raise.

        Raises
        ------
        ValueError
            If a determinant ratio is not (numerically) real positive, i.e. the Kac-Ward identity failed, or
            ``beta`` is beyond the Kac-Ward precision on a block too large for the transfer matrix.
        """
        J = _check_couplings(J, (self.n_edges,))
        flip = np.asarray(flip, dtype=np.int64)
        fp = flip_patterns(flip.size)
        if beta > _KW_BETA_MAX:
            if self.n + 1 > TRANSFER_MAX_ROWS:
                p = 1.0 / (1.0 + np.exp(2.0 * beta))
                raise ValueError(
                    f"flip probability p = {p:.3g} is below {KW_P_MIN:g}, where the Kac-Ward determinant loses "
                    f"double precision, and the {self.n}x{self.n} block is too large for the exact transfer-matrix "
                    f"fallback (side <= {TRANSFER_MAX_ROWS - 1}); use p >= {KW_P_MIN:g} or smaller regions"
                )
            out = []
            for signs in fp:
                Jf = J.copy()
                Jf[flip] *= signs
                out.append(self.transfer_log_z(Jf, beta))
            return np.array(out)
        if dense:
            out = []
            for signs in fp:
                Jf = J.copy()
                Jf[flip] *= signs
                out.append(self.log_z(Jf, beta, dense=True))
            return np.array(out)
        Mx = self.matrix(J, beta)
        lu = splu(Mx)
        logdet = float(np.sum(np.log(np.abs(lu.U.diagonal()))))
        base = self._const(J, beta) + 0.5 * logdet
        S = np.stack([2 * flip, 2 * flip + 1], axis=1).ravel()  # directed edges of flipped edges
        t = np.tanh(beta * J)
        # columns S of T (weights on the column edge)
        Tcols = np.zeros((self._N, S.size), dtype=complex)
        pos = np.full(self._N, -1, dtype=np.int64)
        pos[S] = np.arange(S.size)
        sel = pos[self._cols] >= 0
        np.add.at(Tcols, (self._rows[sel], pos[self._cols[sel]]), self._phase[sel] * t[self._cols[sel] // 2])
        K = lu.solve(Tcols)[S, :]  # (2k, 2k)
        out = np.empty(len(fp))
        ratios = _pattern_ratios(K, fp < 0)
        for f, signs in enumerate(fp):
            ratio = ratios[f]
            if ratio.real > 0 and abs(ratio.imag) <= self.ratio_tol * abs(ratio):
                out[f] = base + 0.5 * np.log(ratio.real)
                continue
            # ill-conditioned update (Z_even small against the matrix scale, e.g. p <~ 1e-6 where the frustrated
            # patterns have Z ~ p^k): recompute this pattern directly.  The open transfer matrix sums positive
            # weights (no cancellation) and is exact to rounding; it is used whenever its 2^(n+1) states fit.
            Jf = J.copy()
            Jf[flip] *= signs
            self.n_refactor += 1
            if self.n + 1 <= TRANSFER_MAX_ROWS:
                out[f] = self.transfer_log_z(Jf, beta)
                continue
            lu_f = splu(self.matrix(Jf, beta))
            d = np.prod(lu_f.U.diagonal() / np.abs(lu_f.U.diagonal()))
            if abs(np.angle(d * _perm_sign(lu_f))) > 1e-6:
                raise ValueError(f"Kac-Ward determinant not real positive (phase {np.angle(d):.3e}) at beta = "
                                 f"{beta:.3g} on a {self.n}x{self.n} block; identity failed")
            out[f] = self._const(Jf, beta) + 0.5 * float(np.sum(np.log(np.abs(lu_f.U.diagonal()))))
        return out


def _pattern_ratios(K: np.ndarray, flipped: np.ndarray) -> np.ndarray:
    """``det(I + 2 K[s, s])`` for every pattern (row of ``flipped``), batched by the size of ``s``."""
    sel = np.repeat(flipped, 2, axis=1)  # both directed edges of a flipped edge
    sizes = sel.sum(axis=1)
    out = np.ones(len(flipped), dtype=complex)
    for m in np.unique(sizes):
        if m == 0:
            continue
        rows = np.nonzero(sizes == m)[0]
        idx = np.array([np.nonzero(sel[f])[0] for f in rows])  # (n_pat, m)
        sub = K[idx[:, :, None], idx[:, None, :]]
        out[rows] = np.linalg.det(np.eye(m) + 2.0 * sub)
    return out


def _perm_sign(lu: Any) -> float:
    """Sign of the row and column permutations of a SuperLU factorisation."""
    sign = 1.0
    for perm in (lu.perm_r, lu.perm_c):
        perm = np.array(perm)
        seen = np.zeros(perm.size, bool)
        for i in range(perm.size):
            if seen[i]:
                continue
            j, length = i, 0
            while not seen[j]:
                seen[j] = True
                j = perm[j]
                length += 1
            if length % 2 == 0:
                sign = -sign
    return sign
