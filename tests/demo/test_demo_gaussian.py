"""Demo figures: the phase diagram has zero sign disagreements and the repair map matches the SDP."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from quantum_diffusion.demo.gaussian import demo_sections, phase_diagram_data, repair_map_data


def test_phase_diagram_has_no_sign_disagreement() -> None:
    data = phase_diagram_data(n_nu=41, n_r=31)
    assert data["disagreements"] == 0
    assert data["max_abs_diff_closed_form"] < 1e-12
    assert 0.1 < data["fraction_violating"] < 0.9  # both phases are present on the grid


def test_repair_map_sdp_spot_checks_agree() -> None:
    data = repair_map_data(n_nu=10, n_r=10, n_check=3)
    assert data["sdp_max_rel_err"] < 1e-6
    assert np.all(np.asarray(data["cost"]) >= 0)


def test_demo_sections_write_their_numbers(tmp_path: Path) -> None:
    sections = demo_sections(tmp_path)
    assert len(sections) == 2
    for s in sections:
        for fig in s.figures:
            assert (tmp_path / fig).stat().st_size > 1000
        saved = json.loads((tmp_path / s.json).read_text())
        assert saved  # every figure has its numbers
    pd = json.loads((tmp_path / sections[0].json).read_text())
    assert pd["disagreements"] == 0 and sections[0].key_numbers["sign disagreements with cosh 2r = nu"] == 0
    assert np.asarray(pd["lambda_min"]).shape == (len(pd["nu"]), len(pd["r"]))
