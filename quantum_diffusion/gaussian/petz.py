r"""Gaussian Petz recovery: the one-shot Petz / rotated Petz channel and the Petz, rotated and twirled generators.

Conventions: HHW covariances (vacuum = identity, xpxp), channels :math:`\gamma \mapsto X^T\gamma X + Y`,
generators :math:`\dot\gamma = K\gamma + \gamma K^T + D` (see :mod:`quantum_diffusion.conventions`).

Derivation (summary; the functions below state the formulas they implement)
---------------------------------------------------------------------------
**One-shot map.**  For a reference :math:`\sigma` with covariance :math:`V` and the canonical purification
:math:`\Phi_\sigma = (\sigma^{1/2}\otimes 1)|\Gamma\rangle\langle\Gamma|(\sigma^{1/2}\otimes 1)` (Fock basis), the
Petz map :math:`\mathcal P(Z) = \sigma^{1/2}\mathcal N^\dagger(\omega^{-1/2}Z\omega^{-1/2})\sigma^{1/2}`,
:math:`\omega = \mathcal N(\sigma)`, obeys the transpose-channel identity

.. math:: (\mathcal P\otimes\mathrm{id})(\Phi_\omega)
          = \mathrm{SWAP}\circ(T\otimes T)\big[(\mathcal N\otimes\mathrm{id})(\Phi_\sigma)\big],

with :math:`T` the Fock-basis transpose (phase-space time reversal :math:`\gamma\mapsto Z\gamma Z`,
:math:`Z = \oplus\,\mathrm{diag}(1, -1)`).  :math:`\Phi_V` is the pure Gaussian state with covariance
:math:`[[V, F_VZ], [ZF_V, ZVZ]]`, where

.. math:: F_V = S\,\big(\oplus_j\sqrt{\nu_j^2 - 1}\,I_2\big)\,S^T = \sqrt{1 + (V\Omega)^{-2}}\;V
          \qquad (V = S(\oplus_j\nu_jI_2)S^T \text{ Williamson}).

Matching the cross-correlation blocks of both sides gives (Lami, Das & Wilde, J. Phys. A 51, 125301 (2018),
written in the HHW/transposed convention of this package)

.. math:: X_P = F_W^{-1}X^TF_V,\qquad Y_P = V - X_P^TWX_P,\qquad W = X^TVX + Y,

and means map as :math:`d \mapsto X_P^T(d - X^Td_\sigma) + d_\sigma` (displacement covariance).
The rotated map :math:`\mathcal U_{\sigma,\theta/2}\circ\mathcal P\circ\mathcal U_{\omega,-\theta/2}` (JRSWW
convention, :math:`\mathcal U_{Y,a}(Z) = Y^{ia}ZY^{-ia}`) composes :math:`\mathcal P` with the Gaussian unitaries
:math:`\sigma^{ia}\,\cdot\,\sigma^{-ia}`; writing :math:`\sigma\propto e^{-R^TGR/2}` (the Gibbs matrix
:math:`G = S^{-T}(\oplus 2\,\mathrm{arccoth}\,\nu_j)S^{-1} = J_{\rm BKM}`), that unitary is the channel
:math:`X = e^{-aG\Omega}, Y = 0`.

**Generators.**  All matrix functions above are functions of :math:`V\Omega = E\Lambda E^{-1}`, diagonalisable with
:math:`\Lambda = \mathrm{diag}(\pm i\nu_j)` and :math:`E = S\,(\oplus_j [[1, 1], [i, -i]]/\sqrt2)`.  Apply the one-shot
map to :math:`X = e^{dt K^T}, Y = dt\,D` at the reference :math:`V`, :math:`W = V + dt\,\dot V`,
:math:`\dot V = KV + VK^T + D`, and expand with the Daleckii-Krein formula
:math:`Df(V\Omega)[H] = E\,(f^{[1]}(\lambda_i, \lambda_j)\circ E^{-1}HE)\,E^{-1}`.
With
:math:`\tilde K = E^{-1}KE`, :math:`\tilde H = E^{-1}\dot V\Omega E`, :math:`\varphi(\lambda) = \lambda\sqrt{1 +
\lambda^{-2}}` (:math:`\varphi(\pm i\nu) = \pm i\sqrt{\nu^2-1}`) and
:math:`\kappa(\pm i\nu) = \pm\mathrm{arccoth}\,\nu`,
the one-step map is :math:`\Omega X^\theta\Omega^T = I + dt\,E\tilde BE^{-1}` with

.. math::
    \tilde A_{ij} = \tilde K_{ij}\frac{\varphi_j}{\varphi_i} - \frac{\varphi^{[1]}_{ij}\tilde H_{ij}}{\varphi_i},
    \qquad
    \tilde B_{ij} = g(\kappa_i - \kappa_j)\,\tilde A_{ij} + \frac{g(\kappa_i - \kappa_j) - 1}{\lambda_i - \lambda_j}
    \,\tilde H_{ij},

:math:`g(x) = e^{i\theta x}` for the rotated map (:math:`g \equiv 1`: Petz), and, because the generator is linear in
the one-step map, :math:`g(x) = \int\beta_0(\theta)e^{i\theta x}d\theta = x/\sinh x` for the twirled generator
(:math:`\beta_0` the logistic density of the twirl, the same as in :mod:`quantum_diffusion.petz`).  For
:math:`\lambda_i = \lambda_j` the second fraction is its limit :math:`g'(0)\,\kappa'(\lambda_i)`.  Then

.. math:: K_b = (\Omega^T B\,\Omega)^T,\qquad D_b = -(K_bV + VK_b^T) - \dot V,

in the orientation of :func:`~quantum_diffusion.gaussian.bayes_reverse` with ``orientation="reverse"``
(generator of the backward flow run forward in :math:`s = T - t`), so that
:math:`K_bV + VK_b^T + D_b = -\dot V` exactly.  Complete positivity of :math:`(K_b, D_b)` is inherited from the
one-step maps (limits of CP maps; the twirled one is an average of CP generators).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

from ..typing import CovarianceLike, GaussianPetzKind
from .channels import GaussianChannel, GaussianGenerator
from .states import check_covariance, symplectic_form, williamson

__all__ = ["gaussian_petz_map", "petz_backward_generator", "petz_backward_mean_rhs"]

_KINDS = ("petz", "rotated", "twirled")
_U2 = np.array([[1.0, 1.0], [1j, -1j]]) / np.sqrt(2.0)


class _Frame:
    r"""Eigen-frame of :math:`V\Omega` built from the Williamson form (no general eigensolver)."""

    def __init__(self, v: np.ndarray, name: str) -> None:
        nu, s = williamson(v)
        if np.any(nu <= 1.0 + 1e-12):
            raise ValueError(
                f"{name} must be a faithful (full-rank) Gaussian state, all symplectic eigenvalues > 1; "
                f"got min nu = {np.min(nu):.15g} (the Petz map needs the inverse square root of the reference)"
            )
        n = nu.size
        om = symplectic_form(n)
        s_inv = om @ s.T @ om.T  # S Omega S^T = Omega  =>  S^{-1} = Omega S^T Omega^T
        u = block_diag(*([_U2] * n))
        self.nu, self.s, self.s_inv, self.om = nu, s, s_inv, om
        self.e = s @ u
        self.e_inv = u.conj().T @ s_inv
        self.sign = np.tile([1.0, -1.0], n)
        self.nu2 = np.repeat(nu, 2)
        self.lam = 1j * self.sign * self.nu2
        self.phi = 1j * self.sign * np.sqrt((self.nu2 - 1.0) * (self.nu2 + 1.0))
        self.kappa = self.sign * np.arctanh(1.0 / self.nu2)

    def f_matrix(self) -> np.ndarray:
        r""":math:`F_V = S\,\mathrm{diag}(\sqrt{\nu^2-1})\,S^T`."""
        root = np.sqrt((self.nu2 - 1.0) * (self.nu2 + 1.0))
        return (self.s * root) @ self.s.T

    def f_inverse(self) -> np.ndarray:
        root = np.sqrt((self.nu2 - 1.0) * (self.nu2 + 1.0))
        return (self.s_inv.T / root) @ self.s_inv

    def rotation(self, theta: float) -> np.ndarray:
        r""":math:`e^{\theta\,G\Omega/2}` (real), the mean map of :math:`\mathcal U_{\sigma,-\theta/2}`."""
        k = np.exp(1j * theta * self.kappa)
        m = (self.e * k) @ self.e_inv  # k(V Omega) = e^{theta Omega G / 2}
        return np.real(self.om.T @ m @ self.om)

    def pair(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Divided differences of phi and kappa, lambda_i - lambda_j, and the same-eigenvalue mask."""
        a = self.nu2[:, None]
        b = self.nu2[None, :]
        same = self.sign[:, None] == self.sign[None, :]
        ra = np.sqrt((a - 1.0) * (a + 1.0))
        rb = np.sqrt((b - 1.0) * (b + 1.0))
        # phi(i s a) = i s sqrt(a^2 - 1): cancellation-free divided differences
        dphi = np.where(same, (a + b) / (ra + rb), (ra + rb) / (a + b))
        dlam = self.lam[:, None] - self.lam[None, :]
        # kappa(i s a) = s arccoth(a); same sign: (arccoth a - arccoth b) / (i (a - b)) written without cancellation
        u = (a - b) / (a * b - 1.0)
        small = np.abs(u) < 1e-8
        atanh_ratio = np.where(small, 1.0 + u * u / 3.0, np.arctanh(np.where(small, 0.5, u)) / np.where(small, 1.0, u))
        dkappa_same = -atanh_ratio / (a * b - 1.0) / 1j
        with np.errstate(divide="ignore", invalid="ignore"):
            dkappa_opp = (self.kappa[:, None] - self.kappa[None, :]) / dlam
        dkappa = np.where(same, dkappa_same, dkappa_opp)
        return dphi, dkappa, dlam, same


