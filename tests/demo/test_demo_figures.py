"""Figures state their parameters, use integer ticks on integer axes and keep labels readable (issue 13 item 16)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from quantum_diffusion.demo.gaussian import phase_diagram_data, plot_multimode, plot_noise_floor, plot_phase_diagram
from quantum_diffusion.demo.petz import plot_local_recovery
from quantum_diffusion.demo.report import format_value
from quantum_diffusion.demo.toric import exact_vs_mc_table, plot_markov_length


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _markov_data():
    rs = [1, 2, 3, 4, 5, 6]
    ps = [0.05, 0.08, 0.11, 0.15, 0.2]
    cmi = np.array([[0.3 * np.exp(-r / (1 + 10 * p)) for r in rs] for p in ps])
    fits = [{"xi": 1 + 10 * p, "xi_err": 0.1} for p in ps]
    return {"p": ps, "r": rs, "cmi": cmi, "stderr": 0.05 * cmi, "fits": fits, "n_samples": 120,
            "bypass_cmi": [[0.0] * len(rs)] * len(ps)}


def test_issue13_item16_toric_legend_does_not_cover_the_bypass_statement():
    fig = plot_markov_length(_markov_data())
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert any("bypass" in t.get_text() for t in legend.get_texts())  # the statement is shown ...
    box = legend.get_window_extent()
    for text in ax.texts:  # ... and no free text lies under the legend
        assert not box.overlaps(text.get_window_extent())
    assert not box.overlaps(ax.get_window_extent())  # the legend sits beside the data


def test_issue13_item16_integer_axes_have_integer_ticks():
    fig = plot_markov_length(_markov_data())
    ticks = fig.axes[0].get_xticks()
    assert np.allclose(ticks, np.round(ticks))
    loc = {"cmi_radii": [0, 1, 2], "sqrt_cmi": [0.3, 0.1, 0.02], "sqrt_cmi_drop": [0.2, 0.05, 0.01],
           "radii": [0, 1, 2], "td_one_shot": [0.2, 0.05, 0.01], "flow_radii": [0, 1], "td_flow": [0.2, 0.06],
           "td_noisy": 0.3, "n": 6, "beta": 1.0, "noise": "amplitude_damping"}
    ticks = plot_local_recovery(loc).axes[0].get_xticks()
    assert np.allclose(ticks, np.round(ticks))


def test_issue13_item16_phase_diagram_colour_bar_labels_both_signs():
    fig = plot_phase_diagram(phase_diagram_data(n_nu=21, n_r=21))
    fig.canvas.draw()
    values = [float(t.get_text().replace("\u2212", "-")) for t in fig.axes[1].get_yticklabels() if t.get_text()]
    assert min(values) < 0 < max(values)


def test_issue13_item16_noise_floor_and_two_mode_figures_state_their_parameters():
    fams = {"mixed": {"members": [[1.5, 0.6], [2.0, 0.9]], "lhs_neg2_log_f_wc": [0.1, 0.2],
                      "rhs_cgeom_i_wc": [0.2, 0.3], "holds": [True, True]}}
    fig = plot_noise_floor({"depths": [0.1, 0.2], "families": fams})
    assert "(1.5, 0.6)" in fig.axes[0].get_title() and "(2, 0.9)" in fig.axes[0].get_title()
    data = {"angle": [0.0, 1.0], "lambda_min": [-0.1, 0.1], "cost": [0.2, 0.0], "modewise_cost": [0.3, 0.3],
            "nu": [1.2, 2.5], "r": [0.9, 0.7], "theta": 0.785}
    title = plot_multimode(data)._suptitle.get_text()
    assert "nu = (1.2, 2.5)" in title and "r = (0.9, 0.7)" in title and "0.785" in title


@pytest.mark.parametrize(("value", "err", "text"), [
    (8.9, 25.1, "9 ± 25"),                            # issue 13 item 16: xi = 8.9 +- 25.1
    (0.12446198007577884, 0.0123, "0.124 ± 0.012"),
    (4.1e-5, 1.8e-5, "(4.1 ± 1.8)e-05"),              # issue 13 item 8's rare-event MC numbers
    (1.0, 0.0996, "1.00 ± 0.10"),                     # rounding the error changes its magnitude
    (-0.004, 0.002, "-0.0040 ± 0.0020"),
    (123456.0, 789.0, "(1.2346 ± 0.0079)e+05"),
])
def test_issue13_item16_format_value_rounds_to_the_error_bar(value, err, text):
    assert format_value(value, err) == text


def test_format_value_never_prints_digits_below_the_error():
    rng = np.random.default_rng(3)
    for _ in range(200):
        err = 10.0 ** rng.uniform(-2, 3)
        value = rng.normal(scale=10 * err)
        text = format_value(value, err)
        v, e = (float(x) for x in text.split(" ± "))
        assert abs(v - value) <= 0.5 * 10 ** (np.floor(np.log10(e)) - 1) * 1.0001  # rounded at the error's 2nd digit
        assert e == pytest.approx(err, rel=0.06)


def test_format_value_rejects_negative_errors():
    with pytest.raises(ValueError, match="err must be non-negative"):
        format_value(1.0, -0.1)


def test_issue13_item16_toric_table_compares_exact_and_mc_at_the_same_p():
    data = {"p": [0.0, 0.05, 0.1], "exact_trivial": [0.0, 0.01, 0.02], "exact_all": [0.0, 0.011, 0.021],
            "mc_trivial": {"p": [0.1], "cmi": [0.021], "stderr": [0.002], "n_samples": 300},
            "mc_all": {"p": [0.1], "cmi": [0.019], "stderr": [0.002], "n_samples": 300}}
    table = exact_vs_mc_table(data)
    assert table["p=0.1, trivial loops: exact I"] == "0.02"
    assert table["p=0.1, trivial loops: MC I"] == "0.0210 ± 0.0020"
    assert table["p=0.1, all loops: z = (MC - exact)/stderr"] == "-1.0"
    data["mc_all"]["p"] = [0.11]
    with pytest.raises(ValueError, match="same p"):
        exact_vs_mc_table(data)
