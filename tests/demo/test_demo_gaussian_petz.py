"""Demo section and example of the Gaussian Petz comparison write their figure and numbers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from quantum_diffusion.demo.gaussian_petz import demo_sections, petz_comparison_data

ROOT = Path(__file__).resolve().parents[2]


def test_comparison_data_shapes_and_inequality() -> None:
    data = petz_comparison_data(n_nu=4, n_r=4, two_mode=())
    assert np.asarray(data["c_petz"]).shape == (4, 4)
    assert data["min_c_petz_minus_c_star"] >= -1e-9


def test_demo_section_and_example(tmp_path: Path, monkeypatch) -> None:
    import quantum_diffusion.demo.gaussian_petz as mod

    small = mod.petz_comparison_data
    monkeypatch.setattr(mod, "petz_comparison_data", lambda *a, **k: small(n_nu=4, n_r=4))
    sections = demo_sections(tmp_path)
    assert (tmp_path / sections[0].figures[0]).stat().st_size > 1000
    assert json.loads((tmp_path / sections[0].json).read_text())["two_mode"]
    spec = importlib.util.spec_from_file_location("ex", ROOT / "examples" / "gaussian_petz_comparison.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    assert ex.main(["--n-nu", "2", "--n-r", "2", "--out", str(tmp_path / "ex")]) == 0
    assert (tmp_path / "ex" / "gaussian_petz_comparison.json").exists()
