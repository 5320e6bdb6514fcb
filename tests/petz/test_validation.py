"""Bad input to the generators: clear errors naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_diffusion.petz import petz_generator


@pytest.fixture
def L(systems, rng):
    return systems.lindbladian(rng, 2)


def test_non_hermitian_reference(L):
    with pytest.raises(ValueError, match="Hermitian"):
        petz_generator(L, np.array([[0.5, 0.2], [0.0, 0.5]]))


def test_unnormalised_reference(L):
    with pytest.raises(ValueError, match="normalised"):
        petz_generator(L, np.diag([0.5, 0.6]))


def test_non_psd_reference(L):
    with pytest.raises(ValueError, match="positive semidefinite"):
        petz_generator(L, np.diag([1.2, -0.2]))


def test_rank_deficient_reference_explains_support(L):
    with pytest.raises(ValueError, match="support"):
        petz_generator(L, np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="support"):
        petz_generator(L, np.full((2, 2), 0.5))  # pure |+><+|, non-diagonal


def test_mismatched_dimensions(L):
    with pytest.raises(ValueError, match="dimension"):
        petz_generator(L, np.eye(3) / 3)
    B = petz_generator(L, np.eye(2) / 2)
    with pytest.raises(ValueError, match="shape"):
        B.apply(np.eye(3))


def test_kind_and_theta(L):
    with pytest.raises(ValueError, match="kind"):
        petz_generator(L, np.eye(2) / 2, kind="bayes")
    with pytest.raises(ValueError, match="theta"):
        petz_generator(L, np.eye(2) / 2, kind="petz", theta=0.3)
    with pytest.raises(ValueError, match="finite"):
        petz_generator(L, np.eye(2) / 2, kind="rotated", theta=np.nan)
    with pytest.raises(TypeError):
        petz_generator((L.H, L.jumps), np.eye(2) / 2)


def test_twirled_choi_jumps_refused_for_large_dimension():
    from quantum_diffusion.petz import Lindbladian

    d = 80
    shift = np.roll(np.eye(d), 1, axis=0)
    B = petz_generator(Lindbladian(np.zeros((d, d)), [shift]), np.eye(d) / d, kind="twirled")
    assert np.max(np.abs(B.apply(np.eye(d) / d))) < 1e-14  # the maximally mixed state is stationary
    with pytest.raises(ValueError, match="Choi"):
        _ = B.jumps
