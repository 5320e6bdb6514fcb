"""Backward flow: returns sigma(0) from sigma(T), equals the one-shot Petz map (P.15), recovers rho partially."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_diffusion.info import trace_distance
from quantum_diffusion.petz import Lindbladian, petz_map, recover, twirled_petz_map
from quantum_diffusion.petz.maps import apply_superop

T = 0.8


@pytest.mark.parametrize("kind,theta", [("petz", 0.0), ("rotated", 0.6), ("twirled", 0.0)])
def test_backward_flow_from_sigma_T_returns_sigma_0(systems, rng, kind, theta, atol=1e-7):
    L = systems.lindbladian(rng, 3)
    sigma = systems.state(rng, 3)
    sigma_T = L.evolve(sigma, T)
    assert trace_distance(sigma_T, sigma) > 1e-2  # the forward channel really moved the state
    out = recover(L, sigma_T, sigma, T, kind=kind, theta=theta, picture="schrodinger")
    assert np.max(np.abs(out - sigma)) < atol


def test_petz_flow_equals_one_shot_petz_map(systems, rng, atol=1e-9):
    L = systems.lindbladian(rng, 4)
    sigma, rho = systems.state(rng, 4), systems.state(rng, 4)
    E = L.channel(T)
    rho_T = apply_superop(E, rho)
    flow = recover(L, rho_T, sigma, T, kind="petz", rtol=1e-11, atol=1e-13, picture="schrodinger")
    assert np.max(np.abs(flow - apply_superop(petz_map(E, sigma), rho_T))) < atol


def test_twirled_flow_is_not_the_one_shot_twirl_but_close(systems, rng):
    # caveat of the theory note (section 6): the twirl is not compositional
    L = systems.lindbladian(rng, 3)
    sigma, rho = systems.state(rng, 3), systems.state(rng, 3)
    E = L.channel(T)
    rho_T = apply_superop(E, rho)
    flow = recover(L, rho_T, sigma, T, kind="twirled", rtol=1e-10, atol=1e-12)
    one_shot = apply_superop(twirled_petz_map(E, sigma), rho_T)
    gap = trace_distance(flow, one_shot)
    assert 1e-6 < gap < 5e-2


def test_other_state_only_partially_recovered(systems, rng):
    # amplitude damping towards |0>: a state rho != sigma is pulled back towards rho, not all the way
    g = 1.0
    L = Lindbladian(np.zeros((2, 2)), [np.sqrt(g) * np.array([[0, 1], [0, 0]])])
    sigma = np.diag([0.4, 0.6])
    rho = np.array([[0.2, 0.3], [0.3, 0.8]])
    rho_T = L.evolve(rho, T)
    for kind in ("petz", "twirled"):
        out = recover(L, rho_T, sigma, T, kind=kind, picture="schrodinger")
        before, after = trace_distance(rho_T, rho), trace_distance(out, rho)
        assert after < before
        assert after > 1e-2


def test_local_recovery_with_full_neighbourhood_equals_global(systems, rng, atol=1e-7):
    # with AB = the whole ring, the local flow is the global flow of L_A (x) id
    from quantum_diffusion.petz.local import embed_lindbladian

    dims = [2, 2, 2]
    la = systems.lindbladian(rng, 2)
    sigma, rho = systems.state(rng, 8), systems.state(rng, 8)
    L_full = embed_lindbladian(la, dims, [0], [0, 1, 2])
    rho_T = L_full.evolve(rho, T)
    glob = recover(L_full, rho_T, sigma, T, kind="twirled")
    loc = recover(la, rho_T, sigma, T, kind="twirled", local_radius=1, dims=dims, region=[0])
    assert np.max(np.abs(glob - loc)) < atol


def test_recover_bad_input(systems, rng):
    L = systems.lindbladian(rng, 2)
    s = systems.state(rng, 2)
    with pytest.raises(ValueError, match="positive"):
        recover(L, s, s, 0.0)
    with pytest.raises(ValueError, match="rank-deficient"):
        recover(L, s, np.diag([1.0, 0.0]), 1.0)
    with pytest.raises(ValueError, match="normalised"):
        recover(L, 2 * s, s, 1.0)
    with pytest.raises(ValueError, match="dims"):
        recover(L, s, s, 1.0, local_radius=1)


def test_precomputed_reference_gives_same_result(systems, rng, atol=1e-12):
    from quantum_diffusion.petz import reference_path

    L = systems.lindbladian(rng, 3)
    sigma, rho = systems.state(rng, 3), systems.state(rng, 3)
    rho_T = L.evolve(rho, T)
    ref = reference_path(L, sigma, T, rtol=1e-9, atol=1e-11)
    a = recover(L, rho_T, sigma, T, kind="rotated", theta=0.3, reference=ref)
    b = recover(L, rho_T, sigma, T, kind="rotated", theta=0.3, picture="schrodinger")
    assert np.max(np.abs(a - b)) < atol
    # and the reference itself is exp(tL) sigma_0
    assert np.max(np.abs(ref(0.5 * T) - L.evolve(sigma, 0.5 * T))) < 1e-8


def test_classical_chain_flow_stays_diagonal_and_returns_reference(rng, atol=1e-7):
    # a diagonal (classical) reference under jump dynamics: the backward flow never creates coherences
    d = 4
    jumps = []
    for i in range(d):
        for j in range(d):
            if i != j:
                op = np.zeros((d, d))
                op[j, i] = np.sqrt(rng.uniform(0.2, 1.0))
                jumps.append(op)
    L = Lindbladian(np.zeros((d, d)), jumps)
    sigma = np.diag(rng.dirichlet(np.ones(d)))
    rho = np.diag(rng.dirichlet(np.ones(d)))
    for kind in ("petz", "twirled"):
        out = recover(L, L.evolve(sigma, T), sigma, T, kind=kind, picture="schrodinger")
        assert np.max(np.abs(out - sigma)) < atol
        out = recover(L, L.evolve(rho, T), sigma, T, kind=kind, picture="schrodinger")
        assert np.max(np.abs(out - np.diag(np.diag(out)))) < 1e-12


@pytest.mark.parametrize("d", [2, 4])
def test_heisenberg_picture_equals_schrodinger_backward_flow(systems, rng, d, atol=1e-7):
    """The change of variables rho = sigma^{1/2} Y sigma^{1/2} turns the Petz flow into dY/dt = -L^dagger(Y)."""
    lind = systems.lindbladian(rng, d)
    sigma_0 = systems.state(rng, d)
    rho_T = systems.state(rng, d)
    a = recover(lind, rho_T, sigma_0, 0.6, kind="petz", picture="schrodinger")
    b = recover(lind, rho_T, sigma_0, 0.6, kind="petz", picture="heisenberg")
    assert np.max(np.abs(a - b)) < atol
    c = recover(lind, 0.5 * (rho_T + sigma_0), sigma_0, 0.6, kind="petz", picture="heisenberg")
    assert np.max(np.abs(c - a)) > 10 * atol  # a different input gives a different output


def test_heisenberg_picture_only_for_global_petz(systems, rng):
    lind = systems.lindbladian(rng, 2)
    s = systems.state(rng, 2)
    with pytest.raises(ValueError, match="global Petz and rotated"):
        recover(lind, s, s, 0.5, kind="twirled", picture="heisenberg")
    with pytest.raises(ValueError, match="picture must be"):
        recover(lind, s, s, 0.5, picture="interaction")


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("theta", [0.7, -1.3])
def test_rotated_flow_equals_schrodinger_integration_of_rotated_generator(systems, rng, d, theta, atol=1e-7):
    """Rotated maps compose like the plain Petz map (petz.md section 4 correction), so the rotated flow is the
    one-shot rotated map of the whole channel: the Heisenberg form (one forward + one adjoint solve) must equal
    the Schroedinger-picture integration of the rotated generator (P.18)-(P.19)."""
    lind = systems.lindbladian(rng, d)
    sigma_0, rho_T = systems.state(rng, d), systems.state(rng, d)
    T = 0.6
    a = recover(lind, rho_T, sigma_0, T, kind="rotated", theta=theta, rtol=1e-10, atol=1e-12, picture="schrodinger")
    b = recover(lind, rho_T, sigma_0, T, kind="rotated", theta=theta, picture="heisenberg", rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(a - b)) < atol
    # and the one-shot rotated map of the exact channel (independent of both integrators)
    from quantum_diffusion.petz import rotated_petz_map

    c = (rotated_petz_map(lind.channel(T), sigma_0, theta) @ rho_T.reshape(-1)).reshape(d, d)
    assert np.max(np.abs(b - c)) < atol
    # theta matters: the plain Petz flow is different
    assert np.max(np.abs(b - recover(lind, rho_T, sigma_0, T, picture="heisenberg"))) > 100 * atol


def test_default_picture_is_the_one_shot_form_where_it_exists(systems, rng):
    from quantum_diffusion.petz import reference_path, solve_recovery

    lind = systems.lindbladian(rng, 2)
    s = systems.state(rng, 2)
    assert solve_recovery(lind, s, s, 0.3).picture == "heisenberg"
    assert solve_recovery(lind, s, s, 0.3, kind="rotated", theta=0.4).picture == "heisenberg"
    assert solve_recovery(lind, s, s, 0.3, kind="twirled").picture == "schrodinger"
    assert solve_recovery(lind, s, s, 0.3, reference=reference_path(lind, s, 0.3)).picture == "schrodinger"
    assert solve_recovery(lind, s, s, 0.3, picture="schrodinger").picture == "schrodinger"
