r"""Sampling-level decoherence limit: the reverse-time SDE with the exact score of a Gaussian mixture.

The forward noise :math:`\mathcal D[\sqrt\gamma\hat p]` is, on diagonal states, the heat equation
:math:`\partial_tp=\tfrac\gamma2\partial_x^2p`, i.e. the SDE :math:`dX=\sqrt\gamma\,dW`.  A Gaussian mixture
stays a Gaussian mixture with variances :math:`\sigma_i^2+\gamma t`, so its score is known exactly.  The
Petz backward generator (P.30) is the reverse Fokker-Planck operator, whose sample paths solve
(theory note ``petz.md`` section 3 with :math:`\mu=0`, :math:`D=\gamma`)

.. math::

    dX_s=\gamma\,\partial_x\ln p_{T-s}(X_s)\,ds+\sqrt\gamma\,dW_s,\qquad s=T-t\in[0,T-t_{\rm end}] .

Time convention: see quantum_diffusion.conventions (denoising runs from ``t = T`` down to ``0``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtr
from tqdm.auto import tqdm

from .._validation import as_array

__all__ = ["GaussianMixture1D", "reverse_sde", "kolmogorov_distance", "lattice_cdf"]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


@dataclass(frozen=True)
class GaussianMixture1D:
    r"""One-dimensional Gaussian mixture :math:`p(x)=\sum_i w_i\,\mathcal N(x;\mu_i,\sigma_i^2)`.

    Attributes
    ----------
    weights, means, stds : arrays of shape (m,)
        Mixture weights (normalised on construction), means and standard deviations.

    Raises
    ------
    ValueError
        If shapes differ, weights are negative or sum to zero, or a standard deviation is not positive.

    Examples
    --------
    >>> g = GaussianMixture1D([1.0], [0.0], [0.5])
    >>> float(g.score(1.0)), float(g.diffused(0.75).stds[0])  # -x / sigma^2; sqrt(0.25 + 0.75)
    (-4.0, 1.0)
    """

    weights: np.ndarray = field(repr=True)
    means: np.ndarray = field(repr=True)
    stds: np.ndarray = field(repr=True)

    def __post_init__(self) -> None:
        """Validate weights, means and standard deviations."""
        w = np.atleast_1d(as_array(self.weights, "weights", dtype=float))
        m = np.atleast_1d(as_array(self.means, "means", dtype=float))
        s = np.atleast_1d(as_array(self.stds, "stds", dtype=float))
        if not (w.ndim == m.ndim == s.ndim == 1 and w.shape == m.shape == s.shape):
            raise ValueError(f"weights, means, stds must be 1-D of one length, got {w.shape}, {m.shape}, {s.shape}")
        if np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"mixture weights must be non-negative with positive sum, got {w}")
        if np.any(s <= 0):
            raise ValueError(f"mixture standard deviations must be positive, got {s}")
        object.__setattr__(self, "weights", w / w.sum())
        object.__setattr__(self, "means", m)
        object.__setattr__(self, "stds", s)

    def diffused(self, t: float, gamma: float = 1.0) -> GaussianMixture1D:
        r"""Return the mixture after heat flow :math:`\partial_tp=\tfrac\gamma2p''` for time ``t``.

        The variances grow by :math:`\gamma t`.

        Raises
        ------
        ValueError
            If ``t < 0`` or ``gamma <= 0``.
        """
        if not np.isfinite(t) or t < 0 or not np.isfinite(gamma) or gamma <= 0:
            raise ValueError(f"need t >= 0 and gamma > 0, got t={t!r}, gamma={gamma!r}")
        return GaussianMixture1D(self.weights, self.means, np.sqrt(self.stds**2 + gamma * t))

    def _resp(self, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Responsibilities ``r_i(x)`` (one array per component) and ``log p(x)``.

        Log-sum-exp by hand, looping over the few components and vectorising over samples: scipy's
        ``logsumexp`` and numpy reductions over a short trailing axis are 3-6x slower in the SDE loop.
        """
        lc = [
            np.log(w) - 0.5 * ((x - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)
            for w, m, s in zip(self.weights, self.means, self.stds)
        ]
        top = lc[0]
        for c in lc[1:]:
            top = np.maximum(top, c)
        e = [np.exp(c - top) for c in lc]
        tot = sum(e[1:], e[0])
        return [ei / tot for ei in e], top + np.log(tot)

    def pdf(self, x: Any) -> np.ndarray:
        """Density at ``x`` (any shape)."""
        x = as_array(x, "x", dtype=float)
        return np.exp(self._resp(x)[1])

    def cdf(self, x: Any) -> np.ndarray:
        """Cumulative distribution function at ``x`` (any shape)."""
        x = as_array(x, "x", dtype=float)
        return sum(w * ndtr((x - m) / s) for w, m, s in zip(self.weights, self.means, self.stds))

    def score(self, x: Any) -> np.ndarray:
        r"""Score :math:`\partial_x\ln p(x)=\sum_i r_i(x)\,(\mu_i-x)/\sigma_i^2` with responsibilities :math:`r_i`."""
        x = as_array(x, "x", dtype=float)
        r = self._resp(x)[0]
        return sum(ri * ((m - x) / s**2) for ri, m, s in zip(r, self.means, self.stds))

    def score_derivative(self, x: Any) -> np.ndarray:
        r"""Return the derivative of the score.

        .. math::

            s'=p''/p-s^2,\qquad p''/p=\sum_i r_i\big[(x-\mu_i)^2/\sigma_i^4-1/\sigma_i^2\big].
        """
        x = as_array(x, "x", dtype=float)
        r = self._resp(x)[0]
        pxx_over_p = sum(ri * ((x - m) ** 2 / s**4 - 1 / s**2) for ri, m, s in zip(r, self.means, self.stds))
        return pxx_over_p - self.score(x) ** 2

    def sample(self, n: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
        """Draw ``n`` samples (seeded; ``seed`` may be a numpy Generator)."""
        if int(n) != n or n < 1:
            raise ValueError(f"number of samples must be a positive integer, got {n!r}")
        rng = _rng(seed)
        comp = rng.choice(self.weights.size, size=int(n), p=self.weights)
        return self.means[comp] + self.stds[comp] * rng.standard_normal(int(n))


def reverse_sde(
    x_T: Any,
    reference: GaussianMixture1D,
    *,
    gamma: float = 1.0,
    T: float = 1.0,
    n_steps: int = 200,
    t_end: float = 0.0,
    seed: int | np.random.Generator | None = 0,
    progress: bool = False,
) -> np.ndarray:
    r"""Euler-Maruyama integration of the reverse (score) SDE from ``t = T`` down to ``t_end``.

    .. math::

        X_{k+1}=X_k+\gamma\,s_{T-s_k}(X_k)\,\Delta s+\sqrt{\gamma\Delta s}\,\xi_k,\qquad
        s_t=\partial_x\ln p_t,\quad p_t=\texttt{reference.diffused}(t,\gamma),\quad \xi_k\sim\mathcal N(0,1).

    The marginal law of :math:`X` solves the Petz backward equation (P.30) with reference :math:`p_t`; weak
    error :math:`O(\Delta s)`.

    Parameters
    ----------
    x_T : array of shape (m,)
        Samples at time ``T`` (e.g. ``reference.diffused(T).sample(m)``).
    reference : GaussianMixture1D
        The reference density at ``t = 0`` (its exact diffused score is used).
    seed : int or numpy.random.Generator
        Randomness for the Brownian increments.

    Returns
    -------
    numpy.ndarray of shape (m,)
        Samples at ``t_end``.

    Raises
    ------
    ValueError
        If ``x_T`` is not 1-D, or ``gamma``, ``T``, ``t_end``, ``n_steps`` are out of range.
    """
    x = np.array(as_array(x_T, "x_T", dtype=float), copy=True)
    if x.ndim != 1:
        raise ValueError(f"x_T must be a 1-D array of samples, got shape {x.shape}")
    if not np.isfinite(gamma) or gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma!r}")
    if not (np.isfinite(T) and np.isfinite(t_end) and 0 <= t_end < T):
        raise ValueError(f"need 0 <= t_end < T, got t_end={t_end!r}, T={T!r}")
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    rng = _rng(seed)
    ds = (T - t_end) / int(n_steps)
    for k in tqdm(range(int(n_steps)), disable=not progress, desc="reverse SDE"):
        t = T - k * ds
        drift = gamma * reference.diffused(t, gamma).score(x)
        x += drift * ds + np.sqrt(gamma * ds) * rng.standard_normal(x.size)
    return x


def lattice_cdf(f: Any, x_grid: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Piecewise-linear CDF of lattice density values: mass :math:`f_k/\sum f` spread uniformly on cell ``k``.

    Cell ``k`` is :math:`[x_k-h/2,x_k+h/2]` (uniform spacing ``h``).  Returns the cell edges (n+1,) and the
    CDF values there (n+1,), from 0 to 1.

    Raises
    ------
    ValueError
        If shapes differ, the grid is not uniform and increasing, or ``f`` has negative entries below
        ``-1e-12 * max(f)``.
    """
    f = as_array(f, "f", dtype=float)
    xg = as_array(x_grid, "x_grid", dtype=float)
    if f.shape != xg.shape or f.ndim != 1 or f.size < 2:
        raise ValueError(f"f and x_grid must be 1-D of one length >= 2, got {f.shape}, {xg.shape}")
    dx = np.diff(xg)
    h = dx[0]
    if h <= 0 or not np.allclose(dx, h, rtol=1e-9, atol=0):
        raise ValueError("x_grid must be uniformly spaced and increasing")
    if np.any(f < -1e-12 * np.max(np.abs(f))):
        raise ValueError(f"lattice density has negative entries (min {f.min():.3e})")
    edges = np.concatenate([xg - h / 2, [xg[-1] + h / 2]])
    c = np.concatenate([[0.0], np.cumsum(np.clip(f, 0, None))])
    return edges, c / c[-1]


def kolmogorov_distance(samples: Any, f: Any, x_grid: Any) -> float:
    r"""Kolmogorov distance :math:`\sup_x|F_{\rm emp}(x)-F_{\rm lat}(x)|` between samples and a lattice density.

    :math:`F_{\rm lat}` is :func:`lattice_cdf` (linear inside each cell); the supremum is attained at a
    sample point (just before or after the jump), where both CDFs are evaluated exactly.  Samples
    outside the grid's cells count at the nearest end.

    Raises
    ------
    ValueError
        If ``samples`` is empty or not 1-D, or the lattice density is invalid.
    """
    xs = np.sort(as_array(samples, "samples", dtype=float))
    if xs.ndim != 1 or xs.size == 0:
        raise ValueError(f"samples must be a non-empty 1-D array, got shape {xs.shape}")
    edges, cdf = lattice_cdf(f, x_grid)
    F = np.interp(xs, edges, cdf)
    m = xs.size
    upper = np.arange(1, m + 1) / m
    lower = np.arange(0, m) / m
    return float(max(np.max(np.abs(upper - F)), np.max(np.abs(F - lower))))
