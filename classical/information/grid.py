r"""CMI over the (t, r) grid of the paper's Fig. 3a: one amortised predictive training, references, MINE cells.

:func:`predictive_cmi_grid` trains **one** conditional density network
:math:`q(x_{t,A} \mid M \odot x_t, M, t)` for every cell at once: M is the indicator of the visible region
(:math:`B_r`, r = 1..12, or the full surroundings :math:`B_r\cup C`, which is everything but A whatever r), the
network sees the masked image, a one-hot of the mask and t.  On held-out images

.. math::

    \hat I(A:C\mid B_r)(t) = \frac1n\sum_i\big[-\ln q(a_i \mid B_r, t) + \ln q(a_i \mid \text{all but } A, t)\big],

with the standard error of the paired per-sample differences (theory note ``information.md`` section 3).
At t = 0 the pixels are discrete (k/255, with an atom at 0); there the row is the CMI of the dequantised image
:math:`x_0 + u/255`, :math:`u \sim U[0,1)^d` (a density exists), stated wherever the row is shown.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.linalg
import torch
from torch import nn

from quantum_diffusion.typing import GridBaseline, GridFeatures

from .estimators import InfoEstimate, MixtureDensityNet, estimate_cmi, mdn_nll
from .references import GaussianMixture, fit_mixture
from .regions import PAPER_RADII, paper_regions

__all__ = ["PAPER_TIMES", "CMIGrid", "grid_masks", "noisy_images", "linear_gaussian_conditionals",
           "predictive_cmi_grid", "FEATURE_CANDIDATES", "MIXTURE_CANDIDATES", "mixture_model_cmi_grid",
           "paper_mine_cell", "cell_arrays"]

#: The paper's t grid 0, 0.1, ..., 1.
PAPER_TIMES = tuple(round(0.1 * k, 1) for k in range(11))
#: (components, rank) candidates of :func:`predictive_cmi_grid`'s fitted-mixture features; the one with the highest
#: validation log-likelihood is used (session 5; ``classical/information/README.md``).
FEATURE_CANDIDATES: tuple[tuple[int, int], ...] = ((60, 5), (200, 2))
#: Training images per component below which a feature candidate is skipped (see ``mixture_sizes``).
_MIN_PER_COMPONENT = 100
_LOG2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class CMIGrid:
    """CMI estimates over a (t, r) grid, in nats.

    Attributes
    ----------
    times : shape (T,).  radii : shape (R,).
    value, stderr : shape (T, R).
    method : how the grid was obtained.
    diagnostics : training details.
    """

    times: tuple[float, ...]
    radii: tuple[int, ...]
    value: np.ndarray
    stderr: np.ndarray
    method: str
    diagnostics: dict = field(default_factory=dict, hash=False, compare=False)

    def to_dict(self) -> dict:
        """Plain-Python form (for JSON)."""
        d = asdict(self)
        d["value"] = np.asarray(self.value).tolist()
        d["stderr"] = np.asarray(self.stderr).tolist()
        return d


def grid_masks(radii: Sequence[int], side: int) -> np.ndarray:
    """Visibility masks, shape (R + 1, side * side): rows B_r for each radius, last row everything but A."""
    d = side * side
    masks = np.zeros((len(radii) + 1, d), dtype=np.float32)
    for k, r in enumerate(radii):
        masks[k, paper_regions(r, size=side).b] = 1.0
    masks[-1] = 1.0
    masks[-1, paper_regions(1, size=side).a] = 0.0
    return masks


def noisy_images(images: np.ndarray, t: float, rng: np.random.Generator, *, dequantise: bool = True) -> np.ndarray:
    """Flattened :math:`x_t = (1-t)x_0 + t z` (shape (n, d)); at t = 0 add u/255 dequantisation if asked."""
    x0 = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    if t == 0.0 and dequantise:
        x0 = x0 + rng.uniform(0, 1 / 255, x0.shape).astype(np.float32)
    return ((1 - t) * x0 + t * rng.standard_normal(x0.shape).astype(np.float32)).astype(np.float32)


def _check_images(images: np.ndarray) -> tuple[np.ndarray, int]:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3 or x.shape[1] != x.shape[2] or x.shape[1] % 2 == 0:
        raise ValueError(f"images must have shape (n, s, s) with odd s, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("images contain NaN or infinite entries")
    return x, x.shape[1]


def _check_grid(times: Sequence[float], radii: Sequence[int], side: int) -> None:
    if not times or any(not 0.0 <= float(t) <= 1.0 for t in times):
        raise ValueError(f"times must be a non-empty sequence in [0, 1], got {times}")
    for r in radii:
        paper_regions(r, size=side)  # raises for r out of range


def linear_gaussian_conditionals(images: np.ndarray, times: Sequence[float], masks: np.ndarray, a_idx: int, *,
                                 dequantise: bool = True,
                                 ridge: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Best linear predictor of :math:`x_{t,A}` from each visible region, from the data's mean and covariance.

    With :math:`\mu, S` the mean and covariance of the flattened clean images (plus the u/255 dequantisation
    variance :math:`1/(12\cdot 255^2)` on the diagonal at t = 0 when ``dequantise``), :math:`x_t` has mean
    :math:`(1-t)\mu` and covariance :math:`S_t = (1-t)^2 S + t^2 I`; for the visible set U of a mask

    .. math::

        w = S_{t,UU}^{-1} S_{t,UA}, \qquad c = (1-t)(\mu_A - w^T\mu_U), \qquad
        v = S_{t,AA} - S_{t,AU}\,w,

    so that :math:`\hat a(x) = c + w^T x_U` and v is the residual variance.  For Gaussian data
    :math:`\mathcal N(\hat a, v)` is the exact conditional law of :math:`x_{t,A}` and
    :math:`\tfrac12\ln(v_{B_r}/v_{\text{all}})` the exact CMI.

    Parameters
    ----------
    images : clean images, shape (n, d) or (n, s, s).
    times : path times, shape (T,).
    masks : visibility masks, shape (M, d) (1 = visible; the A coordinate must be 0).
    a_idx : flat index of A.
    dequantise : add the dequantisation variance at t = 0 (as :func:`noisy_images` does to the data).
    ridge : added to the diagonal of S (regularises the regression at t = 0 when the images are few; 0: exact).

    Returns
    -------
    w : shape (T, M, d), zero outside each visible set.  c, v : shape (T, M).

    Raises
    ------
    ValueError
        A visible A, or a residual variance that is not positive.
    """
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    d = x.shape[1]
    mu = x.mean(0)
    if not np.isfinite(ridge) or ridge < 0:
        raise ValueError(f"ridge must be a non-negative number, got {ridge}")
    cov = np.cov(x, rowvar=False, bias=True) + ridge * np.eye(d)
    vis = [np.flatnonzero(np.asarray(m) > 0) for m in masks]
    if any(a_idx in u for u in vis):
        raise ValueError("masks must hide A")
    w = np.zeros((len(times), len(vis), d))
    c = np.zeros((len(times), len(vis)))
    v = np.zeros_like(c)
    for i, t in enumerate(times):
        t = float(t)
        st = (1 - t) ** 2 * cov + t**2 * np.eye(d)
        if t == 0.0 and dequantise:
            st = st + np.eye(d) / (12 * 255.0**2)
        for k, u in enumerate(vis):
            # scipy's symmetric solve: the Schur complement is the closed form we want (no library gives it)
            wu = scipy.linalg.solve(st[np.ix_(u, u)], st[u, a_idx], assume_a="pos")
            w[i, k, u] = wu
            c[i, k] = (1 - t) * (mu[a_idx] - wu @ mu[u])
            v[i, k] = st[a_idx, a_idx] - st[a_idx, u] @ wu
    if np.any(v <= 0):
        raise ValueError("residual variance of the linear predictor is not positive (degenerate covariance)")
    return w, c, v


