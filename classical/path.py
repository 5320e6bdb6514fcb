r"""The linear (rectified-flow) noising path, its training targets, and the one set of conversions.

Convention (paper and authors' code): **t = 0 is data, t = 1 is pure noise**,

.. math::

    x_t = (1 - t)\, x_0 + t\, z, \qquad z \sim \mathcal N(0, I), \qquad \alpha_t = 1 - t,\ \sigma_t = t .

Every network of this package predicts the **velocity** :math:`v(x, t) = \mathbb E[\,z - x_0 \mid x_t = x\,]`,
the conditional mean of :math:`\dot x_t`; generation integrates :math:`\dot x = v` from t = 1 down to t = 0.
(The authors' global network outputs :math:`y = x_0 - z = -v`.)

Conversions (all at fixed :math:`x_t = x` and :math:`t`; hats are conditional means):

.. math::

    \hat x_0 = x - t\,v, \qquad \hat z = x + (1 - t)\,v, \qquad
    s(x, t) = \nabla_x \ln p_t(x) = -\frac{\hat z}{t}  \quad\text{(Tweedie)},

and back :math:`v = (x - \hat x_0)/t = (\hat z - x)/(1 - t) = -(x + t\,s)/(1 - t)`.

**Link to the reverse Fokker-Planck equation and the Petz map** (quantum_diffusion.classical_limit; theory
note petz.md eq. P.7 and P.30).  The marginals :math:`p_t` of the linear path are those of the forward SDE
:math:`dx = f_t\,x\,dt + g_t\,dW` with

.. math::

    f_t = \frac{d\ln\alpha_t}{dt} = -\frac{1}{1 - t}, \qquad
    g_t^2 = \frac{d\sigma_t^2}{dt} - 2 f_t \sigma_t^2 = \frac{2t}{1 - t} .

Its Fokker-Planck generator is :math:`\mathcal L p = -\nabla\cdot(\mu p) + \tfrac D2 \Delta p` with
:math:`\mu = f_t x` and :math:`D = g_t^2`.  The Bayes/Petz recovery generator (P.7; on decohered states the
Petz map reduces to it, P.30 is the case :math:`\mu = 0,\ D = \gamma`) is the reverse-time Fokker-Planck
equation, i.e. in reverse time :math:`s = 1 - t` the family of reverse processes

.. math::

    dX_s = \Big[-\mu + \tfrac{1 + \lambda^2}{2}\, D\, \nabla \ln p_{t}\Big] ds + \lambda \sqrt D\, dW_s ,

all with the marginals :math:`p_{1-s}`.  :math:`\lambda = 1` is the Bayes (Petz) reverse SDE and
:math:`\lambda = 0` the probability-flow ODE.  For the linear path the probability-flow drift is exactly minus
the flow-matching velocity,

.. math::

    -\mu + \tfrac12 D\, s = -\big(f_t x - \tfrac12 g_t^2 s\big) = -v(x, t),

so the Euler sampler :math:`x \leftarrow x - \Delta t\, v` of :mod:`classical.sampling` is the
probability-flow discretisation of the Petz/Bayes backward dynamics, and :func:`reverse_sde_drift` gives the
whole :math:`\lambda` family in terms of :math:`v`.  Tests check these identities on a Gaussian data
distribution, where :math:`v` and :math:`s` are known in closed form (:func:`gaussian_velocity`).

Shapes: images are ``(B, C, H, W)`` tensors; ``t`` is a float or a tensor of shape ``(B,)``.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "check_images",
    "check_time",
    "interpolate",
    "sample_logit_normal",
    "velocity_target",
    "flow_matching_loss",
    "velocity_to_clean",
    "velocity_to_noise",
    "clean_to_velocity",
    "noise_to_velocity",
    "velocity_to_score",
    "score_to_velocity",
    "drift_coefficients",
    "reverse_sde_drift",
    "gaussian_velocity",
    "gaussian_score",
]


def check_images(x: torch.Tensor, name: str = "images", *, channels: int | None = None) -> torch.Tensor:
    """Check that ``x`` is a finite float tensor of shape (B, C, H, W).

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point torch tensor.
    ValueError
        Wrong number of dimensions or channels, or NaN/inf entries.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name}: expected shape (B, C, H, W), got {tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name}: expected {channels} channel(s), got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite entries")
    return x


