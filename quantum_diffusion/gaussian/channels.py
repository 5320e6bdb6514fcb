r"""Gaussian channels ``(X, Y)`` and covariance generators ``(K, D)`` in HHW conventions.

A channel maps :math:`\gamma \mapsto X^T\gamma X + Y` (and means :math:`d \mapsto X^T d`); a generator
evolves :math:`\dot\gamma = K\gamma + \gamma K^T + D`.  See :mod:`quantum_diffusion.conventions`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import expm

from ..linalg import hermitian_part
from .states import check_covariance, n_modes_of, real_matrix
from .states import symplectic_form as omega

__all__ = ["GaussianChannel", "GaussianGenerator", "attenuator", "cp_matrix_min_eig"]


def _check_pair(a: Any, b: Any, names: tuple[str, str], symmetric_b: bool = True) -> tuple[np.ndarray, ...]:
    a_arr = real_matrix(a, names[0])
    b_arr = real_matrix(b, names[1])
    n_modes_of(a_arr, names[0])
    if b_arr.shape != a_arr.shape:
        raise ValueError(f"{names[1]} must have shape {a_arr.shape} like {names[0]}, got {b_arr.shape}")
    if symmetric_b:
        scale = max(1.0, float(np.max(np.abs(b_arr))))
        asym = float(np.max(np.abs(b_arr - b_arr.T)))
        if asym > 1e-10 * scale:
            raise ValueError(f"{names[1]} must be symmetric: max |{names[1]} - {names[1]}^T| = {asym:.3e}")
        b_arr = hermitian_part(b_arr)
    return a_arr, b_arr


def cp_matrix_min_eig(m: np.ndarray) -> float:
    """Smallest eigenvalue of a Hermitian CP matrix (symmetrised against round-off)."""
    return float(np.linalg.eigvalsh(hermitian_part(m))[0])


@dataclass(frozen=True)
class GaussianChannel:
    r"""Centred Gaussian channel acting as :math:`\gamma \mapsto X^T\gamma X + Y` (HHW).

    On Weyl operators :math:`W_\xi \mapsto W_{X\xi}\, e^{-\xi^T Y\xi/4}`; see
    :mod:`quantum_diffusion.conventions`.  It is completely positive iff

    .. math:: Y + i\Omega - iX^T\Omega X \succeq 0.

    Parameters
    ----------
    X, Y : ndarray, shape (2n, 2n)
        Real matrices, ``Y`` symmetric.

    Raises
    ------
    ValueError
        On NaN, complex entries, odd or mismatched shapes, or a non-symmetric ``Y``.
    """

    X: np.ndarray
    Y: np.ndarray

    def __post_init__(self) -> None:
        """Validate and store ``X`` and ``Y`` as real float arrays."""
        x, y = _check_pair(self.X, self.Y, ("X", "Y"))
        object.__setattr__(self, "X", x)
        object.__setattr__(self, "Y", y)

    @property
    def n_modes(self) -> int:
        """Number of modes ``n``."""
        return self.X.shape[0] // 2

    def apply(self, gamma: Any, d: ArrayLike | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        r"""Output covariance :math:`X^T\gamma X + Y` (and mean :math:`X^T d` when ``d`` is given).

        Raises
        ------
        ValueError
            If ``gamma`` is not a physical covariance of ``n`` modes.
        """
        g = check_covariance(gamma, n_modes=self.n_modes)
        out = self.X.T @ g @ self.X + self.Y
        if d is None:
            return out
        return out, self.X.T @ np.asarray(d, dtype=float)

    def cp_matrix(self) -> np.ndarray:
        r"""Hermitian matrix :math:`Y + i\Omega - iX^T\Omega X`, shape (2n, 2n)."""
        om = omega(self.n_modes)
        return self.Y + 1j * (om - self.X.T @ om @ self.X)

    def is_cp(self, atol: float = 1e-10) -> bool:
        """Return True iff the smallest eigenvalue of :meth:`cp_matrix` is ``>= -atol``."""
        return cp_matrix_min_eig(self.cp_matrix()) >= -atol

    def then(self, other: GaussianChannel) -> GaussianChannel:
        r"""Compose "``self`` first, then ``other``".

        The result is :math:`(X_1X_2,\ X_2^T Y_1 X_2 + Y_2)`.

        Raises
        ------
        ValueError
            If the numbers of modes differ.
        """
        if other.n_modes != self.n_modes:
            raise ValueError(f"cannot compose channels on {self.n_modes} and {other.n_modes} modes")
        return GaussianChannel(self.X @ other.X, other.X.T @ self.Y @ other.X + other.Y)


@dataclass(frozen=True)
class GaussianGenerator:
    r"""Covariance generator :math:`\dot\gamma = K\gamma + \gamma K^T + D` (HHW).

    The semigroup is :math:`X_t = e^{tK^T}`, :math:`Y_t = \int_0^t e^{sK}De^{sK^T}ds`; it is CP for all
    :math:`t \ge 0` iff the generator CP matrix is positive semidefinite,

    .. math:: M(K, D) = D + i(K\Omega + \Omega K^T) \succeq 0.

    See :mod:`quantum_diffusion.conventions`.

    Parameters
    ----------
    K : ndarray, shape (2n, 2n)
        Real drift matrix.
    D : ndarray, shape (2n, 2n)
        Real symmetric diffusion matrix.

    Raises
    ------
    ValueError
        On NaN, complex entries, odd or mismatched shapes, or a non-symmetric ``D``.
    """

    K: np.ndarray
    D: np.ndarray

    def __post_init__(self) -> None:
        """Validate and store ``K`` and ``D`` as real float arrays."""
        k, d = _check_pair(self.K, self.D, ("K", "D"))
        object.__setattr__(self, "K", k)
        object.__setattr__(self, "D", d)

    @property
    def n_modes(self) -> int:
        """Number of modes ``n``."""
        return self.K.shape[0] // 2

    def cp_matrix(self) -> np.ndarray:
        r"""Hermitian generator CP matrix :math:`D + i(K\Omega + \Omega K^T)`, shape (2n, 2n)."""
        om = omega(self.n_modes)
        return self.D + 1j * (self.K @ om + om @ self.K.T)

    def is_cp(self, atol: float = 1e-10) -> bool:
        """Return True iff the smallest eigenvalue of :meth:`cp_matrix` is ``>= -atol``."""
        return cp_matrix_min_eig(self.cp_matrix()) >= -atol

    def rhs(self, gamma: np.ndarray) -> np.ndarray:
        r"""Right-hand side :math:`K\gamma + \gamma K^T + D`."""
        return self.K @ gamma + gamma @ self.K.T + self.D

    def channel(self, t: float) -> GaussianChannel:
        r"""Exact channel :math:`(X_t, Y_t)` at time ``t``.

        :math:`Y_t` comes from one matrix exponential (Van Loan): with
        :math:`B = [[K, D], [0, -K^T]]`, :math:`e^{tB} = [[e^{tK}, F], [0, e^{-tK^T}]]` and
        :math:`Y_t = F e^{tK^T}`.  Valid for singular ``K``.

        Raises
        ------
        ValueError
            If ``t`` is negative or not finite.
        """
        t = float(t)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"time t must be finite and >= 0, got {t!r}")
        # e^{tB} overflows once t |K| ~ 700 even for a contracting channel: split t into 2^k steps of norm <= 20
        # and compose (the semigroup law (X_s, Y_s)(X_s, Y_s) = (X_2s, Y_2s), exact and stable)
        tk = t * np.linalg.norm(self.K, 1)
        if not np.isfinite(tk) or tk > 1e300:
            raise ValueError(f"time t = {t!r} times |K| = {np.linalg.norm(self.K, 1):.3g} overflows float")
        k = int(np.ceil(np.log2(tk / 20.0))) if tk > 20 else 0
        if k > 0:
            ch = self.channel(t / 2.0**k)
            for _ in range(k):
                ch = ch.then(ch)
            return ch
        m = self.K.shape[0]
        big = np.zeros((2 * m, 2 * m))
        big[:m, :m] = self.K
        big[:m, m:] = self.D
        big[m:, m:] = -self.K.T
        e = expm(t * big)
        x = e[:m, :m].T
        y = e[:m, m:] @ x
        return GaussianChannel(x, 0.5 * (y + y.T))

    def evolve(self, gamma: Any, t: float) -> np.ndarray:
        """Covariance at time ``t``: ``channel(t).apply(gamma)``."""
        return self.channel(t).apply(gamma)

    def reversed_sign(self) -> GaussianGenerator:
        r"""Return the generator :math:`(-K, D)`; by the sign-flip lemma :math:`M(-K, D) = \overline{M(K, D)}`."""
        return GaussianGenerator(-self.K, self.D)

    @classmethod
    def from_lindblad(
        cls, h_matrix: ArrayLike | None, jump_vectors: ArrayLike | None, n_modes: int | None = None
    ) -> GaussianGenerator:
        r"""Covariance generator of a quadratic GKLS equation (the GKLS dictionary).

        For :math:`H = \tfrac12 R^T H_m R` and jump operators :math:`L_j = c_j^T R` (unit rates,
        :math:`\dot\rho = -i[H,\rho] + \sum_j L_j\rho L_j^\dagger - \tfrac12\{L_j^\dagger L_j, \rho\}`),
        with :math:`C = \sum_j c_j c_j^\dagger`,

        .. math:: K = \Omega(H_m - \mathrm{Im}\,C),\qquad D = 2\,\Omega(\mathrm{Re}\,C)\Omega^T,
                  \qquad M(K, D) = 2\,\Omega C\Omega^T \succeq 0.

        Quadratures ``R = (Q_1, P_1, ...)`` with ``[Q, P] = i``, e.g. ``a = (Q + iP)/sqrt(2)`` has
        ``c = (1, i)/sqrt(2)``; a rate ``kappa_j`` is absorbed as ``c_j -> sqrt(kappa_j) c_j``.
        See :mod:`quantum_diffusion.conventions`.

        Parameters
        ----------
        h_matrix : array_like, shape (2n, 2n) or None
            Real symmetric Hamiltonian matrix (``None``: no Hamiltonian).
        jump_vectors : array_like, shape (m, 2n) or (2n,) or None
            Complex coefficient vectors ``c_j`` as rows.
        n_modes : int, optional
            Needed only when both other arguments are None.

        Raises
        ------
        ValueError
            On NaN, wrong shapes, or a non-symmetric / complex ``h_matrix``.
        """
        dim = None
        if h_matrix is not None:
            hm = real_matrix(h_matrix, "h_matrix")
            n_modes_of(hm, "h_matrix")
            if np.max(np.abs(hm - hm.T)) > 1e-10 * max(1.0, np.max(np.abs(hm))):
                raise ValueError("h_matrix must be symmetric")
            dim = hm.shape[0]
        if jump_vectors is not None:
            c = np.atleast_2d(np.asarray(jump_vectors, dtype=complex))
            if c.ndim != 2 or not np.all(np.isfinite(c)):
                raise ValueError("jump_vectors must be a finite array of shape (m, 2n)")
            if dim is not None and c.shape[1] != dim:
                raise ValueError(f"jump_vectors must have {dim} columns, got shape {c.shape}")
            if c.shape[1] % 2:
                raise ValueError(f"jump_vectors must have an even number 2n of columns, got {c.shape}")
            dim = c.shape[1]
        if n_modes is not None and (isinstance(n_modes, bool) or not isinstance(n_modes, (int, np.integer))
                                    or n_modes < 1):
            raise ValueError(f"n_modes must be a positive integer, got {n_modes!r}")
        if dim is None:
            if n_modes is None:
                raise ValueError("give h_matrix, jump_vectors or n_modes")
            dim = 2 * int(n_modes)
        if n_modes is not None and dim != 2 * int(n_modes):
            raise ValueError(f"n_modes={n_modes} does not match phase-space dimension {dim}")
        hm = np.zeros((dim, dim)) if h_matrix is None else hm
        cmat = np.zeros((dim, dim), dtype=complex)
        if jump_vectors is not None:
            cmat = c.T @ c.conj()  # sum_j c_j c_j^dagger
        om = omega(dim // 2)
        k = om @ (hm - cmat.imag)
        d = 2.0 * om @ cmat.real @ om.T
        return cls(k, 0.5 * (d + d.T))


def attenuator(rate: float = 1.0, n_modes: int = 1) -> GaussianGenerator:
    r"""Quantum-limited attenuator (pure loss) on each of ``n_modes`` modes.

    .. math:: \mathcal L\rho = \kappa\big(a\rho a^\dagger - \tfrac12\{a^\dagger a, \rho\}\big)
              \iff K = -\tfrac{\kappa}{2} I,\ D = \kappa I,

    so :math:`X_t = e^{-\kappa t/2} I`, :math:`Y_t = (1 - e^{-\kappa t}) I` (strawberryfields
    ``LossChannel(exp(-kappa t))``).  See :mod:`quantum_diffusion.conventions`.

    Raises
    ------
    ValueError
        If ``rate`` is negative or not finite, or ``n_modes < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> ch = attenuator().channel(np.log(2.0))  # transmissivity 1/2
    >>> np.round(ch.apply(3.0 * np.eye(2)), 12)  # thermal nu = 3 -> (3 + 1)/2 = 2
    array([[2., 0.],
           [0., 2.]])
    >>> ch.is_cp()
    True
    """
    # a string such as '0' converts with float() but is not a rate: refuse non-numbers before converting
    if isinstance(rate, (str, bytes, bool)) or not isinstance(rate, (numbers.Real, np.ndarray)):
        raise TypeError(f"loss rate must be a real number, got {rate!r}")
    try:
        rate_f = float(rate)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"loss rate must be a real number, got {rate!r}") from exc
    if not np.isfinite(rate_f) or rate_f < 0:
        raise ValueError(f"loss rate must be finite and >= 0, got {rate!r}")
    rate = rate_f
    if isinstance(n_modes, bool) or not isinstance(n_modes, (int, np.integer)) or n_modes < 1:
        raise ValueError(f"n_modes must be a positive integer, got {n_modes!r}")
    eye = np.eye(2 * int(n_modes))
    return GaussianGenerator(-0.5 * rate * eye, rate * eye)
