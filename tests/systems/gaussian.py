r"""Gaussian test systems in HHW conventions (vacuum covariance :math:`I`, see quantum_diffusion.conventions).

* :func:`thermal_covariance`: :math:`\nu I_2`, mean photon number :math:`(\nu-1)/2`.
* :func:`squeezed_thermal_covariance`: :math:`\nu\,\mathrm{diag}(e^{-2r}, e^{2r})` (squeezing along x).
* :func:`random_covariance`: :math:`S\,\mathrm{diag}(\nu)\,S^T` with a random symplectic :math:`S = e^{\Omega H}`.
* :func:`fock_state`, :func:`fock_covariance`: the same states in a truncated Fock space (qutip), an independent
  route to the covariance.
"""

from __future__ import annotations

import numpy as np
import qutip
from scipy.linalg import expm

from quantum_diffusion.conventions import omega

__all__ = [
    "fock_covariance",
    "fock_state",
    "quadratures",
    "random_covariance",
    "squeezed_thermal_covariance",
    "thermal_covariance",
]


def thermal_covariance(nu: float) -> np.ndarray:
    """Single-mode thermal covariance ``nu * I`` (``nu = 2 n_th + 1``)."""
    return nu * np.eye(2)


def squeezed_thermal_covariance(nu: float, r: float) -> np.ndarray:
    """Single-mode squeezed thermal covariance ``nu * diag(e^{-2r}, e^{2r})`` (squeezed along x)."""
    return nu * np.diag([np.exp(-2 * r), np.exp(2 * r)])


def random_covariance(rng: np.random.Generator, n: int, nu_max: float = 3.0, squeeze: float = 0.5) -> np.ndarray:
    """Random physical covariance S diag(nu) S^T with a random symplectic S = exp(Omega H)."""
    h = rng.normal(size=(2 * n, 2 * n)) * squeeze
    s = expm(omega(n) @ (h + h.T) / 2)
    nu = rng.uniform(1.05, nu_max, size=n)
    return s @ np.diag(np.repeat(nu, 2)) @ s.T


def fock_state(nu: float, r: float, phi: float, n_fock: int) -> qutip.Qobj:
    """Squeezed thermal state in a truncated Fock space (qutip conventions; compare via fock_covariance)."""
    th = qutip.thermal_dm(n_fock, (nu - 1) / 2)
    s = qutip.squeeze(n_fock, r * np.exp(2j * phi))
    return s * th * s.dag()


def quadratures(n_fock: int) -> tuple[qutip.Qobj, qutip.Qobj]:
    """Q = (a + a^dag)/sqrt 2, P = (a - a^dag)/(i sqrt 2), so [Q, P] = i (HHW)."""
    a = qutip.destroy(n_fock)
    return (a + a.dag()) / np.sqrt(2), (a - a.dag()) / (1j * np.sqrt(2))


def fock_covariance(rho: qutip.Qobj) -> np.ndarray:
    """HHW covariance gamma_kl = <{R_k, R_l}> - 2 d_k d_l from Fock-space moments."""
    q, p = quadratures(rho.dims[0][0])
    rs = [q, p]
    d = np.array([qutip.expect(x, rho).real for x in rs])
    return np.array([[qutip.expect(x * y + y * x, rho).real - 2 * d[i] * d[j] for j, y in enumerate(rs)]
                     for i, x in enumerate(rs)])
