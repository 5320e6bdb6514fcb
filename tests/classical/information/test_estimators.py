"""Estimators: known MI on small Gaussian tasks, wrong-answer controls, the paper protocol, bad input."""

import numpy as np
import pytest

from classical.information.estimators import METHODS, estimate_cmi, estimate_mi
from classical.information.references import gaussian_cmi
from classical.information.regions import Regions

#: Stated tolerance (nats) on the 1-d Gaussian task with n = 3000 and 400 steps, per method.
TOL = {"predictive": 0.06, "mine": 0.1, "nwj": 0.1, "infonce": 0.1, "smile": 0.1}


def _pair(rng, n, rho):
    x = rng.standard_normal(n)
    return x, rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(n)


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_recovers_gaussian_mi_and_shuffled_gives_zero(method, rng):
    x, y = _pair(rng, 3000, 0.8)
    exact = -0.5 * np.log(1 - 0.8**2)  # 0.511
    r = estimate_mi(x, y, method=method, seed=1, steps=400)
    assert abs(r.value - exact) < TOL[method], (r.value, exact)
    null = estimate_mi(x, rng.permutation(y), method=method, seed=1, steps=400)
    assert abs(null.value) < 0.05, null.value


@pytest.mark.slow
def test_predictive_recovers_mi(rng):
    x, y = _pair(rng, 3000, 0.8)
    r = estimate_mi(x, y, seed=0, steps=300)
    assert abs(r.value + 0.5 * np.log(1 - 0.64)) < 0.06
    assert 0 < r.stderr < 0.05 and r.method == "predictive" and r.n_test == 900


@pytest.mark.slow
def test_predictive_cmi_gaussian_chain(rng):
    """Chain X -> Z -> Y plus a direct X -> Y link: exact CMI from the closed form."""
    n = 4000
    x = rng.standard_normal(n)
    z = 0.9 * x + 0.5 * rng.standard_normal(n)
    y = 0.8 * z + 1.0 * x + 0.5 * rng.standard_normal(n)
    cov = np.cov(np.stack([x, y, z]), bias=True)
    exact = gaussian_cmi(cov, 0.0, Regions(a=[0], b=[2], c=[1], size=3))
    r = estimate_cmi(x, y, z, seed=0, steps=400)
    assert exact > 0.2
    assert abs(r.value - exact) < 0.07, (r.value, exact)
    # wrong-answer control: y independent of x given z
    y0 = 0.8 * z + 0.5 * rng.standard_normal(n)
    assert abs(estimate_cmi(x, y0, z, seed=0, steps=400).value) < 0.04


def test_paper_mode_reports_max_of_three_and_training_batches(rng):
    x, y = _pair(rng, 600, 0.8)
    z = rng.standard_normal((600, 2))
    r = estimate_cmi(x, y, z, method="mine", mode="paper", steps=40, seed=0)
    assert len(r.repeats) == 4 and r.n_test == 0
    assert r.diagnostics["I_x_yz"] == max(r.repeats[:3])
    assert r.diagnostics["I_x_z"] == r.repeats[3]
    assert r.value == pytest.approx(r.diagnostics["I_x_yz"] - r.diagnostics["I_x_z"])
    run = r.diagnostics["runs_yz"][0]
    assert run["steps"] == 40 and "train_batch_estimate" in run


def test_bad_input_raises(rng):
    x, y = _pair(rng, 100, 0.5)
    with pytest.raises(ValueError, match="sample counts differ"):
        estimate_mi(x, y[:50])
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        estimate_mi(x, bad)
    with pytest.raises(ValueError, match="too few samples"):
        estimate_mi(x, y, batch_size=256)
    with pytest.raises(ValueError, match="too few samples"):
        estimate_mi(x, y, method="mine", batch_size=256)
    with pytest.raises(ValueError, match="method must be one of"):
        estimate_mi(x, y, method="ksg")
    with pytest.raises(ValueError, match="paper"):
        estimate_mi(x, y, method="nwj", mode="paper")
    with pytest.raises(ValueError, match="sample counts differ"):
        estimate_cmi(x, y, y[:10])


def test_gaussianisation_makes_estimates_invariant_under_monotone_maps(rng):
    """MI is invariant under invertible coordinate maps; with gaussianise=True so is the estimate."""
    x, y = _pair(rng, 800, 0.8)
    a = estimate_mi(x, y, seed=3, steps=30)
    b = estimate_mi(np.exp(x), y**3, seed=3, steps=30)
    assert a.value == pytest.approx(b.value, abs=1e-3)  # float32 interpolation of the test points


def test_paper_mode_training_batch_bias_is_measured_on_held_out_data(rng):
    """Independent x, y (MI = 0), few samples, long training: the critic memorises the training pairs, so the
    paper's training-batch estimate is clearly positive while the held-out value of the same critic is not."""
    x = rng.standard_normal((200, 1))
    y = rng.standard_normal((200, 4))
    r = estimate_mi(x, y, method="mine", mode="paper", steps=600, lr=3e-3, batch_size=50, hidden=128,
                    test_fraction=0.5, seed=0)
    run = r.diagnostics["runs"][0]
    assert r.n_test == 100 and r.value == run["train_batch_estimate"]
    assert run["train_batch_estimate"] > 0.15, run
    assert run["held_out"] < 0.05, run
    assert estimate_mi(x, y, method="mine", mode="paper", steps=5, seed=0).n_test == 0  # paper default: no hold-out
    with pytest.raises(ValueError, match="test_fraction"):
        estimate_mi(x, y, method="mine", mode="honest", steps=5, test_fraction=0.0)
