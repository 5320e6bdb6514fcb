"""Minimal-repair SDP: agreement with the one-mode closed forms, weights, reuse, and failure reporting."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_diffusion.gaussian import (
    RepairProblem,
    RepairSolverError,
    attenuator,
    bayes_reverse,
    minimal_repair,
    minimal_repair_closed_form,
    repair_cost_map,
    squeezed_thermal,
)

SIGMA = np.array([[0.0, 1.0], [-1.0, 0.0]])


@pytest.fixture(scope="module")
def problem() -> RepairProblem:
    return RepairProblem(1)


def test_sdp_equals_closed_form_on_score_lift_grid(problem: RepairProblem, rtol: float = 1e-7) -> None:
    gen = attenuator()
    n_repaired = 0
    for nu in (1.02, 1.5, 2.5, 4.0):
        for r in (0.0, 0.5, 0.9, 1.3):
            sig = squeezed_thermal(nu, r, 0.7)
            m = bayes_reverse(gen, sig).cp_matrix()
            sdp = minimal_repair(m, weight="bkm", gamma_ref=sig, problem=problem)
            cf = minimal_repair_closed_form(m, weight="bkm", gamma_ref=sig)
            assert abs(sdp.cost - cf.cost) <= rtol * max(cf.cost, 1e-2)
            assert np.isclose(cf.cost, repair_cost_map(nu, r), rtol=1e-10, atol=1e-14)
            assert sdp.lambda_min_after >= -1e-7 and cf.lambda_min_after >= -1e-12
            n_repaired += cf.cost > 0
    assert n_repaired >= 6  # the grid really exercises the repaired branch


def test_sdp_equals_closed_form_for_random_hermitian_m(
    rng: np.random.Generator, problem: RepairProblem, rtol: float = 1e-7
) -> None:
    """General one-mode M = A + i b sigma (A possibly indefinite) and random weights: all three KKT cases."""
    for _ in range(40):
        a = rng.normal(size=(2, 2))
        wm = rng.normal(size=(2, 2))
        m = (a + a.T) + 1j * rng.normal() * 2 * SIGMA
        w = wm @ wm.T + 0.1 * np.eye(2)
        sdp = minimal_repair(m, weight=w, problem=problem)
        cf = minimal_repair_closed_form(m, weight=w)
        assert abs(sdp.cost - cf.cost) <= rtol * max(1.0, cf.cost)


def test_closed_form_structure_anti_squeezed_axis(nu: float = 1.6, r: float = 1.0, phi: float = 0.4) -> None:
    """BKM/SLD weight: Delta D* = (tau^2 - 1) e e^T along the anti-squeezed axis; identity: (tau - 1) I."""
    sig = squeezed_thermal(nu, r, phi)
    m = bayes_reverse(attenuator(), sig).cp_matrix()
    tau = 2 * np.cosh(2 * r) / nu - 1
    e = np.array([-np.sin(phi), np.cos(phi)])  # anti-squeezed axis of R_phi diag(e^-2r, e^2r) R_phi^T
    for weight in ("bkm", "sld"):
        res = minimal_repair_closed_form(m, weight=weight, gamma_ref=sig)
        assert np.allclose(res.delta_d, (tau**2 - 1) * np.outer(e, e), atol=1e-10)
        assert np.isclose(res.lambda_min_after, 0.0, atol=1e-10)  # minimal: sits on the boundary
    ident = minimal_repair_closed_form(m, weight="identity")
    assert np.allclose(ident.delta_d, (tau - 1) * np.eye(2), atol=1e-10)


def test_no_repair_needed_below_threshold(problem: RepairProblem) -> None:
    sig = squeezed_thermal(3.0, 0.3)
    m = bayes_reverse(attenuator(), sig).cp_matrix()
    assert minimal_repair_closed_form(m, weight="bkm", gamma_ref=sig).cost == 0.0
    assert abs(minimal_repair(m, weight="bkm", gamma_ref=sig, problem=problem).cost) < 1e-8


def test_bkm_and_sld_share_the_one_mode_minimiser(problem: RepairProblem) -> None:
    sig = squeezed_thermal(1.3, 0.8, 1.0)
    m = bayes_reverse(attenuator(), sig).cp_matrix()
    a = minimal_repair(m, weight="bkm", gamma_ref=sig, problem=problem).delta_d
    b = minimal_repair(m, weight="sld", gamma_ref=sig, problem=problem).delta_d
    assert np.allclose(a, b, atol=1e-5 * np.abs(a).max())


def test_repair_restores_cp_for_two_modes(rng: np.random.Generator) -> None:
    from gaussian_helpers import random_covariance

    g = random_covariance(rng, 2, squeeze=1.0)
    m = bayes_reverse(attenuator(1.0, 2), g).cp_matrix()
    res = minimal_repair(m, weight="bkm", gamma_ref=g)
    assert res.lambda_min_before < 0 and res.lambda_min_after >= -1e-7
    assert np.linalg.eigvalsh(res.delta_d)[0] >= -1e-7
    # minimality: shrinking the repair breaks CP
    assert np.linalg.eigvalsh(m + 0.98 * res.delta_d)[0] < 0


def test_repair_input_errors() -> None:
    with pytest.raises(ValueError, match="not Hermitian"):
        minimal_repair(np.array([[1.0, 2.0], [0.0, 1.0]]), weight="identity")
    with pytest.raises(ValueError, match="gamma_ref"):
        minimal_repair(np.eye(2), weight="bkm")
    with pytest.raises(ValueError, match="positive definite"):
        minimal_repair(np.eye(2), weight=-np.eye(2))
    with pytest.raises(ValueError, match="weight must be"):
        minimal_repair(np.eye(2), weight="fisher")
    with pytest.raises(ValueError, match="NaN"):
        minimal_repair(np.full((2, 2), np.nan), weight="identity")


def test_solver_failure_reports_status() -> None:
    """An iteration limit of 1 cannot reach optimality: the error must carry the solver status."""
    m = np.eye(2) + 3j * SIGMA
    bad = RepairProblem(1, solver_opts={"max_iter": 1})
    with pytest.raises(RepairSolverError, match="status"):
        bad.solve(m, np.eye(2))
