"""Two modes: additivity on products, passive invariance, and the non-commuting-squeezing effect."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import block_diag

from quantum_diffusion.conventions import omega
from quantum_diffusion.gaussian import (
    RepairProblem,
    attenuator,
    bayes_reverse,
    minimal_repair,
    minimal_repair_closed_form,
    squeezed_thermal,
    symplectic_eigenvalues,
    two_mode_angle_scan,
    two_mode_example,
    two_mode_reference,
)
from quantum_diffusion.gaussian.multimode import beam_splitter


def test_reference_is_physical_with_given_symplectic_eigenvalues() -> None:
    g = two_mode_reference((1.2, 2.5), (0.9, 0.7), (0.0, 0.6), 0.3)
    assert np.allclose(symplectic_eigenvalues(g), [1.2, 2.5], rtol=1e-10)
    assert np.allclose(beam_splitter(0.4) @ omega(2) @ beam_splitter(0.4).T, omega(2))


def test_uncorrelated_reference_repair_is_additive() -> None:
    """theta = 0: product state, so the joint SDP cost = sum of the one-mode closed forms."""
    res = two_mode_example((1.2, 2.5), (0.9, 0.7), (0.0, 0.6), 0.0)
    s1, s2 = squeezed_thermal(1.2, 0.9, 0.0), squeezed_thermal(2.5, 0.7, 0.6)
    assert np.allclose(res.gamma_ref, block_diag(s1, s2), atol=1e-12)
    one = sum(minimal_repair_closed_form(bayes_reverse(attenuator(), s).cp_matrix(), weight="bkm", gamma_ref=s).cost
              for s in (s1, s2))
    assert np.isclose(res.repair.cost, one, rtol=1e-6)
    assert np.isclose(res.modewise_cost, one, rtol=1e-12)


def test_passive_optics_after_squeezing_leave_the_defect_unchanged() -> None:
    """Under orthogonal symplectic O the Bayes CP matrix transforms as O M O^T (spectrum and cost invariant)."""
    local = block_diag(squeezed_thermal(1.2, 0.9), squeezed_thermal(2.5, 0.7, 0.6))
    bs = beam_splitter(0.7)
    mixed = bs @ local @ bs.T
    gen = attenuator(1.0, 2)
    m0, m1 = bayes_reverse(gen, local).cp_matrix(), bayes_reverse(gen, mixed).cp_matrix()
    assert np.allclose(m1, bs @ m0 @ bs.T, atol=1e-12)
    pb = RepairProblem(2)
    c0 = minimal_repair(m0, weight="bkm", gamma_ref=local, problem=pb).cost
    c1 = minimal_repair(m1, weight="bkm", gamma_ref=mixed, problem=pb).cost
    assert np.isclose(c0, c1, rtol=1e-6)


def test_non_commuting_squeezing_changes_the_joint_defect_but_not_the_reduced_states() -> None:
    scan = two_mode_angle_scan(np.array([0.0, np.pi / 4, np.pi / 2]))
    assert np.ptp(scan["lambda_min"]) > 0.1  # the relative squeezing angle matters jointly ...
    assert np.ptp(scan["modewise_cost"]) < 1e-10  # ... but is invisible to the one-mode reduced states
    assert scan["commutator"][0] < 1e-9 and scan["commutator"][1] > 1.0
    assert np.all(scan["cost"] > scan["modewise_cost"])  # correlations make the repair more expensive here
    assert scan["rank_repair"][0] == 1 and scan["rank_repair"][1] == 2


def test_two_mode_reference_errors() -> None:
    with pytest.raises(ValueError, match="two entries"):
        two_mode_reference((1.2,), (0.1, 0.2), (0.0, 0.0))
    with pytest.raises(ValueError, match="nu must be"):
        two_mode_reference((0.5, 1.2), (0.1, 0.2), (0.0, 0.0))
