r"""Crossed (inner x outer) Monte Carlo CMI: every inner noise pattern paired with every outer one.

Notation of :mod:`~.sampler`: :math:`I(A:C|B)=\mathbb E_e D_e` with :math:`D_e=D_{\rm KL}(P_e\|Q_e)`.  Split the
noisy edges :math:`B\cup C` into the *inner* group :math:`e_1` (the edges of the :math:`(1+2r_{\rm in})` block
around :math:`A`, minus :math:`A`) and the *outer* group :math:`e_2` (the rest of :math:`B` and all of
:math:`C`).  The two groups are independent under the noise law, so for independent draws
:math:`e_1^{(1..n_1)}` and :math:`e_2^{(1..n_2)}`

.. math::
    \hat I=\frac1{n_1n_2}\sum_{i,j}X_{ij},\qquad X_{ij}=D(e_1^{(i)},e_2^{(j)})+\lambda\,Y(e_1^{(i)},e_2^{(j)}),

is unbiased (each pair is a draw of the noise law).  :math:`Y` is the zero-mean control variate of
:mod:`~.controlvariate` (:math:`\mathbb E[Y|e_B]=0`).  Hoeffding (ANOVA) decomposition: with main effects
:math:`\sigma_k^2=\mathrm{Var}\,\mathbb E[X|e_k]` and interaction :math:`\sigma_{12}^2`, the fully crossed mean
has variance :math:`\sigma_1^2/n_1+\sigma_2^2/n_2+\sigma_{12}^2/(n_1n_2)`.  At small ``p`` the large KLs need
an error chain from :math:`A` across :math:`B`, i.e. inner *and* outer errors at once, so most of the variance
is interaction, which the pairs average down.  A full crossing costs :math:`n_1n_2` pair evaluations, so the
draws come in independent *blocks* (``inner_per_block`` x ``outer_per_block`` pairs each); the block means are
i.i.d., which gives an honest central-limit error bar, the effective sample size (in blocks) and an exactly
unbiased cross-fitted :math:`\lambda` (fitted on the other half of the blocks, so independent of the blocks it
multiplies: :math:`\mathbb E[\lambda\bar Y_b]=\mathbb E\lambda\,\mathbb E\bar Y_b=0`).

With ``c_per_block`` the outer group is split once more into the rest of :math:`B` (the *middle* ring) and
:math:`C`, and every inner x middle x :math:`C` triple of a block is used: the middle ring carries most of the
outer main effect and its environment is cheap (a ring of :math:`B`), while the expensive :math:`C` ring is
shared by all middle draws of the block.

Measured (``benchmarks/toric_bench.py --crossed --samples 1200 --outer 800 --repeats 2 --p 0.05 0.1 0.15``,
square geometry, ``r = r_C = 4``, default options, plain sampling in the same run; gain = wall time of plain
sampling / wall time of this estimator for equal standard error, 16-84% bootstrap interval): 13.4 [10.1, 17.8]
at ``p = 0.05``, 3.0 [2.5, 3.6] at ``p = 0.1``, 1.2 [1.0, 1.5] at ``p = 0.15`` (the cross-fitted control variate
alone: 1.8, 1.2, 0.7).  The gain is largest where the KL is a rare event (small ``p``); near and above
:math:`p_c` the variance sits in the main effects of single noise groups, which pairing cannot average.

**Why pairs are cheap (square geometry).**  With :math:`M=I-T` the Kac-Ward matrix of a block
(:class:`~.partition.KacWardBlock`) and the directed edges split into inner (:math:`\mathcal I`) and outer
(:math:`\mathcal O`), the outer edges couple to the inner block only through the :math:`k=4(2r_{\rm in}+1)+4`
directed edges leaving and entering its boundary vertices, so

.. math::
    (M^{-1})_{\mathcal{II}}=\bigl(M_{\mathcal{II}}-U_0\,\Gamma\,V\bigr)^{-1},\qquad
    \Gamma=\mathrm{diag}\bigl(\tanh\beta J_{\rm out}\bigr)\,\bigl[M_{\mathcal{OO}}^{-1}\bigr]_{\rm out,in}
    \ (k\times k),

with :math:`U_0` fixed phases and :math:`V` depending on the inner couplings.  :math:`\Gamma` (the *environment*)
costs one sparse LU per outer draw and graph (:math:`AB` and :math:`ABC`), :math:`M_{\mathcal{II}}^{-1}` one
small LU per inner draw, and by the Woodbury identity the :math:`8\times8` matrix
:math:`K=[M^{-1}T]_{S,S}` on :math:`A`'s directed edges :math:`S` that gives the 16 flip ratios
(:meth:`~.partition.KacWardBlock.flip_log_z`) is

.. math::
    K=K_0+X_S\,(I_k-\Gamma W)^{-1}\,\Gamma\,VY,\qquad Y=M_{\mathcal{II}}^{-1}T_{\mathcal I S},\
    X=M_{\mathcal{II}}^{-1}U_0,\ W=VX,\ K_0=Y_S,

a :math:`k\times k` solve per pair, batched over the inner draws.  For three levels the same identity attaches
:math:`C` to the middle ring (through the :math:`4(2r+1)+4` directed edges at the boundary of :math:`AB`): one
:math:`k_2\times k_2` solve per (middle, :math:`C`) pair gives that pair's :math:`\Gamma_{ABC}`.  The torus
geometry and ``p`` below
:data:`~.partition.KW_P_MIN` evaluate every pair directly with :class:`~.sampler.KLSampler` (same estimator,
no speed-up).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu
from scipy.special import logsumexp

from .._threads import small_blas
from .partition import KW_P_MIN, KacWardBlock, flip_patterns
from .regions import block, block_edges, check_radius
from .sampler import CMIResult, KLSampler, check_n_samples, make_result

__all__ = ["CrossedKL", "crossed_estimate", "pair_terms"]

#: Relative imaginary part above which a Woodbury determinant ratio is recomputed directly.
RATIO_TOL = 1e-8


def pair_terms(log_z_abc: np.ndarray, log_z_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Vectorised :func:`~.sampler.cv_terms`: ``(D, Y)`` over the leading axes of ``(..., 16)`` arrays."""
    lp = log_z_abc - logsumexp(log_z_abc, axis=-1, keepdims=True)
    lq = log_z_ab - logsumexp(log_z_ab, axis=-1, keepdims=True)
    P, Q = np.exp(lp), np.exp(lq)
    return np.sum(P * (lp - lq), axis=-1), np.sum((P - Q) * lq, axis=-1)


