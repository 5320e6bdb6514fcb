"""Toric demo sections: exact and Monte Carlo CMI agree at the same p; every figure has its numbers (slow)."""

from __future__ import annotations

import json

import pytest

from quantum_diffusion.demo.toric import demo_sections


@pytest.mark.slow
def test_demo_sections_compare_exact_and_mc_at_the_same_p(tmp_path):
    sections = demo_sections(tmp_path)
    assert len(sections) == 2
    for s in sections:
        assert all((tmp_path / f).stat().st_size > 10_000 for f in s.figures)
        assert json.loads((tmp_path / s.json).read_text())
    table = sections[0].key_numbers
    z = [float(v) for k, v in table.items() if k.endswith("stderr")]
    assert len(z) == 6 and max(abs(v) for v in z) < 4  # 300 samples per point: agreement within error bars
    assert all(k.startswith(("p=", "MC samples")) for k in table)
