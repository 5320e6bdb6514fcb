"""Monte Carlo CMI (Rao-Blackwellised KL form): agrees with the exact CMI within its error bars; limits; seeds."""

import numpy as np
import pytest

from quantum_diffusion.toric import square_regions, toric_cmi_exact, toric_cmi_mc, toric_cmi_stratified, torus_regions
from quantum_diffusion.toric.montecarlo import cmi_mc_point
from quantum_diffusion.toric.sampler import KLSampler, kl_from_log_z

pytestmark = pytest.mark.filterwarnings("ignore:toric_cmi_mc is deprecated:DeprecationWarning")


@pytest.mark.parametrize("loops,n", [("trivial", 500), ("all", 300)])
def test_mc_agrees_with_exact_on_L4_torus(loops, n, n_sigma=3.5):
    p = 0.11
    exact = toric_cmi_exact(4, p, 1, geometry="torus", loops=loops)
    res = toric_cmi_mc(p, 1, "torus", L=4, loops=loops, n_samples=n, seed=11)
    assert abs(res.cmi - exact) < n_sigma * res.stderr
    assert res.stderr < 0.1 * exact  # the error bar is informative, not huge


def test_stratified_agrees_with_exact_and_is_unbiased_weighting(n_sigma=3.5):
    p = 0.05
    exact = toric_cmi_exact(4, p, 1, geometry="torus", loops="trivial")
    res = toric_cmi_stratified(p, 1, "torus", L=4, n_samples=400, seed=3)
    assert abs(res.cmi - exact) < n_sigma * res.stderr
    assert np.sum(res.weights * res.samples) == pytest.approx(res.cmi, rel=1e-12)
    assert np.sum(res.weights) == pytest.approx(1.0, abs=1e-12)  # strata + remainder probabilities


def test_multi_ring_stratification_agrees_with_exact(n_sigma=3.5):
    # rings: half of B, the other half of B, and C (the torus complement): exact strata probabilities must be right
    p = 0.08
    exact = toric_cmi_exact(4, p, 1, geometry="torus", loops="all")
    s = KLSampler(torus_regions(4, 1), p, loops="all")
    rings = [s.B_edges[::2], s.B_edges[1::2], s.C_edges]
    res = toric_cmi_stratified(p, 1, "torus", L=4, loops="all", n_samples=400, seed=9, rings=rings)
    assert abs(res.cmi - exact) < n_sigma * res.stderr
    assert np.sum(res.weights) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="disjoint"):
        toric_cmi_stratified(p, 1, "torus", L=4, n_samples=400, rings=[s.B_edges, s.B_edges[:3]])


def test_kl_is_invariant_under_noise_on_A_and_zero_at_half(atol=1e-12):
    s = KLSampler(square_regions(2), 0.11)
    rng = np.random.default_rng(0)
    e = s.sample_noise(rng, 1)[0]
    base = s.kl(e)
    e2 = e.copy()
    e2[s.tri.A[[0, 2]]] ^= 1  # flipping A permutes the 16 patterns: same KL
    J = 1.0 - 2.0 * e2
    lz_abc = s._kw_abc.flip_log_z(s._kw_abc.local_couplings(J, s._blk_abc), s.beta, s._flip_abc)
    lz_ab = s._kw_ab.flip_log_z(s._kw_ab.local_couplings(J, s._blk_ab), s.beta, s._flip_ab)
    assert kl_from_log_z(lz_abc, lz_ab) == pytest.approx(base, abs=atol)
    half = KLSampler(square_regions(2), 0.5)
    assert kl_from_log_z(*half.log_z(e)) == pytest.approx(0.0, abs=atol)  # beta = 0: all Z equal


def test_mc_zero_at_p0_and_half():
    for p in (0.0, 0.5):
        res = toric_cmi_mc(p, 2, "square", n_samples=5, seed=1)
        assert res.cmi == 0.0 and res.stderr == 0.0


def test_square_geometry_does_not_depend_on_L(atol=1e-12):
    # same noise relative to A on two tori: identical KL (the rest of the torus is traced out)
    from quantum_diffusion.toric import tripartition

    s6, s9 = KLSampler(tripartition(6, 1, "square"), 0.08), KLSampler(tripartition(9, 1, "square"), 0.08)
    rng = np.random.default_rng(4)
    for _ in range(3):
        e6 = s6.sample_noise(rng, 1)[0].reshape(6, 6, 2)
        e9 = np.zeros((9, 9, 2), np.uint8)
        c6, c9 = s6.tri.center, s9.tri.center
        for i in range(-2, 4):  # the vertex rows/columns of the 5x5-plaquette block ABC
            for j in range(-2, 4):
                e9[(c9[0] + i) % 9, (c9[1] + j) % 9] = e6[(c6[0] + i) % 6, (c6[1] + j) % 6]
        assert s6.kl(e6.ravel()) == pytest.approx(s9.kl(e9.ravel()), abs=atol)


def test_seeds_reproduce():
    a = toric_cmi_mc(0.1, 1, "square", n_samples=20, seed=5)
    b = toric_cmi_mc(0.1, 1, "square", n_samples=20, seed=np.random.default_rng(5))
    c = toric_cmi_mc(0.1, 1, "square", n_samples=20, seed=6)
    assert a.cmi == b.cmi and a.cmi != c.cmi


def test_runs_through_sweep_and_resumes(tmp_path, n_sigma=3.5):
    from quantum_diffusion.sweep import sweep

    grid = {"p": [0.11], "r": [1], "geometry": ["torus"], "L": [4], "n_samples": [150], "loops": ["all"]}
    recs = sweep(cmi_mc_point, grid, store=tmp_path / "s.jsonl", seed=2, executor="serial", progress=False)
    again = sweep(cmi_mc_point, grid, store=tmp_path / "s.jsonl", seed=2, executor="serial", progress=False)
    assert recs[0]["result"] == again[0]["result"]
    res = recs[0]["result"]
    assert abs(res["cmi"] - toric_cmi_exact(4, 0.11, 1, geometry="torus", loops="all")) < n_sigma * res["stderr"]


def test_bad_input():
    with pytest.raises(ValueError, match="p must lie in"):
        toric_cmi_mc(0.6, 1)
    with pytest.raises(ValueError, match="n_samples"):
        toric_cmi_mc(0.1, 1, n_samples=1)
    with pytest.raises(ValueError, match="needs the torus size"):
        toric_cmi_mc(0.1, 1, "torus")
    with pytest.raises(ValueError, match="needs L >= 2r"):
        toric_cmi_mc(0.1, 2, "torus", L=5)
    with pytest.raises(ValueError, match="too small"):
        toric_cmi_stratified(0.1, 2, n_samples=10)


@pytest.mark.slow
def test_mc_agrees_with_exact_square(n_sigma=3.5):
    exact = toric_cmi_exact(6, 0.11, 1, geometry="square", r_C=1)
    res = toric_cmi_mc(0.11, 1, "square", n_samples=2000, seed=1)
    assert abs(res.cmi - exact) < n_sigma * res.stderr


@pytest.mark.slow
def test_mc_agrees_with_exact_L5_all_loops(n_sigma=3.5):
    exact = toric_cmi_exact(5, 0.11, 1, geometry="torus", loops="all")
    res = toric_cmi_mc(0.11, 1, "torus", L=5, loops="all", n_samples=1000, seed=2)
    assert abs(res.cmi - exact) < n_sigma * res.stderr
