r"""Markov length, shared by the toric code and the classical CMI.

Fit :math:`I(r)\simeq I_0 e^{-r/\xi}` and locate the peak of :math:`\xi(p)`.

The fit is weighted least squares on :math:`\ln I` over :math:`r\ge r_{\min}` (default 2: with :math:`A` one
plaquette the effective buffer is :math:`r-1` plaquettes, theory note section 7), with
:math:`\sigma_{\ln I}=\sigma_I/I`, so :math:`\xi=-1/s` for the fitted slope :math:`s` and
:math:`\sigma_\xi=\sigma_s/s^2`.  A slope that is not negative beyond two standard errors is no decay, and
:func:`markov_length` raises :class:`NoDecayError` instead of returning a huge or infinite :math:`\xi`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "MarkovFit",
    "MarkovScan",
    "NoDecayError",
    "NoInteriorPeakError",
    "PeakEstimate",
    "markov_length",
    "markov_scan",
    "locate_peak",
    "peak_with_error",
]

#: Largest slope magnitude treated as "flat" when the fit has no error estimate (xi above 1e8 is no decay).
_FLAT_SLOPE = 1e-8


class NoDecayError(ValueError):
    """The CMI does not decrease with ``r`` (flat or increasing data): no Markov length can be fitted."""


class NoInteriorPeakError(ValueError):
    r""":math:`\xi(p)` has no interior maximum on the grid (monotone, or the maximum touches a NaN or an end)."""


@dataclass(frozen=True)
class MarkovFit:
    """Result of :func:`markov_length`.

    Attributes
    ----------
    xi, xi_err : float
        Markov length and its standard error (units of ``r``).
    amplitude : float
        :math:`I_0`.
    r_used : tuple of float
        Radii entering the fit.
    chi2_red : float
        Reduced chi-square (``nan`` without error bars or with 2 points).
    """

    xi: float
    xi_err: float
    amplitude: float
    r_used: tuple[float, ...]
    chi2_red: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields."""
        d = asdict(self)
        d["r_used"] = list(self.r_used)
        return d


def _as_float_array(x: Any, name: str) -> np.ndarray:
    """``np.asarray(x, float)`` with a TypeError naming ``name`` for non-numeric input."""
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}: {exc}") from exc


