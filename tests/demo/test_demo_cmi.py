"""The CMI demo section at a tiny size: physical facts of the exact reference, JSON round trip, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from classical.information.grid import CMIGrid
from classical.information.heatmap import barrier, converged_in_n, markov_lengths, times_from
from quantum_diffusion.demo.cmi import demo_sections, heatmap_data

TINY = dict(times=(0.3, 1.0), radii=(1, 2, 3), repeats=1, steps=20, n_images=500, ref_n=(300, 600), n_mc=40,
            progress=False)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmi_demo")
    sections = demo_sections(out, **TINY)
    return out, sections


def test_demo_section_exact_reference_is_a_cmi(tiny):
    out, sections = tiny
    (sec,) = sections
    assert (out / sec.figures[0]).stat().st_size > 10_000
    data = json.loads((out / sec.json).read_text())
    for n in ("300", "600"):
        v = np.asarray(data["empirical"][n]["value"], dtype=float)
        s = np.asarray(data["empirical"][n]["stderr"], dtype=float)
        assert v.shape == (2, 3)
        assert np.all(v[0] >= -3 * s[0])  # I(A:C|B) >= 0 up to Monte Carlo error
        assert np.all(s[0] > 0)
        # t = 1: x_1 is pure noise, every mixture component is the same Gaussian: I(A:C|B) = 0 exactly
        np.testing.assert_allclose(v[1], 0.0, atol=1e-12)
    assert data["empirical_converged"][1] == [True, True, True]  # 0 = 0 at both N


def test_demo_json_round_trips_to_the_derived_numbers(tiny):
    """Markov lengths, barriers and the convergence mask recomputed from the JSON equal the stored ones."""
    out, (sec,) = tiny
    data = json.loads((out / sec.json).read_text())
    times, radii = tuple(data["times"]), tuple(data["radii"])
    p = data["predictive"]
    g = times_from(CMIGrid(times, radii, np.asarray(p["value"]), np.asarray(p["stderr"]), p["method"]),
                   data["fit_t_min"])
    assert [b for b in data["barrier_predictive"]] == [barrier(g, r).to_dict() for r in radii]
    mk = markov_lengths(g)
    assert [m["t"] for m in data["markov_predictive"]] == [m["t"] for m in mk]
    ev = {int(n): np.asarray(e["value"], dtype=float) for n, e in data["empirical"].items()}
    es = {int(n): np.asarray(e["stderr"], dtype=float) for n, e in data["empirical"].items()}
    assert data["empirical_converged"] == converged_in_n(ev, es).tolist()
    sub = times_from(CMIGrid(times, radii, ev[600], es[600], "empirical-N600"), data["fit_t_min"])
    assert data["barrier_empirical"] == [barrier(sub, r).to_dict() for r in radii]


def test_demo_section_resumes_from_its_store(tiny):
    out, (sec,) = tiny
    store = out / "cmi_demo_store.jsonl"
    n_lines = len(store.read_text().splitlines())
    before = json.loads((out / sec.json).read_text())
    (sec2,) = demo_sections(out, **TINY)
    assert len(store.read_text().splitlines()) == n_lines  # nothing recomputed
    after = json.loads((out / sec2.json).read_text())
    assert after["empirical"] == before["empirical"] and after["predictive"] == before["predictive"]


@pytest.mark.parametrize("kw, match", [(dict(radii=(1, 13)), "radii"), (dict(times=(0.2, 1.5)), "times"),
                                       (dict(times=(0.2, 0.2)), "times"), (dict(ref_n=(10, 70000)), "ref_n"),
                                       (dict(steps=0), "steps"), (dict(n_images=100), "n_images"),
                                       (dict(mine_cells=[(0.3, 0)]), "mine_cells"),
                                       (dict(fit_t_min=1.5), "fit_t_min"), (dict(fit_t_min=-0.1), "fit_t_min")])
def test_heatmap_data_rejects_bad_input_before_work(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        heatmap_data(**{**TINY, **kw}, store=tmp_path / "s.jsonl")
    assert not (tmp_path / "s.jsonl").exists()


def test_fits_leave_out_rows_below_fit_t_min():
    """Regression: a large t = 0 row (the untrustworthy dequantised one on MNIST) set the barrier at t = 0."""
    times, radii = (0.0, 0.1, 0.3, 0.5, 1.0), (1, 2, 3)
    v = np.array([[0.20, 0.15, 0.10], [0.02, 0.01, 0.005], [0.05, 0.03, 0.01], [0.03, 0.01, 0.004], [0, 0, 0]])
    g = CMIGrid(times, radii, v, np.full_like(v, 1e-4), "synthetic")
    assert barrier(g, 1).t_peak == 0.0 and not barrier(g, 1).interior  # what the fits reported before
    sub = times_from(g, 0.1)
    assert sub.times == (0.1, 0.3, 0.5, 1.0) and np.array_equal(sub.value, v[1:])
    b = barrier(sub, 1)
    assert b.t_peak == pytest.approx(0.3) and b.interior
    assert [m["t"] for m in markov_lengths(sub)] == [0.1, 0.3, 0.5, 1.0]
    with pytest.raises(ValueError, match="t_min"):
        times_from(g, 1.1)
