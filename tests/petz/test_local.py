"""Local recovery (P.24-P.25): generator of the local map, and the sqrt(CMI) bound on a TFIM ring."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

from quantum_diffusion.info import quantum_cmi, trace_distance
from quantum_diffusion.petz import petz_generator
from quantum_diffusion.petz.local import (
    apply_on_subsystems,
    embed_lindbladian,
    embed_operator,
    local_petz_generator,
    local_recovery_map,
    ring_neighbourhood,
)
from quantum_diffusion.petz.models import amplitude_damping, depolarizing, gibbs_state, tfim_ring_hamiltonian


def test_ring_neighbourhood_and_embedding(rng, atol=1e-14):
    assert ring_neighbourhood([0], 1, 5) == [0, 1, 4]
    assert ring_neighbourhood([2], 3, 5) == [0, 1, 2, 3, 4]
    op = rng.normal(size=(2, 2))
    # op on site 2 of sites [0, 2, 3] (dims 2, 3, 2): identity on 0 and 3
    dims = [2, 5, 3, 2]
    e = embed_operator(np.kron(np.eye(1), rng.normal(size=(3, 3))), dims, [2], [0, 2, 3])
    assert e.shape == (12, 12)
    e2 = embed_operator(op, dims, [0], [0, 2, 3])
    assert np.max(np.abs(e2 - np.kron(op, np.eye(6)))) < atol
    with pytest.raises(ValueError, match="contained"):
        embed_operator(op, dims, [1], [0, 2])


def test_apply_on_subsystems_matches_dense_kron(rng, atol=1e-12):
    dims = [2, 3, 2]
    k = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    x = rng.normal(size=(12, 12))
    kk = embed_operator(k, dims, [0, 2], [0, 1, 2])
    out = apply_on_subsystems(np.kron(k, k.conj()), x, dims, [0, 2])
    assert np.max(np.abs(out - kk @ x @ kk.conj().T)) < atol


@pytest.mark.parametrize("kind", ["petz", "twirled"])
def test_local_generator_is_generator_of_local_map(systems, rng, kind, slope_tol=0.1):
    # (P.24): (R_{sigma_AB, exp(dt L_A)} (x) id_C - id)/dt -> B_loc, error O(dt), checked on a full operand
    dims = [2, 2, 2]
    la = systems.lindbladian(rng, 2)
    sigma = systems.state(rng, 8)
    x = systems.state(rng, 8)
    nb = [0, 1]
    gen = local_petz_generator(la, sigma, dims, [0], nb, kind=kind)
    target = gen.apply(x)
    errs, dts = [], np.array([1e-3, 1e-4])
    for dt in dts:
        R = local_recovery_map(sla.expm(dt * la.superop()), sigma, dims, [0], nb, kind=kind)
        approx = (apply_on_subsystems(R, x, dims, nb) - x) / dt
        errs.append(np.linalg.norm(approx - target) / np.linalg.norm(target))
    slope = np.polyfit(np.log10(dts), np.log10(errs), 1)[0]
    assert abs(slope - 1) < slope_tol


@pytest.mark.parametrize("kind,theta", [("petz", 0.0), ("rotated", 0.4), ("twirled", 0.0)])
def test_full_neighbourhood_local_generator_equals_global(systems, rng, kind, theta, atol=1e-12):
    dims = [2, 2, 2]
    la = systems.lindbladian(rng, 2)
    sigma, x = systems.state(rng, 8), systems.state(rng, 8)
    glob = petz_generator(embed_lindbladian(la, dims, [1], [0, 1, 2]), sigma, kind=kind, theta=theta)
    loc = local_petz_generator(la, sigma, dims, [1], [0, 1, 2], kind=kind, theta=theta)
    assert np.max(np.abs(glob.apply(x) - loc.apply(x))) < atol


@pytest.mark.parametrize("kind", ["petz", "twirled"])
def test_local_generator_apply_matches_dense_embedding(systems, rng, kind, atol=1e-12):
    # matrix-free B_AB (x) id_C against the explicit kron with the identity superoperator on C
    dims = [2, 2, 2]
    la = systems.lindbladian(rng, 2)
    sigma, x = systems.state(rng, 8), systems.state(rng, 8)
    loc = local_petz_generator(la, sigma, dims, [0], [0, 1], kind=kind)
    s_ab = loc.local_superop()  # on sites [0, 1]; C = site 2 is the last factor
    ref = np.zeros((8, 8), complex)
    for c1 in range(2):
        for c2 in range(2):
            block = x.reshape(4, 2, 4, 2)[:, c1, :, c2]
            ref.reshape(4, 2, 4, 2)[:, c1, :, c2] = (s_ab @ block.reshape(-1)).reshape(4, 4)
    assert np.max(np.abs(loc.apply(x) - ref)) < atol


@pytest.mark.parametrize("noise", [amplitude_damping(1.0), depolarizing(1.5)], ids=["amp-damp", "depol"])
def test_local_twirled_recovery_error_below_sqrt_cmi(noise):
    # P.25 on a transverse-field Ising ring: TD(sigma, T_loc(E_A(sigma))) <= sqrt(I(A:C|B)_sigma)
    n, beta = 5, 1.0
    dims = [2] * n
    sigma = gibbs_state(tfim_ring_hamiltonian(n, 1.0, 1.0), beta)
    ch = noise.channel(1.0)
    noisy = apply_on_subsystems(ch, sigma, dims, [0])
    errs = []
    for r in (0, 1):
        nb = ring_neighbourhood([0], r, n)
        rest = [s for s in range(n) if s not in nb]
        rec = apply_on_subsystems(local_recovery_map(ch, sigma, dims, [0], nb, kind="twirled"), noisy, dims, nb)
        err = trace_distance(0.5 * (rec + rec.conj().T), sigma)
        cmi = quantum_cmi(sigma, dims, [0], [s for s in nb if s != 0], rest)
        cmi_after = quantum_cmi(noisy, dims, [0], [s for s in nb if s != 0], rest)
        assert err <= np.sqrt(cmi - cmi_after) + 1e-10 <= np.sqrt(cmi) + 1e-10
        errs.append(err)
    assert errs[1] < errs[0]  # a larger neighbourhood recovers better
    assert errs[0] > 1e-3  # and the bound is not vacuous: radius 0 really loses information


@pytest.mark.parametrize("kind,theta", [("petz", 0.0), ("rotated", 0.6), ("twirled", 0.0)])
def test_matrix_free_local_map_matches_superoperator(rng, kind, theta, atol=1e-11):
    from quantum_diffusion.petz.local import apply_local_recovery_map

    n = 4
    dims = [2] * n
    sigma = gibbs_state(tfim_ring_hamiltonian(n, 1.0, 0.8), 0.7)
    ch = depolarizing(0.8).channel(1.0)
    g = rng.normal(size=(16, 16)) + 1j * rng.normal(size=(16, 16))
    x = g + g.conj().T
    for nb in ([0], [0, 1, 3]):
        ref = apply_on_subsystems(local_recovery_map(ch, sigma, dims, [0], nb, kind=kind, theta=theta), x, dims, nb)
        got = apply_local_recovery_map(ch, sigma, dims, [0], nb, x, kind=kind, theta=theta)
        assert np.max(np.abs(got - ref)) < atol
