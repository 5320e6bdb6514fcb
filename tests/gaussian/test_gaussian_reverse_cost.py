"""Exact reverse cost under pure loss: closed form vs free-drift SDP, 2/t law, optimal generator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import block_diag

from quantum_diffusion.gaussian import (
    attenuator,
    bayes_reverse,
    exact_reverse_cost,
    optimal_reverse_generator,
    reverse_cost_sdp,
    squeezed_thermal,
)


@pytest.mark.parametrize(("nu", "r"), [(1.5, 0.2), (1.5, 0.8), (3.0, 1.2), (1.05, 0.5), (5.0, 0.0), (2.0, 0.9)])
def test_sdp_equals_closed_form(nu: float, r: float, rtol: float = 1e-8) -> None:
    sig = squeezed_thermal(nu, r, 0.4)
    c_star = exact_reverse_cost(sig)
    res = reverse_cost_sdp(sig)
    assert abs(res.cost - c_star) <= rtol * max(1.0, c_star)
    # the optimum is covariance-aligned: D* = (C*/2) Sigma
    assert np.allclose(res.generator.D, 0.5 * c_star * sig, atol=1e-6 * max(1.0, c_star))


def test_optimal_generator_is_cp_retraces_and_costs_c_star(rng: np.random.Generator) -> None:
    for _ in range(20):
        nu, r = rng.uniform(1.05, 4), rng.uniform(0, 1.4)
        sig = squeezed_thermal(nu, r, rng.uniform(0, np.pi))
        gen = optimal_reverse_generator(sig)
        assert np.linalg.eigvalsh(gen.cp_matrix())[0] >= -1e-10
        assert np.allclose(gen.rhs(sig), sig - np.eye(2), atol=1e-12)
        assert np.isclose(np.trace(np.linalg.inv(sig) @ gen.D), exact_reverse_cost(sig), rtol=1e-12)
        # it sits on the CP boundary: any cheaper aligned D is infeasible (one-mode test det D >= (tr K)^2)
        c = 0.99 * exact_reverse_cost(sig)
        k = 0.5 * (np.eye(2) - np.linalg.inv(sig)) - c / 4 * np.eye(2)
        if c > 0:
            assert np.linalg.det(0.5 * c * sig) < np.trace(k) ** 2


def test_cost_vanishes_only_on_the_critical_curve() -> None:
    nu = 2.5
    r_c = 0.5 * np.arccosh(nu)
    assert exact_reverse_cost(squeezed_thermal(nu, r_c)) < 1e-12
    assert exact_reverse_cost(squeezed_thermal(nu, r_c - 0.05)) > 0
    assert exact_reverse_cost(squeezed_thermal(nu, r_c + 0.05)) > 0
    # asymmetry: above the boundary the slope carries 1/(nu - 1), below 1/(nu + 1)
    lo = exact_reverse_cost(squeezed_thermal(nu, r_c - 1e-4))
    hi = exact_reverse_cost(squeezed_thermal(nu, r_c + 1e-4))
    assert np.isclose(hi / lo, (nu + 1) / (nu - 1), rtol=1e-3)


def test_bayes_reverse_feasible_below_threshold_and_costs_more() -> None:
    sig = squeezed_thermal(3.0, 0.4)
    bayes = bayes_reverse(attenuator(), sig, orientation="reverse")
    assert bayes.is_cp()
    assert np.allclose(bayes.rhs(sig), sig - np.eye(2), atol=1e-12)
    assert np.trace(np.linalg.inv(sig) @ bayes.D) >= exact_reverse_cost(sig)


def test_two_over_t_divergence_at_pure_endpoint(r: float = 0.7) -> None:
    """t C*(Sigma_t) -> 2 for a pure squeezed endpoint, with an O(t) error (measured slope ~ 1)."""
    s0 = squeezed_thermal(1.0, r)
    ts = np.array([1e-2, 5e-3, 2.5e-3, 1.25e-3])
    vals = np.array([t * exact_reverse_cost(attenuator().evolve(s0, t)) for t in ts])
    errs = np.abs(vals - 2.0)
    assert errs[-1] < 1e-2
    slope = np.polyfit(np.log(ts), np.log(errs), 1)[0]
    assert 0.9 < slope < 1.1
    assert exact_reverse_cost(s0) == np.inf


def test_n_mode_sdp_is_additive_on_products() -> None:
    s1, s2 = squeezed_thermal(1.5, 0.8), squeezed_thermal(3.0, 0.3, 1.0)
    res = reverse_cost_sdp(block_diag(s1, s2))
    assert np.isclose(res.cost, exact_reverse_cost(s1) + exact_reverse_cost(s2), rtol=1e-7)
    assert res.lambda_min >= -1e-7 and res.residual < 1e-7


def test_reverse_cost_input_errors() -> None:
    with pytest.raises(ValueError, match="even shape"):  # n modes are accepted (issue 15 item 4), odd sizes not
        exact_reverse_cost(np.eye(3))
    with pytest.raises(ValueError, match="rate"):
        exact_reverse_cost(np.eye(2), rate=-1.0)
    with pytest.raises(ValueError, match="infinite"):
        optimal_reverse_generator(squeezed_thermal(1.0, 0.5))
