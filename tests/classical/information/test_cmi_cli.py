"""``python -m classical cmi`` with tiny arguments: writes JSON + PNG, resumes from its store."""

import json

import pytest

from classical.__main__ import main


@pytest.mark.slow
def test_cmi_cli_tiny(tmp_path):
    args = ["cmi", "--out", str(tmp_path), "--times", "0.3", "0.6", "--radii", "1", "2", "3", "--repeats", "1",
            "--steps", "20", "--n-images", "1000", "--ref-n", "300", "600", "--n-mc", "20", "--threads", "1"]
    assert main(args) == 0
    data = json.loads((tmp_path / "cmi_heatmap.json").read_text())
    assert (tmp_path / "cmi_heatmap.png").stat().st_size > 0
    assert len(data["predictive"]["value"]) == 2 and len(data["predictive"]["value"][0]) == 3
    assert set(data["empirical"]) == {"300", "600"}
    n_lines = len((tmp_path / "cmi_store.jsonl").read_text().splitlines())
    assert main(args) == 0  # resumes: nothing recomputed
    assert len((tmp_path / "cmi_store.jsonl").read_text().splitlines()) == n_lines
