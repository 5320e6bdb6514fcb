r"""Neural estimators of mutual information and CMI, one interface for arrays of shape (n, ...).

.. math::

    I(X:Y) = \mathbb E_{p(x,y)}\Big[\ln\frac{p(x,y)}{p(x)p(y)}\Big], \qquad
    I(X:Y\mid Z) = I(X:YZ) - I(X:Z) = H(X\mid Z) - H(X\mid YZ)  \quad\text{(nats)}.

Methods (theory note ``information.md`` section 3):

``"mine"``
    Donsker-Varadhan bound :math:`\mathbb E_P[T] - \ln\mathbb E_Q[e^T]`, gradient bias corrected by a moving
    average of :math:`\mathbb E_Q[e^T]` (Belghazi et al. 2018), marginal pairs by permuting y within the batch.
    ``mode="paper"`` reproduces the seed paper's protocol (``mnist.md`` 1b): AdamW lr 1e-4, weight decay 1e-4,
    batch 100, moving-average rate 0.001, no held-out data, the reported number is the mean of the per-minibatch
    DV estimates over the last 10 % of the iterations, and in :func:`estimate_cmi` the :math:`I(X:YZ)` term is the
    **maximum of 3 runs** and :math:`I(X:Z)` one run.  ``mode="honest"`` evaluates the trained critic on held-out
    data (10 permutations for the marginal term) and averages ``repeats`` independent trainings.
``"nwj"``
    :math:`\mathbb E_P[T] - e^{-1}\mathbb E_Q[e^T]` (Nguyen-Wainwright-Jordan).
``"infonce"``
    :math:`\mathbb E\big[T(x_i,y_i) - \ln\tfrac1B\sum_j e^{T(x_i,y_j)}\big]` over batches of size B (van den
    Oord et al. 2018); bounded by :math:`\ln B`.
``"smile"``
    DV value with :math:`T` clipped to :math:`[-\tau, \tau]` in the partition term (:math:`\tau = 5`), critic
    trained on the Jensen-Shannon objective (Song & Ermon 2020).
``"predictive"``
    Variational conditional entropies: :math:`H(X\mid U) \le \mathbb E[-\ln q(x\mid u)]` on held-out data for a
    conditional density model q; the (C)MI is the paired per-sample difference
    :math:`-\ln q(x\mid z) + \ln q(x\mid y, z)` of **one** network that sees y or not through a mask input
    (both terms share the model family, so their biases largely cancel).  q is an autoregressive mixture density
    network over the coordinates of x (a K-component Gaussian mixture for each :math:`x_j` given
    :math:`x_{<j}` and the context).  Not a bound: it can err on either side.

Critics (``critic``): ``"mlp"`` on the concatenated flattened (x, y) (for InfoNCE a separable
:math:`f(x)\cdot g(y)`, so the batch's score matrix costs two passes); ``"paper_cnn"`` is the seed paper's
statistics network for images (Conv2d(1, 32, 3), ReLU, AvgPool 2, Dropout 0.1, Linear(32 * 12 * 12, 256), ReLU,
Dropout 0.3, Linear(256, 1)); it needs a scalar x and y of shape (n, 27, 27), and sees y with x written into the
centre pixel (y's own centre pixel is ignored), exactly the paper's "surroundings with the centre kept".

Default method: ``"predictive"``, chosen from the validation in ``classical/information/README.md``.
Torch code is device-agnostic (``device=None`` picks CUDA when present; bf16 autocast on CUDA when ``amp``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from quantum_diffusion.typing import CriticKind, EstimatorMode, MIMethod

__all__ = ["MIMethod", "EstimatorMode", "CriticKind", "InfoEstimate", "estimate_mi", "estimate_cmi",
           "MixtureDensityNet", "mdn_nll", "METHODS"]

#: All estimator names.
METHODS: tuple[str, ...] = ("mine", "nwj", "infonce", "smile", "predictive")
_SMILE_CLIP = 5.0


@dataclass(frozen=True)
class InfoEstimate:
    """An MI or CMI estimate in nats.

    Attributes
    ----------
    value : the estimate (mean over repeats; in paper mode the paper's combination, see the module docstring).
    stderr : standard error: held-out sampling error and the spread over repeats combined (honest mode);
        the spread of the per-minibatch estimates in the reporting window (paper mode, a lower bound on the error).
    method, mode : how it was obtained.
    repeats : per-run values (for a CMI by a critic: the I(X:YZ) runs then the I(X:Z) runs).
    n_train, n_test : samples used for training and for evaluation (n_test = 0 in paper mode).
    diagnostics : extra numbers (per-term values, final losses, steps).
    """

    value: float
    stderr: float
    method: str
    mode: str
    repeats: tuple[float, ...]
    n_train: int
    n_test: int
    diagnostics: dict = field(default_factory=dict, hash=False, compare=False)

    def to_dict(self) -> dict:
        """Plain-Python form (for JSON)."""
        d = asdict(self)
        d["repeats"] = list(self.repeats)
        return d


# ----------------------------------------------------------------------------------------------- input checks
def _as_2d(a: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float32)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have shape (n, ...), got a scalar")
    arr = arr.reshape(arr.shape[0], -1)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def _check_inputs(arrays: dict[str, np.ndarray]) -> int:
    ns = {k: v.shape[0] for k, v in arrays.items()}
    if len(set(ns.values())) != 1:
        raise ValueError(f"sample counts differ: {ns} (first axis must be the sample axis)")
    return next(iter(ns.values()))


def _device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _seed_int(seed: int | np.random.Generator | None) -> int:
    return int(np.random.default_rng(seed).integers(0, 2**31 - 1))


def _split(n: int, test_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(n)
    n_test = int(round(test_fraction * n))
    return perm[n_test:], perm[:n_test]


def _gaussianise(train: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """Per-coordinate empirical-CDF transform to N(0, 1), fitted on ``train`` (test points interpolated).

    An invertible map of each coordinate leaves MI and CMI unchanged (for continuous variables), and removes heavy
    tails that stall the networks (e.g. y -> y^3).  Tied training values (float32 collisions, atoms such as
    black pixels) share the mid-point quantile of their block, so the map stays monotone.
    """
    from scipy.special import ndtri

    out = [np.empty_like(a) for a in (train, *arrays)]
    n = train.shape[0]
    for j in range(train.shape[1]):
        u, counts = np.unique(train[:, j], return_counts=True)
        if u.size == 1:
            for o, a in zip(out, (train, *arrays)):
                o[:, j] = a[:, j] - u[0]
            continue
        q = ndtri((np.cumsum(counts) - 0.5 * counts) / n)
        for o, a in zip(out, (train, *arrays)):
            o[:, j] = np.interp(a[:, j], u, q)
    return out


def _standardise(train: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    mu = train.mean(0, keepdims=True)
    sd = train.std(0, keepdims=True)
    sd[sd < 1e-8] = 1.0
    return [(a - mu) / sd for a in (train, *arrays)]


# ----------------------------------------------------------------------------------------------- critics
class _MLPCritic(nn.Module):
    def __init__(self, dx: int, dy: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dx + dy, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, y], dim=1)).squeeze(1)


class _PaperCNNCritic(nn.Module):
    """The seed paper's ``MineCNN`` on a 27 x 27 image whose centre pixel is x."""

    def __init__(self, side: int = 27):
        super().__init__()
        self.side = side
        self.net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.AvgPool2d(2, 2), nn.Dropout(0.1), nn.Flatten(),
                                 nn.Linear(32 * ((side - 2) // 2) ** 2, 256), nn.ReLU(), nn.Dropout(0.3),
                                 nn.Linear(256, 1))
        centre = torch.zeros(side * side)
        centre[(side // 2) * side + side // 2] = 1.0
        self.register_buffer("centre", centre)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        img = y * (1 - self.centre) + x[:, :1] * self.centre
        return self.net(img.view(-1, 1, self.side, self.side)).squeeze(1)


class _SeparableCritic(nn.Module):
    """T(x, y) = f(x) . g(y) (used by InfoNCE with ``critic="mlp"``: the B x B score matrix costs two passes)."""

    def __init__(self, dx: int, dy: int, hidden: int, embed: int = 32):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(dx, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                               nn.Linear(hidden, embed))
        self.g = nn.Sequential(nn.Linear(dy, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                               nn.Linear(hidden, embed))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (self.f(x) * self.g(y)).sum(1)

    def scores(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.f(x) @ self.g(y).T


def _pair_scores(critic: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Score matrix S_ij = T(x_i, y_j), shape (B, B)."""
    if isinstance(critic, _SeparableCritic):
        return critic.scores(x, y)
    b = x.shape[0]
    xi = x.repeat_interleave(b, dim=0)
    yj = y.repeat(b, 1)
    return critic(xi, yj).view(b, b)


def _logmeanexp(v: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(v, dim=0) - math.log(v.numel())


def _critic_loss(method: str, critic: nn.Module, xb: torch.Tensor, yb: torch.Tensor, perm: torch.Tensor,
                 state: dict) -> tuple[torch.Tensor, float]:
    """Return (loss, minibatch estimate of the bound) for one training step."""
    if method == "infonce":
        s = _pair_scores(critic, xb, yb)
        est = (s.diag() - torch.logsumexp(s, dim=1)).mean() + math.log(s.shape[0])
        return -est, est.item()
    tj = critic(xb, yb).float()
    tm = critic(xb, yb[perm]).float()
    if method == "mine":
        et = torch.exp(tm).mean()
        state["ma"] = (1 - state["ma_rate"]) * state["ma"] + state["ma_rate"] * et.item()
        loss = -(tj.mean() - et / state["ma"])
        est = (tj.mean() - _logmeanexp(tm)).item()
        return loss, est
    if method == "nwj":
        est = tj.mean() - torch.exp(tm - 1).mean()
        return -est, est.item()
    if method == "smile":
        js = -nn.functional.softplus(-tj).mean() - nn.functional.softplus(tm).mean()
        est = (tj.mean() - _logmeanexp(tm.clamp(-_SMILE_CLIP, _SMILE_CLIP))).item()
        return -js, est
    raise ValueError(f"unknown critic method {method!r}")


@torch.no_grad()
def _critic_eval(method: str, critic: nn.Module, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator,
                 batch: int, n_perm: int = 10) -> tuple[float, float]:
    """Held-out value and standard error of the trained critic's bound."""
    critic.eval()
    n = x.shape[0]
    if method == "infonce":
        vals = []
        for _ in range(n_perm):
            p = torch.randperm(n, generator=gen).to(x.device)
            for s0 in range(0, n - batch + 1, batch):
                idx = p[s0:s0 + batch]
                s = _pair_scores(critic, x[idx], y[idx])
                vals.append(s.diag() - torch.logsumexp(s, dim=1) + math.log(batch))
        v = torch.cat(vals).double()
        return float(v.mean()), float(v.std() / math.sqrt(v.numel() / n_perm))
    tj = torch.cat([critic(x[s0:s0 + 4096], y[s0:s0 + 4096]) for s0 in range(0, n, 4096)]).double()
    tms = []
    for _ in range(n_perm):
        p = torch.randperm(n, generator=gen).to(x.device)
        yp = y[p]
        tms.append(torch.cat([critic(x[s0:s0 + 4096], yp[s0:s0 + 4096]) for s0 in range(0, n, 4096)]).double())
    tm = torch.cat(tms)
    if method == "nwj":
        em = torch.exp(tm - 1)
        val = tj.mean() - em.mean()
        se = torch.sqrt(tj.var() / n + em.var() / n)
    else:
        if method == "smile":
            tm = tm.clamp(-_SMILE_CLIP, _SMILE_CLIP)
        lme = _logmeanexp(tm)
        val = tj.mean() - lme
        w = torch.exp(tm - tm.max())
        se = torch.sqrt(tj.var() / n + (w.var() / w.mean() ** 2) / n)  # delta method for ln E[e^T]
    return float(val), float(se)


def _train_critic(method: str, x: np.ndarray, y: np.ndarray, *, mode: str, critic: str, gaussianise: bool,
                  steps: int,
                  batch_size: int, lr: float, hidden: int, test_fraction: float, seed: int,
                  device: torch.device, amp: bool, ma_rate: float) -> tuple[float, float, dict]:
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    if mode == "paper" and test_fraction == 0.0:
        tr, te = np.arange(n), np.arange(0)
    else:
        tr, te = _split(n, test_fraction, rng)
    if tr.size < batch_size or ((te.size or mode == "honest")
                                and te.size < (batch_size if method == "infonce" else 2)):
        raise ValueError(f"too few samples ({n}) for batch_size={batch_size} with test_fraction={test_fraction}")
    if critic == "mlp":
        prep = _gaussianise if gaussianise else _standardise
        xs = prep(x[tr], x[te])
        ys = prep(y[tr], y[te])
    else:
        xs, ys = [x[tr], x[te]], [y[tr], y[te]]
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        if critic == "mlp" and method == "infonce":
            net: nn.Module = _SeparableCritic(x.shape[1], y.shape[1], hidden).to(device)
        elif critic == "mlp":
            net = _MLPCritic(x.shape[1], y.shape[1], hidden).to(device)
        else:
            net = _PaperCNNCritic(int(round(math.sqrt(y.shape[1])))).to(device)
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
        xtr = torch.as_tensor(xs[0], device=device)
        ytr = torch.as_tensor(ys[0], device=device)
        state = {"ma": 1.0, "ma_rate": ma_rate}
        ests: list[float] = []
        ntr = xtr.shape[0]
        perm = torch.randperm(ntr, generator=gen)
        pos = 0
        net.train()
        for _ in range(steps):
            if pos + batch_size > ntr:
                perm, pos = torch.randperm(ntr, generator=gen), 0
            idx = perm[pos:pos + batch_size].to(device)
            pos += batch_size
            shuffle = torch.randperm(batch_size, generator=gen).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda"):
                loss, est = _critic_loss(method, net, xtr[idx], ytr[idx], shuffle, state)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ests.append(est)
        window = np.asarray(ests[-max(1, steps // 10):])
        diag = {"train_batch_estimate": float(window.mean()), "train_batch_spread": float(window.std()),
                "steps": steps}
        if te.size:
            xte = torch.as_tensor(xs[1], device=device)
            yte = torch.as_tensor(ys[1], device=device)
            val, se = _critic_eval(method, net, xte, yte, gen, batch_size)
            diag["held_out"], diag["held_out_stderr"] = val, se
    if mode == "paper":  # the paper's number: training-batch estimates over the last 10 % (held-out: diagnostic)
        return float(window.mean()), float(window.std() / math.sqrt(window.size)), diag
    return val, se, diag


# ----------------------------------------------------------------------------------------------- predictive
class MixtureDensityNet(nn.Module):
    r"""Autoregressive Gaussian-mixture density :math:`q(x_j \mid x_{<j}, u)` for every coordinate j of x.

    Input of the trunk: the context u (already masked by the caller), :math:`x_{<j}` (zeros elsewhere) and a
    one-hot of j; output: K logits, means and log-scales.  For a scalar x the last two inputs are trivial.

    Parameters
    ----------
    dx : dimension of x.
    du : dimension of the context.
    hidden : width of the two hidden layers.
    components : K.
    """

    def __init__(self, dx: int, du: int, *, hidden: int = 128, components: int = 8):
        super().__init__()
        self.dx, self.k = dx, components
        self.trunk = nn.Sequential(nn.Linear(du + 2 * dx if dx > 1 else du, hidden), nn.SiLU(),
                                   nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 3 * components))

    def params(self, u: torch.Tensor, x: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        """Mixture parameters for coordinate ``j`` (shape (B,)) of x (B, dx) given u (B, du); shape (B, 3K)."""
        if self.dx == 1:
            return self.trunk(u)
        ar = (torch.arange(self.dx, device=x.device)[None, :] < j[:, None]).to(x.dtype)
        onehot = nn.functional.one_hot(j, self.dx).to(x.dtype)
        return self.trunk(torch.cat([u, x * ar, onehot], dim=1))


def mdn_nll(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Per-sample :math:`-\ln\sum_k \pi_k \mathcal N(x; m_k, s_k^2)` from raw outputs (B, 3K) and targets (B,)."""
    k = out.shape[1] // 3
    logit, mean, logs = out[:, :k], out[:, k:2 * k], out[:, 2 * k:].clamp(-7.0, 5.0)
    logpi = torch.log_softmax(logit, dim=1)
    z = (target[:, None] - mean) * torch.exp(-logs)
    logn = -0.5 * z * z - logs - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(logpi + logn, dim=1)


def _nll_all(net: MixtureDensityNet, u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sum over coordinates of the per-coordinate NLLs: -ln q(x | u), shape (B,)."""
    tot = torch.zeros(x.shape[0], device=x.device, dtype=torch.float32)
    for j in range(x.shape[1]):
        jj = torch.full((x.shape[0],), j, device=x.device, dtype=torch.long)
        tot = tot + mdn_nll(net.params(u, x, jj).float(), x[:, j])
    return tot


def _train_predictive(x: np.ndarray, y: np.ndarray, z: np.ndarray, *, gaussianise: bool, steps: int,
                      batch_size: int, lr: float,
                      hidden: int, components: int, test_fraction: float, seed: int, device: torch.device,
                      amp: bool) -> tuple[float, float, dict]:
    """Held-out H(X|Z) - H(X|YZ) of one network with a visibility mask for y."""
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    tr, te = _split(n, test_fraction, rng)
    if tr.size < batch_size or te.size < 2:
        raise ValueError(f"too few samples ({n}) for batch_size={batch_size} with test_fraction={test_fraction}")
    prep = _gaussianise if gaussianise else _standardise
    xs, ys, zs = prep(x[tr], x[te]), prep(y[tr], y[te]), prep(z[tr], z[te])
    dx = x.shape[1]

    def ctx(yv: torch.Tensor, zv: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return torch.cat([yv * m[:, None], zv, m[:, None]], dim=1)

    # early stopping: the last 15 % of the training split is a validation set, checked every 100 steps
    n_val = max(2, int(0.15 * xs[0].shape[0]))
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        net = MixtureDensityNet(dx, y.shape[1] + z.shape[1] + 1, hidden=hidden, components=components).to(device)
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        xall, yall, zall = (torch.as_tensor(a[0], device=device) for a in (xs, ys, zs))
        xt, yt, zt = xall[n_val:], yall[n_val:], zall[n_val:]
        xv, yv, zv = xall[:n_val], yall[:n_val], zall[:n_val]
        if xt.shape[0] < batch_size:
            raise ValueError(f"too few samples ({n}) for batch_size={batch_size} after the test/validation split")
        ntr = xt.shape[0]
        losses = []
        best = (math.inf, None, 0)

        def val_loss() -> float:
            net.eval()
            with torch.no_grad():
                one = torch.ones(n_val, device=device)
                v = (_nll_all(net, ctx(yv, zv, 0 * one), xv) + _nll_all(net, ctx(yv, zv, one), xv)).mean()
            net.train()
            return float(v)

        net.train()
        for step in range(steps):
            idx = torch.randint(0, ntr, (batch_size,), generator=gen).to(device)
            m = torch.randint(0, 2, (batch_size,), generator=gen).to(device=device, dtype=xt.dtype)
            j = torch.randint(0, dx, (batch_size,), generator=gen).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda"):
                out = net.params(ctx(yt[idx], zt[idx], m), xt[idx], j)
            loss = mdn_nll(out.float(), xt[idx].gather(1, j[:, None]).squeeze(1)).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if (step + 1) % 100 == 0 or step + 1 == steps:
                v = val_loss()
                if v < best[0]:
                    best = (v, {k: w.detach().clone() for k, w in net.state_dict().items()}, step + 1)
        net.load_state_dict(best[1])
        net.eval()
        xe, ye, ze = (torch.as_tensor(a[1], device=device) for a in (xs, ys, zs))
        with torch.no_grad():
            d = []
            for s0 in range(0, xe.shape[0], 4096):
                sl = slice(s0, s0 + 4096)
                one = torch.ones(xe[sl].shape[0], device=device)
                d.append(_nll_all(net, ctx(ye[sl], ze[sl], 0 * one), xe[sl])
                         - _nll_all(net, ctx(ye[sl], ze[sl], one), xe[sl]))
            diff = torch.cat(d).double()
    diag = {"final_train_nll": float(np.mean(losses[-max(1, steps // 10):])), "steps": steps,
            "best_step": best[2], "best_val_nll": best[0]}
    return float(diff.mean()), float(diff.std() / math.sqrt(diff.numel())), diag


# ----------------------------------------------------------------------------------------------- public API
def _combine(vals: list[float], ses: list[float]) -> tuple[float, float]:
    v = np.asarray(vals)
    s = np.asarray(ses)
    r = v.size
    spread = v.var(ddof=1) if r > 1 else 0.0
    return float(v.mean()), float(math.sqrt(np.mean(s**2) / r + spread / r))


def _validate(method: str, mode: str, critic: str, steps: int, batch_size: int, repeats: int,
              test_fraction: float) -> None:
    if not isinstance(test_fraction, (int, float)) or not np.isfinite(test_fraction):
        raise ValueError(f"test_fraction must be a number, got {test_fraction!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if mode not in ("honest", "paper"):
        raise ValueError(f"mode must be 'honest' or 'paper', got {mode!r}")
    if mode == "paper" and method != "mine":
        raise ValueError("mode='paper' is the seed paper's MINE protocol; use method='mine'")
    if critic not in ("mlp", "paper_cnn"):
        raise ValueError(f"critic must be 'mlp' or 'paper_cnn', got {critic!r}")
    if steps < 1 or batch_size < 2 or repeats < 1:
        raise ValueError(f"need steps >= 1, batch_size >= 2, repeats >= 1; got {steps}, {batch_size}, {repeats}")
    lo_ok = test_fraction >= 0.0 if mode == "paper" and method == "mine" else test_fraction > 0.0
    if not (lo_ok and test_fraction < 1.0):
        raise ValueError(f"test_fraction must lie in {'[0, 1)' if mode == 'paper' else '(0, 1)'} for mode={mode!r}, "
                         f"got {test_fraction}")


def _check_cnn(x: np.ndarray, y: np.ndarray) -> None:
    side = int(round(math.sqrt(y.shape[1])))
    if x.shape[1] != 1 or side * side != y.shape[1] or side < 4:
        raise ValueError("critic='paper_cnn' needs a scalar x and square images y (n, s, s)")


def estimate_mi(x: np.ndarray, y: np.ndarray, *, method: MIMethod = "predictive", seed: int | None = 0,
                mode: EstimatorMode = "honest", critic: CriticKind = "mlp", steps: int | None = None,
                batch_size: int | None = None, lr: float | None = None, hidden: int = 128, components: int = 8,
                repeats: int = 1, test_fraction: float | None = None, gaussianise: bool = True,
                device: str | torch.device | None = None, amp: bool = True) -> InfoEstimate:
    r"""Estimate :math:`I(X:Y)` in nats from paired samples.

    Parameters
    ----------
    x, y : arrays of shape (n, ...) (flattened to (n, d_x), (n, d_y)); the first axis pairs the samples.
    method : ``"predictive"`` (default, see the validation), ``"mine"``, ``"nwj"``, ``"infonce"``, ``"smile"``.
    seed : seeds the train/test split, initialisation and batches.
    mode : ``"honest"`` (held-out evaluation, mean over ``repeats``) or ``"paper"`` (MINE only: training-batch
        reporting over the last 10 % of steps; with ``repeats > 1`` the **maximum** is reported, as the paper
        does for :math:`I(A:BC)`).
    critic : ``"mlp"`` or ``"paper_cnn"`` (critic methods only).
    steps, batch_size, lr : training length, batch and AdamW learning rate.  Defaults: paper mode 300 000, 100,
        1e-4 (the paper); otherwise 2000, 256, 1e-3.
    hidden, components : width of the networks; mixture components of the predictive model.
    repeats : independent trainings (different seeds) averaged (honest) or maximised (paper).
    test_fraction : held-out fraction (default 0.3; in paper mode default 0, the paper's protocol: every sample
        trains).  In paper mode a positive fraction is held out of training and the critic is evaluated on it
        afterwards as a diagnostic (``diagnostics`` ``held_out`` per run); the reported value stays the
        training-batch one, so the difference measures the paper's training-batch bias.
    gaussianise : map each coordinate of x, y, z to N(0, 1) through its training-set empirical CDF before
        training (monotone per coordinate, so the (C)MI of continuous variables is unchanged; tied values share
        one quantile).  ``False``: standardise only.  Not used by ``critic="paper_cnn"``.
    device : torch device (default CUDA when available).
    amp : bf16 autocast of the network forward passes on CUDA.

    Returns
    -------
    InfoEstimate

    Raises
    ------
    ValueError
        Mismatched sample counts, NaN/inf, too few samples for ``batch_size``, unknown method/mode/critic, or
        ``mode="paper"`` with a method other than ``"mine"``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(4000); y = x + rng.standard_normal(4000)
    >>> r = estimate_mi(x, y, steps=300, seed=0)   # exact: 0.5 ln 2 = 0.347
    >>> bool(abs(r.value - 0.5 * np.log(2)) < 0.1)
    True
    """
    return _estimate(x, y, None, method=method, seed=seed, mode=mode, critic=critic, steps=steps,
                     batch_size=batch_size, lr=lr, hidden=hidden, components=components, repeats=repeats,
                     test_fraction=test_fraction, gaussianise=gaussianise, device=device, amp=amp)


def estimate_cmi(x: np.ndarray, y: np.ndarray, z: np.ndarray, *, method: MIMethod = "predictive",
                 seed: int | None = 0, mode: EstimatorMode = "honest", critic: CriticKind = "mlp",
                 steps: int | None = None, batch_size: int | None = None, lr: float | None = None,
                 hidden: int = 128, components: int = 8, repeats: int = 1, test_fraction: float | None = None,
                 gaussianise: bool = True, device: str | torch.device | None = None,
                 amp: bool = True) -> InfoEstimate:
    r"""Estimate :math:`I(X:Y\mid Z)` in nats; same options as :func:`estimate_mi`.

    Critic methods estimate :math:`I(X:YZ) - I(X:Z)` with two trainings (stderrs added in quadrature; in paper
    mode :math:`I(X:YZ)` is the maximum of 3 runs and :math:`I(X:Z)` one run, as in the seed paper).  With
    ``critic="paper_cnn"`` y and z are images of the same shape (n, s, s) on disjoint supports (zeros elsewhere),
    so that y + z is the full surroundings and z alone the masked image, as in the paper.  The predictive method
    is one training of :math:`q(x\mid m\,y, z, m)` and the paired held-out difference at m = 0 and m = 1.

    Raises
    ------
    ValueError
        As :func:`estimate_mi`.
    """
    return _estimate(x, y, z, method=method, seed=seed, mode=mode, critic=critic, steps=steps,
                     batch_size=batch_size, lr=lr, hidden=hidden, components=components, repeats=repeats,
                     test_fraction=test_fraction, gaussianise=gaussianise, device=device, amp=amp)


def _estimate(x, y, z, *, method, seed, mode, critic, steps, batch_size, lr, hidden, components, repeats,
              test_fraction, gaussianise, device, amp) -> InfoEstimate:
    paper = mode == "paper"
    steps = int(steps if steps is not None else (300_000 if paper else 2000))
    batch_size = int(batch_size if batch_size is not None else (100 if paper else 256))
    lr = float(lr if lr is not None else (1e-4 if paper else 1e-3))
    test_fraction = test_fraction if test_fraction is not None else (0.0 if paper else 0.3)
    _validate(method, mode, critic, steps, batch_size, repeats, test_fraction)
    arrs = {"x": _as_2d(x, "x"), "y": _as_2d(y, "y")}
    if z is not None:
        arrs["z"] = _as_2d(z, "z")
    n = _check_inputs(arrs)
    xa, ya = arrs["x"], arrs["y"]
    za = arrs.get("z", np.zeros((n, 0), dtype=np.float32))
    if critic == "paper_cnn" and method != "predictive":
        _check_cnn(xa, ya)
        if za.shape[1] and za.shape[1] != ya.shape[1]:
            raise ValueError("critic='paper_cnn' needs y and z images of the same shape")
    dev = _device(device)
    root = np.random.SeedSequence(_seed_int(seed))
    seeds = [int(s.generate_state(1)[0]) for s in root.spawn(2 * max(repeats, 3))]
    kw = dict(steps=steps, batch_size=batch_size, lr=lr, hidden=hidden, test_fraction=test_fraction,
              device=dev, amp=amp, gaussianise=gaussianise)
    n_test = int(round(test_fraction * n))
    if method == "predictive":
        vals, ses, diags = [], [], []
        for i in range(repeats):
            v, s, d = _train_predictive(xa, ya, za, components=components, seed=seeds[i], **kw)
            vals.append(v)
            ses.append(s)
            diags.append(d)
        value, se = _combine(vals, ses)
        return InfoEstimate(value, se, method, mode, tuple(vals), n - n_test, n_test,
                            {"runs": diags, "per_run_stderr": ses})

    def mi_runs(u: np.ndarray, nrep: int, offset: int) -> tuple[list[float], list[float], list[dict]]:
        out = ([], [], [])
        for i in range(nrep):
            v, s, d = _train_critic(method, xa, u, mode=mode, critic=critic, seed=seeds[offset + i],
                                    ma_rate=0.001 if paper else 0.01, **kw)
            out[0].append(v)
            out[1].append(s)
            out[2].append(d)
        return out

    def reduce(vals: list[float], ses: list[float]) -> tuple[float, float]:
        if paper:
            k = int(np.argmax(vals))
            return vals[k], ses[k]
        return _combine(vals, ses)

    full = ya if critic == "paper_cnn" and z is not None else np.concatenate([ya, za], axis=1)
    if critic == "paper_cnn" and z is not None:
        full = ya + za
    if z is None:
        v1, s1, d1 = mi_runs(full, repeats, 0)
        value, se = reduce(v1, s1)
        return InfoEstimate(value, se, method, mode, tuple(v1), n - n_test, n_test, {"runs": d1})
    r1 = 3 if paper else repeats
    v1, s1, d1 = mi_runs(full, r1, 0)
    if za.shape[1] == 0:
        v2, s2, d2 = [0.0], [0.0], []
    else:
        v2, s2, d2 = mi_runs(za, 1 if paper else repeats, r1)
    i_full, se_full = reduce(v1, s1)
    i_cond, se_cond = reduce(v2, s2) if not paper else (v2[0], s2[0])
    return InfoEstimate(i_full - i_cond, math.hypot(se_full, se_cond), method, mode, tuple(v1 + v2), n - n_test,
                        n_test, {"I_x_yz": i_full, "I_x_z": i_cond, "runs_yz": d1, "runs_z": d2})
