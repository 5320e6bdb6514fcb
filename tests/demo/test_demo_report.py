"""The application layer's shared helpers: plot functions draw on given axes or make their own figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from quantum_diffusion.demo.gaussian import phase_diagram_data, plot_multimode, plot_phase_diagram
from quantum_diffusion.demo.report import axes_for


def test_plot_functions_draw_on_the_axes_they_are_given():
    data = phase_diagram_data(n_nu=5, n_r=4)
    fig, ax = plt.subplots()
    assert plot_phase_diagram(data, ax) is fig
    assert ax.get_xlabel() == r"$\nu$"
    own = plot_phase_diagram(data)
    assert own is not fig and len(own.axes) == 2  # the panel and its colour bar
    plt.close("all")


def test_axes_for_rejects_the_wrong_number_of_panels():
    fig, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="ax must hold 2 axes"):
        plot_multimode({"angle": [0.0], "lambda_min": [0.0], "cost": [0.0], "modewise_cost": [0.0]}, axes)
    assert axes_for(axes, 3, figsize=(1, 1)) == (fig, list(axes))
    plt.close("all")
