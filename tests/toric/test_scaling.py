"""Finite-size-scaling collapse: recovers known (p_c, nu, alpha) from synthetic data; batch pooling is exact."""

import numpy as np
import pytest

from quantum_diffusion.toric.scaling import collapse_fit, pool_batches, scaling_point

P_GRID = np.array([0.05, 0.07, 0.09, 0.10, 0.11, 0.12, 0.13, 0.15, 0.17, 0.20])
R_GRID = np.arange(2, 9)


def _synthetic(pc, nu, alpha, rel, rng):
    P, R = (a.ravel() for a in np.meshgrid(P_GRID, R_GRID, indexing="ij"))
    x = (P - pc) * R ** (1 / nu)
    # a non-polynomial scaling function: the fit's quartic phi only approximates ln Phi
    I = R**-alpha * np.exp(-1.0 - 2.0 * x - 6.0 * x**2 + 3.0 * np.tanh(x))
    E = rel * I
    return P, R, I + E * rng.standard_normal(I.size), E


@pytest.mark.parametrize("pc,nu,alpha", [(0.109, 1.5, 1.0), (0.11, 1.8, 1.1)])
def test_collapse_recovers_known_exponents(pc, nu, alpha, rng):
    f = collapse_fit(*_synthetic(pc, nu, alpha, 1e-4, rng), n_boot=10, degree=4)
    assert f.p_c == pytest.approx(pc, abs=2e-4)
    assert f.nu == pytest.approx(nu, rel=5e-3)
    assert f.alpha == pytest.approx(alpha, rel=2e-3)


def test_collapse_errors_cover_the_truth_with_noise(rng, n_sigma=3.5):
    f = collapse_fit(*_synthetic(0.109, 1.5, 1.0, 0.05, rng), n_boot=40, degree=4, seed=1)
    for got, want, err in ((f.p_c, 0.109, f.p_c_err), (f.nu, 1.5, f.nu_err), (f.alpha, 1.0, f.alpha_err)):
        assert np.isfinite(err) and err > 0
        assert abs(got - want) < n_sigma * err
    assert 0.5 < f.chi2_red < 2.0  # honest errors give a reduced chi-square near 1


def test_collapse_detects_a_wrong_scaling_form(rng):
    # data without a common scaling variable (two different critical points for even / odd r) collapse badly
    P, R, I, E = _synthetic(0.109, 1.5, 1.0, 0.02, rng)
    P2 = np.where(R % 2 == 0, P, P + 0.03)
    bad = collapse_fit(P2, R, I, E, n_boot=0)
    good = collapse_fit(P, R, I, E, n_boot=0)
    assert bad.chi2_red > 10 * good.chi2_red


def test_collapse_bad_input():
    with pytest.raises(ValueError, match="usable points"):
        collapse_fit([0.1] * 3, [2, 3, 4], [0.1, 0.05, 0.02], [0.01] * 3)
    with pytest.raises(ValueError, match="equal length"):
        collapse_fit([0.1], [2, 3], [0.1], [0.01])


def test_pool_batches_equals_one_big_sample(rng):
    x = rng.exponential(size=300)
    recs = []
    for b, chunk in enumerate(np.split(x, [50, 170])):
        recs.append({"params": {"p": 0.1, "r": 3, "r_C": None, "batch": b},
                     "result": {"cmi": chunk.mean(), "var": chunk.var(ddof=1), "n_samples": chunk.size,
                                "method": "cv"}})
    (pt,) = pool_batches(recs)
    assert pt.cmi == pytest.approx(x.mean(), rel=1e-12)
    assert pt.stderr == pytest.approx(x.std(ddof=1) / np.sqrt(x.size), rel=1e-12)
    assert (pt.n_samples, pt.n_batches, pt.r_C, pt.geometry) == (300, 3, 3, "r_C=r")


def test_scaling_point_through_sweep_resumes_and_extends(tmp_path):
    from quantum_diffusion.sweep import sweep

    grid = [{"p": 0.11, "r": 1, "r_C": 1, "batch": b, "n_samples": 8, "method": "cv"} for b in range(2)]
    first = sweep(scaling_point, grid[:1], store=tmp_path / "s.jsonl", executor="serial", progress=False)
    both = sweep(scaling_point, grid, store=tmp_path / "s.jsonl", executor="serial", progress=False)
    assert both[0]["result"] == first[0]["result"]  # the first batch is reused, not recomputed
    assert both[0]["seed"] != both[1]["seed"]  # batches are independent replicas


def test_scaling_point_crossed_pools_to_its_own_error_bar():
    # the crossed estimator's i.i.d. values are its block means: one pooled batch must keep the batch's own
    # error bar (the point reported the number of pairs as n_samples before, which shrank it about 11x)
    res = scaling_point(0.1, 1, 1, n_samples=32, method="crossed", rng=np.random.default_rng(0))
    (pt,) = pool_batches([{"params": {"p": 0.1, "r": 1, "r_C": 1, "batch": 0}, "result": res}])
    assert pt.stderr == pytest.approx(res["stderr"], rel=1e-9) and pt.n_samples == 4