class _SubMatrix:
    """``I - T`` restricted to a set of directed edges, with a fixed CSC pattern (filled per coupling vector)."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, phase: np.ndarray, dset: np.ndarray, n_dir: int):
        pos = np.full(n_dir, -1, np.int64)
        pos[dset] = np.arange(dset.size)
        keep = (pos[rows] >= 0) & (pos[cols] >= 0)
        n = self.n = dset.size
        rr = np.concatenate([np.arange(n), pos[rows[keep]]])
        cc = np.concatenate([np.arange(n), pos[cols[keep]]])
        pattern = sp.csc_matrix((np.arange(1, rr.size + 1, dtype=float), (rr, cc)), shape=(n, n))
        self.src = pattern.data.astype(np.int64) - 1
        self.indices, self.indptr = pattern.indices.copy(), pattern.indptr.copy()
        self.phase = phase[keep]
        self.edge = cols[keep] // 2
        self.pos = pos

    def lu(self, t: np.ndarray) -> Any:
        data = np.concatenate([np.ones(self.n, complex), -self.phase * t[self.edge]])
        return splu(sp.csc_matrix((data[self.src], self.indices, self.indptr), shape=(self.n, self.n)))


def _coupling(rows: np.ndarray, cols: np.ndarray, phase: np.ndarray, from_set: np.ndarray, to_set: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of ``T`` from directed edges ``from_set`` (mask) to ``to_set`` (mask)."""
    keep = from_set[rows] & to_set[cols]
    return rows[keep], cols[keep], phase[keep]


def _det2(a: np.ndarray) -> np.ndarray:
    return a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]


def _adj2(a: np.ndarray) -> np.ndarray:
    out = np.empty_like(a)
    out[..., 0, 0], out[..., 1, 1] = a[..., 1, 1], a[..., 0, 0]
    out[..., 0, 1], out[..., 1, 0] = -a[..., 0, 1], -a[..., 1, 0]
    return out


