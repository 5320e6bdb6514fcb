"""subsystems: partial trace, embeddings and maps on a few factors, checked against qutip and explicit krons."""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from quantum_diffusion.subsystems import (
    apply_on_subsystems,
    conjugate_on_subsystems,
    embed_operator,
    embed_superoperator,
    partial_trace,
    ring_neighbourhood,
)

DIMS = [2, 3, 2]


def _rand(rng, d):
    return rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))


@pytest.mark.parametrize("keep", [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]])
def test_partial_trace_matches_qutip(rng, keep, atol=1e-12):
    rho = _rand(rng, 12)
    q = qutip.Qobj(rho, dims=[DIMS, DIMS]).ptrace(keep).full()
    assert np.max(np.abs(partial_trace(rho, DIMS, keep) - q)) < atol


def test_embed_operator_is_a_kron_with_identities(rng, atol=1e-14):
    a, c = _rand(rng, 2), _rand(rng, 2)
    op = np.kron(a, c)  # acts on sites 0 and 2
    expected = np.kron(np.kron(a, np.eye(3)), c)
    assert np.max(np.abs(embed_operator(op, DIMS, [0, 2], [0, 1, 2]) - expected)) < atol


def test_embed_superoperator_equals_apply_on_subsystems(rng, atol=1e-12):
    s = _rand(rng, 9)  # any superoperator on site 1 (d = 3)
    big = embed_superoperator(s, DIMS, [1], [0, 1, 2])
    x = _rand(rng, 12)
    assert np.max(np.abs((big @ x.reshape(-1)).reshape(12, 12) - apply_on_subsystems(s, x, DIMS, [1]))) < atol


def test_apply_and_conjugate_on_subsystems_against_krons(rng, atol=1e-12):
    u, w, x = _rand(rng, 4), _rand(rng, 4), _rand(rng, 12)
    # u acts on sites (0, 2): build the full operator by a permutation-free kron through embed_operator
    U, W = embed_operator(u, DIMS, [0, 2], [0, 1, 2]), embed_operator(w, DIMS, [0, 2], [0, 1, 2])
    assert np.max(np.abs(conjugate_on_subsystems(u, x, DIMS, [0, 2], w) - U @ x @ W)) < atol
    s = np.kron(u, w.conj())  # X -> u X w^dag on the sites, row-major
    assert np.max(np.abs(apply_on_subsystems(s, x, DIMS, [0, 2]) - U @ x @ W.conj().T)) < atol


def test_ring_neighbourhood_and_bad_sites():
    assert ring_neighbourhood([0], 1, 5) == [0, 1, 4]
    with pytest.raises(ValueError, match="radius"):
        ring_neighbourhood([0], -1, 5)
    with pytest.raises(ValueError, match="distinct"):
        embed_operator(np.eye(2), DIMS, [0, 0], [0, 1])
    with pytest.raises(ValueError, match="not contained"):
        embed_operator(np.eye(2), DIMS, [0], [1, 2])
