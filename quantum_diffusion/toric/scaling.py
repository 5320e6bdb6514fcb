r"""Finite-size scaling of the toric-code CMI: the resumable sweep's point function and the collapse fit.

Scaling form ([SH] Fig. 3; theory note ``toric.md`` section 8):

.. math::
    I(r,p)=r^{-\alpha}\,\Phi\bigl((p-p_c)\,r^{1/\nu}\bigr).

:func:`collapse_fit` fits it in log space, :math:`\ln I=-\alpha\ln r+\phi(x)`, :math:`x=(p-p_c)r^{1/\nu}`, with
:math:`\phi` a polynomial of degree ``degree``: for fixed :math:`(p_c,\nu)` the model is linear in
:math:`(\alpha, \phi_0,\dots,\phi_d)` and is solved by weighted least squares (:math:`\sigma_{\ln I}=\sigma_I/I`);
:math:`(p_c,\nu)` minimise the resulting :math:`\chi^2` (Nelder-Mead).  Far from :math:`p_c` the form contains
the exponential decay :math:`I\sim e^{-r/\xi}` with :math:`\xi\propto|p-p_c|^{-\nu}`.  The collapse quality is the
reduced :math:`\chi^2` of the best fit; error bars come from a parametric bootstrap (every point redrawn from
its Gaussian error, the whole fit repeated).

The run (``examples/toric_scaling.py``) evaluates :func:`scaling_point` over a grid of ``(p, r, r_C, batch)``;
every batch is an independent unbiased Monte Carlo estimate with its own seed (derived by
:mod:`quantum_diffusion.sweep` from the point's key), so a run is extended point by point by adding batches, and
:func:`pool_batches` combines them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

__all__ = ["CollapseFit", "PooledPoint", "collapse_fit", "pool_batches", "scaling_point"]


def scaling_point(
    p: float,
    r: int,
    r_C: int | None = None,
    *,
    batch: int = 0,
    n_samples: int = 200,
    method: str = "cv",
    rng: Any = None,
) -> dict[str, Any]:
    r"""One batch of the scaling sweep: unbiased MC estimate of :math:`I(A:C|B)` (nats), square geometry.

    Parameters
    ----------
    p : float
        Flip probability in ``(0, 1/2)``.
    r : int
        Width of :math:`B`.
    r_C : int or None
        Width of :math:`C`; ``None`` means ``r_C = r`` ([SH] Fig. 3).
    batch : int
        Batch index: it only enters the point's key (hence its seed); batches are i.i.d. replicas.
    n_samples : int
        Noise samples in this batch.
    method : str
        Monte Carlo method of :func:`quantum_diffusion.toric.toric_cmi` (``"cv"``, ``"mc"``, ...).
    rng : numpy.random.Generator
        Supplied by the sweep.

    Returns
    -------
    dict
        ``{"cmi", "stderr", "n_samples", "var", "ess", "method"}``: the batch mean, its standard error, the
        per-sample variance and the effective sample size.
    """
    import warnings

    from .cmi import toric_cmi
    from .regions import square_regions
    from .sampler import RareEventWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RareEventWarning)  # judged on the pooled batches, not per batch
        res = toric_cmi(square_regions(r, r_C=r_C), p, method=method, n_samples=n_samples, seed=rng)
    x = np.asarray(res.samples, float)
    # n_samples counts the i.i.d. values whose variance is "var" (pool_batches relies on it): for "crossed" these
    # are the block means, not the pairs (res.n_samples); for the other methods both are the same
    return {"cmi": res.cmi, "stderr": res.stderr, "n_samples": int(x.size), "var": float(np.var(x, ddof=1)),
            "ess": res.ess, "method": method}


@dataclass(frozen=True)
class PooledPoint:
    """All batches of one ``(p, r, r_C)`` point of a scaling store, pooled (:func:`pool_batches`).

    Attributes
    ----------
    p : float
    r : int
    r_C : int
        Width of :math:`C` (``r_C = r`` rows carry ``r_C = r``).
    geometry : str
        ``"r_C=r"`` or ``"r_C=<k>"``.
    cmi, stderr : float
        Pooled mean and standard error.
    n_samples, n_batches : int
    """

    p: float
    r: int
    r_C: int
    geometry: str
    cmi: float
    stderr: float
    n_samples: int
    n_batches: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields."""
        return asdict(self)


