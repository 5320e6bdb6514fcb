"""The toric_cmi entry point: every estimator unbiased against the exact CMI; honest rare-event diagnostics.

Also the issue-13 item-8 regressions (each failed on the code before this module existed).
"""

import json
import warnings

import numpy as np
import pytest

from quantum_diffusion.io import to_jsonable
from quantum_diffusion.toric import (
    RareEventWarning,
    Tripartition,
    square_regions,
    toric_cmi,
    toric_cmi_exact,
    torus_regions,
)
from quantum_diffusion.toric.partition import KacWardBlock, flip_patterns, log_z_brute, nishimori_beta

MC_METHODS = ["mc", "stratified", "cv", "stratified_cv"]


def test_exact_method_matches_toric_cmi_exact():
    for p in (0.05, 0.11):
        res = toric_cmi(torus_regions(4, 1), p, loops="all")
        assert res.cmi == toric_cmi_exact(4, p, 1, geometry="torus", loops="all")
        assert (res.stderr, res.n_samples, res.method, res.reliable) == (0.0, 0, "exact", True)


@pytest.mark.parametrize("method", MC_METHODS)
def test_estimator_agrees_with_exact_on_L4_torus(method, n_sigma=3.5):
    exact = toric_cmi_exact(4, 0.08, 1, geometry="torus")
    res = toric_cmi(torus_regions(4, 1), 0.08, method=method, n_samples=240, seed=3)
    assert abs(res.cmi - exact) < n_sigma * res.stderr
    assert res.reliable and res.ess > 10
    assert np.sum(res.weights * res.samples) == pytest.approx(res.cmi, rel=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("method", MC_METHODS)
@pytest.mark.parametrize("p,loops", [(0.05, "trivial"), (0.11, "all")])
def test_estimator_unbiased_z_scores_over_seeds(method, p, loops, n_seeds=16, n=150):
    # z_k = (estimate_k - exact) / stderr_k over independent seeds: mean 0 and spread 1 for an unbiased
    # estimator with honest error bars.  A bias of half a standard error would move mean(z) by 0.5 = 2 sigma.
    exact = toric_cmi_exact(4, p, 1, geometry="torus", loops=loops)
    z = []
    for seed in range(n_seeds):
        res = toric_cmi(torus_regions(4, 1), p, loops=loops, method=method, n_samples=n, seed=100 + seed)
        z.append((res.cmi - exact) / res.stderr)
    z = np.array(z)
    assert abs(z.mean()) < 3.5 / np.sqrt(n_seeds)
    assert 0.4 < z.std(ddof=1) < 1.8


def test_results_are_frozen_and_serialisable():
    res = toric_cmi(torus_regions(4, 1), 0.11, method="cv", n_samples=40, seed=0)
    with pytest.raises(AttributeError):
        res.cmi = 0.0
    d = json.loads(json.dumps(to_jsonable(res.to_dict())))
    assert d["method"] == "cv" and d["n_samples"] == 40 and d["ess"] == res.ess


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="method"):
        toric_cmi(square_regions(1), 0.1, method="magic")
    with pytest.raises(TypeError, match="regions"):
        toric_cmi((4, 1), 0.1)
    lab = np.random.default_rng(0).integers(0, 3, 2 * 3 * 3)
    custom = Tripartition(3, *(np.nonzero(lab == k)[0] for k in range(3)))  # geometry "custom"
    assert np.isfinite(toric_cmi(custom, 0.1).cmi)  # exact handles any tripartition ...
    with pytest.raises(ValueError, match="standard geometry"):  # ... Monte Carlo needs a plaquette A
        toric_cmi(custom, 0.1, method="mc")
    with pytest.raises(ValueError, match="n_samples"):
        toric_cmi(square_regions(1), 0.1, method="mc", n_samples=1)
    with pytest.raises(ValueError, match="p must lie in"):
        toric_cmi(square_regions(1), -0.1, method="cv")


# ---------------------------------------------------------------------------------------------------------------
# issue 13 item 8
# ---------------------------------------------------------------------------------------------------------------


def test_issue13_item8_mc_small_p_no_kac_ward_failure():
    # raised "Kac-Ward determinant not real positive" for 0 < p <= 1e-6 before
    for p in (1e-6, 1e-9):
        res = toric_cmi(torus_regions(4, 1), p, method="mc", n_samples=20, seed=0)
        assert np.isfinite(res.cmi) and res.cmi >= 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RareEventWarning)
        assert np.isfinite(toric_cmi(square_regions(2), 1e-7, method="mc", n_samples=5, seed=1).cmi)


@pytest.mark.parametrize("p", [1e-6, 1e-10])
def test_issue13_item8_kac_ward_small_p_matches_enumeration(p, atol=1e-8):
    # below p = 1e-3 the Kac-Ward determinant cancels catastrophically (errors of 0.3 in ln Z at p = 1e-8 before,
    # silently): every flip pattern must agree with brute-force enumeration
    kw = KacWardBlock(3)
    beta = nishimori_beta(p)
    rng = np.random.default_rng(7)
    flip = np.array([4, 5, kw.n_edges - 5, 9])
    for _ in range(2):
        J = np.where(rng.random(kw.n_edges) < 0.2, -1.0, 1.0)
        ref = []
        for signs in flip_patterns(4):
            Jf = J.copy()
            Jf[flip] *= signs
            ref.append(log_z_brute(kw.edges, Jf, beta))
        np.testing.assert_allclose(kw.flip_log_z(J, beta, flip), ref, rtol=0, atol=atol)


def test_issue13_item8_kac_ward_small_p_large_block_raises_clearly():
    kw = KacWardBlock(17)
    with pytest.raises(ValueError, match="flip probability p = 1e-06 is below"):
        kw.flip_log_z(np.ones(kw.n_edges), nishimori_beta(1e-6), np.array([0, 1]))


def test_issue13_item8_ess_flags_rare_events():
    # L = 4, r = 1, p = 1e-3: exact 5.86e-3; plain MC with 300 samples (seed 2) reported 4.1e-5 +- 1.8e-5
    exact = toric_cmi_exact(4, 1e-3, 1, geometry="torus")
    assert exact == pytest.approx(5.86e-3, rel=1e-3)
    with pytest.warns(RareEventWarning, match="effective samples"):
        res = toric_cmi(torus_regions(4, 1), 1e-3, method="mc", n_samples=300, seed=2)
    assert res.cmi < 0.01 * exact  # the estimate is still that far off ...
    assert not res.reliable and res.ess < 10  # ... but it now says so
    # never meeting a contributing configuration (all KLs at the rounding floor) is flagged too
    with pytest.warns(RareEventWarning):
        res = toric_cmi(torus_regions(4, 1), 1e-6, method="mc", n_samples=20, seed=0)
    assert not res.reliable and res.ess == 0.0


def test_issue13_item8_stratified_handles_the_rare_event_case(n_sigma=3.5):
    # the routed-to estimator: exact strata probabilities on the errors in B give an honest answer at p = 1e-3
    exact = toric_cmi_exact(4, 1e-3, 1, geometry="torus")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RareEventWarning)
        res = toric_cmi(torus_regions(4, 1), 1e-3, method="stratified", n_samples=300, seed=2)
    assert abs(res.cmi - exact) < n_sigma * res.stderr and res.stderr < 0.3 * exact
