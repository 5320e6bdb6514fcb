"""Partition-function engines agree with each other to ~1e-12 on ln Z, and the RBIM identity P(y_R) ~ Z_R holds."""

import numpy as np
import pytest

from quantum_diffusion.toric.exact import brute_force_distribution
from quantum_diffusion.toric.lattice import edge_vertices, homology_representatives, plaquette_edges
from quantum_diffusion.toric.partition import (
    KacWardBlock,
    flip_patterns,
    log_z_brute,
    log_z_transfer,
    nishimori_beta,
    torus_flip_log_z,
)


def _couplings(n, p, rng):
    return np.where(rng.random(n) < p, -1.0, 1.0)


def _torus_grids(J, L):
    g = J.reshape(L, L, 2)
    return g[..., 0], g[..., 1]


@pytest.mark.parametrize("L", [3, 4])
@pytest.mark.parametrize("p", [0.05, 0.2])
def test_torus_transfer_matches_brute_force(L, p, atol=1e-12):
    rng = np.random.default_rng(L)
    beta = nishimori_beta(p)
    for _ in range(3):
        J = _couplings(2 * L * L, p, rng)
        Jh, Jv = _torus_grids(J, L)
        assert log_z_transfer(Jh, Jv, beta, periodic=True) == pytest.approx(
            log_z_brute(edge_vertices(L), J, beta), abs=atol
        )


@pytest.mark.parametrize("loops", ["trivial", "all"])
def test_torus_flip_environment_matches_brute_force(loops, atol=1e-12):
    L, p = 4, 0.11
    rng = np.random.default_rng(7)
    beta = nishimori_beta(p)
    ev = edge_vertices(L)
    center = (2, 3)
    A = np.sort(plaquette_edges(L)[center[0] * L + center[1]])
    J = _couplings(2 * L * L, p, rng)
    got = torus_flip_log_z(L, J, beta, center, loops=loops)
    # "all": sum over the 4 homology sectors, here with seams chosen independently of the engine's
    reps = homology_representatives(L, row=0, col=0) if loops == "all" else np.zeros((0, 2 * L * L), np.uint8)
    twists = [np.zeros(2 * L * L)]
    if loops == "all":
        twists = [a * reps[0] + b * reps[1] for a in (0, 1) for b in (0, 1)]
    for f in (0, 6, 9, 15):
        Jf = J.copy()
        Jf[A] *= flip_patterns(4)[f]
        ref = np.logaddexp.reduce([log_z_brute(ev, Jf * (1 - 2.0 * (t % 2)), beta) for t in twists])
        assert got[f] == pytest.approx(ref, abs=atol)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_kac_ward_matches_brute_force_and_transfer(n, atol=1e-12):
    rng = np.random.default_rng(n)
    kw = KacWardBlock(n)
    for p in (0.03, 0.11, 0.3):
        beta = nishimori_beta(p)
        J = _couplings(kw.n_edges, p, rng)
        Jh, Jv = J[: (n + 1) * n].reshape(n + 1, n), J[(n + 1) * n :].reshape(n, n + 1)
        ref = log_z_brute(kw.edges, J, beta)
        assert kw.log_z(J, beta) == pytest.approx(ref, abs=atol)
        assert kw.log_z(J, beta, dense=True) == pytest.approx(ref, abs=atol)
        assert log_z_transfer(Jh, Jv, beta, periodic=False) == pytest.approx(ref, abs=atol)


@pytest.mark.parametrize("n", [4, 6])
def test_kac_ward_lemma_matches_dense_and_transfer_on_larger_blocks(n, atol=1e-11):
    rng = np.random.default_rng(10 + n)
    kw = KacWardBlock(n)
    flip = np.array([0, n + 1, 2 * n, kw.n_edges - 1])
    for p in (0.05, 0.11):
        beta = nishimori_beta(p)
        J = _couplings(kw.n_edges, p, rng)
        sparse = kw.flip_log_z(J, beta, flip)
        dense = kw.flip_log_z(J, beta, flip, dense=True)
        np.testing.assert_allclose(sparse, dense, atol=atol, rtol=0)
        for f in (5, 15):
            Jf = J.copy()
            Jf[flip] *= flip_patterns(4)[f]
            Jh, Jv = Jf[: (n + 1) * n].reshape(n + 1, n), Jf[(n + 1) * n :].reshape(n, n + 1)
            assert sparse[f] == pytest.approx(log_z_transfer(Jh, Jv, beta, periodic=False), abs=atol)


def test_torus_with_cut_seams_is_the_open_block(atol=1e-12):
    # zeroing the wrap-around bonds turns the L x L torus into an open L x L vertex grid = (L-1)-plaquette block
    L, p = 5, 0.08
    rng = np.random.default_rng(3)
    beta = nishimori_beta(p)
    J = _couplings(2 * L * L, p, rng)
    Jh, Jv = (a.copy() for a in _torus_grids(J, L))
    Jh[:, L - 1] = 0.0
    Jv[L - 1, :] = 0.0
    kw = KacWardBlock(L - 1)
    Jl = np.concatenate([Jh[:, : L - 1].ravel(), Jv[: L - 1, :].ravel()])
    assert log_z_transfer(Jh, Jv, beta, periodic=True) == pytest.approx(kw.log_z(Jl, beta), abs=atol)


@pytest.mark.parametrize("p", [0.05, 0.11, 0.27])
def test_rbim_identity(p, rtol=1e-11):
    # P(y_R) = 2^{-|V_R|} (p(1-p))^{|R|/2} Z_R((-1)^{y_R}), trivial loops, any edge set R (also wrapping ones)
    L = 3
    P = brute_force_distribution(L, p, "trivial")
    rng = np.random.default_rng(int(p * 1000))
    beta = nishimori_beta(p)
    ev = edge_vertices(L)
    for size in (5, 9, 14):
        R = np.sort(rng.choice(2 * L * L, size, replace=False))
        other = tuple(np.setdiff1d(np.arange(2 * L * L), R).tolist())
        marg = P.sum(axis=other)
        nv = np.unique(ev[R]).size
        for _ in range(4):
            y = rng.integers(0, 2, size)
            J = 1.0 - 2.0 * y
            pred = -nv * np.log(2) + 0.5 * size * np.log(p * (1 - p)) + log_z_brute(ev[R], J, beta)
            assert np.exp(pred) == pytest.approx(marg[tuple(y)], rel=rtol)


def test_bad_input():
    with pytest.raises(ValueError, match="p must lie in"):
        nishimori_beta(0.7)
    with pytest.raises(ValueError, match="infinite Nishimori"):
        nishimori_beta(0.0)
    with pytest.raises(ValueError, match="shape"):
        KacWardBlock(2).log_z(np.ones(3), 0.5)
    with pytest.raises(ValueError, match="NaN"):
        log_z_brute([[0, 1]], [np.nan], 0.5)
    with pytest.raises(ValueError, match="Jv must have shape"):
        log_z_transfer(np.ones((3, 3)), np.ones((2, 3)), 0.5, periodic=True)
    with pytest.raises(ValueError, match="loops"):
        torus_flip_log_z(4, np.ones(32), 0.5, (0, 0), loops="x")
