r"""Continuous variables on a periodic lattice: the sound discretisation of the momentum jump operator.

The forward noise is the momentum jump :math:`\sqrt\gamma\,\hat p`, whose dissipator is the heat
equation on diagonal states, :math:`\mathcal D[\sqrt\gamma\hat p](f)=\tfrac\gamma2 f''` (theory note
``petz.md`` (P.26)).  On a periodic grid :math:`x_k = x_0 + kh`, :math:`k=0,\dots,n-1`, with shift
:math:`(S\psi)_k=\psi_{k+1}`, the sound discretisation (P.32) uses the two one-sided lattice momenta

.. math::

    L_1=\sqrt{\gamma/2}\,\hat p_f,\quad L_2=\sqrt{\gamma/2}\,\hat p_f^\dagger,\qquad
    \hat p_f=-i(S-\mathbb 1)/h,\qquad
    \mathcal D[L_1]+\mathcal D[L_2]=\frac{\gamma}{2h^2}\big(\mathcal D[S]+\mathcal D[S^\dagger]\big).

Because :math:`S` is a permutation the diagonal subalgebra is invariant: on diagonal states this is
the classical jump process with rates :math:`w_{k\to k\pm1}=\gamma/(2h^2)` (:func:`heat_rates`), the
forward generator is the discrete heat equation, and every Petz-type backward generator is its
Bayes reversal (P.33) = (P.35) of :mod:`.discrete`,

.. math::

    (\mathcal B f)_k=\frac{\gamma}{2h^2}\Big[\frac{p_k}{p_{k+1}}f_{k+1}+\frac{p_k}{p_{k-1}}f_{k-1}
    -\frac{p_{k+1}+p_{k-1}}{p_k}f_k\Big]=\frac\gamma2 f''-\gamma\,(f\,\partial_x\ln p)'+O(h^2).

The single Hermitian central-difference momentum :math:`\hat p_c=-i(S-S^\dagger)/(2h)` is kept as a
documented **negative control**: on diagonal states it diffuses with half the diffusion constant
(:math:`\gamma/4 f''`) and generates :math:`O(1)` coherences between sites at distance :math:`2h`
(fermion doubling).

Lattice "densities" are the values :math:`f_k\approx f(x_k)` (so :math:`h\sum_k f_k\approx 1`); every
generator here is linear, so the normalisation never matters.  Matrices act on column vectors; the
superoperator convention is row-major, see quantum_diffusion.conventions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp
from scipy.special import ive

from .._validation import as_array
from .discrete import check_reference, master_generator, reverse_generator

__all__ = [
    "PeriodicGrid",
    "shift",
    "forward_momentum",
    "central_momentum",
    "sound_jumps",
    "central_jumps",
    "heat_rates",
    "heat_generator",
    "reverse_fp_generator",
    "apply_heat",
    "apply_reverse_fp",
    "continuum_reverse_fp",
    "heat_kernel",
    "heat_evolve",
    "backward_evolve",
]


@dataclass(frozen=True)
class PeriodicGrid:
    r"""Periodic grid :math:`x_k = x_0 + k h`, :math:`h = \text{length}/n`, :math:`k = 0..n-1`.

    Attributes
    ----------
    n : int
        Number of sites (at least 3, so that the two neighbours of a site are distinct).
    length : float
        Period of the circle.
    x0 : float
        Position of site 0 (e.g. ``-length/2`` for a grid centred at 0).

    Raises
    ------
    ValueError
        If ``n < 3`` or ``length`` is not a positive finite number.
    """

    n: int
    length: float
    x0: float = 0.0

    def __post_init__(self) -> None:
        """Validate the number of sites and the length."""
        if int(self.n) != self.n or self.n < 3:
            raise ValueError(f"a periodic grid needs an integer n >= 3 sites, got {self.n!r}")
        if not np.isfinite(self.length) or self.length <= 0:
            raise ValueError(f"grid length must be positive and finite, got {self.length!r}")
        if not np.isfinite(self.x0):
            raise ValueError(f"grid origin x0 must be finite, got {self.x0!r}")

    @classmethod
    def centered(cls, n: int, length: float) -> PeriodicGrid:
        """Grid of ``n`` sites on ``[-length/2, length/2)``."""
        return cls(n=n, length=length, x0=-0.5 * length)

    @property
    def h(self) -> float:
        """Lattice spacing ``length / n``."""
        return self.length / self.n

    @property
    def x(self) -> np.ndarray:
        """Site positions, shape (n,)."""
        return self.x0 + self.h * np.arange(self.n)


def _check_gamma(gamma: float) -> float:
    g = float(gamma)
    if not np.isfinite(g) or g <= 0:
        raise ValueError(f"gamma (momentum-noise rate) must be positive and finite, got {gamma!r}")
    return g


def _check_field(f: Any, n: int, name: str) -> np.ndarray:
    arr = as_array(f, name)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match the grid, got {arr.shape}")
    return arr


def shift(n: int) -> np.ndarray:
    r"""Periodic shift :math:`(S\psi)_k=\psi_{k+1}`, i.e. :math:`S=\sum_k|k\rangle\langle k+1|`, shape (n, n).

    Raises
    ------
    ValueError
        If ``n < 1``.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"shift needs a positive integer size, got {n!r}")
    return np.roll(np.eye(int(n)), 1, axis=1)


