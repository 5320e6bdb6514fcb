"""``python -m classical cmi``: argument checks before any work (one-line errors, status 2), help, tiny run."""

import json
import subprocess
import sys

import pytest

from classical.__main__ import main


def test_radius_13_exits_2_with_one_line_before_any_work():
    res = subprocess.run([sys.executable, "-m", "classical", "cmi", "--radii", "13"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "--radii" in lines[0] and "1..12" in lines[0]
    assert res.stdout == ""  # nothing started


@pytest.mark.parametrize("argv, option", [
    (["--times", "0.2", "1.5"], "--times"),
    (["--times", "nan"], "--times"),
    (["--radii", "0"], "--radii"),
    (["--radii", "2", "2"], "--radii"),
    (["--train-steps", "0"], "--train-steps"),
    (["--n-images", "100"], "--n-images"),
    (["--ref-n", "70000"], "--ref-n"),
    (["--n-mc", "-1"], "--n-mc"),
    (["--workers", "0"], "--workers"),
    (["--repeats", "-1"], "--repeats"),
    (["--mine-cells", "0.3"], "--mine-cells"),
    (["--mine-cells", "0.3,13"], "--mine-cells"),
    (["--mine-cells", "1.2,3"], "--mine-cells"),
    (["--mine-cells", "0.3,x"], "--mine-cells"),
    (["--fit-t-min", "1.5"], "--fit-t-min"),
    (["--times", "0.1", "0.2", "--fit-t-min", "0.5"], "--fit-t-min"),
])
def test_bad_arguments_are_one_line_parser_errors(argv, option, capsys, monkeypatch):
    import quantum_diffusion.demo.cmi as cmi

    monkeypatch.setattr(cmi, "heatmap_data", lambda **kw: pytest.fail("work started despite bad arguments"))
    with pytest.raises(SystemExit) as exc:
        main(["cmi", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0] and "cmi" in err[0]


def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["cmi", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "(default: results/cmi)" in text and "(default: 2500)" in text and "(default: [])" in text


def test_mine_cells_are_parsed_as_t_r(monkeypatch, tmp_path):
    import quantum_diffusion.demo.cmi as cmi

    seen = {}
    monkeypatch.setattr(cmi, "heatmap_data", lambda **kw: seen.update(kw) or {"times": [0.3], "radii": [2]})
    monkeypatch.setattr(cmi, "write_outputs", lambda data, out: {"png": "a.png", "json": "a.json"})
    assert main(["cmi", "--out", str(tmp_path), "--mine-cells", "0.3,2", "1,12", "--times", "0.3", "--radii",
                 "2", "--train-steps", "7"]) == 0
    assert seen["mine_cells"] == [(0.3, 2), (1.0, 12)] and seen["store"] == tmp_path / "cmi_store.jsonl"
    assert seen["steps"] == 7


@pytest.mark.slow
def test_cmi_cli_tiny(tmp_path):
    args = ["cmi", "--out", str(tmp_path), "--times", "0.3", "0.6", "--radii", "1", "2", "3", "--repeats", "1",
            "--train-steps", "20", "--n-images", "1000", "--ref-n", "300", "600", "--n-mc", "20", "--threads", "1"]
    assert main(args) == 0
    data = json.loads((tmp_path / "cmi_heatmap.json").read_text())
    assert (tmp_path / "cmi_heatmap.png").stat().st_size > 0
    assert len(data["predictive"]["value"]) == 2 and len(data["predictive"]["value"][0]) == 3
    assert set(data["empirical"]) == {"300", "600"}
    n_lines = len((tmp_path / "cmi_store.jsonl").read_text().splitlines())
    assert main(args) == 0  # resumes: nothing recomputed
    assert len((tmp_path / "cmi_store.jsonl").read_text().splitlines()) == n_lines
