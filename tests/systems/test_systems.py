"""Each analytic test system is what the package computes (two independent routes per closed form)."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_diffusion import gaussian as qd_gaussian
from quantum_diffusion import info
from quantum_diffusion.conventions import omega
from quantum_diffusion.petz import Lindbladian
from systems import classical_chain, gaussian, qubit, random_systems


@pytest.mark.parametrize(("p", "c", "gamma", "t"), [(0.4, 0.3 - 0.2j, 0.7, 1.3), (1.0, 0.0, 2.0, 0.1)])
def test_amplitude_damping_closed_form_matches_the_lindbladian(p, c, gamma, t):
    lind = Lindbladian(np.zeros((2, 2)), [qubit.amplitude_damping_jump(gamma)])
    rho0 = qubit.qubit_state(p, c)
    assert np.allclose(lind.evolve(rho0, t), qubit.amplitude_damping_state(p, c, gamma, t), atol=1e-10)


def test_qubit_state_rejects_non_states():
    with pytest.raises(ValueError, match="not a state"):
        qubit.qubit_state(0.5, 0.6)


def test_squeezed_thermal_closed_form_matches_the_package_and_fock_space():
    nu, r = 1.7, 0.4
    cov = gaussian.squeezed_thermal_covariance(nu, r)
    assert np.allclose(qd_gaussian.squeezed_thermal(nu, r), cov, atol=1e-12)
    assert np.allclose(gaussian.fock_covariance(gaussian.fock_state(nu, r, 0.0, 60)), cov, atol=1e-6)
    assert np.allclose(gaussian.fock_covariance(gaussian.fock_state(nu, 0.0, 0.0, 60)),
                       gaussian.thermal_covariance(nu), atol=1e-6)


def test_random_covariance_is_physical(rng):
    cov = gaussian.random_covariance(rng, 2)
    assert np.linalg.eigvalsh(cov + 1j * omega(2)).min() > -1e-10  # uncertainty principle gamma + i Omega >= 0


def _shannon(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def test_markov_chain_has_zero_cmi_and_the_closed_form_mutual_information():
    q = 0.15
    rho = classical_chain.markov_chain_state(q)
    assert info.quantum_cmi(rho, [2, 2, 2], [0], [1], [2]) == pytest.approx(0.0, abs=1e-12)
    pac = classical_chain.markov_chain_probabilities(q).sum(axis=1)  # marginal of A and C
    mi = _shannon(pac.sum(1)) + _shannon(pac.sum(0)) - _shannon(pac.ravel())
    assert mi == pytest.approx(np.log(2) - classical_chain.binary_entropy(2 * q * (1 - q)), abs=1e-12)


def test_non_markov_state_has_positive_cmi():
    rho = classical_chain.non_markov_state(0.15, 0.2)
    assert info.quantum_cmi(rho, [2, 2, 2], [0], [1], [2]) > 1e-3


def test_random_systems_are_valid(rng):
    rho = random_systems.random_state(rng, 3)
    assert np.trace(rho).real == pytest.approx(1.0)
    assert np.linalg.eigvalsh(rho).min() >= 0.3 / 3 - 1e-12
    h = random_systems.random_hermitian(rng, 3)
    assert np.allclose(h, h.conj().T)
    lind = random_systems.random_lindbladian(rng, 3)
    assert abs(np.trace(lind.apply(rho))) < 1e-12  # trace preserving
