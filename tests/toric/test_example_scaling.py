"""examples/toric_scaling.py: the CLI runs with tiny arguments, resumes, and writes its fit."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def example():
    spec = importlib.util.spec_from_file_location("toric_scaling_example", ROOT / "examples" / "toric_scaling.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_toric_scaling_main_tiny(example, tmp_path):
    store = tmp_path / "store.jsonl"
    argv = ["--out", str(tmp_path), "--p", "0.08", "0.11", "--r", "2", "3", "--batches", "1", "--batch-size", "4",
            "--n-boot", "10"]
    assert example.main(argv) == 0
    n_lines = len(store.read_text().splitlines())
    assert n_lines == 4
    assert example.main(argv + ["--batches", "2"]) == 0  # extends: only the new batch is computed
    assert len(store.read_text().splitlines()) == 8
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert set(fit["geometries"]) == {"r_C=r"}
    assert fit["geometries"]["r_C=r"]["samples_per_point"] == [8, 8]
