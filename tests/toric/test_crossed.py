"""Crossed (inner x outer) CMI estimator: Woodbury pair engine against the direct Kac-Ward engine, unbiasedness
against the exact CMI (z-scores over seeds), rare-event flag, validation."""

import warnings

import numpy as np
import pytest

import quantum_diffusion.toric.crossed as crossed
from quantum_diffusion.toric import RareEventWarning, square_regions, toric_cmi, toric_cmi_exact, torus_regions
from quantum_diffusion.toric.crossed import CrossedKL, crossed_estimate, pair_terms
from quantum_diffusion.toric.regions import block_edges
from quantum_diffusion.toric.sampler import KLSampler, cv_terms

SMALL = {"inner_per_block": 4, "outer_per_block": 4}


def _direct(eng, e1s, e2s):
    return np.array([[cv_terms(*eng.sampler.log_z(eng.full_noise(a, b))) for b in e2s] for a in e1s])


@pytest.mark.parametrize("r,r_in,p", [(2, 1, 0.12), (2, 2, 0.05), (3, 1, 0.2), (4, 1, 0.05)])
def test_woodbury_pairs_match_direct_kac_ward(r, r_in, p, rng):
    # two independent routes to the 16 flip partition functions of every pair: Schur complement + Woodbury on
    # per-draw environments, and one sparse LU of the whole block per pair (KacWardBlock.flip_log_z)
    s = KLSampler(square_regions(r), p)
    eng = CrossedKL(s, r_in)
    assert eng.fast
    e1s = (rng.random((4, eng.inner_edges.size)) < 0.15).astype(np.uint8)
    e2s = (rng.random((3, eng.outer_edges.size)) < 0.15).astype(np.uint8)
    d, y = eng.terms(e1s, e2s)
    ref = _direct(eng, e1s, e2s)
    np.testing.assert_allclose(d, ref[..., 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(y, ref[..., 1], rtol=0, atol=1e-11)
    assert d.max() > 1e-4  # the configurations are not all trivial
    lz_abc, lz_ab, bad = eng.pair_log_z(eng.inner_state(e1s), eng.outer_state(e2s))
    assert not bad.any()
    e = eng.full_noise(e1s[1], e2s[2])
    np.testing.assert_allclose(lz_abc[1, 2] - lz_abc[1, 2, 0], s.log_z_abc(e) - s.log_z_abc(e)[0], atol=1e-10)
    np.testing.assert_allclose(lz_ab[1, 2] - lz_ab[1, 2, 0], s.log_z_ab(e) - s.log_z_ab(e)[0], atol=1e-10)


def test_groups_partition_the_noisy_edges():
    tri = square_regions(4)
    s = KLSampler(tri, 0.1)
    for r_in in (1, 2, 4):
        eng = CrossedKL(s, r_in)
        both = np.concatenate([eng.inner_edges, eng.outer_edges])
        assert np.unique(both).size == both.size
        np.testing.assert_array_equal(np.sort(both), np.sort(s.free_edges))
        np.testing.assert_array_equal(np.union1d(eng.inner_edges, tri.A), block_edges(tri.L, tri.center, r_in))
    assert np.array_equal(CrossedKL(s, 4).inner_edges, np.sort(tri.B))  # r_in = r: B x C


def test_ill_conditioned_pairs_fall_back_to_the_direct_engine(monkeypatch, rng):
    s = KLSampler(square_regions(2), 0.1)
    eng = CrossedKL(s, 1)
    e1s = (rng.random((3, eng.inner_edges.size)) < 0.2).astype(np.uint8)
    e2s = (rng.random((2, eng.outer_edges.size)) < 0.2).astype(np.uint8)
    monkeypatch.setattr(crossed, "RATIO_TOL", -1.0)  # every Woodbury ratio now fails the check
    d, y = eng.terms(e1s, e2s)
    assert eng.n_direct == 6
    np.testing.assert_allclose(np.stack([d, y], -1), _direct(eng, e1s, e2s), atol=1e-13)


def test_pair_terms_is_vectorised_cv_terms(rng):
    a, b = rng.normal(size=(2, 3, 5, 16))
    d, y = pair_terms(a, b)
    assert d.shape == (3, 5)
    assert (d[2, 4], y[2, 4]) == pytest.approx(cv_terms(a[2, 4], b[2, 4]), abs=1e-14)


@pytest.mark.parametrize("cv", [True, False])
def test_crossed_agrees_with_exact_on_L4_torus(cv, n_sigma=3.5):
    exact = toric_cmi_exact(4, 0.08, 1, geometry="torus")
    res = toric_cmi(torus_regions(4, 1), 0.08, method="crossed", n_samples=80, seed=3,
                    options={**SMALL, "control_variate": cv})
    assert abs(res.cmi - exact) < n_sigma * res.stderr
    assert res.reliable and res.method == "crossed" and res.n_samples == 20 * 16
    assert np.sum(res.weights * res.samples) == pytest.approx(res.cmi, rel=1e-10)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::quantum_diffusion.toric.RareEventWarning")  # 16 blocks per run: judged here
@pytest.mark.parametrize("p,loops,cv", [(0.05, "trivial", True), (0.11, "all", False)])
def test_crossed_unbiased_z_scores_over_seeds(p, loops, cv, n_seeds=16):
    # mean 0 and spread 1 over seeds for an unbiased estimator with an honest error bar (test_cmi.py)
    exact = toric_cmi_exact(4, p, 1, geometry="torus", loops=loops)
    z = []
    for seed in range(n_seeds):
        res = toric_cmi(torus_regions(4, 1), p, loops=loops, method="crossed", n_samples=64, seed=100 + seed,
                        options={**SMALL, "control_variate": cv})
        z.append((res.cmi - exact) / res.stderr)
    z = np.array(z)
    assert abs(z.mean()) < 3.5 / np.sqrt(n_seeds)
    assert 0.4 < z.std(ddof=1) < 1.8


@pytest.mark.slow
def test_crossed_woodbury_path_unbiased_on_square_geometry(n_seeds=16):
    # square geometry r = r_C = 1: the pairs go through the Woodbury path; exact CMI by label convolution
    exact = toric_cmi(square_regions(1), 0.08).cmi
    z = []
    for seed in range(n_seeds):
        res = toric_cmi(square_regions(1), 0.08, method="crossed", n_samples=64, seed=200 + seed, options=SMALL)
        z.append((res.cmi - exact) / res.stderr)
    z = np.array(z)
    assert abs(z.mean()) < 3.5 / np.sqrt(n_seeds)
    assert 0.4 < z.std(ddof=1) < 1.8


def test_crossed_flags_the_rare_event_regime():
    # L = 4, r = 1, p = 1e-3 (exact 5.9e-3): a run whose estimate rests on the few blocks that met an error
    # says so (ess counts blocks).  A run too short to meet any error cannot be flagged (sampler docstring).
    with pytest.warns(RareEventWarning, match="effective samples"):
        res = toric_cmi(torus_regions(4, 1), 1e-3, method="crossed", n_samples=160, seed=2,
                        options={"inner_per_block": 8, "outer_per_block": 4})
    assert not res.reliable and res.ess < 10


def test_crossed_seeded_trivial_and_validated():
    s = KLSampler(square_regions(2), 0.1)
    a = crossed_estimate(s, n_samples=64, seed=5, **SMALL)
    b = crossed_estimate(s, n_samples=64, seed=np.random.default_rng(5), **SMALL)
    assert a.cmi == b.cmi and a.n_samples == 16 * 16
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zero = toric_cmi(square_regions(2), 0.0, method="crossed", n_samples=32, options=SMALL)
    assert (zero.cmi, zero.stderr, zero.reliable) == (0.0, 0.0, True)
    with pytest.raises(ValueError, match="inner_radius"):
        CrossedKL(s, 3)
    with pytest.raises(ValueError, match="inner_radius"):
        CrossedKL(s, 0)
    with pytest.raises(ValueError, match="inner_per_block"):
        crossed_estimate(s, n_samples=32, inner_per_block=0)
    with pytest.raises(ValueError, match="outer_per_block"):
        crossed_estimate(s, n_samples=32, outer_per_block=2.5)
    with pytest.raises(ValueError, match="n_samples"):
        crossed_estimate(s, n_samples=31, outer_per_block=8)
    # non-numeric counts and radii named the argument only after this fix ("could not convert string to float")
    with pytest.raises(ValueError, match="n_samples"):
        toric_cmi(square_regions(2), 0.1, method="crossed", n_samples="x")
    with pytest.raises(ValueError, match="inner_radius"):
        crossed_estimate(s, n_samples=32, inner_radius="a")
    with pytest.raises(TypeError, match="unexpected keyword"):
        toric_cmi(square_regions(2), 0.1, method="crossed", n_samples=32, options={"lam": 1.0})


@pytest.mark.parametrize("r,r_in,p", [(2, 1, 0.12), (4, 1, 0.05), (4, 2, 0.1)])
def test_three_level_woodbury_matches_direct_kac_ward(r, r_in, p, rng):
    # C's environment attached to the middle ring by a second Woodbury update, against one LU per triple
    s = KLSampler(square_regions(r), p)
    eng = CrossedKL(s, r_in)
    both = np.concatenate([eng.mid_edges, eng.c_edges])
    np.testing.assert_array_equal(np.sort(both), eng.outer_edges)
    e1s = (rng.random((3, eng.inner_edges.size)) < 0.15).astype(np.uint8)
    ems = (rng.random((2, eng.mid_edges.size)) < 0.15).astype(np.uint8)
    ecs = (rng.random((3, eng.c_edges.size)) < 0.15).astype(np.uint8)
    d, y = eng.terms3(e1s, ems, ecs)
    ref = np.array([[[cv_terms(*s.log_z(eng.full_noise3(a, b, c))) for c in ecs] for b in ems] for a in e1s])
    np.testing.assert_allclose(d, ref[..., 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(y, ref[..., 1], rtol=0, atol=1e-11)
    assert d.max() > 1e-3 and eng.n_direct == 0


def test_three_level_agrees_with_two_levels_and_plain(n_sigma=4.0):
    # square r = 2 (no exact value reachable): three unbiased estimators with independent draws must agree
    reg, p = square_regions(2), 0.12
    a = toric_cmi(reg, p, method="crossed", n_samples=96, seed=1,
                  options={"inner_radius": 1, "inner_per_block": 16, "c_per_block": 4})
    b = toric_cmi(reg, p, method="crossed", n_samples=96, seed=2, options={"inner_radius": 1, "levels": 2})
    c = toric_cmi(reg, p, method="cv", n_samples=400, seed=3)
    for x, y in ((a, b), (a, c), (b, c)):
        assert abs(x.cmi - y.cmi) < n_sigma * np.hypot(x.stderr, y.stderr)
    assert a.n_samples == 12 * 16 * 8 * 4


def test_three_level_validation():
    s = KLSampler(square_regions(2), 0.1)
    with pytest.raises(ValueError, match="inner_radius < r"):
        crossed_estimate(s, n_samples=32, inner_radius=2, levels=3)
    with pytest.raises(ValueError, match="c_per_block"):
        crossed_estimate(s, n_samples=32, inner_radius=1, c_per_block=0)
    with pytest.raises(ValueError, match="levels"):
        crossed_estimate(s, n_samples=32, levels=4)
    with pytest.raises(ValueError, match="inner_radius < r"):
        CrossedKL(s, 2).terms3(np.zeros((1, 56)), np.zeros((1, 0)), np.zeros((1, 10)))
