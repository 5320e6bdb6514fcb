"""Petz-type backward generators vs the score lift: inequalities and invariances that must hold."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gaussian_helpers import random_covariance

from quantum_diffusion import io
from quantum_diffusion.gaussian import (
    attenuator,
    compare_petz_bayes,
    exact_reverse_cost,
    petz_backward_generator,
    petz_comparison_grid,
    squeezed_thermal,
)
from quantum_diffusion.gaussian.multimode import two_mode_reference


def test_petz_cost_is_never_below_c_star_and_is_angle_independent() -> None:
    # Petz generators retrace the marginal exactly and are CP, so C(Petz) >= C*; tr K_b does not depend on theta.
    grid = petz_comparison_grid(np.linspace(1.05, 4.0, 6), np.linspace(0.0, 1.4, 6))
    assert np.all(grid.c_petz >= grid.c_star - 1e-9 * np.maximum(1.0, grid.c_star))
    assert np.array_equal(grid.bayes_is_cp, np.cosh(2 * grid.r)[None, :] <= grid.nu[:, None])
    # below the threshold nothing is repaired
    assert np.all(grid.bayes_repair_cost[grid.bayes_is_cp] == 0.0)
    gen, sig = attenuator(), squeezed_thermal(2.0, 0.9, 0.3)
    sig_inv = np.linalg.inv(sig)
    costs = [np.trace(sig_inv @ petz_backward_generator(gen, sig, kind="rotated", theta=t).D) for t in (-3, 0.4, 2)]
    costs.append(np.trace(sig_inv @ petz_backward_generator(gen, sig, kind="twirled").D))
    assert np.ptp(costs) < 1e-10


def test_two_mode_comparison(rng) -> None:
    res = compare_petz_bayes(attenuator(1.0, 2), two_mode_reference())
    assert res.c_petz >= res.c_star - 1e-7
    assert not res.bayes_is_cp and res.bayes_repair_cost > 0
    assert res.excess_cost_theta_spread < 1e-9 * max(1.0, abs(res.petz_excess_cost))
    assert res.rotated_added_diffusion <= res.petz_added_diffusion + 1e-9  # theta_opt is at least as good as 0
    # random two-mode references: the inequality again (C* from the SDP)
    for _ in range(2):
        g = random_covariance(rng, 2, nu_max=3.0, squeeze=0.6)
        c = compare_petz_bayes(attenuator(1.0, 2), g, n_theta=5)
        assert c.c_petz >= exact_reverse_cost(g) - 1e-7 * max(1.0, c.c_petz)
    json.dumps(io.to_jsonable(res))


def test_comparison_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="nu must be > 1"):
        petz_comparison_grid([1.0, 2.0], [0.1])
    with pytest.raises(ValueError, match="n_theta"):
        compare_petz_bayes(attenuator(), squeezed_thermal(2.0, 0.1), n_theta=1)
    with pytest.raises(ValueError, match="gamma_ref"):
        compare_petz_bayes(attenuator(), np.eye(4))