class _MixtureFeatures:
    r"""Per-example conditional of :math:`x_{t,A}` under a fitted mixture, as network inputs (no gradient).

    For a visible set U (a row of ``masks``), with :math:`D_t = (1-t)^2 D + t^2`, :math:`W_t = (1-t)W`,
    :math:`\mu_t = (1-t)\mu`, each component k gives

    .. math::

        \ell_k = \ln\pi_k + \ln\mathcal N(x_U; \mu_{t,kU}, D_{t,kU} + W_{t,kU}W_{t,kU}^T),\quad
        m_k = \mu_{t,kA} + w_{kA}^T M_k^{-1} P_k,\quad v_k = D_{t,kA} + w_{kA}^T M_k^{-1} w_{kA},

    with :math:`P_k = W_{t,kU}^T D_{t,kU}^{-1}(x_U - \mu_{t,kU})` and :math:`M_k = I + W_{t,kU}^T D_{t,kU}^{-1}
    W_{t,kU}` (Woodbury; the mixture's conditional is :math:`\sum_k \mathrm{softmax}(\ell)_k\,\mathcal N(m_k,
    v_k)`).  Everything that does not depend on x is precomputed per (t, mask); per call, each t present costs
    three (n, d) x (d, K(q + 2)) products on the masked pixels.
    """

    def __init__(self, gm: GaussianMixture, times: Sequence[float], masks: np.ndarray, a_idx: int,
                 dev: torch.device):
        k_n, d = gm.means.shape
        q = gm.factors.shape[2]
        self.k, self.q, self.dev = k_n, q, dev
        vis = np.asarray(masks, dtype=np.float64)
        self.masks = torch.as_tensor(vis, dtype=torch.float32, device=dev)
        f32 = {"dtype": torch.float32, "device": dev}
        self.per_t = []
        for t in times:
            t = float(t)
            dt = (1 - t) ** 2 * gm.diag + t**2
            dinv = 1.0 / dt
            mu = (1 - t) * gm.means
            w = (1 - t) * gm.factors
            g = dinv[:, :, None] * w  # D^{-1} W, (K, d, q)
            gram = np.einsum("kdq,kdp,md->mkqp", w, g, vis)
            mmat = np.eye(q)[None, None] + gram
            chol = np.linalg.cholesky(mmat)
            minv = np.linalg.inv(mmat)
            logdet = vis @ np.log(dt).T + 2 * np.sum(np.log(np.diagonal(chol, axis1=2, axis2=3)), 2)  # (M, K)
            const = np.log(gm.weights)[None] - 0.5 * (logdet + vis.sum(1)[:, None] * _LOG2PI
                                                      + vis @ (mu * mu * dinv).T)
            wa = w[:, a_idx, :]
            self.per_t.append({
                "dinv": torch.as_tensor(dinv.T, **f32), "mud": torch.as_tensor((mu * dinv).T, **f32),
                "g": torch.as_tensor(g.transpose(1, 0, 2).reshape(d, k_n * q), **f32),
                "mug": torch.as_tensor(np.einsum("kd,kdq,md->mkq", mu, g, vis), **f32),
                "linv": torch.as_tensor(np.linalg.inv(chol), **f32), "const": torch.as_tensor(const, **f32),
                "wa_minv": torch.as_tensor(np.einsum("kq,mkqp->mkp", wa, minv), **f32),
                "var": torch.as_tensor(dt[:, a_idx][None] + np.einsum("kq,mkqp,kp->mk", wa, minv, wa), **f32),
                "mu_a": torch.as_tensor(mu[:, a_idx], **f32)})

    @torch.no_grad()
    def __call__(self, xt: torch.Tensor, ti: torch.Tensor, m: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Responsibilities, component means and variances of :math:`x_{t,A}` for mask ``m``, each (B, K)."""
        n = xt.shape[0]
        resp = torch.empty((n, self.k), device=self.dev)
        mean = torch.empty_like(resp)
        var = torch.empty_like(resp)
        for i in torch.unique(ti).tolist():
            sel = torch.nonzero(ti == i).squeeze(1)
            mi = m[sel]
            x = xt[sel].float() * self.masks[mi]
            pt = self.per_t[i]
            quad = (x * x) @ pt["dinv"] - 2.0 * (x @ pt["mud"])
            proj = (x @ pt["g"]).reshape(-1, self.k, self.q) - pt["mug"][mi]
            u = torch.einsum("nkqp,nkp->nkq", pt["linv"][mi], proj)
            resp[sel] = torch.softmax(pt["const"][mi] - 0.5 * (quad - (u * u).sum(2)), dim=1)
            mean[sel] = pt["mu_a"] + torch.einsum("nkp,nkp->nk", pt["wa_minv"][mi], proj)
            var[sel] = pt["var"][mi]
        return resp, mean, var


def _feature_mixture(x_train: np.ndarray, x_val: np.ndarray, sizes: Sequence[tuple[int, int]],
                     rng: np.random.Generator, *, em_steps: int) -> tuple[GaussianMixture, list[dict], tuple[int, int]]:
    """Fit every eligible (components, rank) candidate; keep the highest mean log-likelihood of ``x_val``.

    A candidate with fewer than ``_MIN_PER_COMPONENT`` training images per component is skipped (its fit is
    dominated by estimation noise, and the grid's cost grows with the components); if none is eligible, the one
    with the fewest components is fitted alone, with its components cut to ``n // _MIN_PER_COMPONENT`` (at
    least 1).
    """
    n = x_train.shape[0]
    eligible = [s for s in sizes if n >= _MIN_PER_COMPONENT * s[0]]
    if not eligible:
        k_min, q_min = min(sizes, key=lambda s: s[0])
        eligible = [(max(1, min(k_min, n // _MIN_PER_COMPONENT)), q_min)]
    seeds = rng.integers(0, 2**31 - 1, size=len(eligible))
    xtr, xva = x_train.astype(np.float64), x_val.astype(np.float64)
    best, report = None, []
    for (k, q), sd in zip(eligible, seeds):
        t0 = time.perf_counter()
        gm = fit_mixture(xtr, n_components=int(k), rank=int(q), seed=int(sd), em_steps=em_steps, kmeans="blas")
        val = float(gm.logpdf(xva).mean())
        report.append({"components": int(k), "rank": int(q), "fitted_components": int(gm.weights.size),
                       "val_loglik": val, "fit_s": time.perf_counter() - t0})
        if best is None or val > best[0]:
            best = (val, gm, (int(k), int(q)))
    return best[1], report, best[2]


def predictive_cmi_grid(images: np.ndarray, *, times: Sequence[float] = PAPER_TIMES,
                        radii: Sequence[int] = PAPER_RADII, seed: int | None = 0, steps: int = 2500,
                        batch_size: int = 256, lr: float = 2e-3, hidden: int = 256, components: int = 8,
                        test_fraction: float = 0.2, full_fraction: float = 0.5,
                        baseline: GridBaseline = "linear", square_inputs: bool = True,
                        features: GridFeatures = "mixture",
                        mixture_sizes: Sequence[tuple[int, int]] = FEATURE_CANDIDATES, mixture_em_steps: int = 8,
                        device: str | torch.device | None = None, amp: bool = True) -> CMIGrid:
    r"""Amortised predictive :math:`I(A:C\mid B_r)` of :math:`x_t` on every (t, r) with one training.

    The density model of the centre pixel given the visible region U (:math:`B_r` or everything but A) is, with
    ``baseline="linear"`` (default),

    .. math::

        q(a \mid U, t) = v_{t,U}^{-1/2}\, q_\theta\big((a - \hat a_{t,U}(x_U)) / v_{t,U}^{1/2} \bigm|
        M\odot x_t, M, t, \hat a, \ln v\big),

    where :math:`\hat a, v` are the exact linear-Gaussian conditional of the training images' covariance
    (:func:`linear_gaussian_conditionals`, ridge 1e-4 on the diagonal) and :math:`q_\theta` is a K-component
    Gaussian-mixture head on an MLP initialised near :math:`\mathcal N(0, 1)`: the untrained model is the Gaussian
    surrogate, and the network only learns the non-Gaussian correction of the standardised residual.
    ``baseline="none"`` models :math:`x_{t,A}` directly (the earlier estimator).  Either way q is a normalised
    density, so each term is an upper bound on :math:`H(A\mid U)` (cross-entropy) and the CMI is their paired
    difference on held-out images.

    Parameters
    ----------
    images : clean images :math:`x_0`, shape (n, s, s), s odd (the paper: (n, 27, 27) crops); A is the centre.
    times, radii : the grid (defaults: the paper's 11 x 12).
    seed : seeds the split, the noise, the initialisation and the batches.
    steps, batch_size, lr : AdamW training (cosine schedule); each example draws its t, mask and noise afresh;
        early stopping on 10 % of the training images (one fixed noisy draw at a random t and mask each).
    hidden, components : MLP width and mixture components of the density head.
    test_fraction : held-out images (each evaluated once per t with one noise draw, every mask).
    full_fraction : fraction of training examples that see the full surroundings (the rest draw a radius
        uniformly).  The full-context term enters every cell, so its approximation error biases the whole grid;
        with uniform masks (1/13 full) the MNIST grid came out negative at every r (full term under-fitted).
    baseline : ``"linear"`` or ``"none"`` (see above; the choice is validated in
        ``classical/information/README.md``).
    square_inputs : also feed the squares of the visible pixels (a second-order input map: log-likelihoods of
        Gaussian components with different variances are linear in x and x^2).
    features : ``"mixture"``: fit low-rank Gaussian mixtures to the training images
        (:func:`~classical.information.references.fit_mixture`: k-means++, PPCA, ``mixture_em_steps`` EM steps),
        keep the one of ``mixture_sizes`` with the highest log-likelihood of the validation images, carry it along
        the path exactly, and give the network its conditional of :math:`x_{t,A}` given the visible region
        (responsibilities, component means and variances, in the units of the standardised target) as inputs; the
        output density is then the network's K components together with the fitted mixture's, whose weights get a
        learned offset and whose scales a learned common factor (started at 99.9 % of the mass on the fitted
        mixture).  The model family contains both the network alone and the fitted mixture's conditional.
        Training does not always keep the better of the two for every term (the runs on the K30 reference varied
        by 0.03 nats in the full-context term), so at evaluation each (t, mask) term uses the trained density or
        the fitted mixture's conditional alone, whichever has the lower cross-entropy on the validation images
        (``diagnostics["term_uses_fitted_mixture"]``); the test images then score the chosen model.
        ``"none"``: pixels only.  The defaults are the best variant of the validation
        (``classical/information/README.md``).
    mixture_sizes : (components, rank) candidates for the features (default :data:`FEATURE_CANDIDATES`).  A
        candidate with fewer than 100 training images per component is skipped (with none left, the one with the
        fewest components is used, its components cut to n_train // 100).  The held-out log-likelihood of the
        clean validation images chooses: on both validation references it ranks the candidates as the excess
        cross-entropy of their full-context conditional does, the quantity that biases the CMI
        (``diagnostics["feature_candidates"]``).
    mixture_em_steps : EM steps of each feature fit (k-means with ``kmeans="blas"``).
    device, amp : torch device (default CUDA when present), bf16 autocast on CUDA.

    Returns
    -------
    CMIGrid with value and stderr of shape (len(times), len(radii)); ``diagnostics["term_nll"]`` holds the
    held-out cross-entropies :math:`\hat H(A\mid U)`, shape (T, R + 1) (last column: everything but A).

    Raises
    ------
    ValueError
        Bad image shape, NaN, t outside [0, 1], r out of range, unknown ``baseline`` or ``features``, bad
        ``mixture_sizes`` or ``mixture_em_steps``, or too few images for ``batch_size`` (or for fitting the
        mixture).
    """
    x0, side = _check_images(images)
    _check_grid(times, radii, side)
    if baseline not in ("linear", "none"):
        raise ValueError(f"baseline must be 'linear' or 'none', got {baseline!r}")
    if features not in ("none", "mixture"):
        raise ValueError(f"features must be 'none' or 'mixture', got {features!r}")
    try:
        sizes = [tuple(s) for s in mixture_sizes]
    except TypeError:
        raise ValueError(f"mixture_sizes must be a sequence of (components, rank) pairs such as [(60, 5)], got "
                         f"{mixture_sizes!r}") from None
    if not sizes or any(len(s) != 2 or any(int(v) != v for v in s) or s[0] < 1 or s[1] < 0 for s in sizes):
        raise ValueError(f"mixture_sizes must be one or more (components >= 1, rank >= 0) pairs, got {mixture_sizes!r}")
    if int(mixture_em_steps) != mixture_em_steps or mixture_em_steps < 0:
        raise ValueError(f"mixture_em_steps must be a non-negative integer, got {mixture_em_steps!r}")
    rng = np.random.default_rng(seed)
    n = x0.shape[0]
    perm = rng.permutation(n)
    n_te = int(round(test_fraction * n))
    tr, te = perm[n_te:], perm[:n_te]
    if not 0.0 < full_fraction < 1.0:
        raise ValueError(f"full_fraction must lie in (0, 1), got {full_fraction}")
    if tr.size < batch_size or te.size < 2:
        raise ValueError(f"too few images ({n}) for batch_size={batch_size} and test_fraction={test_fraction}")
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available()
                                                                          else "cpu")
    d = side * side
    a_idx = paper_regions(1, size=side).a[0]
    masks_np = grid_masks(radii, side)
    masks = torch.as_tensor(masks_np, device=dev)
    n_mask = masks.shape[0]
    tgrid = torch.as_tensor(np.asarray(times, dtype=np.float32), device=dev)
    n_val = max(2, int(0.1 * tr.size))
    va, tr = tr[:n_val], tr[n_val:]
    linear = baseline == "linear"
    if linear:
        w_np, c_np, v_np = linear_gaussian_conditionals(x0[tr].reshape(-1, d), times, masks_np, a_idx, ridge=1e-4)
    else:
        w_np, c_np, v_np = (np.zeros((len(times), n_mask, d)), np.zeros((len(times), n_mask)),
                            np.ones((len(times), n_mask)))
    lin_w = torch.as_tensor(w_np, dtype=torch.float32, device=dev)
    lin_c = torch.as_tensor(c_np, dtype=torch.float32, device=dev)
    lin_hl = torch.as_tensor(0.5 * np.log(v_np), dtype=torch.float32, device=dev)  # half log variance
    xtr = torch.as_tensor(x0[tr].reshape(-1, d), device=dev)
    mix, feature_report, chosen = None, [], None
    if features == "mixture":
        # its own child seed: the split, noise and batches stay those of features="none" (paired comparisons)
        gm, feature_report, chosen = _feature_mixture(x0[tr].reshape(-1, d), x0[va].reshape(-1, d), sizes,
                                                      np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0]),
                                                      em_steps=int(mixture_em_steps))
        mix = _MixtureFeatures(gm, times, masks_np, a_idx, dev)
    # fixed validation set for early stopping: every validation image at a random (t, mask), one noise draw
    vt = rng.integers(0, len(times), n_val)
    xv = torch.as_tensor(np.concatenate([noisy_images(x0[va[i:i + 1]], float(times[vt[i]]), rng)
                                         for i in range(n_val)]), device=dev)
    tiv = torch.as_tensor(vt, device=dev)
    mv = torch.as_tensor(rng.integers(0, len(radii) + 1, n_val), device=dev)
    seed_t = int(rng.integers(0, 2**31 - 1))

    def inputs(xt: torch.Tensor, m: torch.Tensor,
               ti: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """Network input, standardised target (raw when ``baseline="none"``), fitted mixture's components of A.

        The components are in the target's units (log-responsibility, mean, log-scale; None without features).
        """
        onehot = nn.functional.one_hot(m, n_mask).to(xt.dtype)
        pred = (xt * lin_w[ti, m]).sum(1) + lin_c[ti, m]
        hl = lin_hl[ti, m]
        xm = xt * masks[m]
        feats = [xm, onehot, tgrid[ti][:, None]] + ([xm * xm] if square_inputs else [])
        if linear:
            feats += [pred[:, None], hl[:, None]]
        comps = None
        if mix is not None:  # the fitted mixture's conditional of A, standardised like the target
            resp, mean, var = mix(xt, ti, m)
            mbar = (resp * mean).sum(1, keepdim=True)
            vbar = (resp * (var + mean * mean)).sum(1, keepdim=True) - mbar * mbar
            sd = torch.exp(-hl)[:, None]
            comps = (torch.log(resp.clamp_min(1e-30)), (mean - pred[:, None]) * sd, 0.5 * torch.log(var) - hl[:, None])
            feats += [resp, comps[1], comps[2], (mbar - pred[:, None]) * sd,
                      0.5 * torch.log(vbar.clamp_min(1e-12)) - hl[:, None]]
        return torch.cat(feats, dim=1), (xt[:, a_idx] - pred) * torch.exp(-hl), comps

    def nll(xt: torch.Tensor, m: torch.Tensor, ti: torch.Tensor) -> torch.Tensor:
        r"""Per-sample :math:`-\ln q(x_{t,A} \mid U)` (change of variables adds the half log variance)."""
        u, target, comps = inputs(xt, m, ti)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp and dev.type == "cuda"):
            out = net.params(u, target[:, None], m).float()
        if comps is not None:
            # one density: the net's K components and the fitted mixture's, whose weights get a learned offset
            # and whose scales a learned common factor (two extra outputs)
            k = components
            shift, scale = out[:, 3 * k:3 * k + 1], out[:, 3 * k + 1:3 * k + 2]
            out = torch.cat([out[:, :k], comps[0] + shift, out[:, k:2 * k], comps[1], out[:, 2 * k:3 * k],
                             comps[2] + scale], dim=1)
        return mdn_nll(out, target) + lin_hl[ti, m]

    def fitted_nll(xt: torch.Tensor, m: torch.Tensor, ti: torch.Tensor) -> torch.Tensor:
        r"""Per-sample :math:`-\ln q(x_{t,A} \mid U)` of the fitted mixture's conditional alone."""
        _, target, comps = inputs(xt, m, ti)
        return mdn_nll(torch.cat(comps, dim=1), target) + lin_hl[ti, m]

    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed_t)
        gen = torch.Generator().manual_seed(seed_t)
        n_in = d * (2 if square_inputs else 1) + n_mask + 1 + (2 if linear else 0)
        n_in += 3 * mix.k + 2 if mix is not None else 0
        net = MixtureDensityNet(1, n_in, hidden=hidden, components=components).to(dev)
        if mix is not None:  # two more outputs: the fitted components' weight offset and scale factor
            net.trunk[-1] = nn.Linear(hidden, 3 * components + 2).to(dev)
        if linear:  # start near N(0, 1) for the standardised residual: the untrained model is the Gaussian one
            last = net.trunk[-1]
            with torch.no_grad():
                last.weight.mul_(0.1)
                last.bias.zero_()
                last.bias[components:2 * components] = torch.linspace(-0.5, 0.5, components)
                if mix is not None:  # start with 99.9 % of the mass on the fitted mixture's conditional
                    last.bias[3 * components] = math.log(999.0 * components)
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        losses = []
        best = (math.inf, None, 0)
        net.train()
        for step in range(steps):
            idx = torch.randint(0, xtr.shape[0], (batch_size,), generator=gen).to(dev)
            ti = torch.randint(0, len(times), (batch_size,), generator=gen).to(dev)
            m = torch.randint(0, n_mask - 1, (batch_size,), generator=gen)
            m = torch.where(torch.rand(batch_size, generator=gen) < full_fraction, n_mask - 1, m).to(dev)
            tt = tgrid[ti]
            x = xtr[idx]
            deq = (tt == 0).to(x.dtype)[:, None] * torch.rand(x.shape, generator=gen).to(dev) / 255.0
            xt = (1 - tt[:, None]) * (x + deq) + tt[:, None] * torch.randn(x.shape, generator=gen).to(dev)
            loss = nll(xt, m, ti).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if (step + 1) % 100 == 0 or step + 1 == steps:
                net.eval()
                with torch.no_grad():
                    v = float(nll(xv, mv, tiv).mean())
                net.train()
                if v < best[0]:
                    best = (v, {k: w.detach().clone() for k, w in net.state_dict().items()}, step + 1)
        net.load_state_dict(best[1])
        net.eval()
        value = np.zeros((len(times), len(radii)))
        stderr = np.zeros_like(value)
        term_nll = np.zeros((len(times), n_mask))
        use_fitted = np.zeros((len(times), n_mask), dtype=bool)
        # own child stream for the per-term validation draws: the test draws stay those of features="none"
        rng_val = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])
        with torch.no_grad():
            for i, t in enumerate(times):
                if mix is not None:
                    # per-term model choice on the validation images: the trained density or the fitted
                    # mixture's conditional alone (its starting point), whichever has the lower cross-entropy
                    xvt = torch.as_tensor(noisy_images(x0[va], float(t), rng_val), device=dev)
                    tv = torch.full((xvt.shape[0],), i, device=dev, dtype=torch.long)
                    for k in range(n_mask):
                        mk = torch.full_like(tv, k)
                        use_fitted[i, k] = bool(fitted_nll(xvt, mk, tv).mean() < nll(xvt, mk, tv).mean())
                xt = torch.as_tensor(noisy_images(x0[te], float(t), rng), device=dev)
                ti = torch.full((xt.shape[0],), i, device=dev, dtype=torch.long)
                terms = [(fitted_nll if use_fitted[i, k] else nll)(xt, torch.full_like(ti, k), ti).double()
                         for k in range(n_mask)]
                term_nll[i] = [float(x.mean()) for x in terms]
                for k in range(len(radii)):
                    diff = terms[k] - terms[-1]
                    value[i, k] = float(diff.mean())
                    stderr[i, k] = float(diff.std() / math.sqrt(diff.numel()))
    diag = {"steps": steps, "final_train_nll": float(np.mean(losses[-max(1, steps // 10):])), "n_train": int(tr.size),
            "n_test": int(te.size), "dequantised_t0": True, "best_step": best[2], "baseline": baseline,
            "square_inputs": square_inputs, "features": features,
            "term_nll": term_nll.tolist()}
    if mix is not None:
        diag["mixture_size"] = list(chosen)
        diag["feature_candidates"] = feature_report
        diag["term_uses_fitted_mixture"] = use_fitted.tolist()
    if linear:
        diag["linear_gaussian_cmi"] = (0.5 * (np.log(v_np[:, :-1]) - np.log(v_np[:, -1:]))).tolist()
    return CMIGrid(tuple(float(t) for t in times), tuple(int(r) for r in radii), value, stderr,
                   f"predictive-amortised-{baseline}", diag)


#: Candidate (components, rank) of :func:`mixture_model_cmi_grid`; the one with the lowest validation
#: cross-entropy is used (under-sized fits are badly biased; README table).
MIXTURE_CANDIDATES: tuple[tuple[int, int], ...] = ((30, 5), (60, 8), (100, 8))


def _grid_split(n: int, rng: np.random.Generator, test_fraction: float,
                val_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not 0.0 < test_fraction < 1.0 or not 0.0 <= val_fraction < 1.0 or test_fraction + val_fraction >= 1.0:
        raise ValueError(f"test_fraction in (0, 1) and val_fraction in [0, 1) with sum < 1 needed, got "
                         f"{test_fraction} and {val_fraction}")
    perm = rng.permutation(n)
    n_te = int(round(test_fraction * n))
    n_va = int(round(val_fraction * n))
    return perm[n_te + n_va:], perm[n_te:n_te + n_va], perm[:n_te]


def _mixture_term_nll(mixture: GaussianMixture, xt: np.ndarray, masks: np.ndarray, a_idx: int) -> np.ndarray:
    r"""Per-sample :math:`-\ln q(x_A \mid x_U) = \ln q(x_U) - \ln q(x_{A\cup U})` for each mask, shape (M, n)."""
    with_a = masks.astype(bool).copy()
    with_a[:, a_idx] = True
    lp = mixture.marginal_logpdfs(xt, np.concatenate([masks.astype(bool), with_a]))
    return lp[:len(masks)] - lp[len(masks):]


def mixture_model_cmi_grid(images: np.ndarray, *, times: Sequence[float] = PAPER_TIMES,
                           radii: Sequence[int] = PAPER_RADII, seed: int | None = 0,
                           candidates: Sequence[tuple[int, int]] = MIXTURE_CANDIDATES, min_var: float = 1e-3,
                           test_fraction: float = 0.2, val_fraction: float = 0.1) -> CMIGrid:
    r"""Predictive :math:`I(A:C\mid B_r)` of :math:`x_t` on every (t, r) from one fitted Gaussian mixture.

    A low-rank-plus-diagonal Gaussian mixture q is fitted to the clean training images
    (:func:`~classical.information.references.fit_mixture`) and carried along the path exactly
    (:meth:`~classical.information.references.GaussianMixture.diffuse`: the path convolves with a known Gaussian,
    so no refit per t).  Its conditionals :math:`q(a\mid x_U) = q(x_{A\cup U})/q(x_U)` are exact mixture
    ratios, and on held-out images, as for :func:`predictive_cmi_grid`,

    .. math::

        \hat I(A:C\mid B_r)(t) = \frac1n\sum_i\big[-\ln q_t(a_i\mid B_r) + \ln q_t(a_i\mid\text{all but }A)\big]

    with the standard error of the paired differences.  Each term is a held-out cross-entropy, an upper bound on
    the conditional entropy.  The mixture size is chosen among ``candidates`` by the mean validation
    cross-entropy over every (t, mask) term (a separate split).  Not the default estimator: it is accurate only
    when the data are close to its own family.  An under-sized mixture's conditionals given the 728 other pixels
    are far too broad, so the CMI comes out strongly negative (MNIST, t = 0.1, r = 1: -0.36 nats; a (15, 3) fit
    on the K30-rank5 reference: 0/16 cells); see ``classical/information/README.md``.

    Parameters
    ----------
    images : clean images :math:`x_0`, shape (n, s, s), s odd; A is the centre.
    times, radii : the grid (defaults: the paper's 11 x 12).
    seed : seeds the split, the k-means initialisations and the noise.
    candidates : (components, rank) pairs to fit.
    min_var : floor of the fitted diagonal variances (:func:`fit_mixture`).
    test_fraction, val_fraction : held-out images for the estimate and for choosing the candidate.

    Returns
    -------
    CMIGrid (method ``"predictive-fitted-mixture"``); ``diagnostics`` holds ``term_nll`` (held-out
    :math:`\hat H(A\mid U)`, shape (T, R + 1), last column everything but A), the validation cross-entropy and fit
    time of every candidate and the chosen one.

    Raises
    ------
    ValueError
        Bad image shape, NaN, t outside [0, 1], r out of range, empty ``candidates``, bad fractions, or too few
        training images for a candidate.
    """
    x0, side = _check_images(images)
    _check_grid(times, radii, side)
    if not candidates:
        raise ValueError("candidates must not be empty")
    rng = np.random.default_rng(seed)
    tr, va, te = _grid_split(x0.shape[0], rng, test_fraction, val_fraction)
    if len(candidates) > 1 and va.size < 2:
        raise ValueError("choosing among several candidates needs val_fraction > 0 (at least 2 images)")
    if te.size < 2:
        raise ValueError(f"too few images ({x0.shape[0]}) for test_fraction={test_fraction}")
    d = side * side
    a_idx = int(paper_regions(1, size=side).a[0])
    masks = grid_masks(radii, side) > 0
    xtr = x0[tr].reshape(-1, d).astype(np.float64)
    seeds = rng.integers(0, 2**31 - 1, size=len(candidates))
    # one noisy draw of the validation images per t, shared by every candidate (a paired comparison)
    x_val = [noisy_images(x0[va], float(t), rng) for t in times] if len(candidates) > 1 else []
    fits, report = [], []
    for (k, q), sd in zip(candidates, seeds):
        t0 = time.perf_counter()
        gm = fit_mixture(xtr, n_components=int(k), rank=int(q), min_var=min_var, seed=int(sd))
        fit_s = time.perf_counter() - t0
        val = float("nan")
        if x_val:
            val = float(np.mean([_mixture_term_nll(gm.diffuse(float(t)), xv, masks, a_idx).mean()
                                 for t, xv in zip(times, x_val)]))
        fits.append(gm)
        report.append({"components": int(k), "rank": int(q), "fitted_components": int(gm.weights.size),
                       "val_nll": val, "fit_s": fit_s})
    best = int(np.nanargmin([r["val_nll"] for r in report])) if len(candidates) > 1 else 0
    gm = fits[best]
    value = np.zeros((len(times), len(radii)))
    stderr = np.zeros_like(value)
    term_nll = np.zeros((len(times), len(radii) + 1))
    for i, t in enumerate(times):
        nll = _mixture_term_nll(gm.diffuse(float(t)), noisy_images(x0[te], float(t), rng), masks, a_idx)
        term_nll[i] = nll.mean(axis=1)
        diff = nll[:-1] - nll[-1]
        value[i] = diff.mean(axis=1)
        stderr[i] = diff.std(axis=1, ddof=1) / math.sqrt(diff.shape[1])
    diag = {"candidates": report, "chosen": [int(candidates[best][0]), int(candidates[best][1])],
            "n_train": int(tr.size), "n_val": int(va.size), "n_test": int(te.size), "dequantised_t0": True,
            "min_var": float(min_var), "term_nll": term_nll.tolist()}
    return CMIGrid(tuple(float(t) for t in times), tuple(int(r) for r in radii), value, stderr,
                   "predictive-fitted-mixture", diag)


def cell_arrays(images: np.ndarray, t: float, r: int, *, seed: int | None = 0) -> tuple[np.ndarray, ...]:
    """(x_A, x_C, x_B) of :math:`x_t` for one cell (flat blocks), for :func:`estimate_cmi` per cell."""
    x0, side = _check_images(images)
    reg = paper_regions(r, size=side)
    xt = noisy_images(x0, float(t), np.random.default_rng(seed))
    return xt[:, reg.a], xt[:, reg.c], xt[:, reg.b]


def paper_mine_cell(images: np.ndarray, t: float, r: int, *, seed: int | None = 0, steps: int = 300_000,
                    test_fraction: float = 0.0, device: str | torch.device | None = None,
                    amp: bool = True) -> InfoEstimate:
    """Run the seed paper's MINE protocol on one (t, r) cell (``mnist.md`` 1b).

    One fixed noise draw per image (the paper used numpy seed 12345, re-used for every t; here ``seed``), the
    paper's CNN critic on the 27 x 27 image, I(A:BC) = max of 3 runs, I(A:B) one run with zeros outside B,
    training-batch reporting over the last 10 % of ``steps``; CMI = difference (not clipped at 0 here).
    ``test_fraction > 0`` holds that fraction of the images out of training and evaluates every trained critic
    on it (``diagnostics["runs_yz"][i]["held_out"]``, ``["runs_z"][0]["held_out"]``), to measure the
    training-batch bias; 0 is the paper's protocol.
    """
    x0, side = _check_images(images)
    reg = paper_regions(r, size=side)
    xt = noisy_images(x0, float(t), np.random.default_rng(seed), dequantise=False)
    y = np.zeros_like(xt)
    z = np.zeros_like(xt)
    y[:, reg.c] = xt[:, reg.c]
    z[:, reg.b] = xt[:, reg.b]
    return estimate_cmi(xt[:, reg.a], y.reshape(-1, side, side), z.reshape(-1, side, side), method="mine",
                        mode="paper", critic="paper_cnn", seed=seed, steps=steps, test_fraction=test_fraction,
                        device=device, amp=amp)
