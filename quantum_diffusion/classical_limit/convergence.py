r"""Grid-refinement study: the package's quantum generators on lattice diagonal states vs the continuum PDEs.

For a smooth periodic test problem on the circle :math:`[0,2\pi)` (reference
:math:`p(x)\propto e^{\sin x+\frac12\cos 2x}`, operand :math:`f(x)=e^{0.8\cos(x-0.3)}(1+0.2\sin3x)`, exact
derivatives from sympy) and the grids ``n`` in ``ns``, we apply

* the forward :class:`quantum_diffusion.petz.Lindbladian` of the sound jumps (P.32) to
  :math:`F=\mathrm{diag}(f(x_k))` and compare the diagonal with :math:`\tfrac\gamma2f''` (P.26);
* :func:`quantum_diffusion.petz.petz_generator` (Petz, rotated, twirled) with
  :math:`\sigma\propto\mathrm{diag}(p(x_k))` and compare with the reverse Fokker-Planck operator
  :math:`\tfrac\gamma2f''-\gamma(fs)'` (P.30);
* the negative control: the single Hermitian central momentum (``central_jumps``), whose diagonal
  output is fitted as ``ratio * (gamma/2) f''`` (ratio -> 1/2) and whose coherences do not vanish.

Errors are max-norm errors on the grid divided by the max-norm of the continuum target; slopes are
least-squares fits of ``log(error)`` against ``log(h)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .._threads import small_blas
from .lattice import PeriodicGrid, central_jumps, continuum_reverse_fp, sound_jumps

__all__ = [
    "TestProblem",
    "smooth_test_problem",
    "ConvergenceResult",
    "convergence_study",
    "hamiltonian_convergence",
    "fit_slope",
]


@dataclass(frozen=True)
class TestProblem:
    """Smooth periodic test functions (vectorised callables) on a circle of length ``length``."""

    __test__ = False  # not a pytest class

    length: float
    p: Callable[[np.ndarray], np.ndarray]
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]
    d2f: Callable[[np.ndarray], np.ndarray]
    score: Callable[[np.ndarray], np.ndarray]
    dscore: Callable[[np.ndarray], np.ndarray]


def smooth_test_problem() -> TestProblem:
    r"""Return the default test problem (periodic, length :math:`2\pi`); derivatives are exact (sympy ``lambdify``)."""
    x = sp.Symbol("x", real=True)
    p = sp.exp(sp.sin(x) + sp.cos(2 * x) / 2)
    f = sp.exp(sp.Rational(4, 5) * sp.cos(x - sp.Rational(3, 10))) * (1 + sp.sin(3 * x) / 5)
    s = sp.simplify(sp.diff(p, x) / p)

    def lam(e: sp.Expr) -> Callable[[np.ndarray], np.ndarray]:
        fn = sp.lambdify(x, e, "numpy")
        return lambda v: np.broadcast_to(np.asarray(fn(np.asarray(v, dtype=float)), dtype=float), np.shape(v))

    return TestProblem(
        length=float(2 * np.pi),
        p=lam(p),
        f=lam(f),
        df=lam(sp.diff(f, x)),
        d2f=lam(sp.diff(f, x, 2)),
        score=lam(s),
        dscore=lam(sp.diff(s, x)),
    )


def fit_slope(h: Sequence[float], err: Sequence[float]) -> float:
    """Least-squares slope of ``log(err)`` against ``log(h)`` (the convergence order).

    Raises
    ------
    ValueError
        If fewer than two points or a non-positive value is given.

    Examples
    --------
    >>> round(fit_slope([0.1, 0.05, 0.025], [2e-2, 5e-3, 1.25e-3]), 12)
    2.0
    """
    h_arr, e_arr = np.asarray(h, dtype=float), np.asarray(err, dtype=float)
    if h_arr.size < 2 or h_arr.shape != e_arr.shape:
        raise ValueError("need at least two (h, error) pairs of equal length")
    if np.any(h_arr <= 0) or np.any(e_arr <= 0):
        raise ValueError("h and errors must be positive to fit a log-log slope")
    return float(np.polyfit(np.log(h_arr), np.log(e_arr), 1)[0])


@dataclass
class ConvergenceResult:
    """Errors per grid (arrays of shape (len(ns),)) and fitted slopes.

    Attributes
    ----------
    ns, h : grid sizes and spacings.
    forward : relative max error of the forward Lindbladian's diagonal vs ``gamma/2 f''``.
    backward : dict kind -> relative max error of the backward generator's diagonal vs (P.30).
    leakage : dict kind -> largest off-diagonal entry of the output (sound jumps; should be ~1e-13).
    control_ratio : fitted diffusion-constant ratio of the central-momentum control (-> 0.5).
    control_error : relative max error of the control vs ``gamma/2 f''`` (does not vanish).
    control_coherence : largest off-diagonal output of the control relative to ``max |gamma/2 f''|``.
    slopes : fitted log-log slopes of ``forward`` and each ``backward`` kind.
    """

    ns: np.ndarray
    h: np.ndarray
    forward: np.ndarray
    backward: dict[str, np.ndarray]
    leakage: dict[str, np.ndarray]
    control_ratio: np.ndarray
    control_error: np.ndarray
    control_coherence: np.ndarray
    slopes: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dictionary of every number."""
        return {
            "ns": self.ns, "h": self.h, "forward": self.forward, "backward": self.backward,
            "leakage": self.leakage, "control_ratio": self.control_ratio, "control_error": self.control_error,
            "control_coherence": self.control_coherence, "slopes": self.slopes,
        }