def forward_momentum(grid: PeriodicGrid) -> np.ndarray:
    r"""One-sided (forward-difference) lattice momentum :math:`\hat p_f=-i(S-\mathbb 1)/h` (not Hermitian)."""
    return -1j * (shift(grid.n) - np.eye(grid.n)) / grid.h


def central_momentum(grid: PeriodicGrid) -> np.ndarray:
    r"""Hermitian central-difference momentum :math:`\hat p_c=-i(S-S^\dagger)/(2h)` (negative control only)."""
    s = shift(grid.n)
    return -1j * (s - s.T) / (2.0 * grid.h)


def sound_jumps(grid: PeriodicGrid, gamma: float = 1.0) -> list[np.ndarray]:
    r"""Return the sound lattice jump operators (P.32).

    .. math::

        \big[\sqrt{\gamma/2}\,\hat p_f,\ \sqrt{\gamma/2}\,\hat p_f^\dagger\big] .


    Returns
    -------
    list of two complex arrays of shape (n, n)

    Raises
    ------
    ValueError
        If ``gamma`` is not positive.
    """
    g = _check_gamma(gamma)
    pf = forward_momentum(grid)
    return [np.sqrt(g / 2) * pf, np.sqrt(g / 2) * pf.conj().T]


def central_jumps(grid: PeriodicGrid, gamma: float = 1.0) -> list[np.ndarray]:
    r"""Negative control: the single Hermitian jump :math:`\sqrt\gamma\,\hat p_c` (NOT sound on diagonal states).

    :math:`\mathcal D[\sqrt\gamma\hat p_c]` maps a diagonal :math:`f` to
    :math:`\tfrac{\gamma}{4h^2}(f_{k+1}+f_{k-1}-2f_k)\to\tfrac\gamma4 f''` on the diagonal (half the
    diffusion constant) and to :math:`\tfrac{\gamma}{8h^2}(f_k+f_{k+2}-2f_{k+1})\to\tfrac\gamma8 f''` on the
    coherences at distance two, which do not vanish as :math:`h\to0`.

    Raises
    ------
    ValueError
        If ``gamma`` is not positive.
    """
    g = _check_gamma(gamma)
    return [np.sqrt(g) * central_momentum(grid)]


def heat_rates(grid: PeriodicGrid, gamma: float = 1.0) -> np.ndarray:
    r"""Classical nearest-neighbour rates :math:`w_{k\to k\pm1}=\gamma/(2h^2)`, source first (see :mod:`.discrete`).

    Raises
    ------
    ValueError
        If ``gamma`` is not positive.
    """
    g = _check_gamma(gamma)
    n = grid.n
    w = np.zeros((n, n))
    k = np.arange(n)
    w[k, (k + 1) % n] = g / (2 * grid.h**2)
    w[k, (k - 1) % n] = g / (2 * grid.h**2)
    return w


def heat_generator(grid: PeriodicGrid, gamma: float = 1.0) -> np.ndarray:
    r"""Discrete heat equation :math:`\dot f_k=\frac{\gamma}{2h^2}(f_{k+1}+f_{k-1}-2f_k)`, dense (n, n).

    Raises
    ------
    ValueError
        If ``gamma`` is not positive.
    """
    return master_generator(heat_rates(grid, gamma))


def reverse_fp_generator(grid: PeriodicGrid, p: Any, gamma: float = 1.0) -> np.ndarray:
    r"""Backward generator (P.33) on the lattice for reference density values ``p`` (dense (n, n)).

    It is the Bayes reversal (P.35) of :func:`heat_rates`:
    :math:`(\mathcal Bf)_k=\frac{\gamma}{2h^2}[\frac{p_k}{p_{k+1}}f_{k+1}+\frac{p_k}{p_{k-1}}f_{k-1}
    -\frac{p_{k+1}+p_{k-1}}{p_k}f_k]`.

    Raises
    ------
    ValueError
        If ``p`` is not strictly positive of length ``n`` or ``gamma`` is not positive.

    Examples
    --------
    On the reference itself the backward generator undoes the forward one, :math:`\mathcal B p=-Gp`:

    >>> import numpy as np
    >>> grid = PeriodicGrid.centered(8, 4.0)
    >>> p = np.exp(-grid.x**2)
    >>> bool(np.allclose(reverse_fp_generator(grid, p) @ p, -heat_generator(grid) @ p))
    True
    """
    return reverse_generator(heat_rates(grid, gamma), check_reference(p, grid.n))