def markov_length(r: Any, cmi: Any, cmi_err: Any = None, *, r_min: int = 2, floor: float = 1e-11) -> MarkovFit:
    r"""Fit the Markov length :math:`\xi` from :math:`\ln I(r)=\ln I_0-r/\xi` over :math:`r\ge` ``r_min``.

    Parameters
    ----------
    r : array_like, shape (n,)
        Radii.
    cmi : array_like, shape (n,)
        CMI values (nats); values ``<= floor`` are dropped.
    cmi_err : array_like, shape (n,), optional
        Standard errors; ``None`` gives an unweighted fit whose ``xi_err`` comes from the residuals.
    r_min : int
        Smallest radius used.
    floor : float
        CMIs at or below this are dropped: per-sample KLs from double-precision partition functions have a
        noise floor of about 1e-13 nats, so such points carry no information on the decay.

    Returns
    -------
    MarkovFit
        With finite ``xi > 0``.

    Raises
    ------
    ValueError
        Shape mismatch, non-finite input, negative errors, or fewer than 2 usable points.
    NoDecayError
        The fitted slope :math:`s` is not negative beyond two standard errors (:math:`s+2\sigma_s\ge0`), or,
        without an error estimate, :math:`s\ge-10^{-8}` (flat or increasing data).
    """
    r = _as_float_array(r, "r")
    I = _as_float_array(cmi, "cmi")
    if r.shape != I.shape or r.ndim != 1:
        raise ValueError(f"r and cmi must be 1-D of equal length, got {r.shape} and {I.shape}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(I))):
        raise ValueError("r and cmi must be finite")
    err = None
    if cmi_err is not None:
        err = _as_float_array(cmi_err, "cmi_err")
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
    s, s_err = float(coef[0]), float(np.sqrt(cov[0, 0]))
    has_err = np.isfinite(s_err) and s_err > 0
    if s >= -_FLAT_SLOPE or (has_err and s + 2.0 * s_err >= 0.0):
        raise NoDecayError(
            f"no exponential decay over r = {x.tolist()}: slope of ln I is {s:.3g} +- {s_err:.3g} "
            "(not negative beyond 2 standard errors)"
        )
    amplitude = float(np.exp(coef[1]))
    if not np.isfinite(amplitude):
        raise ValueError(f"cmi: the fitted amplitude I_0 = exp({coef[1]:.4g}) overflows (CMI too large)")
    return MarkovFit(float(-1.0 / s), float(s_err / s**2), amplitude, tuple(x.tolist()), chi2)


@dataclass(frozen=True)
class MarkovScan:
    r"""Markov lengths along a grid of ``p`` (one fit per row), from :func:`markov_scan`.

    Attributes
    ----------
    p : tuple of float
    xi, xi_err : tuple of float
        ``nan`` where no fit was possible; ``reason`` then says why.
    fits : tuple of dict
        :meth:`MarkovFit.to_dict` of every successful fit (``{}`` elsewhere).
    reason : tuple of str
        ``""`` for a fit, else the error message.
    """

    p: tuple[float, ...]
    xi: tuple[float, ...]
    xi_err: tuple[float, ...]
    fits: tuple[dict[str, Any], ...]
    reason: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields."""
        return {k: list(v) for k, v in asdict(self).items()}


def markov_scan(p: Sequence[float], r: Any, cmi: Any, cmi_err: Any = None, *, r_min: int = 2,
                floor: float = 1e-11) -> MarkovScan:
    r"""Fit :math:`\xi(p)` for every row of ``cmi`` (shape ``(len(p), len(r))``) with :func:`markov_length`.

    Rows without a fit (too few points, no decay) get ``xi = nan`` and the reason; nothing is dropped silently.

    Raises
    ------
    ValueError
        If ``cmi`` (or ``cmi_err``) is not of shape ``(len(p), len(r))``.
    """
    cmi = np.asarray(cmi, float)
    err = None if cmi_err is None else np.asarray(cmi_err, float)
    if cmi.shape != (len(p), len(r)) or (err is not None and err.shape != cmi.shape):
        raise ValueError(f"cmi (and cmi_err) must have shape (len(p), len(r)) = {(len(p), len(r))}")
    xi, xe, fits, why = [], [], [], []
    for i in range(len(p)):
        try:
            f = markov_length(r, cmi[i], None if err is None else err[i], r_min=r_min, floor=floor)
        except ValueError as exc:
            xi.append(float("nan"))
            xe.append(float("nan"))
            fits.append({})
            why.append(str(exc))
            continue
        xi.append(f.xi)
        xe.append(f.xi_err)
        fits.append(f.to_dict())
        why.append("")
    return MarkovScan(tuple(map(float, p)), tuple(xi), tuple(xe), tuple(fits), tuple(why))


def locate_peak(p: Any, xi: Any) -> float:
    r"""Locate the interior maximum of :math:`\xi(p)`.

    Vertex of the parabola through the largest value and its two neighbours.

    Raises
    ------
    ValueError
        Fewer than 3 points, unsorted or repeated ``p``, or non-finite ``xi`` everywhere.
    NoInteriorPeakError
        The largest finite value is at an end of the grid or next to a NaN (a monotone curve, or a peak that
        the grid does not resolve), or the three points are not concave.
    """
    p = _as_float_array(p, "p")
    xi = _as_float_array(xi, "xi")
    if p.shape != xi.shape or p.size < 3:
        raise ValueError("p and xi must have equal length >= 3")
    if np.any(np.diff(p) <= 0):
        raise ValueError("p must be strictly increasing")
    ok = np.isfinite(xi)
    if not ok.any():
        raise ValueError("xi has no finite values")
    k = int(np.argmax(np.where(ok, xi, -np.inf)))
    if k == 0 or k == p.size - 1:
        raise NoInteriorPeakError(f"no interior peak: xi is largest at the end of the grid, p = {p[k]:g}")
    if not (ok[k - 1] and ok[k + 1]):
        raise NoInteriorPeakError(f"no interior peak: the largest xi (p = {p[k]:g}) is next to a NaN")
    try:
        a, b, _ = np.polyfit(p[k - 1 : k + 2], xi[k - 1 : k + 2], 2)
    except np.linalg.LinAlgError as exc:  # e.g. p spacing ~1e-244 with xi ~1e300 (fuzz, issue 13)
        raise ValueError(f"p and xi around p = {p[k]:g} are too ill-scaled to fit the peak parabola") from exc
    if not a < 0:
        raise NoInteriorPeakError(f"no interior peak: xi is not concave around p = {p[k]:g}")
    x = float(-b / (2 * a))
    if not p[k - 1] <= x <= p[k + 1]:  # impossible for a concave parabola peaked at p[k]: polyfit lost all digits
        raise ValueError(f"p points around {p[k]:g} are too close to resolve the peak (vertex {x:g} outside them)")
    return x


@dataclass(frozen=True)
class PeakEstimate:
    r"""Peak of :math:`\xi(p)` with a bootstrap error, from :func:`peak_with_error`.

    Attributes
    ----------
    p_peak, p_peak_err : float
        Peak location (:func:`locate_peak` on the central values) and the standard deviation over replicas.
    n_valid : int
        Replicas with an interior peak (a replica without one is counted, never silently moved to the edge).
    n_boot : int
    """

    p_peak: float
    p_peak_err: float
    n_valid: int
    n_boot: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields."""
        return asdict(self)


def peak_with_error(p: Any, xi: Any, xi_err: Any, *, n_boot: int = 2000, seed: Any = 0) -> PeakEstimate:
    r"""Peak of :math:`\xi(p)` and its error by a parametric bootstrap :math:`\xi_i^*=\xi_i+\sigma_i z_i`.

    Raises
    ------
    ValueError
        As :func:`locate_peak`, non-finite or negative ``xi_err``, or ``n_boot < 10``.
    NoInteriorPeakError
        If the central values have no interior peak, or fewer than half of the replicas have one (then the
        error bar would be meaningless).
    """
    xi = np.asarray(xi, float)
    se = np.asarray(xi_err, float)
    if se.shape != xi.shape or np.any(~np.isfinite(se[np.isfinite(xi)])) or np.any(se[np.isfinite(xi)] < 0):
        raise ValueError("xi_err must be finite, non-negative and shaped like xi where xi is finite")
    if int(n_boot) != n_boot or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    centre = locate_peak(p, xi)
    rng = np.random.default_rng(seed)
    peaks = []
    for _ in range(int(n_boot)):
        try:
            peaks.append(locate_peak(p, xi + np.nan_to_num(se) * rng.standard_normal(xi.size)))
        except NoInteriorPeakError:
            continue
    if len(peaks) < n_boot / 2:
        raise NoInteriorPeakError(f"only {len(peaks)} of {n_boot} bootstrap replicas have an interior peak")
    return PeakEstimate(centre, float(np.std(peaks, ddof=1)), len(peaks), int(n_boot))