def _offdiag_max(m: np.ndarray) -> float:
    return float(np.max(np.abs(m - np.diag(np.diag(m)))))


def convergence_study(
    ns: Sequence[int] = (16, 32, 64, 128),
    *,
    gamma: float = 1.0,
    kinds: Sequence[tuple[str, float]] = (("petz", 0.0), ("rotated", 0.7), ("twirled", 0.0)),
    problem: TestProblem | None = None,
) -> ConvergenceResult:
    r"""Apply the package's forward Lindbladian and backward generators to lattice diagonal states.

    Parameters
    ----------
    ns : grid sizes (each >= 3).
    gamma : momentum-noise rate :math:`\gamma>0`.
    kinds : ``(kind, theta)`` pairs passed to :func:`quantum_diffusion.petz.petz_generator`; the result key
        is ``kind`` or ``"rotated(theta)"``.
    problem : test functions (default :func:`smooth_test_problem`).

    Returns
    -------
    ConvergenceResult

    Raises
    ------
    ValueError
        If ``ns`` is empty or ``gamma`` is not positive (and as raised by the lattice constructors).
    """
    from ..petz import Lindbladian, petz_generator  # the general quantum construction under test

    if len(ns) == 0:
        raise ValueError("ns must contain at least one grid size")
    if not np.isfinite(gamma) or gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma!r}")
    prob = smooth_test_problem() if problem is None else problem
    keys = [k if k != "rotated" else f"rotated({th:g})" for k, th in kinds]
    fwd, ctl_r, ctl_e, ctl_c, hs = [], [], [], [], []
    bwd: dict[str, list[float]] = {k: [] for k in keys}
    leak: dict[str, list[float]] = {k: [] for k in ["forward", *keys]}
    with small_blas():
        for n in ns:
            grid = PeriodicGrid(int(n), prob.length)
            x = grid.x
            f = prob.f(x)
            target_f = 0.5 * gamma * prob.d2f(x)
            target_b = continuum_reverse_fp(f, prob.df(x), prob.d2f(x), prob.score(x), prob.dscore(x), gamma)
            F = np.diag(f).astype(complex)
            zero = np.zeros((grid.n, grid.n))
            forward = Lindbladian(zero, sound_jumps(grid, gamma))
            out = forward.apply(F)
            fwd.append(np.max(np.abs(np.diag(out).real - target_f)) / np.max(np.abs(target_f)))
            leak["forward"].append(_offdiag_max(out))
            p = prob.p(x)
            sigma = np.diag(p / p.sum())
            for key, (kind, th) in zip(keys, kinds):
                out_b = petz_generator(forward, sigma, kind, th).apply(F)
                bwd[key].append(np.max(np.abs(np.diag(out_b).real - target_b)) / np.max(np.abs(target_b)))
                leak[key].append(_offdiag_max(out_b))
            ctl = Lindbladian(zero, central_jumps(grid, gamma)).apply(F)
            dc = np.diag(ctl).real
            ctl_r.append(float(dc @ target_f / (target_f @ target_f)))
            ctl_e.append(np.max(np.abs(dc - target_f)) / np.max(np.abs(target_f)))
            ctl_c.append(_offdiag_max(ctl) / np.max(np.abs(target_f)))
            hs.append(grid.h)
    res = ConvergenceResult(
        ns=np.asarray(ns, dtype=int), h=np.asarray(hs), forward=np.asarray(fwd),
        backward={k: np.asarray(v) for k, v in bwd.items()}, leakage={k: np.asarray(v) for k, v in leak.items()},
        control_ratio=np.asarray(ctl_r), control_error=np.asarray(ctl_e), control_coherence=np.asarray(ctl_c),
    )
    if len(ns) >= 2:
        res.slopes["forward"] = fit_slope(res.h, res.forward)
        for k in keys:
            res.slopes[k] = fit_slope(res.h, res.backward[k])
    return res


