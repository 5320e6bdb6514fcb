"""O(h^2) convergence of the package's quantum generators on lattice diagonal states to the continuum PDEs."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_diffusion.classical_limit.convergence import convergence_study, fit_slope, hamiltonian_convergence


@pytest.fixture(scope="module")
def study():
    return convergence_study((16, 32, 64, 128), gamma=0.9)


def test_fit_slope_recovers_power_law():
    h = np.array([0.4, 0.2, 0.1])
    assert fit_slope(h, 3.0 * h**2.5) == pytest.approx(2.5, abs=1e-12)
    with pytest.raises(ValueError, match="positive"):
        fit_slope([0.1, 0.2], [0.0, 1.0])


def test_forward_converges_to_heat_equation_second_order(study, lo=1.85, hi=2.15):
    assert np.all(np.diff(study.forward) < 0)
    assert lo < study.slopes["forward"] < hi


@pytest.mark.parametrize("key", ["petz", "rotated(0.7)", "twirled"])
def test_backward_converges_to_reverse_fokker_planck_second_order(study, key, lo=1.85, hi=2.15, tol=3e-3):
    err = study.backward[key]
    assert np.all(np.diff(err) < 0)
    assert lo < study.slopes[key] < hi
    assert err[-1] < tol


@pytest.mark.parametrize("key", ["forward", "petz", "rotated(0.7)", "twirled"])
def test_sound_discretisation_never_leaks(study, key, rtol=1e-11):
    # leakage relative to the generator scale gamma/h^2
    assert np.all(study.leakage[key] <= rtol * 0.9 / study.h**2)


def test_central_momentum_control_does_not_converge(study, tol=0.01):
    # the diffusion constant converges to HALF the right one, the error stays O(1), coherences stay O(1)
    assert study.control_ratio[-1] == pytest.approx(0.5, abs=tol)
    assert np.all(study.control_error > 0.45)
    assert np.all(study.control_coherence > 0.2)
    assert study.control_coherence[-1] >= study.control_coherence[0]


@pytest.fixture(scope="module")
def ham():
    return hamiltonian_convergence((16, 32, 64, 128), gamma=0.9)


@pytest.mark.parametrize("key", ["petz", "rotated(0.7)", "twirled"])
def test_backward_hamiltonian_converges_to_P27_P31(ham, key, lo=1.85, hi=2.15, tol=5e-3):
    # the part of the generator invisible on diagonal states: H_b = gamma/4 {s, p} (+ gamma theta/4 s')
    assert np.all(np.diff(ham[key]) < 0)
    assert lo < ham["slopes"][key] < hi
    assert ham[key][-1] < tol


def test_rotated_hamiltonian_needs_theta_term(min_error=0.2):
    # negative control: without the theta s'/4 term of P.31 the rotated H_b does not converge
    bad = hamiltonian_convergence((32, 64), gamma=0.9, kinds=(("rotated", 0.7),), theta_term=False)
    assert np.all(bad["rotated(0.7)"] > min_error)