def check_time(t: float | torch.Tensor, batch: int | None = None, *, open_low: bool = False,
               open_high: bool = False, like: torch.Tensor | None = None) -> torch.Tensor:
    """Return ``t`` as a tensor of shape (B,) after checking 0 <= t <= 1 (strict where asked).

    Raises
    ------
    ValueError
        If ``t`` is NaN, outside [0, 1] (or hits an excluded end point), or has the wrong shape.
    """
    tt = torch.as_tensor(t, dtype=like.dtype if like is not None else torch.float32,
                         device=like.device if like is not None else None)
    if tt.ndim == 0 and batch is not None:
        tt = tt.expand(batch)
    if tt.ndim != 1 or (batch is not None and tt.shape[0] != batch):
        raise ValueError(f"t must be a scalar or a tensor of shape ({batch},), got shape {tuple(tt.shape)}")
    if torch.isnan(tt).any() or (tt < 0).any() or (tt > 1).any():
        raise ValueError(f"t must lie in [0, 1] (t = 0 data, t = 1 noise), got min {tt.min()}, max {tt.max()}")
    if open_low and (tt == 0).any():
        raise ValueError("t = 0 is singular for this conversion (need 0 < t)")
    if open_high and (tt == 1).any():
        raise ValueError("t = 1 is singular for this conversion (need t < 1)")
    return tt


def _b(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1, 1, 1, 1)


