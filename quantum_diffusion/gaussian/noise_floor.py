r"""Decoder irreversibility and the Theorem-2 noise floor (n modes; default forward: pure loss), both sides reported.

The decoder runs the repaired score-lift in reverse time from :math:`\Sigma_T`: drift
:math:`-(K + D\Sigma_t^{-1})`, diffusion :math:`D + \Delta D^*_t` with the BKM-weighted minimal repair
:math:`\Delta D^*_t` of :math:`M^{\rm Bayes}_t`.  Its irreversibility is the entropy injected by the repair
(de Bruijn identity),

.. math:: \mathcal I_{\rm dec}[\rho_0; T] = \int_0^T \tfrac14\,\mathrm{tr}\big[J_{\rm BKM}(\Sigma_t)\,
          \Delta D^*_t\big]\,dt,

and the reconstructed Theorem 2 reads :math:`-2\ln F_{\rm wc} \ge c_{\rm geom}(\nu_{\min})\,
\mathcal I^{\rm wc}_{\rm dec}`.  That reconstruction is **not** a theorem here: for mixed targets
:math:`-2\ln F` is quadratic in the injected noise while :math:`\mathcal I_{\rm dec}` is linear, so it fails at
small depth.  This module computes both sides and never forces the inequality.

Any number of modes: one mode and products (a block-diagonal forward generator and target, which stay products)
use the closed-form repair mode by mode and adaptive quadrature, so the n-mode value is the sum of the one-mode
values; correlated references use the repair SDP at the nodes of a fixed Gauss-Legendre rule (``n_nodes``) and,
in the decoder ODE, at every right-hand-side evaluation.
Conventions: HHW (see :mod:`quantum_diffusion.conventions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import quad, solve_ivp
from scipy.linalg import expm

from .._threads import small_blas
from .channels import GaussianGenerator, attenuator
from .repair import RepairProblem, minimal_repair, repair_closed_form_core
from .reverse_cost import product_blocks
from .states import bkm_fisher, c_geom, check_covariance, fidelity_squared, symplectic_eigenvalues, symplectic_form

__all__ = [
    "repaired_diffusion",
    "repair_rate",
    "decoder_irreversibility",
    "decoder_irreversibility_curve",
    "decoder_output",
    "NoiseFloorResult",
    "noise_floor",
    "noise_floor_curve",
]


def _check_t(T: float) -> float:
    T = float(T)
    if not np.isfinite(T) or T <= 0:
        raise ValueError(f"depth T must be finite and > 0, got {T!r}")
    return T


def _forward(generator: GaussianGenerator | None, n_modes: int) -> GaussianGenerator:
    gen = attenuator(1.0, n_modes) if generator is None else generator
    if not isinstance(gen, GaussianGenerator):
        raise TypeError(f"generator must be a GaussianGenerator, got {type(gen).__name__}")
    if gen.n_modes != n_modes:
        raise ValueError(f"generator acts on {gen.n_modes} mode(s) but the covariance has {n_modes}")
    return gen


def _is_product_generator(gen: GaussianGenerator) -> bool:
    return product_blocks(gen.K) is not None and product_blocks(gen.D) is not None


class _Path:
    r"""Forward marginal of an n-mode generator and the BKM-weighted minimal repair along it.

    Hand-written hot loop (no validation per call): the ODE and quadrature below evaluate it thousands of times.
    One mode, and products of one-mode generators and references (which stay products), use the closed form of
    :func:`quantum_diffusion.gaussian.repair.minimal_repair_closed_form` mode by mode, with
    :math:`M^{\rm Bayes} = D + i\,\mathrm{tr}(K + D\Sigma^{-1})\sigma` (one-mode identity) and
    :math:`W = J_{\rm BKM} = 2\nu\,\mathrm{arccoth}(\nu)\Sigma^{-1}`; the repair of a product is the direct sum
    (the CP matrix is block diagonal and so is the weight).  Correlated references use the SDP
    (:class:`~quantum_diffusion.gaussian.repair.RepairProblem`, one compiled problem reused).
    """

    def __init__(self, gen: GaussianGenerator, g0: np.ndarray) -> None:
        self.k, self.d, self.g0 = gen.K, gen.D, g0
        m = gen.K.shape[0]
        self.m, self.n = m, m // 2
        self.big = np.block([[gen.K, gen.D], [np.zeros((m, m)), -gen.K.T]])
        self.product = self.n == 1 or (_is_product_generator(gen) and product_blocks(g0) is not None)
        self.problem: RepairProblem | None = None

    def sigma(self, t: float) -> np.ndarray:
        e = expm(t * self.big)
        m = self.m
        x = e[:m, :m].T
        out = x.T @ self.g0 @ x + e[:m, m:] @ x
        return 0.5 * (out + out.T)

    def _repair_one(self, k: np.ndarray, d: np.ndarray, sig: np.ndarray) -> tuple[np.ndarray, float]:
        sig_inv = np.linalg.inv(sig)
        k_bayes = k + d @ sig_inv
        nu = float(np.sqrt(np.linalg.det(sig)))
        if nu <= 1.0 + 1e-12:
            raise ValueError(f"running reference is pure (nu = {nu:.15g}); J_BKM diverges")
        w = 2.0 * nu * np.arctanh(1.0 / nu) * sig_inv
        dd = repair_closed_form_core(d, float(np.trace(k_bayes)), w)
        return dd, 0.25 * float(np.sum(w * dd))

    def repair(self, sig: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        k_bayes = self.k + self.d @ np.linalg.inv(sig)
        if self.product:
            dd = np.zeros((self.m, self.m))
            rate = 0.0
            for j in range(self.n):
                blk = slice(2 * j, 2 * j + 2)
                ddj, rj = self._repair_one(self.k[blk, blk], self.d[blk, blk], sig[blk, blk])
                dd[blk, blk] = ddj
                rate += rj
            return dd, rate, k_bayes
        if np.min(symplectic_eigenvalues(sig)) <= 1.0 + 1e-12:
            raise ValueError("running reference has a pure mode; J_BKM diverges")
        if self.problem is None:
            self.problem = RepairProblem(self.n)
        om = symplectic_form(self.n)
        m_bayes = self.d + 1j * (k_bayes @ om + om @ k_bayes.T)
        res = minimal_repair(m_bayes, weight=bkm_fisher(sig), problem=self.problem)
        return res.delta_d, res.cost, k_bayes


def repaired_diffusion(gamma_t: Any, generator: GaussianGenerator | None = None) -> np.ndarray:
    r"""BKM-weighted minimal repair :math:`\Delta D^*_t` of :math:`M^{\rm Bayes}(\Sigma_t)`, shape (2n, 2n).

    Raises
    ------
    ValueError
        If ``gamma_t`` is not a mixed physical one-mode covariance (BKM diverges at a pure state).
    """
    g = check_covariance(gamma_t, "gamma_t")
    gen = _forward(generator, g.shape[0] // 2)
    return _Path(gen, g).repair(g)[0]


def repair_rate(gamma_t: Any, generator: GaussianGenerator | None = None) -> float:
    r"""Entropy rate of the repair :math:`\tfrac14\mathrm{tr}[J_{\rm BKM}(\Sigma_t)\Delta D^*_t]` (nats per unit time).

    For the unit attenuator and :math:`\Sigma_t = \Sigma(\nu, r)` it equals
    :math:`\tfrac12\mathrm{arccoth}(\nu)(\tau^2 - 1)_+ e^{-2r}` with :math:`\tau = 2\cosh 2r/\nu - 1`.

    Raises
    ------
    ValueError
        If ``gamma_t`` is not a mixed physical one-mode covariance.
    """
    g = check_covariance(gamma_t, "gamma_t")
    gen = _forward(generator, g.shape[0] // 2)
    return _Path(gen, g).repair(g)[1]


def decoder_irreversibility(
    gamma0: Any, T: float, generator: GaussianGenerator | None = None, *, rtol: float = 1e-10, n_nodes: int = 48
) -> float:
    r"""Compute the decoder irreversibility :math:`\int_0^T\tfrac14\mathrm{tr}[J_{\rm BKM}\Delta D^*_t]dt` (nats).

    :math:`\Sigma_t` is the forward marginal of ``gamma0`` (default generator: unit attenuator on every mode).
    One mode and products: closed-form repair and adaptive quadrature (``scipy.integrate.quad``, ``rtol``), so
    the value is the sum of the one-mode values; correlated references: the repair SDP at ``n_nodes``
    Gauss-Legendre nodes.

    Parameters
    ----------
    gamma0 : array_like, shape (2n, 2n)
        Target covariance.
    T : float
        Depth (> 0).
    generator : GaussianGenerator, optional
        Forward generator on ``n`` modes.
    rtol : float
        Relative tolerance of the adaptive quadrature.
    n_nodes : int
        Gauss-Legendre nodes (SDP path).

    Returns
    -------
    float
        :math:`\mathcal I_{\rm dec}` in nats.

    Raises
    ------
    ValueError
        If ``gamma0`` is not a covariance, the generator has another number of modes, the forward marginal
        has a pure mode somewhere on ``(0, T]``, or ``T <= 0``.
    """
    return float(decoder_irreversibility_curve(gamma0, [T], generator, rtol=rtol, n_nodes=n_nodes)[0])


def decoder_irreversibility_curve(
    gamma0: Any,
    depths: Sequence[float],
    generator: GaussianGenerator | None = None,
    *,
    rtol: float = 1e-10,
    n_nodes: int = 48,
) -> np.ndarray:
    r""":math:`\mathcal I_{\rm dec}[\rho_0; T]` for several depths at once (cumulative quadrature), shape (m,).

    Raises
    ------
    ValueError
        As :func:`decoder_irreversibility`.
    """
    g0 = check_covariance(gamma0, "gamma0")
    gen = _forward(generator, g0.shape[0] // 2)
    ts = np.array([_check_t(t) for t in depths])
    order = np.argsort(ts)
    path = _Path(gen, g0)
    out = np.empty(ts.size)
    acc, prev = 0.0, 0.0
    with small_blas():
        for j in order:
            if path.product:
                val, _ = quad(lambda t: path.repair(path.sigma(t))[1], prev, ts[j], epsabs=0.0, epsrel=rtol, limit=200)
            else:
                val = _gauss_legendre(lambda t: path.repair(path.sigma(t))[1], prev, ts[j], n_nodes)
            acc += val
            prev = ts[j]
            out[j] = acc
    return out


def _gauss_legendre(f: Any, a: float, b: float, n_nodes: int) -> float:
    """Integrate with a fixed Gauss-Legendre rule (SDP integrands; adaptive quadrature needs thousands of solves)."""
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    half, mid = 0.5 * (b - a), 0.5 * (a + b)
    return float(half * sum(wi * f(mid + half * xi) for xi, wi in zip(x, w)))


def decoder_output(
    gamma0: Any, T: float, generator: GaussianGenerator | None = None, *, repair: bool = True, rtol: float = 1e-10
) -> np.ndarray:
    r"""Covariance returned by the (repaired) score-lift decoder started at :math:`\Sigma_T`, shape (2n, 2n).

    In reverse time :math:`s = T - t`,

    .. math:: \frac{d\Gamma}{ds} = K^{\rm rev}_t\Gamma + \Gamma K^{{\rm rev}T}_t + D + \Delta D^*_t,\qquad
              K^{\rm rev}_t = -(K + D\Sigma_t^{-1}),\quad \Gamma(s{=}0) = \Sigma_T,

    integrated with ``solve_ivp`` (DOP853).  With ``repair=False`` it retraces :math:`\Sigma_t` and
    returns :math:`\Sigma_0` (an exactness check of the Bayes reverse).

    Raises
    ------
    ValueError
        As :func:`decoder_irreversibility`; RuntimeError if the ODE solver fails.
    """
    g0 = check_covariance(gamma0, "gamma0")
    m = g0.shape[0]
    gen = _forward(generator, m // 2)
    T = _check_t(T)
    gamma_t = check_covariance(gen.evolve(g0, T), "Sigma_T")

    path = _Path(gen, g0)
    d_mat = gen.D

    def rhs(s: float, y: np.ndarray) -> np.ndarray:
        sig = path.sigma(max(T - s, 0.0))
        if repair:
            dd, _, k_bayes = path.repair(sig)
        else:
            dd, k_bayes = 0.0, gen.K + d_mat @ np.linalg.inv(sig)
        gam = y.reshape(m, m)
        dot = -(k_bayes @ gam + gam @ k_bayes.T) + d_mat + dd
        return dot.reshape(-1)

    with small_blas():
        sol = solve_ivp(rhs, (0.0, T), gamma_t.reshape(-1), method="DOP853", rtol=rtol, atol=rtol * 1e-2)
    if not sol.success:
        raise RuntimeError(f"decoder ODE failed: {sol.message}")
    out = sol.y[:, -1].reshape(m, m)
    return 0.5 * (out + out.T)


@dataclass(frozen=True)
class NoiseFloorResult:
    r"""Both sides of the reconstructed Theorem 2 at one depth ``T`` for a family of targets.

    Attributes
    ----------
    T : float
    i_dec : ndarray, shape (m,)
        :math:`\\mathcal I_{\\rm dec}` per family member (nats).
    neg2_log_f : ndarray, shape (m,)
        :math:`-2\\ln F` per member (``F`` = squared Uhlmann fidelity of target vs decoder output).
    i_wc : float
        Worst case :math:`\\max \\mathcal I_{\\rm dec}`.
    lhs : float
        :math:`-2\\ln F_{\\rm wc}` (``F_wc`` = min fidelity).
    nu_min : float
        Minimum symplectic eigenvalue over the family and the running reference on ``[0, T]``.
    c_geom : float
        :math:`c_{\\rm geom}(\\nu_{\\min})`.
    rhs : float
        :math:`c_{\\rm geom}(\\nu_{\\min})\\,\\mathcal I^{\\rm wc}_{\\rm dec}`.
    holds : bool
        Whether ``lhs >= rhs`` (reported, never enforced).
    """

    T: float
    i_dec: np.ndarray
    neg2_log_f: np.ndarray
    i_wc: float
    lhs: float
    nu_min: float
    c_geom: float
    rhs: float
    holds: bool


def noise_floor(
    family: Sequence[Any], T: float, generator: GaussianGenerator | None = None, *, n_nu_grid: int = 201
) -> NoiseFloorResult:
    r"""Evaluate both sides of :math:`-2\ln F_{\rm wc} \ge c_{\rm geom}(\nu_{\min})\mathcal I^{\rm wc}_{\rm dec}`.

    Parameters
    ----------
    family : sequence of array_like, each shape (2n, 2n)
        Target covariances :math:`\gamma_0` (mixed, all with the same ``n``).
    T : float
        Depth (forward horizon).
    n_nu_grid : int
        Number of times on ``[0, T]`` where :math:`\nu(\Sigma_t)` is sampled for :math:`\nu_{\min}`.

    Raises
    ------
    ValueError
        If the family is empty or a member is not a mixed one-mode covariance, or ``T <= 0``.
    """
    return noise_floor_curve(family, [T], generator, n_nu_grid=n_nu_grid)[0]


def noise_floor_curve(
    family: Sequence[Any],
    depths: Sequence[float],
    generator: GaussianGenerator | None = None,
    *,
    n_nu_grid: int = 201,
) -> list[NoiseFloorResult]:
    r""":func:`noise_floor` at several depths, sharing the cumulative :math:`\mathcal I_{\rm dec}` integrals.

    Raises
    ------
    ValueError
        As :func:`noise_floor`.
    """
    ts = [_check_t(t) for t in depths]
    if len(family) == 0:
        raise ValueError("family must contain at least one target covariance")
    first = check_covariance(family[0], "family[0]")
    n = first.shape[0] // 2
    gen = _forward(generator, n)
    members = [check_covariance(g, f"family[{j}]", n_modes=n) for j, g in enumerate(family)]
    i_all = np.array([decoder_irreversibility_curve(g, ts, gen) for g in members])  # (members, depths)
    paths = [_Path(gen, g) for g in members]
    results = []
    with small_blas():
        for j, T in enumerate(ts):
            i_dec = i_all[:, j]
            fids = np.array([fidelity_squared(g, decoder_output(g, T, gen)) for g in members])
            times = np.linspace(0.0, T, n_nu_grid)
            nu_min = min(float(np.min(symplectic_eigenvalues(p.sigma(t)))) for p in paths for t in times)
            cg = float(c_geom(max(nu_min, 1.0)))
            i_wc = float(np.max(i_dec))
            lhs = float(-2.0 * np.log(np.min(fids)))
            rhs = cg * i_wc
            results.append(
                NoiseFloorResult(T, i_dec, -2.0 * np.log(fids), i_wc, lhs, nu_min, cg, rhs, bool(lhs >= rhs))
            )
    return results
