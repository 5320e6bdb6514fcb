r"""Distributions along the diffusion path whose CMI is known exactly (theory note ``information.md`` section 2).

Path: :math:`x_t = (1 - t)\,x_0 + t\,z`, :math:`z \sim \mathcal N(0, I)` (t = 0 data, t = 1 noise;
:mod:`classical.path`).  All CMIs are in nats,

.. math::

    I(A:C\mid B) = \mathbb E\big[\ln p(x_{ABC}) + \ln p(x_B) - \ln p(x_{AB}) - \ln p(x_{BC})\big],

evaluated per sample (far lower variance than four separate entropies).

* :func:`gaussian_cmi`: closed form for :math:`x_0 \sim \mathcal N(\mu, S)`, :math:`S_t = (1-t)^2 S + t^2 I`,
  :math:`I = \tfrac12[\ln\det S_{AB} + \ln\det S_{BC} - \ln\det S_B - \ln\det S_{ABC}]`.
* :class:`GaussianMixture` and :func:`mixture_cmi`: components with low-rank-plus-diagonal covariance
  :math:`D_k + W_k W_k^T` (Woodbury identity and determinant lemma); Monte Carlo over exact log-densities with the
  standard error of the per-sample terms.  :func:`fit_mixture` fits one to data (k-means++ then per-cluster PPCA).
* :func:`empirical_mixture_cmi`: the diffused empirical distribution
  :math:`p_t = \tfrac1N\sum_i \mathcal N((1-t)x_i, t^2 I)` of N training images, the distribution the ideal
  (memorising) denoiser reverses.  The Gaussian normalisations cancel in the four-term combination, so each
  per-sample term is a combination of four log-sum-exps of squared distances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.linalg
import scipy.sparse
import torch
from scipy.cluster.vq import kmeans2

from quantum_diffusion.typing import KMeansBackend

from .regions import Regions

__all__ = [
    "ReferenceCMI",
    "gaussian_cmi",
    "GaussianMixture",
    "fit_mixture",
    "mixture_cmi",
    "mixture_cmi_profile",
    "empirical_mixture_cmi",
    "empirical_mixture_cmi_profile",
]

_LOG2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class ReferenceCMI:
    """A reference CMI in nats, with its Monte Carlo standard error (0 for closed forms).

    Attributes
    ----------
    value, stderr : CMI estimate and standard error of the mean of the per-sample terms (nats).
    n_mc : number of Monte Carlo samples (0 for closed forms).
    t : path time.
    """

    value: float
    stderr: float
    n_mc: int
    t: float

    def to_dict(self) -> dict:
        """Plain-Python form (for JSON)."""
        return asdict(self)


def _check_t(t: float, *, open_low: bool = False) -> float:
    t = float(t)
    if not np.isfinite(t) or not 0.0 <= t <= 1.0:
        raise ValueError(f"t must lie in [0, 1] (t = 0 data, t = 1 noise), got {t}")
    if open_low and t == 0.0:
        raise ValueError("t must be > 0 here: at t = 0 the empirical distribution is a set of point masses")
    return t


def _logdet(m: np.ndarray, what: str) -> float:
    if m.size == 0:
        return 0.0
    try:
        chol = np.linalg.cholesky(m)
    except np.linalg.LinAlgError as exc:
        raise ValueError(f"covariance of {what} is not positive definite (singular data covariance at t = 0?)") from exc
    return float(2.0 * np.sum(np.log(np.diag(chol))))


def gaussian_cmi(cov: np.ndarray, t: float, regions: Regions) -> float:
    r"""Exact :math:`I(A:C\mid B)` of :math:`x_t` for Gaussian data :math:`x_0 \sim \mathcal N(\mu, S)` (nats).

    .. math::

        S_t = (1-t)^2 S + t^2 I, \qquad
        I = \tfrac12\big[\ln\det S_{t,AB} + \ln\det S_{t,BC} - \ln\det S_{t,B} - \ln\det S_{t,ABC}\big].

    The mean does not enter.  For a scalar A this is :math:`\tfrac12\ln[\mathrm{Var}(A|B)/\mathrm{Var}(A|BC)]`.

    Parameters
    ----------
    cov : data covariance S, shape (d, d), d = ``regions.size``.
    t : path time in [0, 1].
    regions : the (A, B, C) index sets.

    Raises
    ------
    ValueError
        Wrong shape, non-symmetric or non-finite ``cov``, t outside [0, 1], or a singular :math:`S_t`.
    """
    s = np.asarray(cov, dtype=float)
    t = _check_t(t)
    d = regions.size
    if s.shape != (d, d):
        raise ValueError(f"cov must have shape ({d}, {d}), got {s.shape}")
    if not np.all(np.isfinite(s)) or not np.allclose(s, s.T, atol=1e-10 * max(1.0, np.abs(s).max())):
        raise ValueError("cov must be finite and symmetric")
    st = (1 - t) ** 2 * s + t**2 * np.eye(d)

    def ld(idx: np.ndarray) -> float:
        return _logdet(st[np.ix_(idx, idx)], "a region")

    ab = np.concatenate([regions.a, regions.b])
    bc = np.concatenate([regions.b, regions.c])
    abc = np.concatenate([regions.a, regions.b, regions.c])
    return 0.5 * (ld(ab) + ld(bc) - ld(regions.b) - ld(abc))


@dataclass(frozen=True)
class GaussianMixture:
    r"""Mixture :math:`\sum_k \pi_k \mathcal N(\mu_k, D_k + W_k W_k^T)` with diagonal :math:`D_k` and rank-q factors.

    Attributes
    ----------
    weights : shape (K,), positive, summing to 1.
    means : shape (K, d).
    diag : shape (K, d), non-negative diagonal variances :math:`D_k` (may be 0 before diffusing to t > 0).
    factors : shape (K, d, q), q >= 0 (q = 0: diagonal components).
    """

    weights: np.ndarray
    means: np.ndarray
    diag: np.ndarray
    factors: np.ndarray

    def __post_init__(self) -> None:
        """Validate and freeze the arrays."""
        w = np.asarray(self.weights, dtype=float)
        mu = np.asarray(self.means, dtype=float)
        dg = np.asarray(self.diag, dtype=float)
        f = np.asarray(self.factors, dtype=float)
        if w.ndim != 1 or mu.ndim != 2 or mu.shape[0] != w.size:
            raise ValueError(f"weights (K,) and means (K, d) needed, got {w.shape} and {mu.shape}")
        if dg.shape != mu.shape:
            raise ValueError(f"diag must have shape {mu.shape}, got {dg.shape}")
        if f.ndim != 3 or f.shape[:2] != mu.shape:
            raise ValueError(f"factors must have shape {mu.shape + ('q',)}, got {f.shape}")
        if not all(np.all(np.isfinite(a)) for a in (w, mu, dg, f)):
            raise ValueError("mixture parameters must be finite")
        if np.any(w <= 0) or abs(w.sum() - 1) > 1e-8:
            raise ValueError("weights must be positive and sum to 1")
        if np.any(dg < 0):
            raise ValueError("diag must be non-negative")
        for name, a in (("weights", w), ("means", mu), ("diag", dg), ("factors", f)):
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def dim(self) -> int:
        """Dimension d."""
        return int(self.means.shape[1])

    def diffuse(self, t: float) -> GaussianMixture:
        r"""Law of :math:`x_t = (1-t)x_0 + t z`: means :math:`(1-t)\mu_k`, :math:`D \to (1-t)^2 D + t^2`,
        :math:`W \to (1-t) W`.
        """  # noqa: D205
        t = _check_t(t)
        return GaussianMixture(self.weights, (1 - t) * self.means, (1 - t) ** 2 * self.diag + t**2,
                               (1 - t) * self.factors)

    def marginal(self, idx: np.ndarray) -> GaussianMixture:
        """Marginal on the coordinates ``idx`` (rows of means, diag and factors)."""
        idx = np.asarray(idx, dtype=np.int64)
        return GaussianMixture(self.weights, self.means[:, idx], self.diag[:, idx], self.factors[:, idx, :])

    def sample(self, n: int, *, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw ``n`` samples, shape (n, d)."""
        rng = np.random.default_rng(seed)
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer, got {n}")
        k = rng.choice(self.weights.size, size=n, p=self.weights)
        x = self.means[k] + np.sqrt(self.diag[k]) * rng.standard_normal((n, self.dim))
        q = self.factors.shape[2]
        if q:  # per component (gathering factors[k] would allocate n x d x q)
            u = rng.standard_normal((n, q))
            for j in np.unique(k):
                sel = k == j
                x[sel] += u[sel] @ self.factors[j].T
        return x

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        r"""Exact log-density at ``x`` of shape (n, d); returns shape (n,).

        Woodbury: with :math:`M = I_q + W^T D^{-1} W = L L^T`,
        :math:`r^T \Sigma^{-1} r = r^T D^{-1} r - |L^{-1} W^T D^{-1} r|^2` and
        :math:`\ln\det\Sigma = \ln\det D + 2\sum\ln L_{ii}`.

        Raises
        ------
        ValueError
            Wrong shape, or a zero diagonal variance (diffuse to t > 0 first).
        """
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}), got {x.shape}")
        if self.dim == 0:
            return np.zeros(x.shape[0])
        if np.any(self.diag <= 0):
            raise ValueError("logpdf needs strictly positive diag (diffuse the mixture to some t > 0)")
        out = np.empty((self.weights.size, x.shape[0]))
        q = self.factors.shape[2]
        for k in range(self.weights.size):
            r = x - self.means[k]
            dinv = 1.0 / self.diag[k]
            quad = np.einsum("nd,nd->n", r * dinv, r)
            logdet = float(np.sum(np.log(self.diag[k])))
            if q:
                w = self.factors[k]
                m = np.eye(q) + (w.T * dinv) @ w
                chol = np.linalg.cholesky(m)
                u = np.linalg.solve(chol, (w.T * dinv) @ r.T)  # (q, n)
                quad -= np.sum(u * u, axis=0)
                logdet += float(2.0 * np.sum(np.log(np.diag(chol))))
            out[k] = np.log(self.weights[k]) - 0.5 * (quad + logdet + self.dim * _LOG2PI)
        mx = out.max(axis=0)
        return mx + np.log(np.exp(out - mx).sum(axis=0))


    def marginal_logpdfs(self, x: np.ndarray, masks: np.ndarray, *, chunk: int = 2048) -> np.ndarray:
        r"""Log-density of the marginal on each mask's coordinates, :math:`\ln p(x_U)`, for many masks at once.

        The same Woodbury formulas as :meth:`logpdf`, written as matrix products over all components at once.
        The coordinates are split into atoms (sets with the same membership in every mask; for nested balls: the
        rings), and per atom g the sums :math:`\sum_{i\in g} r_i^2/D_i`, :math:`W_g^T D_g^{-1} r_g`,
        :math:`W_g^T D_g^{-1} W_g` and :math:`\sum_{i\in g}\ln D_i` are formed once; each mask adds its atoms, so
        the cost is that of one full-dimensional evaluation however many masks:

        .. math::

            \ln p(x_U) = \operatorname{LSE}_k\Big[\ln\pi_k - \tfrac12\big(r_U^T D_U^{-1} r_U - |L^{-1}W_U^T D_U^{-1}
            r_U|^2 + \ln\det D_U + 2\textstyle\sum\ln L_{ii} + |U|\ln 2\pi\big)\Big],\quad
            L L^T = I_q + W_U^T D_U^{-1} W_U .

        Parameters
        ----------
        x : points, shape (n, d) (entries outside a mask are ignored for that mask).
        masks : boolean (or 0/1) visibility masks, shape (M, d); an empty mask gives 0.
        chunk : points per block (memory ~ chunk x K x q x number of atoms x 8 bytes).

        Returns
        -------
        Shape (M, n): :math:`\ln p(x_{U_j})` for each mask j.

        Raises
        ------
        ValueError
            Wrong shapes, non-finite x, or a zero diagonal variance on a masked coordinate.
        """
        x = np.asarray(x, dtype=float)
        m_all = np.asarray(masks)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}), got {x.shape}")
        if m_all.ndim != 2 or m_all.shape[1] != self.dim:
            raise ValueError(f"masks must have shape (M, {self.dim}), got {m_all.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("x contains NaN or infinite entries")
        if int(chunk) != chunk or chunk < 1:
            raise ValueError(f"chunk must be a positive integer, got {chunk}")
        m_all = m_all.astype(bool)
        used = m_all.any(axis=0)
        if np.any(self.diag[:, used] <= 0):
            raise ValueError("marginal_logpdfs needs strictly positive diag on the masked coordinates (t > 0)")
        rows, inv = np.unique(m_all[:, used].T, axis=0, return_inverse=True)  # atoms: membership signatures
        cols = np.flatnonzero(used)
        atoms = [cols[inv.ravel() == g] for g in range(rows.shape[0])]
        member = rows.T  # (M, n_atoms): mask j contains atom g
        k_n = self.weights.size
        q = self.factors.shape[2]
        logw = np.log(self.weights)
        per_atom = []
        for a in atoms:
            dinv = 1.0 / self.diag[:, a]  # (K, |a|)
            mu = self.means[:, a]
            g = dinv[:, :, None] * self.factors[:, a, :]  # (K, |a|, q): D^{-1} W
            per_atom.append((a, dinv, mu * dinv, np.sum(mu * mu * dinv, axis=1), np.sum(np.log(self.diag[:, a]), 1),
                             g.transpose(1, 0, 2).reshape(a.size, k_n * q), np.einsum("kd,kdq->kq", mu, g),
                             np.einsum("kdq,kdp->kqp", self.factors[:, a, :], g)))
        # per mask: the q x q Woodbury factor and log-determinant (independent of x)
        chol_inv, logdet, dims = [], [], []
        for j in range(m_all.shape[0]):
            sel = np.flatnonzero(member[j])
            ld = sum((per_atom[g][4] for g in sel), np.zeros(k_n))
            if q:
                gram = np.eye(q)[None] + sum((per_atom[g][7] for g in sel), np.zeros((k_n, q, q)))
                chol = np.linalg.cholesky(gram)
                chol_inv.append(np.linalg.inv(chol))
                ld = ld + 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
            logdet.append(ld)
            dims.append(int(m_all[j].sum()))
        out = np.zeros((m_all.shape[0], x.shape[0]))
        for s0 in range(0, x.shape[0], chunk):
            xs = x[s0:s0 + chunk]
            quads, projs = [], []
            for a, dinv, mud, c0, _, gflat, mug, _ in per_atom:
                xa = xs[:, a]
                quads.append((xa * xa) @ dinv.T - 2.0 * (xa @ mud.T) + c0[None, :])  # (n, K)
                projs.append((xa @ gflat).reshape(-1, k_n, q) - mug[None] if q else None)
            for j in range(m_all.shape[0]):
                sel = np.flatnonzero(member[j])
                if sel.size == 0:
                    continue
                quad = sum(quads[g] for g in sel)
                if q:
                    u = np.einsum("kqp,nkp->nkq", chol_inv[j], sum(projs[g] for g in sel))
                    quad = quad - np.sum(u * u, axis=2)
                lc = logw[None, :] - 0.5 * (quad + logdet[j][None, :] + dims[j] * _LOG2PI)
                mx = lc.max(axis=1, keepdims=True)
                out[j, s0:s0 + xs.shape[0]] = (mx + np.log(np.exp(lc - mx).sum(axis=1, keepdims=True)))[:, 0]
        return out


def fit_mixture(data: np.ndarray, *, n_components: int = 50, rank: int = 5, min_var: float = 1e-3,
                seed: int | np.random.Generator | None = 0, em_steps: int = 0,
                kmeans: KMeansBackend = "scipy") -> GaussianMixture:
    r"""Fit a low-rank-plus-diagonal Gaussian mixture to data (the documented, deterministic-given-seed procedure).

    1. k-means++ (20 Lloyd iterations) into ``n_components`` clusters: ``kmeans="scipy"``
       (``scipy.cluster.vq.kmeans2``, the procedure of the validation references) or ``kmeans="blas"`` (the same
       algorithm with distances as matrix products, :func:`_kmeans_blas`; 16x faster at n = 20 000, d = 729,
       K = 100 in ``benchmarks/kmeans_bench.py``, with the same partition quality);
       clusters with fewer than ``rank + 2`` members are dropped; weights are the cluster fractions.
    2. Per cluster: mean :math:`\mu_k` and covariance :math:`S_k`; probabilistic PCA of rank q:
       :math:`W_k = U_q(\Lambda_q - \sigma^2)^{1/2}` with :math:`\sigma^2` the mean of the discarded eigenvalues,
       then :math:`D_k = \max(\mathrm{diag}(S_k - W_k W_k^T), \text{min\_var})`.

    3. ``em_steps`` iterations of expectation-maximisation for a mixture of factor analysers (Ghahramani & Hinton
       1996; :func:`_mfa_em_step`), each raising the data's log-likelihood; components left with fewer than
       ``rank + 2`` expected members are dropped, and :math:`D_k` keeps the floor ``min_var``.

    With ``em_steps = 0`` (the default, and the documented procedure of the validation references) this is not a
    maximum-likelihood fit: the point is a smooth, multimodal, data-like distribution whose CMI along the path is
    known exactly (to MC precision), not the best density model.  The fitted-mixture features of
    :func:`~classical.information.grid.predictive_cmi_grid` use 8 EM steps and ``kmeans="blas"``: there the fit
    is a density model, and on the validation references its held-out likelihood fell short of the true mixture's
    by 13 nats per image for a (30, 5) fit with EM on 30-component data (an EM local optimum, not estimation
    noise: the true mixture scores higher on the fitted samples too), against 3 nats for a (60, 5) fit
    (``classical/information/README.md``).

    Parameters
    ----------
    data : shape (n, ...), flattened to (n, d).
    n_components, rank : K and q.
    min_var : floor of the diagonal variances (keeps the mixture non-degenerate at t = 0).
    seed : seed of the k-means initialisation.
    em_steps : EM iterations after the k-means / PPCA start (each costs about six (n, d) x (d, K(q + 1)) products).
    kmeans : ``"scipy"`` or ``"blas"`` (step 1; the two draw different k-means++ starts from the same seed).

    Raises
    ------
    ValueError
        Too few samples, non-finite data, or invalid K, q, ``min_var``, ``em_steps``, ``kmeans``.
    """
    x = np.asarray(data, dtype=float)
    x = x.reshape(x.shape[0], -1)
    n, d = x.shape
    if not np.all(np.isfinite(x)):
        raise ValueError("data contains NaN or infinite entries")
    if n_components < 1 or rank < 0 or rank >= d or min_var <= 0:
        raise ValueError(f"need n_components >= 1, 0 <= rank < d = {d}, min_var > 0")
    if int(em_steps) != em_steps or em_steps < 0:
        raise ValueError(f"em_steps must be a non-negative integer, got {em_steps}")
    if n < n_components * (rank + 2):
        raise ValueError(f"need at least n_components * (rank + 2) = {n_components * (rank + 2)} samples, got {n}")
    if kmeans not in ("scipy", "blas"):
        raise ValueError(f"kmeans must be 'scipy' or 'blas', got {kmeans!r}")
    rng = np.random.default_rng(seed)
    if kmeans == "scipy":
        _, lab = kmeans2(x, n_components, iter=20, minit="++", seed=rng)
    else:
        lab = _kmeans_blas(x, n_components, rng, iters=20)
    ws, mus, dgs, fs = [], [], [], []
    for k in range(n_components):
        xk = x[lab == k]
        if xk.shape[0] < rank + 2:
            continue
        mu = xk.mean(axis=0)
        s = np.cov(xk, rowvar=False, bias=True)
        if rank:  # only the top q eigenpairs are needed; the discarded ones enter through the trace
            lam, u = scipy.linalg.eigh(s, subset_by_index=[d - rank, d - 1])
            lam, u = lam[::-1], u[:, ::-1]
        else:
            lam, u = np.zeros(0), np.zeros((d, 0))
        sig2 = float((np.trace(s) - lam.sum()) / (d - rank))
        w = u * np.sqrt(np.clip(lam - sig2, 0.0, None))
        dg = np.maximum(np.diag(s) - np.sum(w * w, axis=1), min_var)
        ws.append(xk.shape[0])
        mus.append(mu)
        dgs.append(dg)
        fs.append(w)
    wts = np.asarray(ws, dtype=float)
    gm = GaussianMixture(wts / wts.sum(), np.array(mus), np.array(dgs), np.array(fs).reshape(len(ws), d, rank))
    for _ in range(int(em_steps)):
        gm, _ = _mfa_em_step(gm, x, min_var=min_var)
    return gm


def _kmeans_blas(x: np.ndarray, k: int, rng: np.random.Generator, *, iters: int) -> np.ndarray:
    r"""k-means++ seeding and ``iters`` Lloyd iterations; returns the labels, shape (n,).

    Written by hand because ``scipy.cluster.vq`` assigns points in a loop over (point, centre) pairs: at
    n = 43 200, d = 729, K = 200 it took 540 s against 40 s here, where every assignment is one
    (n, d) x (d, K) product via :math:`\lVert x - c\rVert^2 = \lVert x\rVert^2 - 2x\cdot c + \lVert c\rVert^2`
    (scikit-learn does the same but is not a dependency).  Seeding draws each new centre with probability
    proportional to the squared distance to the nearest chosen one (Arthur & Vassilvitskii 2007); an empty
    cluster keeps its centre.
    """
    n = x.shape[0]
    x2 = np.einsum("nd,nd->n", x, x)
    centres = np.empty((k, x.shape[1]))
    first = int(rng.integers(n))
    centres[0] = x[first]
    d2 = np.maximum(x2 - 2.0 * (x @ centres[0]) + x2[first], 0.0)
    for j in range(1, k):
        total = d2.sum()
        i = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres[j] = x[i]
        d2 = np.minimum(d2, np.maximum(x2 - 2.0 * (x @ centres[j]) + x2[i], 0.0))
    def nearest() -> np.ndarray:
        return np.argmin(np.einsum("kd,kd->k", centres, centres)[None] - 2.0 * (x @ centres.T), axis=1)

    for _ in range(iters):
        lab = nearest()
        cnt = np.bincount(lab, minlength=k)
        full = cnt > 0
        sums = scipy.sparse.csr_matrix((np.ones(n), (lab, np.arange(n))), shape=(k, n)) @ x
        centres[full] = sums[full] / cnt[full, None]
    return nearest()


def _mfa_em_step(gm: GaussianMixture, x: np.ndarray, *, min_var: float,
                 chunk: int = 4096) -> tuple[GaussianMixture, float]:
    r"""One EM step of a mixture of factor analysers; returns the new mixture and the mean log-likelihood of ``x``
    under the old one.

    Written by hand: scipy has no mixture of factor analysers and scikit-learn (not a dependency) only full or
    diagonal covariances, which at d = 729 cost d^3 per component or lose the low rank.  With
    :math:`\Sigma_k = D_k + W_k W_k^T`, :math:`M_k = I + W_k^T D_k^{-1} W_k`, the E-step gives the responsibilities
    :math:`r_{nk}` (Woodbury, as :meth:`GaussianMixture.logpdf`), :math:`E[z\mid x_n, k] = M_k^{-1} W_k^T D_k^{-1}
    (x_n - \mu_k)` and :math:`E[zz^T\mid x_n, k] = M_k^{-1} + E[z]E[z]^T`; with :math:`\tilde z = (z, 1)` and
    :math:`\tilde W_k = (W_k, \mu_k)` the M-step is

    .. math::

        \tilde W_k = \Big(\sum_n r_{nk} x_n E[\tilde z]^T\Big)\Big(\sum_n r_{nk} E[\tilde z\tilde z^T]\Big)^{-1},
        \quad D_k = \max\Big(\tfrac{1}{N_k}\operatorname{diag}\sum_n r_{nk}\big(x_n x_n^T - \tilde W_k
        E[\tilde z] x_n^T\big), \text{min\_var}\Big),\quad \pi_k = N_k / n.

    Every sum over n is a matrix product over all components at once (chunks of ``chunk`` rows).
    """  # noqa: D205
    n, d = x.shape
    k_n, q = gm.weights.size, gm.factors.shape[2]
    dinv = 1.0 / gm.diag
    g = dinv[:, :, None] * gm.factors  # D^{-1} W, (K, d, q)
    mmat = np.eye(q)[None] + np.einsum("kdq,kdp->kqp", gm.factors, g)
    chol = np.linalg.cholesky(mmat)
    linv, minv = np.linalg.inv(chol), np.linalg.inv(mmat)
    logdet = np.sum(np.log(gm.diag), axis=1) + 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    const = np.log(gm.weights) - 0.5 * (logdet + d * _LOG2PI + np.sum(gm.means**2 * dinv, axis=1))
    gflat = g.transpose(1, 0, 2).reshape(d, k_n * q)
    mug = np.einsum("kd,kdq->kq", gm.means, g)
    mud = (gm.means * dinv).T
    acc_a = np.zeros((d, k_n * (q + 1)))
    acc_b = np.zeros((k_n, q + 1, q + 1))
    acc_s = np.zeros((k_n, d))
    total = 0.0
    for s0 in range(0, n, chunk):
        xs = x[s0:s0 + chunk]
        x2 = xs * xs
        proj = (xs @ gflat).reshape(xs.shape[0], k_n, q) - mug[None]
        u = np.einsum("kqp,nkp->nkq", linv, proj)
        ll = const[None] - 0.5 * (x2 @ dinv.T - 2.0 * (xs @ mud) - np.sum(u * u, axis=2))
        mx = ll.max(axis=1, keepdims=True)
        lse = mx + np.log(np.exp(ll - mx).sum(axis=1, keepdims=True))
        total += float(lse.sum())
        resp = np.exp(ll - lse)  # (m, K)
        zt = np.concatenate([np.einsum("kqp,nkp->nkq", minv, proj), np.ones((xs.shape[0], k_n, 1))], axis=2)
        rz = zt * resp[:, :, None]
        acc_a += xs.T @ rz.reshape(-1, k_n * (q + 1))
        acc_b += np.einsum("nkq,nkp->kqp", rz, zt)
        acc_s += resp.T @ x2
    nk = acc_b[:, q, q]
    keep = nk >= q + 2  # the others are dropped (their normal equations may be singular)
    if not np.any(keep):
        raise ValueError("EM left no component with rank + 2 expected members")
    nk = nk[keep]
    acc_b = acc_b[keep]
    acc_b[:, :q, :q] += nk[:, None, None] * minv[keep]
    a = acc_a.reshape(d, k_n, q + 1).transpose(1, 0, 2)[keep]  # (K', d, q + 1)
    wt = np.linalg.solve(acc_b, a.transpose(0, 2, 1)).transpose(0, 2, 1)  # acc_b is symmetric
    dg = (acc_s[keep] - np.sum(wt * a, axis=2)) / nk[:, None]
    new = GaussianMixture(nk / nk.sum(), wt[:, :, q], np.maximum(dg, min_var), np.ascontiguousarray(wt[:, :, :q]))
    return new, total / n


def _sets(regions: Regions) -> dict[str, np.ndarray]:
    return {"abc": np.concatenate([regions.a, regions.b, regions.c]), "b": regions.b,
            "ab": np.concatenate([regions.a, regions.b]), "bc": np.concatenate([regions.b, regions.c])}


def _summarise(terms: np.ndarray, t: float) -> ReferenceCMI:
    n = terms.size
    return ReferenceCMI(float(terms.mean()), float(terms.std(ddof=1) / np.sqrt(n)), int(n), float(t))


def _check_n(n_mc: int) -> int:
    if int(n_mc) != n_mc or n_mc < 2:
        raise ValueError(f"n_mc must be an integer >= 2, got {n_mc}")
    return int(n_mc)


def mixture_cmi_profile(mixture: GaussianMixture, t: float, regions: Sequence[Regions], *, n_mc: int = 4000,
                        seed: int | np.random.Generator | None = 0) -> tuple[ReferenceCMI, ...]:
    """:func:`mixture_cmi` for several region triples sharing one set of samples (e.g. all radii at one t).

    Errors of different entries are correlated (same samples); each entry's ``stderr`` is its own.
    """
    n_mc = _check_n(n_mc)
    t = _check_t(t)
    if not regions:
        raise ValueError("regions must not be empty")
    for reg in regions:
        if reg.size != mixture.dim:
            raise ValueError(f"regions are for d = {reg.size}, the mixture has d = {mixture.dim}")
    mt = mixture.diffuse(t)
    x = mt.sample(n_mc, seed=seed)
    cache: dict[bytes, np.ndarray] = {}

    def lp(idx: np.ndarray) -> np.ndarray:
        key = np.sort(idx).tobytes()
        if key not in cache:
            cache[key] = mt.marginal(idx).logpdf(x[:, idx]) if idx.size else np.zeros(n_mc)
        return cache[key]

    out = []
    for reg in regions:
        s = _sets(reg)
        out.append(_summarise(lp(s["abc"]) + lp(s["b"]) - lp(s["ab"]) - lp(s["bc"]), t))
    return tuple(out)


def mixture_cmi(mixture: GaussianMixture, t: float, regions: Regions, *, n_mc: int = 4000,
                seed: int | np.random.Generator | None = 0) -> ReferenceCMI:
    r"""Monte Carlo :math:`I(A:C\mid B)` of :math:`x_t` when :math:`x_0` follows ``mixture`` (nats).

    Samples :math:`x \sim p_t` exactly and averages
    :math:`\ln p_t(x_{ABC}) + \ln p_t(x_B) - \ln p_t(x_{AB}) - \ln p_t(x_{BC})`, each marginal an exact mixture
    log-density; ``stderr`` is the standard error of that mean.

    Parameters
    ----------
    mixture : law of :math:`x_0` (d = ``regions.size``).
    t : path time in [0, 1] (t = 0 needs ``mixture.diag > 0``).
    regions : the (A, B, C) index sets.
    n_mc : number of samples.
    seed : seed of the samples.

    Raises
    ------
    ValueError
        Mismatched dimension, t outside [0, 1], ``n_mc < 2``, or zero variances at t = 0.
    """
    return mixture_cmi_profile(mixture, t, [regions], n_mc=n_mc, seed=seed)[0]


def _atoms(regions: Sequence[Regions]) -> tuple[list[np.ndarray], list[dict[str, np.ndarray]]]:
    """Partition of the coordinates by membership signature; each needed set as a boolean mask over atoms."""
    d = regions[0].size
    sig = np.zeros((d, 3 * len(regions)), dtype=np.int8)
    for j, reg in enumerate(regions):
        for m, name in enumerate("abc"):
            sig[getattr(reg, name), 3 * j + m] = 1
    rows, inv = np.unique(sig, axis=0, return_inverse=True)
    inv = inv.ravel()
    atoms = [np.flatnonzero(inv == g) for g in range(rows.shape[0])]
    needs = []
    for j in range(len(regions)):
        a, b, c = rows[:, 3 * j].astype(bool), rows[:, 3 * j + 1].astype(bool), rows[:, 3 * j + 2].astype(bool)
        needs.append({"abc": a | b | c, "b": b, "ab": a | b, "bc": b | c})
    return atoms, needs


def empirical_mixture_cmi_profile(images: np.ndarray, t: float, regions: Sequence[Regions], *, n_mc: int = 2000,
                                  seed: int | np.random.Generator | None = 0, chunk: int = 32,
                                  device: str | torch.device | None = None) -> tuple[ReferenceCMI, ...]:
    """:func:`empirical_mixture_cmi` for several region triples sharing one set of samples (e.g. all radii).

    The coordinates are split into atoms (sets with the same membership in every triple; for the paper's nested
    balls: A, the rings and the outside), one squared-distance matrix per atom is computed by a matmul, and every
    needed set is a sum of atoms: the cost is one (n_mc x N x d) matmul however many radii.
    """
    n_mc = _check_n(n_mc)
    t = _check_t(t, open_low=True)
    y = np.asarray(images, dtype=np.float64)
    if y.ndim < 2 or y.shape[0] < 1:
        raise ValueError(f"images must have shape (N, ...) with N >= 1, got {y.shape}")
    y = y.reshape(y.shape[0], -1)
    if not np.all(np.isfinite(y)):
        raise ValueError("images contain NaN or infinite entries")
    if not regions:
        raise ValueError("regions must not be empty")
    for reg in regions:
        if reg.size != y.shape[1]:
            raise ValueError(f"regions are for d = {reg.size}, images have d = {y.shape[1]}")
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk}")
    rng = np.random.default_rng(seed)
    n_img = y.shape[0]
    idx = rng.integers(0, n_img, size=n_mc)
    x = (1 - t) * y[idx] + t * rng.standard_normal((n_mc, y.shape[1]))
    dev = torch.device(device) if device is not None else torch.device("cpu")
    atoms, needs = _atoms(regions)
    yt = torch.as_tensor((1 - t) * y, device=dev)
    ya = [yt[:, a] for a in atoms]
    yn = [(v * v).sum(1) for v in ya]
    scale = 1.0 / (2.0 * t * t)
    terms = np.zeros((len(regions), n_mc))
    for s0 in range(0, n_mc, chunk):
        xs = torch.as_tensor(x[s0:s0 + chunk], device=dev)
        dist = []
        for a, v, vn in zip(atoms, ya, yn):
            xa = xs[:, a]
            dist.append(((xa * xa).sum(1)[:, None] + vn[None, :] - 2.0 * xa @ v.T).clamp_min_(0.0))
        lse_cache: dict[bytes, torch.Tensor] = {}

        def lse(mask: np.ndarray, dist=dist, cache=lse_cache, m=xs.shape[0]) -> torch.Tensor:
            key = mask.tobytes()
            if key not in cache:
                if not mask.any():
                    cache[key] = torch.full((m,), float(np.log(n_img)), dtype=torch.float64, device=dev)
                else:
                    tot = sum(dist[g] for g in np.flatnonzero(mask))
                    cache[key] = torch.logsumexp(-scale * tot, dim=1)
            return cache[key]

        for j, nd in enumerate(needs):
            val = lse(nd["abc"]) + lse(nd["b"]) - lse(nd["ab"]) - lse(nd["bc"])
            terms[j, s0:s0 + xs.shape[0]] = val.cpu().numpy()
    return tuple(_summarise(terms[j], t) for j in range(len(regions)))


