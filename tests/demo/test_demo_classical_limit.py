"""Decoherence-limit demo sections and example: figures with consistent numbers (slow)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_demo_sections_write_consistent_figures_and_numbers(tmp_path):
    from quantum_diffusion.demo.classical_limit import demo_sections

    sections = demo_sections(tmp_path)
    assert len(sections) == 2
    for s in sections:
        for fig in s.figures:
            assert (tmp_path / fig).stat().st_size > 10_000
        data = json.loads((tmp_path / s.json).read_text())
        assert data
    conv = json.loads((tmp_path / sections[1].json).read_text())
    assert all(1.85 < v < 2.15 for v in conv["convergence"]["slopes"].values())
    assert set(conv["sympy_residuals"].values()) == {"0"}
    rec = json.loads((tmp_path / sections[0].json).read_text())
    assert rec["recovery"]["ks_sde_vs_lattice_from_pT"] < 0.02
    assert rec["recovery"]["ks_sde_from_noise_vs_p0"] > 0.05  # recovery from noise is not p0 ...
    assert rec["recovery"]["ks_sde_vs_lattice_from_noise"] < 0.02  # ... but SDE and lattice agree
    assert all(v["max_diag_deviation"] < 1e-9 for v in rec["quantum_check"]["kinds"].values())


@pytest.mark.slow
def test_example_script_runs_small(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "decoherence_limit.py"
    spec = importlib.util.spec_from_file_location("decoherence_limit_example", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--out", str(tmp_path), "--n-grid", "64", "--n-samples", "4000", "--sde-steps", "50",
                     "--ns", "16", "32", "--quantum-n", "8"]) == 0
    conv = json.loads((tmp_path / "decoherence_limit_convergence.json").read_text())
    assert conv["convergence"]["slopes"]["petz"] > 1.5