def _check_theta(kind: str, theta: float, allowed: tuple[str, ...]) -> float:
    if kind not in allowed:
        raise ValueError(f"kind must be one of {allowed}, got {kind!r}")
    if isinstance(theta, (str, bytes, bool)):  # float('0') converts, but a string is not an angle
        raise TypeError(f"theta must be a finite real number, got {theta!r}")
    try:
        theta = float(theta)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"theta must be a finite real number, got {theta!r}") from exc
    if not np.isfinite(theta):
        raise ValueError(f"theta must be finite, got {theta!r}")
    if kind != "rotated" and theta != 0.0:
        raise ValueError(f"theta={theta} is only meaningful for kind='rotated' (got kind={kind!r})")
    return theta


def gaussian_petz_map(
    channel: GaussianChannel,
    gamma_ref: CovarianceLike,
    *,
    kind: GaussianPetzKind = "petz",
    theta: float = 0.0,
) -> GaussianChannel:
    r"""One-shot Petz (or rotated Petz) recovery channel of a Gaussian channel at a Gaussian reference.

    .. math:: \mathcal P^{\theta}_{\sigma,\mathcal N} = \mathcal U_{\sigma,\theta/2}\circ\mathcal P_{\sigma,\mathcal N}
              \circ\mathcal U_{\mathcal N(\sigma),-\theta/2},\qquad
              \mathcal P_{\sigma,\mathcal N}(Z) = \sigma^{1/2}\mathcal N^\dagger\big(\mathcal N(\sigma)^{-1/2}Z
              \mathcal N(\sigma)^{-1/2}\big)\sigma^{1/2},

    is the Gaussian channel (covariance-level action :math:`\gamma\mapsto X_P^T\gamma X_P + Y_P`)

    .. math:: X_P = e^{\theta G_W\Omega/2}\,F_W^{-1}X^TF_V\,e^{-\theta G_V\Omega/2},\qquad
              Y_P = V - X_P^TWX_P,\qquad W = X^TVX + Y,

    with :math:`F_V = \sqrt{1 + (V\Omega)^{-2}}\,V` and the Gibbs matrix :math:`G_V` (:math:`\sigma\propto
    e^{-R^TG_VR/2}`); derivation in the module docstring (Lami, Das & Wilde 2018).  It maps :math:`W` to
    :math:`V` exactly.  For a displaced reference (mean :math:`d_\sigma`) the covariance action is the same and
    means map as :math:`d\mapsto X_P^T(d - X^Td_\sigma) + d_\sigma`.  The twirled one-shot map (a
    :math:`\theta`-average of Gaussian channels) is not Gaussian and is not offered here; the twirled *generator*
    is (:func:`petz_backward_generator`).

    Parameters
    ----------
    channel : GaussianChannel
        Forward channel ``(X, Y)`` on ``n`` modes.
    gamma_ref : array_like, shape (2n, 2n)
        Reference covariance :math:`V` (HHW); the output :math:`W` must be faithful (all :math:`\nu > 1`).
    kind : {"petz", "rotated"}
        Plain or rotated Petz map.
    theta : float
        Rotation angle (``kind="rotated"`` only).

    Returns
    -------
    GaussianChannel
        :math:`(X_P, Y_P)`.

    Raises
    ------
    TypeError
        If ``channel`` is not a :class:`GaussianChannel`.
    ValueError
        If ``gamma_ref`` is not a physical covariance of ``n`` modes, the reference or its image is not
        faithful, ``kind`` is unknown, or ``theta`` is not finite (or non-zero for ``kind="petz"``).

    Examples
    --------
    >>> import numpy as np
    >>> from quantum_diffusion.gaussian import attenuator
    >>> ch = attenuator().channel(0.3)
    >>> rec = gaussian_petz_map(ch, 2.0 * np.eye(2))
    >>> bool(np.allclose(rec.apply(ch.apply(2.0 * np.eye(2))), 2.0 * np.eye(2)))
    True
    """
    if not isinstance(channel, GaussianChannel):
        raise TypeError(f"channel must be a GaussianChannel, got {type(channel).__name__}")
    theta = _check_theta(kind, theta, ("petz", "rotated"))
    v = check_covariance(gamma_ref, "gamma_ref", n_modes=channel.n_modes)
    w = channel.apply(v)
    fv = _Frame(v, "gamma_ref")
    fw = _Frame(w, "the image channel(gamma_ref)")
    x_p = fw.f_inverse() @ channel.X.T @ fv.f_matrix()
    if kind == "rotated" and theta != 0.0:
        x_p = fw.rotation(theta) @ x_p @ fv.rotation(-theta)
    y_p = v - x_p.T @ w @ x_p
    return GaussianChannel(x_p, 0.5 * (y_p + y_p.T))