def _log_ratios(K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""``0.5 ln det(I + 2 K[s, s])`` for the 16 flip patterns, over the leading axes of ``K (..., 8, 8)``.

    Rows ``2a, 2a+1`` of ``K`` are the two directed edges of :math:`A`'s edge ``a`` (pattern bit ``a``).  One
    flipped edge: a closed-form 2x2 determinant; two: the 2x2-block Schur form
    :math:`\det\begin{pmatrix}P&Q\\R&S\end{pmatrix}=\det(\det P\,S-R\,\mathrm{adj}P\,Q)/\det P` (hand-written
    because batched ``numpy.linalg.det`` on 2x2 / 4x4 blocks costs twice as much; :math:`\det P` is a
    squared single-edge ratio :math:`(Z(J^{(a)})/Z(J))^2\ge(p/(1-p))^2`, so the division is safe for
    ``p >= KW_P_MIN``);
    three or four: ``numpy.linalg.det``.  Returns the log ratios and a mask of the entries whose ratio is not
    numerically real positive.
    """
    B = np.eye(8) + 2.0 * K
    fp = flip_patterns(4) < 0
    ratio = np.ones(K.shape[:-2] + (16,), complex)

    def blk(a: int, b: int) -> np.ndarray:
        return B[..., 2 * a:2 * a + 2, 2 * b:2 * b + 2]

    d1 = [_det2(blk(a, a)) for a in range(4)]
    for f in range(1, 16):
        es = np.nonzero(fp[f])[0]
        if es.size == 1:
            ratio[..., f] = d1[es[0]]
        elif es.size == 2:
            a, b = es
            dP = d1[a][..., None, None]
            ratio[..., f] = _det2(dP * blk(b, b) - blk(b, a) @ _adj2(blk(a, a)) @ blk(a, b)) / d1[a]
        else:
            idx = np.concatenate([[2 * e, 2 * e + 1] for e in es])
            ratio[..., f] = np.linalg.det(B[..., idx[:, None], idx[None, :]])
    bad = ~((ratio.real > 0) & (np.abs(ratio.imag) <= RATIO_TOL * np.abs(ratio)))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 0.5 * np.log(np.where(bad, 1.0, ratio.real))
    return out, bad


class CrossedKL:
    r"""Per-pair KL terms for an inner / outer split of the noise (module docstring).

    Parameters
    ----------
    sampler : KLSampler
        Prepared sampler (any standard geometry).
    inner_radius : int
        The inner group is the :math:`(1+2r_{\rm in})`-plaquette block around :math:`A` minus :math:`A`;
        ``1 <= inner_radius <= r`` (``r``: the pair is :math:`B` x :math:`C`).

    Attributes
    ----------
    inner_edges, outer_edges : ndarray
        Torus edge ids of the two noise groups (their union is :math:`B\cup C`).
    fast : bool
        ``True`` when the Woodbury path is used (square geometry, ``p >= KW_P_MIN``).
    n_direct : int
        Pairs evaluated directly because a Woodbury ratio was not numerically real positive.

    Raises
    ------
    ValueError
        ``inner_radius`` not an integer in ``[1, r]``.
    """

    def __init__(self, sampler: KLSampler, inner_radius: int):
        tri = sampler.tri
        r_in = check_radius(inner_radius, "inner_radius")
        if r_in > tri.r:
            raise ValueError(f"inner_radius must be <= r = {tri.r}, got {r_in}")
        self.sampler, self.inner_radius = sampler, r_in
        inner_t = block_edges(tri.L, tri.center, r_in)
        self.inner_edges = np.setdiff1d(inner_t, tri.A)
        self.outer_edges = np.setdiff1d(sampler.free_edges, inner_t)
        self.n_direct = 0
        self.fast = sampler.geometry == "square" and sampler.p >= KW_P_MIN and not sampler.trivial
        if self.fast:
            self._setup(inner_t, r_in)

    def _setup(self, inner_t: np.ndarray, r_in: int) -> None:
        tri = self.sampler.tri
        blk = block(tri.L, tri.center, tri.r + tri.r_C)
        kw = KacWardBlock(blk.n)
        self._blk, self._kw = blk, kw
        n_dir = 2 * kw.n_edges
        rows, cols, phase = kw.transitions
        directed = lambda e: np.sort(np.concatenate([2 * e, 2 * e + 1]))  # noqa: E731
        dI = directed(kw.local_index(blk, inner_t))
        in_I = np.zeros(n_dir, bool)
        in_I[dI] = True
        a_loc = kw.local_index(blk, tri.A)
        S = np.stack([2 * a_loc, 2 * a_loc + 1], axis=1).ravel()
        self._inner = _SubMatrix(rows, cols, phase, dI, n_dir)
        posI = self._inner.pos
        self._S_in_I = posI[S]
        # T_{I,S}: columns S (A's directed edges), rows in I
        in_S = np.zeros(n_dir, bool)
        in_S[S] = True
        r_, c_, ph_ = _coupling(rows, cols, phase, in_I, in_S)
        posS = np.full(n_dir, -1, np.int64)
        posS[S] = np.arange(S.size)
        self._tis = (posI[r_], posS[c_], ph_, c_ // 2)
        graphs = {"abc": np.arange(n_dir), "ab": directed(kw.local_index(blk, block_edges(tri.L, tri.center, tri.r)))}
        self._env: dict[str, Any] = {}
        cout_ref = None
        for name, dset in graphs.items():
            dO = np.setdiff1d(dset, dI)
            if dO.size == 0:
                self._env[name] = None
                continue
            in_O = np.zeros(n_dir, bool)
            in_O[dO] = True
            r_io, c_io, ph_io = _coupling(rows, cols, phase, in_I, in_O)
            r_oi, c_oi, ph_oi = _coupling(rows, cols, phase, in_O, in_I)
            cout, cin = np.unique(c_io), np.unique(r_oi)
            if cout_ref is None:
                cout_ref = (cout, cin)
                k = cout.size
                pc = np.full(n_dir, -1, np.int64)
                pc[cout] = np.arange(k)
                U0 = np.zeros((self._inner.n, k), complex)
                U0[posI[r_io], pc[c_io]] = -ph_io
                self._U0 = U0
                pin = np.full(n_dir, -1, np.int64)
                pin[cin] = np.arange(cin.size)
                self._v = (pin[r_oi], posI[c_oi], ph_oi, c_oi // 2)
                self._cout_edge = cout // 2
                self._k = k
            elif not (np.array_equal(cout, cout_ref[0]) and np.array_equal(cin, cout_ref[1])):
                raise AssertionError("inner boundary couplings differ between AB and ABC")  # pragma: no cover
            outer = _SubMatrix(rows, cols, phase, dO, n_dir)
            self._env[name] = (outer, outer.pos[cout], outer.pos[cin])
        self._split = None
        if self._env["ab"] is not None:  # three levels: the AB outer ring (mid) and C, coupled at AB's boundary
            mid = self._env["ab"][0]
            dC = np.setdiff1d(np.arange(n_dir), graphs["ab"])
            in_mid = mid.pos >= 0
            in_C = np.zeros(n_dir, bool)
            in_C[dC] = True
            r_mc, c_mc, ph_mc = _coupling(rows, cols, phase, in_mid, in_C)
            r_cm, c_cm, ph_cm = _coupling(rows, cols, phase, in_C, in_mid)
            cout2, cin2 = np.unique(c_mc), np.unique(r_cm)
            pc2 = np.full(n_dir, -1, np.int64)
            pc2[cout2] = np.arange(cout2.size)
            pin2 = np.full(n_dir, -1, np.int64)
            pin2[cin2] = np.arange(cin2.size)
            U2 = np.zeros((mid.n, cout2.size), complex)
            U2[mid.pos[r_mc], pc2[c_mc]] = -ph_mc
            csub = _SubMatrix(rows, cols, phase, dC, n_dir)
            self._split = {"U2": U2, "v2": (pin2[r_cm], mid.pos[c_cm], ph_cm, c_cm // 2), "cout2_edge": cout2 // 2,
                           "c": (csub, csub.pos[cout2], csub.pos[cin2])}

    # ------------------------------------------------------------------ noise -> couplings
    def _t(self, e1: np.ndarray | None, e2: np.ndarray | None, edges: np.ndarray | None = None) -> np.ndarray:
        """tanh(beta J) over the ABC block's local edges: inner part ``e1``, and ``e2`` on ``edges`` (outer)."""
        L = self.sampler.L
        e = np.zeros(2 * L * L, dtype=np.uint8)
        if e1 is not None:
            e[self.inner_edges] = e1
        if e2 is not None:
            e[self.outer_edges if edges is None else edges] = e2
        J = 1.0 - 2.0 * e.astype(float)
        return np.tanh(self.sampler.beta * self._kw.local_couplings(J, self._blk))

    @property
    def mid_edges(self) -> np.ndarray:
        """Torus ids of :math:`B` outside the inner block (the middle level of the three-level split)."""
        return np.intersect1d(self.outer_edges, self.sampler.B_edges)

    @property
    def c_edges(self) -> np.ndarray:
        """Torus ids of :math:`C` (the outer level of the three-level split)."""
        return np.intersect1d(self.outer_edges, self.sampler.C_edges)

    def full_noise3(self, e1: np.ndarray, em: np.ndarray, ec: np.ndarray) -> np.ndarray:
        """Noise on the torus from inner, middle (:attr:`mid_edges`) and :math:`C` patterns."""
        e = np.zeros(2 * self.sampler.L ** 2, dtype=np.uint8)
        e[self.inner_edges] = e1
        e[self.mid_edges] = em
        e[self.c_edges] = ec
        return e

    def outer_state3(self, ems: np.ndarray, ecs: np.ndarray) -> dict[str, Any]:
        r"""Environments of every (middle, :math:`C`) pair.

        ``"abc"``: shape ``(nm * nc, k, k)`` (middle-major); ``"ab"``: ``(nm, k, k)`` (it does not depend on
        :math:`C`; ``"ab_repeat" = nc``).  The :math:`C` ring enters the middle ring's Kac-Ward matrix through
        the directed edges at the boundary of :math:`AB` (a second Woodbury update, as in the module docstring).
        """
        if self._split is None:
            raise ValueError("three levels need inner_radius < r")
        ems, ecs = np.atleast_2d(ems), np.atleast_2d(ecs)
        mid, pout, pin = self._env["ab"]
        sp_ = self._split
        U2 = sp_["U2"]
        vr, vc, vph, ved = sp_["v2"]
        k, k2 = self._k, U2.shape[1]
        rhs = np.zeros((mid.n, k + k2), complex)
        rhs[pin, np.arange(k)] = 1.0
        rhs[:, k:] = U2
        A0, P, W2, R, tc = [], [], [], [], []
        for em in ems:
            t = self._t(None, em, self.mid_edges)
            sol = mid.lu(t).solve(rhs)
            S1, S2 = sol[:, :k], sol[:, k:]
            V2 = np.zeros((k2, mid.n), complex)
            V2[vr, vc] = -vph * t[ved]
            A0.append(S1[pout])
            P.append(S2[pout])
            W2.append(V2 @ S2)
            R.append(V2 @ S1)
            tc.append(t[self._cout_edge])
        A0, P, W2, R, tc = (np.stack(x) for x in (A0, P, W2, R, tc))
        csub, pout2, pin2 = sp_["c"]
        rhs2 = np.zeros((csub.n, k2), complex)
        rhs2[pin2, np.arange(k2)] = 1.0
        G2 = []
        for ec in ecs:
            t = self._t(None, ec, self.c_edges)
            G2.append(t[sp_["cout2_edge"]][:, None] * csub.lu(t).solve(rhs2)[pout2])
        G2 = np.stack(G2)[None]  # (1, nc, k2, k2)
        Z = np.linalg.solve(np.eye(k2) - G2 @ W2[:, None], G2 @ R[:, None])  # (nm, nc, k2, k)
        G_O = A0[:, None] + P[:, None] @ Z
        nm, nc = len(ems), len(ecs)
        abc = (tc[:, None, :, None] * G_O).reshape(nm * nc, k, k)
        return {"abc": abc, "ab": tc[:, :, None] * A0, "ab_repeat": nc}

    def terms3(self, e1s: np.ndarray, ems: np.ndarray, ecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(D, Y)`` for every inner x middle x :math:`C` triple, each of shape ``(n1, nm, nc)``.

        Raises
        ------
        ValueError
            If the split has no middle level (``inner_radius = r``).
        """
        e1s, ems, ecs = np.atleast_2d(e1s), np.atleast_2d(ems), np.atleast_2d(ecs)
        if self.inner_radius >= self.sampler.tri.r:
            raise ValueError("three levels need inner_radius < r")
        shape = (len(e1s), len(ems), len(ecs))
        if self.sampler.trivial:
            return np.zeros(shape), np.zeros(shape)
        if not self.fast:
            dy = np.array([[[self.sampler.terms(self.full_noise3(a, b, c)) for c in ecs] for b in ems] for a in e1s])
            return dy[..., 0], dy[..., 1]
        lz_abc, lz_ab, bad = self.pair_log_z(self.inner_state(e1s), self.outer_state3(ems, ecs))
        d, y = (x.reshape(shape) for x in pair_terms(lz_abc, lz_ab))
        for i, j, l in zip(*np.nonzero(bad.reshape(shape))):
            self.n_direct += 1
            d[i, j, l], y[i, j, l] = self.sampler.terms(self.full_noise3(e1s[i], ems[j], ecs[l]))
        return np.maximum(d, 0.0), y

    def full_noise(self, e1: np.ndarray, e2: np.ndarray) -> np.ndarray:
        """Noise on the torus, shape ``(2 L^2,)``, from an inner and an outer pattern."""
        e = np.zeros(2 * self.sampler.L ** 2, dtype=np.uint8)
        e[self.inner_edges] = e1
        e[self.outer_edges] = e2
        return e

    def inner_state(self, e1s: np.ndarray) -> dict[str, np.ndarray]:
        """Per-inner-draw quantities ``K0, XS, W, VY`` stacked over the draws ``e1s`` (Woodbury path)."""
        e1s = np.atleast_2d(e1s)
        nI, n1 = self._inner.n, len(e1s)
        ri, ci, ph, ed = self._tis
        vr, vc, vph, ved = self._v
        out = {"K0": np.empty((n1, 8, 8), complex), "XS": np.empty((n1, 8, self._k), complex),
               "W": np.empty((n1, self._k, self._k), complex), "VY": np.empty((n1, self._k, 8), complex)}
        for i, e1 in enumerate(e1s):
            t = self._t(e1, None)
            tis = np.zeros((nI, 8), complex)
            tis[ri, ci] = ph * t[ed]
            sol = self._inner.lu(t).solve(np.concatenate([tis, self._U0], axis=1))
            Y, X = sol[:, :8], sol[:, 8:]
            V = np.zeros((self._k, nI), complex)
            V[vr, vc] = -vph * t[ved]
            out["K0"][i], out["XS"][i], out["W"][i], out["VY"][i] = Y[self._S_in_I], X[self._S_in_I], V @ X, V @ Y
        return out

    def outer_state(self, e2s: np.ndarray) -> dict[str, np.ndarray | None]:
        r"""Environments :math:`\Gamma` (stacked ``(n2, k, k)``) of the outer draws ``e2s`` for ``"ab"``, ``"abc"``.

        ``None`` for a graph without outer edges (``"ab"`` when ``inner_radius = r``).  Woodbury path only.
        """
        e2s = np.atleast_2d(e2s)
        out: dict[str, np.ndarray | None] = {}
        for name, env in self._env.items():
            if env is None:
                out[name] = None
                continue
            outer, pout, pin = env
            rhs = np.zeros((outer.n, pin.size), complex)
            rhs[pin, np.arange(pin.size)] = 1.0
            gs = []
            for e2 in e2s:
                t = self._t(None, e2)
                gs.append(t[self._cout_edge][:, None] * outer.lu(t).solve(rhs)[pout])
            out[name] = np.stack(gs)
        return out

    def pair_log_z(self, inner: dict[str, np.ndarray], gamma: dict[str, Any]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""Relative :math:`\ln Z` (up to a per-pair constant) of the 16 flips for every inner x outer pair.

        ``inner`` from :meth:`inner_state` (``n1`` draws), ``gamma`` from :meth:`outer_state` or
        :meth:`outer_state3` (``n2`` outer environments; ``gamma["ab_repeat"]`` consecutive outer environments
        share one :math:`AB` environment).  Returns ``(log_z_abc, log_z_ab, bad)`` of shapes ``(n1, n2, 16)``,
        ``(n1, n2, 16)``, ``(n1, n2)``; ``bad`` marks pairs whose Woodbury ratio failed the Kac-Ward positivity
        check (recompute them directly).
        """
        rep = int(gamma.get("ab_repeat", 1))
        lz, bads = [], []
        for name in ("abc", "ab"):
            g = gamma[name]
            if g is None:
                K = inner["K0"][:, None]
            else:
                g = g[None]  # (1, n2, k, k) against (n1, 1, k, k)
                Z = np.linalg.solve(np.eye(self._k) - g @ inner["W"][:, None], g @ inner["VY"][:, None])
                K = inner["K0"][:, None] + inner["XS"][:, None] @ Z
            x, b = _log_ratios(K)
            lz.append(x)
            bads.append(b.any(axis=-1))
        n2 = lz[0].shape[1]
        ab = np.broadcast_to(lz[1], (lz[1].shape[0], n2, 16)) if lz[1].shape[1] == 1 else np.repeat(lz[1], rep, 1)
        bad_ab = np.broadcast_to(bads[1], bads[0].shape) if bads[1].shape[1] == 1 else np.repeat(bads[1], rep, 1)
        return lz[0], ab, bads[0] | bad_ab

    def terms(self, e1s: np.ndarray, e2s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(D, Y)`` of :func:`pair_terms` for every inner draw (rows of ``e1s``) x outer draw (rows of ``e2s``).

        Returns two arrays of shape ``(n1, n2)``.
        """
        e1s, e2s = np.atleast_2d(e1s), np.atleast_2d(e2s)
        shape = (len(e1s), len(e2s))
        if self.sampler.trivial:
            return np.zeros(shape), np.zeros(shape)
        if not self.fast:
            dy = np.array([[self.sampler.terms(self.full_noise(e1, e2)) for e2 in e2s] for e1 in e1s])
            return dy[..., 0], dy[..., 1]
        lz_abc, lz_ab, bad = self.pair_log_z(self.inner_state(e1s), self.outer_state(e2s))
        d, y = pair_terms(lz_abc, lz_ab)
        for i, j in zip(*np.nonzero(bad)):  # ill-conditioned update: the direct engine (transfer-matrix fallback)
            self.n_direct += 1
            d[i, j], y[i, j] = self.sampler.terms(self.full_noise(e1s[i], e2s[j]))
        return np.maximum(d, 0.0), y


def _lam_hat(d: np.ndarray, y: np.ndarray) -> float:
    vy = float(np.var(y))
    return 0.0 if vy <= 0 else float(-np.mean((d - d.mean()) * (y - y.mean())) / vy)


def _check_count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def crossed_estimate(sampler: KLSampler, *, n_samples: int = 1000, seed: Any = 0, inner_radius: int | None = None,
                     levels: Literal[2, 3] | None = None, inner_per_block: int = 32, outer_per_block: int = 8,
                     c_per_block: int = 1, control_variate: bool = True) -> CMIResult:
    r"""Crossed inner x outer estimate of :math:`I(A:C|B)` in nats (module docstring).

    The draws come in :math:`K` independent blocks; block :math:`b` uses every combination of its
    ``inner_per_block`` inner draws and ``outer_per_block`` outer draws (two levels), or of its inner, middle
    (``outer_per_block``) and :math:`C` (``c_per_block``) draws (three levels), and gives the block mean
    :math:`\bar X_b`.  Then

    .. math::
        \hat I=\frac1K\sum_b\bar X_b,\qquad \mathrm{stderr}=\mathrm{std}(\bar X_b)/\sqrt K,

    an honest central-limit error bar over i.i.d. blocks, and (two levels)
    :math:`\mathrm{Var}\,\hat I=\bigl(\sigma_1^2/m_1+\sigma_2^2/m_2+\sigma_{12}^2/(m_1m_2)\bigr)/K` with
    :math:`m_{1,2}` the draws per block.  With the control variate, :math:`\bar X_b=\bar D_b+\lambda\bar Y_b`
    with :math:`\lambda` fitted (variance of the block means) on the other half of the blocks.

    Defaults (measured at ``p = 0.05, r = r_C = 4`` by a three-way variance decomposition and
    ``benchmarks/toric_bench.py --crossed``): :math:`r_{\rm in}=2`, three levels, 32 inner x 8 middle x 1
    :math:`C` draws per block.  :math:`C`'s main effect and its interactions carry almost none of the variance
    (below 1% there), so one :math:`C` ring per block suffices; the rest splits into the inner and middle main
    effects and their interaction, which the 256 (inner, middle) pairs of a block average.

    Parameters
    ----------
    sampler : KLSampler
    n_samples : int
        Number of outer (two levels) or middle (three levels) draws; each costs less than one plain sample.
        ``K = n_samples // outer_per_block >= 4`` blocks.
    seed : int, Generator or None
    inner_radius : int, optional
        Inner block half-width :math:`r_{\rm in}` in ``[1, r]``; default ``min(2, r)``.
    levels : {2, 3}, optional
        Two levels (inner x rest of :math:`B\cup C`) or three (inner x rest of :math:`B` x :math:`C`, with
        :math:`C`'s environment attached to the middle ring by a second Woodbury update,
        :meth:`CrossedKL.outer_state3`; needs ``inner_radius < r``).  Default: three when ``inner_radius < r``.
    inner_per_block, outer_per_block : int
        Inner and outer (or middle) draws per block.
    c_per_block : int
        :math:`C` draws per block (three levels only).
    control_variate : bool
        Add the cross-fitted control variate :math:`\lambda Y` (module docstring).

    Returns
    -------
    CMIResult
        ``method="crossed"``; ``samples`` are the block means (weights :math:`1/K`), ``n_samples`` the number
        of (inner, outer) combinations evaluated; ``ess`` is the effective number of blocks.

    Raises
    ------
    ValueError
        Too few draws, a bad ``inner_radius``, ``levels`` or block size, or three levels with
        ``inner_radius = r``.
    """
    r = sampler.tri.r
    r_in = min(2, r) if inner_radius is None else inner_radius
    eng = CrossedKL(sampler, r_in)
    if levels is None:
        levels = 3 if eng.inner_radius < r else 2
    if levels not in (2, 3):
        raise ValueError(f"levels must be 2 or 3, got {levels!r}")
    if levels == 3 and eng.inner_radius >= r:
        raise ValueError(f"levels = 3 needs inner_radius < r = {r}, got inner_radius = {eng.inner_radius}")
    m1 = _check_count(inner_per_block, "inner_per_block")
    m2 = _check_count(outer_per_block, "outer_per_block")
    m3 = _check_count(c_per_block, "c_per_block") if levels == 3 else None
    n = check_n_samples(n_samples, 4 * m2)
    n_blocks = n // m2
    rng = np.random.default_rng(seed)
    p = sampler.p
    d = np.zeros(n_blocks)
    y = np.zeros(n_blocks)
    if not sampler.trivial:
        with small_blas():
            for b in range(n_blocks):
                e1s = (rng.random((m1, eng.inner_edges.size)) < p).astype(np.uint8)
                if m3 is None:
                    e2s = (rng.random((m2, eng.outer_edges.size)) < p).astype(np.uint8)
                    D, Y = eng.terms(e1s, e2s)
                else:
                    ems = (rng.random((m2, eng.mid_edges.size)) < p).astype(np.uint8)
                    ecs = (rng.random((m3, eng.c_edges.size)) < p).astype(np.uint8)
                    D, Y = eng.terms3(e1s, ems, ecs)
                d[b], y[b] = D.mean(), Y.mean()
    x = d
    if control_variate:
        half = np.arange(n_blocks) % 2
        lam = [_lam_hat(d[half == h], y[half == h]) for h in (0, 1)]
        x = d + np.where(half == 0, lam[1], lam[0]) * y  # coefficient fitted on the other, independent blocks
    res = make_result("crossed", x, np.full(n_blocks, 1.0 / n_blocks), float(x.mean()),
                      float(x.std(ddof=1) / np.sqrt(n_blocks)), trivial=sampler.trivial)
    return CMIResult(res.cmi, res.stderr, n_blocks * m1 * m2 * (m3 or 1), res.method, res.ess, res.reliable,
                     res.samples, res.weights)
