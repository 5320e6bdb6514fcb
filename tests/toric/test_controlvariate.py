"""Control-variate (entropy-difference) CMI estimator: zero-mean identity, unbiasedness against exact, gain."""

import numpy as np
import pytest

from quantum_diffusion.toric import square_regions, toric_cmi_exact, toric_cmi_mc, torus_regions
from quantum_diffusion.toric.controlvariate import cv_terms, toric_cmi_cv
from quantum_diffusion.toric.sampler import KLSampler

pytestmark = pytest.mark.filterwarnings("ignore:toric_cmi_mc is deprecated:DeprecationWarning")


@pytest.mark.parametrize("lam", ["crossfit", 1.0, 0.5])
@pytest.mark.parametrize("p,loops", [(0.05, "trivial"), (0.11, "all")])
def test_cv_agrees_with_exact_on_L4_torus(p, loops, lam, n_sigma=3.5):
    exact = toric_cmi_exact(4, p, 1, geometry="torus", loops=loops)
    res = toric_cmi_cv(p, 1, "torus", L=4, loops=loops, n_samples=400, seed=7)
    assert abs(res.cmi - exact) < n_sigma * res.stderr
    assert res.stderr < 0.15 * exact


def test_control_variate_has_zero_mean_and_test_has_power():
    # E[P(a|b,c,h) | b,q] = P(a|b,q)  =>  E[sum_f (P - Q) ln Q] = 0.  A wrong Q (patterns permuted) must fail.
    p, n = 0.11, 600
    s = KLSampler(torus_regions(4, 1), p, loops="all")
    rng = np.random.default_rng(3)
    y_ok, y_bad = np.zeros(n), np.zeros(n)
    for i, e in enumerate(s.sample_noise(rng, n)):
        lz_abc, lz_ab = s.log_z(e)
        y_ok[i] = cv_terms(lz_abc, lz_ab)[1]
        y_bad[i] = cv_terms(lz_abc, lz_ab[::-1])[1]
    se = lambda y: y.std(ddof=1) / np.sqrt(n)  # noqa: E731
    assert abs(y_ok.mean()) < 3.5 * se(y_ok)
    assert abs(y_bad.mean()) > 5 * se(y_bad)


def test_lam_zero_is_plain_mc_and_terms_match_kl():
    plain = toric_cmi_mc(0.05, 2, n_samples=30, seed=4)
    res = toric_cmi_cv(0.05, 2, n_samples=30, seed=4, lam=0.0)
    np.testing.assert_allclose(res.samples, plain.samples, rtol=1e-10, atol=1e-14)
    # lam = 1 is the entropy difference H(Q) - H(P)
    s = KLSampler(square_regions(2), 0.05)
    e = s.sample_noise(np.random.default_rng(0), 1)[0]
    lz_abc, lz_ab = s.log_z(e)
    P = np.exp(lz_abc - np.logaddexp.reduce(lz_abc))
    Q = np.exp(lz_ab - np.logaddexp.reduce(lz_ab))
    d, y = cv_terms(lz_abc, lz_ab)
    assert d + y == pytest.approx(-(Q * np.log(Q)).sum() + (P * np.log(P)).sum(), abs=1e-12)


def test_seeded_and_validates():
    a = toric_cmi_cv(0.05, 1, n_samples=8, seed=1)
    b = toric_cmi_cv(0.05, 1, n_samples=8, seed=np.random.default_rng(1))
    assert a.cmi == b.cmi
    with pytest.raises(ValueError, match="lam"):
        toric_cmi_cv(0.05, 1, n_samples=8, lam="optimal")
    with pytest.raises(ValueError, match="n_samples"):
        toric_cmi_cv(0.05, 1, n_samples=3)
    assert toric_cmi_cv(0.0, 1, n_samples=4).cmi == 0.0


@pytest.mark.slow
def test_gain_at_p005_r4(n=2000):
    # same samples: variance of plain KL vs cross-fitted control variate (measured ~2.9x at 6000 samples)
    plain = toric_cmi_mc(0.05, 4, n_samples=n, seed=12)
    res = toric_cmi_cv(0.05, 4, n_samples=n, seed=12)
    assert abs(res.cmi - plain.cmi) < 3.5 * plain.stderr
    assert (plain.stderr / res.stderr) ** 2 > 2.0