def hamiltonian_convergence(
    ns: Sequence[int] = (16, 32, 64, 128),
    *,
    gamma: float = 1.0,
    kinds: Sequence[tuple[str, float]] = (("petz", 0.0), ("rotated", 0.7), ("twirled", 0.0)),
    theta_term: bool = True,
    problem: TestProblem | None = None,
) -> dict[str, np.ndarray]:
    r"""Relative max error of the package's backward Hamiltonian on a smooth wavefunction vs (P.27)/(P.31).

    .. math::

        H_b^\theta\psi=\frac\gamma4\{s,\hat p\}\psi+\frac{\gamma\theta}4 s'\psi
        =-\frac{i\gamma}4\big(2s\psi'+s'\psi\big)+\frac{\gamma\theta}4s'\psi,\qquad H^{\rm tw}=H_b^{\theta=0},

    with :math:`\psi(x)=f(x)e^{i\cos x}` (test problem's ``f``) and the lattice :math:`H_b` of the sound jumps
    built by :func:`quantum_diffusion.petz.petz_generator` (the canonical representation P.12/P.19/P.21).
    This probes the part of the generator that commutes with diagonal states and is therefore invisible in
    the diagonal-block checks (in particular the :math:`\theta s'` term).  ``theta_term=False`` drops that
    term from the continuum target (a negative control for ``theta != 0``).

    Returns
    -------
    dict with ``"h"`` and one error array per kind key (``kind`` or ``"rotated(theta)"``), plus ``"slopes"``.

    Raises
    ------
    ValueError
        If ``ns`` is empty or ``gamma`` is not positive.
    """
    from ..petz import Lindbladian, petz_generator

    if len(ns) == 0:
        raise ValueError("ns must contain at least one grid size")
    if not np.isfinite(gamma) or gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma!r}")
    prob = smooth_test_problem() if problem is None else problem
    out: dict = {"h": []}
    keys = [k if k != "rotated" else f"rotated({th:g})" for k, th in kinds]
    for k in keys:
        out[k] = []
    with small_blas():
        for n in ns:
            grid = PeriodicGrid(int(n), prob.length)
            x = grid.x
            phase = np.exp(1j * np.cos(x))
            psi = prob.f(x) * phase
            dpsi = (prob.df(x) - 1j * np.sin(x) * prob.f(x)) * phase
            s, ds = prob.score(x), prob.dscore(x)
            p = prob.p(x)
            forward = Lindbladian(np.zeros((grid.n, grid.n)), sound_jumps(grid, gamma))
            for key, (kind, th) in zip(keys, kinds):
                target = -0.25j * gamma * (2 * s * dpsi + ds * psi)
                if theta_term:
                    target = target + 0.25 * gamma * th * ds * psi
                h_b = petz_generator(forward, np.diag(p / p.sum()), kind, th).H
                out[key].append(np.max(np.abs(h_b @ psi - target)) / np.max(np.abs(target)))
            out["h"].append(grid.h)
    res = {k: np.asarray(v) for k, v in out.items()}
    if len(ns) >= 2:
        res["slopes"] = {k: fit_slope(res["h"], res[k]) for k in keys}
    return res
