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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.linalg
import torch
from torch import nn

from quantum_diffusion.typing import GridBaseline

from .estimators import InfoEstimate, MixtureDensityNet, estimate_cmi, mdn_nll
from .regions import PAPER_RADII, paper_regions

__all__ = ["PAPER_TIMES", "CMIGrid", "grid_masks", "noisy_images", "linear_gaussian_conditionals",
           "predictive_cmi_grid", "paper_mine_cell", "cell_arrays"]

#: The paper's t grid 0, 0.1, ..., 1.
PAPER_TIMES = tuple(round(0.1 * k, 1) for k in range(11))


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


def predictive_cmi_grid(images: np.ndarray, *, times: Sequence[float] = PAPER_TIMES,
                        radii: Sequence[int] = PAPER_RADII, seed: int | None = 0, steps: int = 2500,
                        batch_size: int = 256, lr: float = 2e-3, hidden: int = 256, components: int = 8,
                        test_fraction: float = 0.2, full_fraction: float = 0.5,
                        baseline: GridBaseline = "linear", square_inputs: bool = True,
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
        Gaussian components with different variances are linear in x and x^2).  Defaults (linear baseline,
        squares, 2500 steps) are the best variant of the mixture validation (``classical/information/README.md``).
    device, amp : torch device (default CUDA when present), bf16 autocast on CUDA.

    Returns
    -------
    CMIGrid with value and stderr of shape (len(times), len(radii)); ``diagnostics["term_nll"]`` holds the
    held-out cross-entropies :math:`\hat H(A\mid U)`, shape (T, R + 1) (last column: everything but A).

    Raises
    ------
    ValueError
        Bad image shape, NaN, t outside [0, 1], r out of range, unknown ``baseline``, or too few images for
        ``batch_size``.
    """
    x0, side = _check_images(images)
    _check_grid(times, radii, side)
    if baseline not in ("linear", "none"):
        raise ValueError(f"baseline must be 'linear' or 'none', got {baseline!r}")
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
    # fixed validation set for early stopping: every validation image at a random (t, mask), one noise draw
    vt = rng.integers(0, len(times), n_val)
    xv = torch.as_tensor(np.concatenate([noisy_images(x0[va[i:i + 1]], float(times[vt[i]]), rng)
                                         for i in range(n_val)]), device=dev)
    tiv = torch.as_tensor(vt, device=dev)
    mv = torch.as_tensor(rng.integers(0, len(radii) + 1, n_val), device=dev)
    seed_t = int(rng.integers(0, 2**31 - 1))

    def inputs(xt: torch.Tensor, m: torch.Tensor, ti: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Network input and the standardised target (the raw target when ``baseline="none"``)."""
        onehot = nn.functional.one_hot(m, n_mask).to(xt.dtype)
        pred = (xt * lin_w[ti, m]).sum(1) + lin_c[ti, m]
        hl = lin_hl[ti, m]
        xm = xt * masks[m]
        feats = [xm, onehot, tgrid[ti][:, None]] + ([xm * xm] if square_inputs else [])
        if linear:
            feats += [pred[:, None], hl[:, None]]
        return torch.cat(feats, dim=1), (xt[:, a_idx] - pred) * torch.exp(-hl)

    def nll(xt: torch.Tensor, m: torch.Tensor, ti: torch.Tensor) -> torch.Tensor:
        r"""Per-sample :math:`-\ln q(x_{t,A} \mid U)` (change of variables adds the half log variance)."""
        u, target = inputs(xt, m, ti)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp and dev.type == "cuda"):
            out = net.params(u, target[:, None], m)
        return mdn_nll(out.float(), target) + lin_hl[ti, m]

    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed_t)
        gen = torch.Generator().manual_seed(seed_t)
        net = MixtureDensityNet(1, d * (2 if square_inputs else 1) + n_mask + 1 + (2 if linear else 0), hidden=hidden,
                                components=components).to(dev)
        if linear:  # start near N(0, 1) for the standardised residual: the untrained model is the Gaussian one
            last = net.trunk[-1]
            with torch.no_grad():
                last.weight.mul_(0.1)
                last.bias.zero_()
                last.bias[components:2 * components] = torch.linspace(-0.5, 0.5, components)
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
        with torch.no_grad():
            for i, t in enumerate(times):
                xt = torch.as_tensor(noisy_images(x0[te], float(t), rng), device=dev)
                ti = torch.full((xt.shape[0],), i, device=dev, dtype=torch.long)
                terms = [nll(xt, torch.full_like(ti, k), ti).double() for k in range(n_mask)]
                term_nll[i] = [float(x.mean()) for x in terms]
                for k in range(len(radii)):
                    diff = terms[k] - terms[-1]
                    value[i, k] = float(diff.mean())
                    stderr[i, k] = float(diff.std() / math.sqrt(diff.numel()))
    diag = {"steps": steps, "final_train_nll": float(np.mean(losses[-max(1, steps // 10):])), "n_train": int(tr.size),
            "n_test": int(te.size), "dequantised_t0": True, "best_step": best[2], "baseline": baseline,
            "square_inputs": square_inputs,
            "term_nll": term_nll.tolist()}
    if linear:
        diag["linear_gaussian_cmi"] = (0.5 * (np.log(v_np[:, :-1]) - np.log(v_np[:, -1:]))).tolist()
    return CMIGrid(tuple(float(t) for t in times), tuple(int(r) for r in radii), value, stderr,
                   f"predictive-amortised-{baseline}", diag)


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