def apply_heat(f: Any, grid: PeriodicGrid, gamma: float = 1.0) -> np.ndarray:
    """Matrix-free :func:`heat_generator` applied to ``f`` (shape (n,)), O(n).

    Raises
    ------
    ValueError
        If ``f`` has the wrong shape or ``gamma`` is not positive.
    """
    g = _check_gamma(gamma)
    f = _check_field(f, grid.n, "f")
    return g / (2 * grid.h**2) * (np.roll(f, -1) + np.roll(f, 1) - 2 * f)


def apply_reverse_fp(f: Any, p: Any, grid: PeriodicGrid, gamma: float = 1.0) -> np.ndarray:
    """Matrix-free :func:`reverse_fp_generator` (P.33) applied to ``f`` (shape (n,)), O(n).

    Raises
    ------
    ValueError
        If shapes mismatch, ``p`` is not strictly positive or ``gamma`` is not positive.
    """
    g = _check_gamma(gamma)
    f = _check_field(f, grid.n, "f")
    p = _check_field(p, grid.n, "p")
    if np.any(p <= 0):
        raise ValueError(f"reference density p must be strictly positive on the grid, min {p.min():.3e}")
    return _reverse_fp_rhs(f, p, g / (2 * grid.h**2))


def _reverse_fp_rhs(f: np.ndarray, p: np.ndarray, c: float) -> np.ndarray:
    pp, pm = np.roll(p, -1), np.roll(p, 1)
    fp, fm = np.roll(f, -1), np.roll(f, 1)
    return c * (p / pp * fp + p / pm * fm - (pp + pm) / p * f)


def continuum_reverse_fp(
    f: Any, df: Any, d2f: Any, score: Any, dscore: Any, gamma: float = 1.0
) -> np.ndarray:
    r"""Continuum reverse Fokker-Planck operator (P.30) from pointwise values.

    .. math::

        \mathcal B(f)=\frac\gamma2 f''-\gamma\,(f s)'=\frac\gamma2 f''-\gamma\,(f's+fs'),\qquad s=\partial_x\ln p.

    All inputs are arrays of the same shape (values at the same points).

    Raises
    ------
    ValueError
        If shapes differ or ``gamma`` is not positive.
    """
    g = _check_gamma(gamma)
    arrs = [as_array(a, nm) for a, nm in zip((f, df, d2f, score, dscore), ("f", "df", "d2f", "score", "dscore"))]
    if len({a.shape for a in arrs}) != 1:
        raise ValueError(f"f, df, d2f, score, dscore must share one shape, got {[a.shape for a in arrs]}")
    f, df, d2f, s, ds = arrs
    return 0.5 * g * d2f - g * (df * s + f * ds)


def heat_kernel(grid: PeriodicGrid, gamma: float, t: float) -> np.ndarray:
    r"""Periodic kernel :math:`K_t(r)` of the lattice heat equation, :math:`e^{t\,G}=\mathrm{circ}(K_t)`, shape (n,).

    On :math:`\mathbb Z` the kernel of :math:`\dot f_k=\tau'(f_{k+1}+f_{k-1}-2f_k)` is
    :math:`e^{-2\tau}I_r(2\tau)` with :math:`\tau=\gamma t/(2h^2)`; the periodic kernel sums its images,
    :math:`K_t(r)=\sum_j e^{-2\tau}I_{r+jn}(2\tau)`.  Hand-written (instead of ``expm`` or an FFT)
    because the sum of positive terms keeps *relative* accuracy in the far tails, where an FFT leaves
    additive round-off of size 1e-16 that can turn tiny reference densities negative.

    Raises
    ------
    ValueError
        If ``t < 0`` or ``gamma`` is not positive.
    """
    g = _check_gamma(gamma)
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"time must be non-negative and finite, got {t!r}")
    n = grid.n
    if t == 0:
        k = np.zeros(n)
        k[0] = 1.0
        return k
    z = 2.0 * g * t / (2 * grid.h**2)
    # ive(m, z) = e^{-z} I_m(z) decays like exp(-m^2 / 2z); 12 standard deviations is far below eps.
    reach = int(np.ceil(12.0 * np.sqrt(z) + 12.0))
    images = reach // n + 1
    m = np.arange(-images * n, (images + 1) * n)
    vals = ive(np.abs(m), z)
    return np.bincount(m % n, weights=vals, minlength=n)