def pool_batches(records: Iterable[Mapping[str, Any]]) -> list[PooledPoint]:
    r"""Pool the batches of a scaling store (records of :func:`quantum_diffusion.sweep.load_results`).

    .. math::
        \bar x=\frac{\sum_b n_b\bar x_b}{N},\qquad
        s^2=\frac{\sum_b (n_b-1)s_b^2+\sum_b n_b(\bar x_b-\bar x)^2}{N-1},\qquad \mathrm{stderr}=s/\sqrt N.

    Records of other point functions or other methods are not mixed: points are keyed by
    ``(p, r, r_C, method)`` and returned sorted by geometry, ``r`` and ``p``.

    Raises
    ------
    ValueError
        If a record lacks the fields written by :func:`scaling_point`.
    """
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for rec in records:
        try:
            par, res = rec["params"], rec["result"]
            key = (float(par["p"]), int(par["r"]), par.get("r_C"), str(res["method"]))
            _ = res["cmi"], res["var"], res["n_samples"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a scaling_point record: {exc}") from exc
        groups.setdefault(key, []).append(res)
    out = []
    for (p, r, rc, _method), rs in groups.items():
        n = np.array([x["n_samples"] for x in rs], float)
        m = np.array([x["cmi"] for x in rs], float)
        v = np.array([x["var"] for x in rs], float)
        N = n.sum()
        mean = float(np.sum(n * m) / N)
        var = float((np.sum((n - 1) * v) + np.sum(n * (m - mean) ** 2)) / (N - 1))
        r_c = r if rc is None else int(rc)
        out.append(PooledPoint(p, r, r_c, "r_C=r" if rc is None else f"r_C={r_c}", mean, float(np.sqrt(var / N)),
                               int(N), len(rs)))
    return sorted(out, key=lambda q: (q.geometry, q.r, q.p))


@dataclass(frozen=True)
class CollapseFit:
    r"""Result of :func:`collapse_fit`.

    Attributes
    ----------
    p_c, nu, alpha : float
        Best-fit critical point and exponents.
    p_c_err, nu_err, alpha_err : float
        Bootstrap standard deviations.
    chi2_red : float
        Collapse quality: reduced :math:`\chi^2` of the best fit (about 1 for a perfect collapse).
    n_points, degree, n_boot : int
    phi : tuple of float
        Polynomial coefficients of :math:`\phi(x)=\ln\Phi(x)`, lowest order first.
    """

    p_c: float
    p_c_err: float
    nu: float
    nu_err: float
    alpha: float
    alpha_err: float
    chi2_red: float
    n_points: int
    degree: int
    n_boot: int
    phi: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields."""
        d = asdict(self)
        d["phi"] = list(self.phi)
        return d


def _linear_part(pc: float, nu: float, p: np.ndarray, lr: np.ndarray, y: np.ndarray, w: np.ndarray,
                 degree: int) -> tuple[float, np.ndarray]:
    x = (p - pc) * np.exp(lr / nu)
    A = np.column_stack([-lr] + [x**k for k in range(degree + 1)])
    coef, *_ = np.linalg.lstsq(A * w[:, None], y * w, rcond=None)
    chi2 = float(np.sum(((A @ coef - y) * w) ** 2))
    return chi2, coef


def _fit_once(p, lr, y, w, degree, start) -> tuple[float, float, float, float, np.ndarray]:
    def obj(th):
        pc, lnu = th
        return _linear_part(pc, np.exp(lnu), p, lr, y, w, degree)[0]

    best = None
    for pc0, nu0 in start:
        res = minimize(obj, [pc0, np.log(nu0)], method="Nelder-Mead",
                       options={"xatol": 1e-7, "fatol": 1e-6, "maxiter": 2000})
        if best is None or res.fun < best.fun:
            best = res
    pc, nu = float(best.x[0]), float(np.exp(best.x[1]))
    chi2, coef = _linear_part(pc, nu, p, lr, y, w, degree)
    return pc, nu, float(coef[0]), chi2, coef[1:]


def collapse_fit(
    p: Any,
    r: Any,
    cmi: Any,
    cmi_err: Any,
    *,
    degree: int = 4,
    r_min: int = 2,
    p_c0: float = 0.11,
    nu0: float = 1.5,
    n_boot: int = 200,
    seed: Any = 0,
    max_rel_err: float = 0.5,
) -> CollapseFit:
    r"""Fit :math:`I(r,p)=r^{-\alpha}\Phi((p-p_c)r^{1/\nu})` (module docstring) with bootstrap errors.

    Parameters
    ----------
    p, r, cmi, cmi_err : array_like, shape (n,)
        One entry per measured point (flip probability, width of :math:`B`, CMI in nats, standard error).
    degree : int
        Degree of the polynomial :math:`\phi=\ln\Phi`.
    r_min : int
        Smallest ``r`` used (``r = 1`` has a direct :math:`a`-:math:`c` coupling, theory note section 7).
    p_c0, nu0 : float
        Starting point of the minimisation (a few starts around it are tried).
    n_boot : int
        Bootstrap replicas (``0``: no error bars, ``nan``).
    seed : int, Generator or None
        For the bootstrap draws.
    max_rel_err : float
        Points with ``cmi_err / cmi`` above this (or ``cmi <= 0``) carry no usable :math:`\ln I` and are left out.

    Returns
    -------
    CollapseFit

    Raises
    ------
    ValueError
        Shape mismatch, non-finite input, or fewer usable points than parameters plus 2.
    """
    p, r, I, e = (np.asarray(a, float) for a in (p, r, cmi, cmi_err))
    if not (p.shape == r.shape == I.shape == e.shape) or p.ndim != 1:
        raise ValueError("p, r, cmi and cmi_err must be 1-D arrays of equal length")
    if not all(np.all(np.isfinite(a)) for a in (p, r, I, e)) or np.any(e < 0):
        raise ValueError("p, r, cmi, cmi_err must be finite and cmi_err >= 0")
    if int(degree) != degree or degree < 1:
        raise ValueError(f"degree must be an integer >= 1, got {degree!r}")
    use = (r >= r_min) & (I > 0) & (e > 0) & (e < max_rel_err * np.abs(I))
    n_par = degree + 4
    if use.sum() < n_par + 2:
        raise ValueError(f"need at least {n_par + 2} usable points (r >= {r_min}, relative error < "
                         f"{max_rel_err}), got {int(use.sum())}")
    p, lr, I, e = p[use], np.log(r[use]), I[use], e[use]
    y, w = np.log(I), I / e
    starts = [(p_c0, nu0), (p_c0 - 0.01, 0.8 * nu0), (p_c0 + 0.01, 1.3 * nu0)]
    pc, nu, alpha, chi2, phi = _fit_once(p, lr, y, w, degree, starts)
    dof = max(int(use.sum()) - n_par, 1)
    boots = []
    rng = np.random.default_rng(seed)
    for _ in range(int(n_boot)):
        Ib = I + e * rng.standard_normal(I.size)
        ok = Ib > 0
        if ok.sum() < n_par + 2:
            continue
        b = _fit_once(p[ok], lr[ok], np.log(Ib[ok]), (Ib / e)[ok], degree, [(pc, nu)])
        boots.append(b[:3])
    B = np.array(boots) if boots else np.full((1, 3), np.nan)
    sd = B.std(axis=0, ddof=1) if len(boots) > 1 else np.full(3, np.nan)
    return CollapseFit(pc, float(sd[0]), nu, float(sd[1]), alpha, float(sd[2]), chi2 / dof, int(use.sum()),
                       int(degree), len(boots), tuple(map(float, phi)))
