r"""Markov length, shared by the toric code and the classical CMI.

Fit :math:`I(r)\simeq I_0 e^{-r/\xi}` and locate the peak of :math:`\xi(p)`.

The fit is weighted least squares on :math:`\ln I` over :math:`r\ge r_{\min}` (default 2: with :math:`A` one
plaquette the effective buffer is :math:`r-1` plaquettes, theory note section 7), with
:math:`\sigma_{\ln I}=\sigma_I/I`, so :math:`\xi=-1/s` for the fitted slope :math:`s` and
:math:`\sigma_\xi=\sigma_s/s^2`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MarkovFit", "markov_length", "locate_peak"]


@dataclass
class MarkovFit:
    """Result of :func:`markov_length`: ``xi`` and ``xi_err`` (plaquettes), ``amplitude`` :math:`I_0`, the radii
    used, and the reduced chi-square (``nan`` without error bars or with 2 points)."""

    xi: float
    xi_err: float
    amplitude: float
    r_used: np.ndarray
    chi2_red: float

    def to_dict(self) -> dict[str, Any]:
        return {"xi": self.xi, "xi_err": self.xi_err, "amplitude": self.amplitude,
                "r_used": self.r_used.tolist(), "chi2_red": self.chi2_red}


def markov_length(r: Any, cmi: Any, cmi_err: Any = None, *, r_min: int = 2, floor: float = 1e-11) -> MarkovFit:
    r"""Fit the Markov length :math:`\xi` from :math:`\ln I(r)=\ln I_0-r/\xi` over :math:`r\ge` ``r_min``.

    Parameters
    ----------
    r : radii, shape ``(n,)``.
    cmi : CMI values (nats), shape ``(n,)``; values ``<= floor`` are dropped.
    cmi_err : standard errors, shape ``(n,)`` or ``None`` (unweighted fit; then ``xi_err`` comes from the residuals).
    r_min : smallest radius used.
    floor : CMIs at or below this are dropped: per-sample KLs from double-precision partition functions have a
        noise floor of about 1e-13 nats, so such points carry no information on the decay.

    Returns
    -------
    MarkovFit; ``xi = inf`` (and ``xi_err = nan``) when the fitted slope is not negative.

    Raises
    ------
    ValueError
        Shape mismatch, non-finite input, negative errors, or fewer than 2 usable points.
    """
    r = np.asarray(r, dtype=float)
    I = np.asarray(cmi, dtype=float)
    if r.shape != I.shape or r.ndim != 1:
        raise ValueError(f"r and cmi must be 1-D of equal length, got {r.shape} and {I.shape}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(I))):
        raise ValueError("r and cmi must be finite")
    err = None
    if cmi_err is not None:
        err = np.asarray(cmi_err, dtype=float)
        if err.shape != I.shape or not np.all(np.isfinite(err)) or np.any(err < 0):
            raise ValueError("cmi_err must be finite, non-negative and shaped like cmi")
    use = (r >= r_min) & (I > max(floor, 0.0))
    if err is not None:
        use &= err > 0
    if use.sum() < 2:
        raise ValueError(f"need at least 2 points with r >= {r_min} and CMI > {floor:g}, got {int(use.sum())}")
    x, y = r[use], np.log(I[use])
    if err is not None:
        sy = err[use] / I[use]
        coef, cov = np.polyfit(x, y, 1, w=1.0 / sy, cov="unscaled")
        chi2 = float(np.sum(((y - np.polyval(coef, x)) / sy) ** 2) / (x.size - 2)) if x.size > 2 else float("nan")
    else:
        if x.size > 2:
            coef, cov = np.polyfit(x, y, 1, cov=True)
        else:
            coef, cov = np.polyfit(x, y, 1), np.full((2, 2), np.nan)
        chi2 = float("nan")
    s, s_err = coef[0], float(np.sqrt(cov[0, 0]))
    if s >= 0:
        return MarkovFit(float("inf"), float("nan"), float(np.exp(coef[1])), x, chi2)
    return MarkovFit(float(-1.0 / s), float(s_err / s**2), float(np.exp(coef[1])), x, chi2)


def locate_peak(p: Any, xi: Any) -> float:
    r"""Location of the maximum of :math:`\xi(p)`: vertex of the parabola through the largest value and its two
    neighbours (the grid point itself at an end of the grid).

    Raises
    ------
    ValueError
        Fewer than 3 points, unsorted or repeated ``p``, or non-finite ``xi`` everywhere.
    """
    p = np.asarray(p, dtype=float)
    xi = np.asarray(xi, dtype=float)
    if p.shape != xi.shape or p.size < 3:
        raise ValueError("p and xi must have equal length >= 3")
    if np.any(np.diff(p) <= 0):
        raise ValueError("p must be strictly increasing")
    ok = np.isfinite(xi)
    if not ok.any():
        raise ValueError("xi has no finite values")
    k = int(np.nanargmax(np.where(ok, xi, -np.inf)))
    if k == 0 or k == p.size - 1 or not (ok[k - 1] and ok[k + 1]):
        return float(p[k])
    a, b, _ = np.polyfit(p[k - 1 : k + 2], xi[k - 1 : k + 2], 2)
    return float(-b / (2 * a)) if a < 0 else float(p[k])
