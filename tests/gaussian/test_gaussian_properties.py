"""Property-based checks (hypothesis) of the Gaussian public boundary: accept every physical input, reject the rest.

Each draw builds gamma = s * S diag(nu) S^T from a random symplectic S = exp(Omega H) and symplectic eigenvalues nu;
the physicality test must decide by min(nu) >= 1 whatever the squeezing (scale invariance, issue 13 item 5).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from quantum_diffusion.gaussian import (
    attenuator,
    check_covariance,
    fidelity_squared,
    petz_backward_generator,
    symplectic_eigenvalues,
    symplectic_form,
)


def _covariance(seed: int, n: int, squeeze: float, nus: list[float]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(2 * n, 2 * n))
    s = expm(symplectic_form(n) @ (h + h.T) / 2 * squeeze / max(1.0, np.linalg.norm(h + h.T, 2) / 2))
    return s @ np.diag(np.repeat(nus[:n], 2)) @ s.T


draws = dict(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 3),
    squeeze=st.floats(0.0, 3.0),
    nus=st.lists(st.floats(1.0, 20.0), min_size=3, max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(**draws)
def test_physical_covariances_are_accepted(seed, n, squeeze, nus) -> None:
    g = _covariance(seed, n, squeeze, nus)
    check_covariance(g)
    assert np.allclose(symplectic_eigenvalues(g), np.sort(nus[:n]), rtol=1e-6, atol=1e-6)


@settings(max_examples=150, deadline=None)
@given(**draws, shrink=st.floats(0.5, 0.99))
def test_unphysical_covariances_are_rejected(seed, n, squeeze, nus, shrink) -> None:
    nus = [1.0 * shrink] + nus[1:]  # one symplectic eigenvalue below 1, hidden behind the squeezing
    with pytest.raises(ValueError, match="physical"):
        check_covariance(_covariance(seed, n, squeeze, nus))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3), squeeze=st.floats(0.0, 2.0),
       nus1=st.lists(st.floats(1.0, 6.0), min_size=3, max_size=3),
       nus2=st.lists(st.floats(1.0, 6.0), min_size=3, max_size=3))
def test_fidelity_is_a_probability_and_one_on_equal_states(seed, n, squeeze, nus1, nus2) -> None:
    g1, g2 = _covariance(seed, n, squeeze, nus1), _covariance(seed + 1, n, squeeze, nus2)
    f = fidelity_squared(g1, g2)
    assert np.isfinite(f) and -1e-12 <= f <= 1.0 + 1e-9
    # 1e-12 when a state is pure or fully mixed; ~sqrt(eps) = 1e-8 when only some modes are pure (the general
    # formula's square root is singular there): documented in fidelity_squared
    assert fidelity_squared(g1, g1) == pytest.approx(1.0, abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 2), squeeze=st.floats(0.0, 1.5),
       nus=st.lists(st.floats(1.01, 8.0), min_size=3, max_size=3),
       kind=st.sampled_from(["petz", "rotated", "twirled"]), theta=st.floats(-5.0, 5.0))
def test_petz_generators_are_finite_cp_and_reverse(seed, n, squeeze, nus, kind, theta) -> None:
    g = _covariance(seed, n, squeeze, nus)
    gen = attenuator(1.0, n)
    b = petz_backward_generator(gen, g, kind=kind, theta=theta if kind == "rotated" else 0.0)
    assert np.all(np.isfinite(b.K)) and np.all(np.isfinite(b.D))
    scale = max(1.0, float(np.max(np.abs(b.D))))
    assert np.linalg.eigvalsh(b.cp_matrix())[0] >= -1e-8 * scale
    assert np.allclose(b.rhs(g), -gen.rhs(g), atol=1e-8 * max(1.0, float(np.max(np.abs(g)))))