def _g_and_slope(kind: str, theta: float, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``g(x)`` and ``(g(x) - 1) / x`` (with its limit ``g'(0)`` at ``x = 0``)."""
    if kind == "petz":
        return np.ones_like(x, dtype=complex), np.zeros_like(x, dtype=complex)
    small = np.abs(x) < 1e-6
    if kind == "rotated":
        # series (i theta)(1 + i theta x / 2) where |theta x| is small (not |x|: large theta), no theta**2 overflow
        small = np.abs(theta * x) < 1e-6
        xs = np.where(small, 1.0, x)
        g = np.exp(1j * theta * x)
        slope = np.where(small, 1j * theta * (1.0 + 0.5j * theta * x), np.expm1(1j * theta * xs) / xs)
        return g, slope
    xs = np.where(small, 1.0, x)
    # twirled: g(x) = int beta_0(theta) e^{i theta x} d theta = x / sinh x (characteristic function, P.4)
    g = np.where(small, 1.0 - x * x / 6.0, xs / np.sinh(xs))
    slope = np.where(small, -x / 6.0 + 7.0 * x**3 / 360.0, (g - 1.0) / xs)
    return g.astype(complex), slope.astype(complex)


def petz_backward_generator(
    forward: GaussianGenerator,
    gamma_ref: CovarianceLike,
    *,
    kind: GaussianPetzKind = "petz",
    theta: float = 0.0,
) -> GaussianGenerator:
    r"""Petz, rotated or twirled backward generator of a Gaussian semigroup, as a Gaussian generator (K_b, D_b).

    The one-step recovery :math:`\mathcal P^{(\rm kind)}_{\sigma(t), e^{dt\mathcal L}} = \mathrm{id} +
    dt\,\mathcal B_t + O(dt^2)` of :func:`gaussian_petz_map` (twirled: its :math:`\beta_0(\theta)`-average) acts on
    covariances as :math:`\gamma \mapsto \gamma + dt\,(K_b\gamma + \gamma K_b^T + D_b)` with, in the eigen-frame
    :math:`V\Omega = E\Lambda E^{-1}` of the reference (module docstring for the derivation),

    .. math::
        \tilde A_{ij} = \tilde K_{ij}\frac{\varphi_j}{\varphi_i} - \frac{\varphi^{[1]}_{ij}\tilde H_{ij}}{\varphi_i},
        \quad
        \tilde B_{ij} = g(\kappa_i - \kappa_j)\tilde A_{ij} + \frac{g(\kappa_i-\kappa_j) - 1}{\lambda_i-\lambda_j}
        \tilde H_{ij},\quad
        K_b = (\Omega^TE\tilde BE^{-1}\Omega)^T,\quad D_b = -(K_bV + VK_b^T) - \dot V,

    :math:`\tilde K = E^{-1}KE`, :math:`\tilde H = E^{-1}\dot V\Omega E`, :math:`\dot V = KV + VK^T + D`,
    :math:`\lambda = \pm i\nu`, :math:`\varphi(\pm i\nu) = \pm i\sqrt{\nu^2 - 1}`,
    :math:`\kappa(\pm i\nu) = \pm\mathrm{arccoth}\,\nu`, and :math:`g \equiv 1` (``"petz"``),
    :math:`g(x) = e^{i\theta x}` (``"rotated"``, JRSWW convention as in :func:`quantum_diffusion.petz.petz_generator`),
    :math:`g(x) = x/\sinh x` (``"twirled"``, the characteristic function of the twirl density).

    Orientation: that of ``bayes_reverse(..., orientation="reverse")``, the generator of the backward flow run
    forward in :math:`s = T - t`, so :math:`K_bV + VK_b^T + D_b = -(KV + VK^T + D)` and
    :math:`(K_b, D_b)` is CP (``cp_matrix()`` PSD).  The covariance part does not depend on the reference mean
    :math:`d_\sigma`; means follow :func:`petz_backward_mean_rhs`.  Any number of modes.

    Parameters
    ----------
    forward : GaussianGenerator
        Forward generator ``(K, D)`` on ``n`` modes.
    gamma_ref : array_like, shape (2n, 2n)
        Running reference covariance :math:`V = \sigma(t)`, faithful (all symplectic eigenvalues > 1).
    kind : {"petz", "rotated", "twirled"}
        Backward generator family.
    theta : float
        Rotation angle (``kind="rotated"`` only).

    Returns
    -------
    GaussianGenerator
        :math:`(K_b, D_b)`.

    Raises
    ------
    TypeError
        If ``forward`` is not a :class:`GaussianGenerator`.
    ValueError
        If ``gamma_ref`` has the wrong shape, is not a physical or not a faithful covariance, ``kind`` is
        unknown, or ``theta`` is not finite (or non-zero for ``kind != "rotated"``).

    Examples
    --------
    >>> import numpy as np
    >>> from quantum_diffusion.gaussian import attenuator, squeezed_thermal
    >>> gen, v = attenuator(), squeezed_thermal(2.0, 0.8)
    >>> back = petz_backward_generator(gen, v)
    >>> bool(np.allclose(back.rhs(v), -gen.rhs(v))), back.is_cp()
    (True, True)
    """
    if not isinstance(forward, GaussianGenerator):
        raise TypeError(f"forward must be a GaussianGenerator, got {type(forward).__name__}")
    theta = _check_theta(kind, theta, _KINDS)
    v = check_covariance(gamma_ref, "gamma_ref", n_modes=forward.n_modes)
    fr = _Frame(v, "gamma_ref")
    vdot = forward.rhs(v)
    k_t = fr.e_inv @ forward.K @ fr.e
    h_t = fr.e_inv @ (vdot @ fr.om) @ fr.e
    dphi, dkappa, dlam, same = fr.pair()
    a_t = k_t * (fr.phi[None, :] / fr.phi[:, None]) - dphi * h_t / fr.phi[:, None]
    dk = fr.kappa[:, None] - fr.kappa[None, :]
    g, slope = _g_and_slope(kind, theta, dk)
    # (g(dk) - 1) / dlam = slope(dk) * dk / dlam, with dk / dlam the divided difference of kappa
    b_t = g * a_t + slope * dkappa * h_t
    b = fr.e @ b_t @ fr.e_inv
    k_b = (fr.om.T @ b @ fr.om).T
    if np.max(np.abs(k_b.imag)) > 1e-8 * max(1.0, float(np.max(np.abs(k_b.real)))):
        raise RuntimeError(f"internal error: complex backward drift (max |Im K_b| = {np.max(np.abs(k_b.imag)):.2e})")
    k_b = np.real(k_b)
    d_b = -(k_b @ v + v @ k_b.T) - vdot
    return GaussianGenerator(k_b, 0.5 * (d_b + d_b.T))


def petz_backward_mean_rhs(
    forward: GaussianGenerator,
    backward: GaussianGenerator,
    mean: np.ndarray,
    mean_ref: np.ndarray,
) -> np.ndarray:
    r"""Mean velocity of the backward flow for a displaced reference, shape (2n,).

    Displacement covariance of the Petz map (:func:`gaussian_petz_map`) gives, in the orientation of
    :func:`petz_backward_generator` (reference mean :math:`d_\sigma(t)`, :math:`\dot d_\sigma = Kd_\sigma`),

    .. math:: \frac{dd}{ds} = K_b\,(d - d_\sigma) - K\,d_\sigma,

    so that :math:`d = d_\sigma(t)` is retraced exactly.

    Parameters
    ----------
    forward, backward : GaussianGenerator
        Forward generator and its backward generator on ``n`` modes.
    mean, mean_ref : array_like, shape (2n,)
        Current mean and reference mean.

    Returns
    -------
    numpy.ndarray, shape (2n,)

    Raises
    ------
    ValueError
        If the shapes disagree or an entry is not finite.
    """
    dim = 2 * forward.n_modes
    if backward.n_modes != forward.n_modes:
        raise ValueError(f"forward has {forward.n_modes} modes, backward {backward.n_modes}")
    d = np.asarray(mean, dtype=float).reshape(-1)
    d_ref = np.asarray(mean_ref, dtype=float).reshape(-1)
    for arr, name in ((d, "mean"), (d_ref, "mean_ref")):
        if arr.shape != (dim,) or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be a finite vector of shape ({dim},), got shape {arr.shape}")
    return backward.K @ (d - d_ref) - forward.K @ d_ref