def empirical_mixture_cmi(images: np.ndarray, t: float, regions: Regions, *, n_mc: int = 2000,
                          seed: int | np.random.Generator | None = 0, chunk: int = 32,
                          device: str | torch.device | None = None) -> ReferenceCMI:
    r"""Exact (to MC precision) :math:`I(A:C\mid B)` of the diffused empirical distribution of ``images`` (nats).

    .. math::

        p_t(x) = \frac1N \sum_{i=1}^N \mathcal N\big(x;\ (1-t)\,x_i,\ t^2 I\big), \qquad 0 < t \le 1 .

    Samples :math:`x = (1-t)x_i + t z` with a uniformly drawn i; for each set U the log-density is
    :math:`\mathrm{LSE}_i(-|x_U - (1-t)x_{i,U}|^2 / 2t^2)` up to constants that cancel in
    :math:`\ln p_{ABC} + \ln p_B - \ln p_{AB} - \ln p_{BC}` (the dimensions cancel).  ``stderr`` is the standard
    error of the mean of the per-sample terms.  Used by the ideal-denoiser locality bounds (issue 12).

    Caveat (theory note section 2): at small t a small B already identifies the training image, so the CMI of the
    empirical distribution drops to 0 at larger r; compare several N before reading a cell as a statement about
    the data distribution.

    Parameters
    ----------
    images : training set, shape (N, ...) (e.g. (N, 27, 27) crops), flattened to (N, d).
    t : path time in (0, 1].
    regions : the (A, B, C) index sets on the flattened images.
    n_mc : Monte Carlo samples.
    seed : seed of the samples (image indices and noise).
    chunk : samples per block (memory ~ chunk x N x number of atoms x 8 bytes).
    device : torch device for the distance matmuls (default CPU; ``"cuda"`` works unchanged).

    Raises
    ------
    ValueError
        t outside (0, 1], mismatched region size, NaN images, ``n_mc < 2``.
    """
    return empirical_mixture_cmi_profile(images, t, [regions], n_mc=n_mc, seed=seed, chunk=chunk, device=device)[0]