def heat_evolve(f0: Any, grid: PeriodicGrid, gamma: float, t: float) -> np.ndarray:
    r"""Exact lattice heat evolution :math:`f(t)=e^{tG}f_0` (:func:`heat_generator`) by periodic convolution.

    .. math::

        f_k(t)=\sum_r K_t(r)\,f_{0,k-r}\qquad\text{(kernel from :func:`heat_kernel`)}.

    Parameters
    ----------
    f0 : array of shape (n,)

    Returns
    -------
    numpy.ndarray of shape (n,)

    Raises
    ------
    ValueError
        If shapes mismatch, ``t < 0`` or ``gamma`` is not positive.
    """
    f0 = _check_field(f0, grid.n, "f0")
    kern = heat_kernel(grid, gamma, t)
    n = grid.n
    idx = (np.arange(n)[:, None] - np.arange(n)[None, :]) % n  # circulant: C[k, j] = K(k - j)
    return kern[idx] @ f0


def _sparse_reverse(p: np.ndarray, c: float) -> sp.csr_matrix:
    n = p.size
    k = np.arange(n)
    kp, km = (k + 1) % n, (k - 1) % n
    rows = np.concatenate([k, k, k])
    cols = np.concatenate([kp, km, k])
    vals = c * np.concatenate([p / p[kp], p / p[km], -(p[kp] + p[km]) / p])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def backward_evolve(
    q_T: Any,
    p0: Any,
    grid: PeriodicGrid,
    gamma: float,
    T: float,
    *,
    t_end: float = 0.0,
    t_eval: Any = None,
    rtol: float = 1e-8,
    atol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Lattice Petz denoising flow: integrate :math:`dq/dt=-\mathcal B_{\sigma(t)}q` from ``T`` down to ``t_end``.

    The reference is the lattice heat evolution of ``p0``, :math:`\sigma(t)=e^{tG}p_0`
    (:func:`heat_evolve`), exactly as the quantum construction uses :math:`\sigma(t)=e^{t\mathcal L}\sigma(0)`,
    and :math:`\mathcal B` is (P.33).  With :math:`s=T-t`: :math:`dq/ds=\mathcal B_{\sigma(T-s)}q`.
    Started from ``q_T = heat_evolve(p0, T)`` the flow returns ``p0`` (exact recovery).  Integrated with
    scipy's implicit Radau method and the exact sparse Jacobian (the generator is stiff, ~gamma/h^2).

    Parameters
    ----------
    q_T : array of shape (n,)
        State at time ``T`` (density values; any normalisation, it is preserved).
    p0 : array of shape (n,)
        Strictly positive reference density at time 0.
    t_eval : sequence of float, optional
        Times in ``[t_end, T]`` at which to return the state (default: only ``t_end``).

    Returns
    -------
    (times, states) : arrays of shape (m,) and (m, n), times decreasing.

    Raises
    ------
    ValueError
        For bad shapes/parameters, a reference that underflows to zero, or solver failure (with its message).
    """
    g = _check_gamma(gamma)
    q_T = _check_field(q_T, grid.n, "q_T").astype(float)
    p0 = _check_field(p0, grid.n, "p0").astype(float)
    if np.any(p0 <= 0):
        raise ValueError(f"reference p0 must be strictly positive on the grid, min {p0.min():.3e}")
    if not (np.isfinite(T) and np.isfinite(t_end) and 0 <= t_end < T):
        raise ValueError(f"need 0 <= t_end < T, got t_end={t_end!r}, T={T!r}")
    c = g / (2 * grid.h**2)
    n = grid.n
    circ = (np.arange(n)[:, None] - np.arange(n)[None, :]) % n  # circulant index pattern, built once
    ref_cache: dict[float, np.ndarray] = {}

    def ref(t: float) -> np.ndarray:
        key = float(t)
        if key not in ref_cache:
            if len(ref_cache) > 64:
                ref_cache.clear()
            pt = heat_kernel(grid, g, max(key, 0.0))[circ] @ p0  # = heat_evolve(p0, grid, g, t)
            if np.any(pt <= 0):
                raise ValueError(f"reference density underflows to zero at t={key:.3g}; widen p0 or shrink box")
            ref_cache[key] = pt
        return ref_cache[key]

    def rhs(s: float, q: np.ndarray) -> np.ndarray:
        return _reverse_fp_rhs(q, ref(T - s), c)

    def jac(s: float, q: np.ndarray) -> sp.csr_matrix:
        return _sparse_reverse(ref(T - s), c)

    if t_eval is None:
        s_eval = np.array([T - t_end])
    else:
        te = np.atleast_1d(np.asarray(t_eval, dtype=float))
        if np.any(te < t_end) or np.any(te > T):
            raise ValueError(f"t_eval must lie in [t_end, T] = [{t_end}, {T}]")
        s_eval = np.sort(T - te)
    sol = solve_ivp(rhs, (0.0, T - t_end), q_T, method="Radau", jac=jac, t_eval=s_eval, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"backward lattice flow failed: {sol.message} (status {sol.status})")
    return T - sol.t, sol.y.T