def interpolate(x0: torch.Tensor, z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r""":math:`x_t = (1 - t)\,x_0 + t\,z`.

    Raises
    ------
    ValueError
        Mismatched or non-4-D shapes, or t outside [0, 1].
    """
    check_images(x0, "x0")
    check_images(z, "z")
    if x0.shape != z.shape:
        raise ValueError(f"x0 and z must have the same shape, got {tuple(x0.shape)} and {tuple(z.shape)}")
    tt = _b(check_time(t, x0.shape[0], like=x0))
    return (1 - tt) * x0 + tt * z


def sample_logit_normal(n: int, generator: torch.Generator | None = None, *, mean: float = 0.0,
                        std: float = 1.0, device: torch.device | str | None = None) -> torch.Tensor:
    r"""Draw ``n`` times :math:`t = \mathrm{sigmoid}(u)`, :math:`u \sim \mathcal N(\text{mean}, \text{std}^2)`.

    Raises
    ------
    ValueError
        If ``n < 1`` or ``std <= 0``.
    """
    if n < 1 or std <= 0:
        raise ValueError(f"need n >= 1 and std > 0, got n={n}, std={std}")
    u = torch.randn(n, generator=generator, device=device) * std + mean
    return torch.sigmoid(u)


def velocity_target(x0: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    r"""Flow-matching target :math:`\dot x_t = z - x_0` (independent of t on the linear path)."""
    return z - x0


def flow_matching_loss(v_pred: torch.Tensor, x0: torch.Tensor, z: torch.Tensor, t: torch.Tensor,
                       *, three_term: bool = True) -> torch.Tensor:
    r"""Velocity regression loss.

    .. math::

        \mathcal L = \|v - (z - x_0)\|^2 \;[+\; \|x_t + (1 - t) v - z\|^2 + \|x_t - t v - x_0\|^2],

    (mean squared errors); the bracket is the authors' 3-term loss, written for :math:`v = -y`.
    """
    target = velocity_target(x0, z)
    loss = torch.mean((v_pred - target) ** 2)
    if three_term:
        xt = interpolate(x0, z, t)
        loss = loss + torch.mean((velocity_to_noise(v_pred, xt, t) - z) ** 2)
        loss = loss + torch.mean((velocity_to_clean(v_pred, xt, t) - x0) ** 2)
    return loss


def velocity_to_clean(v: torch.Tensor, xt: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r""":math:`\hat x_0 = x_t - t\,v`."""
    return xt - _b(check_time(t, xt.shape[0], like=xt)) * v


def velocity_to_noise(v: torch.Tensor, xt: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r""":math:`\hat z = x_t + (1 - t)\,v`."""
    return xt + (1 - _b(check_time(t, xt.shape[0], like=xt))) * v


def clean_to_velocity(x0_hat: torch.Tensor, xt: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r""":math:`v = (x_t - \hat x_0)/t`.

    Raises
    ------
    ValueError
        At t = 0, where the clean image does not determine v.
    """
    return (xt - x0_hat) / _b(check_time(t, xt.shape[0], open_low=True, like=xt))


def noise_to_velocity(z_hat: torch.Tensor, xt: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r""":math:`v = (\hat z - x_t)/(1 - t)`.

    Raises
    ------
    ValueError
        At t = 1, where the noise does not determine v.
    """
    return (z_hat - xt) / (1 - _b(check_time(t, xt.shape[0], open_high=True, like=xt)))


def velocity_to_score(v: torch.Tensor, xt: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r"""Score by Tweedie: :math:`s = \nabla \ln p_t = -\hat z / t = -(x_t + (1 - t) v)/t`.

    Raises
    ------
    ValueError
        At t = 0 (the data score is not defined by v).
    """
    tt = _b(check_time(t, xt.shape[0], open_low=True, like=xt))
    return -(xt + (1 - tt) * v) / tt


def score_to_velocity(s: torch.Tensor, xt: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r""":math:`v = f_t x - \tfrac12 g_t^2 s = -(x_t + t\,s)/(1 - t)`.

    Raises
    ------
    ValueError
        At t = 1.
    """
    tt = _b(check_time(t, xt.shape[0], open_high=True, like=xt))
    return -(xt + tt * s) / (1 - tt)


def drift_coefficients(t: float) -> tuple[float, float]:
    r"""Forward-SDE coefficients :math:`(f_t, g_t^2) = (-1/(1-t),\ 2t/(1-t))` of the linear path.

    Raises
    ------
    ValueError
        Unless 0 <= t < 1.
    """
    if not (0.0 <= t < 1.0) or math.isnan(t):
        raise ValueError(f"need 0 <= t < 1, got {t}")
    return -1.0 / (1.0 - t), 2.0 * t / (1.0 - t)


def reverse_sde_drift(v: torch.Tensor, xt: torch.Tensor, t: float, lam: float = 0.0) -> torch.Tensor:
    r"""Reverse-time drift of the :math:`\lambda` family, expressed through the velocity.

    .. math::

        \frac{dX}{ds} = -f_t x + \tfrac{1 + \lambda^2}{2} g_t^2\, s(x, t), \qquad s = 1 - t,

    with diffusion :math:`\lambda g_t`; :math:`\lambda = 0` returns :math:`-v` (probability flow),
    :math:`\lambda = 1` is the Bayes/Petz reverse SDE (petz.md P.7).

    Raises
    ------
    ValueError
        Unless 0 < t < 1 (the score needs t > 0).
    """
    f, g2 = drift_coefficients(t)
    s = velocity_to_score(v, xt, t)
    return -f * xt + 0.5 * (1 + lam**2) * g2 * s


def _gauss_parts(x: torch.Tensor, t: float, mean: torch.Tensor, cov: torch.Tensor):
    d = mean.numel()
    if x.ndim != 2 or x.shape[1] != d or cov.shape != (d, d):
        raise ValueError(f"need x of shape (B, {d}) and cov of shape ({d}, {d}), got {tuple(x.shape)}, "
                         f"{tuple(cov.shape)}")
    if not (0.0 <= t <= 1.0):
        raise ValueError(f"t must lie in [0, 1], got {t}")
    c = (1 - t) ** 2 * cov + t**2 * torch.eye(d, dtype=cov.dtype)
    r = torch.linalg.solve(c, (x - (1 - t) * mean).T).T  # C^{-1}(x - (1-t)m), rows
    return r


def gaussian_velocity(x: torch.Tensor, t: float, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    r"""Exact velocity for data :math:`x_0 \sim \mathcal N(m, \Sigma)` (flattened, shape (B, d)).

    With :math:`C_t = (1-t)^2\Sigma + t^2 I`,

    .. math::

        v(x, t) = \mathbb E[z - x_0 \mid x_t = x] = -m + \big(t I - (1 - t)\Sigma\big)\, C_t^{-1} (x - (1 - t) m).

    Raises
    ------
    ValueError
        Shape mismatch or t outside [0, 1] (at t = 0 or 1 with singular :math:`C_t` torch raises).
    """
    r = _gauss_parts(x, t, mean, cov)
    return -mean + t * r - (1 - t) * r @ cov.T


def gaussian_score(x: torch.Tensor, t: float, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    r"""Exact score :math:`\nabla \ln p_t(x) = -C_t^{-1}(x - (1 - t) m)` for Gaussian data (shape (B, d))."""
    return -_gauss_parts(x, t, mean, cov)
