"""``python -m classical``: arguments are checked before any work, errors are one line, help on every option."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from classical.__main__ import LOCAL_RADII, build_parser, main
from classical.models import LOCAL_KERNEL_RADII
from classical.pipeline import PipelineConfig
from classical.train import previous_checkpoint_path

ROOT = Path(__file__).resolve().parents[2]


def test_issue13_item12_recovery_with_bad_radius_exits_fast_with_one_line():
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "classical", "recovery", "--radii", "13"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - t0
    assert res.returncode == 2 and elapsed < 5.0, (res.returncode, elapsed)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "--radii" in lines[0] and "13" in lines[0], res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "--model", "global", "--R", "5"], "--R: only applies to local models"),
    (["train", "--train-steps", "0"], "--train-steps: expected a positive integer, got 0"),
    (["train", "--model", "local", "--R", "0"], "--R: local radius must be in 1..12, got 0"),
    (["train", "--threads", "-2"], "--threads"),
    (["recovery", "--radii", "1", "3", "--hybrid-R", "6"], "--hybrid-R: 6 must be one of --radii 1 3"),
    (["recovery", "--radii", "3", "3"], "--radii: duplicate"),
    (["hybrid", "--window", "0.5", "0.2"], "--window: need T_DN < T_UP"),
    (["hybrid", "--window", "0.2", "nan"], "--window: time must lie in [0, 1]"),
    (["demo", "--n-samples", "1"], "--n-samples: the FID needs at least 2 samples"),
    (["demo", "--n-samples", "0"], "--n-samples: expected a positive integer"),
    (["demo", "--euler-steps", "0"], "--euler-steps"),
    (["recovery", "--config", "gpu-huge"], "--config: invalid choice"),
])
def test_issue13_item12_bad_arguments_give_one_line_before_any_work(argv, message, capsys, monkeypatch):
    monkeypatch.setattr("classical.__main__._threads", lambda n: pytest.fail("work started"))
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and message in err, err


def test_cli_out_that_is_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "results"
    f.write_text("")
    with pytest.raises(SystemExit):
        main(["recovery", "--out", str(f)])
    assert "is not a folder" in capsys.readouterr().err


def test_cli_radii_match_the_models():
    assert LOCAL_RADII == tuple(sorted(LOCAL_KERNEL_RADII))


@pytest.mark.parametrize(("kw", "field"), [
    ({"radii": (13,), "n_samples": 0}, "radii"), ({"radii": (0, 3)}, "radii"), ({"radii": ()}, "radii"),
    ({"n_samples": 0}, "n_samples"), ({"n_samples": 1}, "n_samples"), ({"n_steps": 0}, "n_steps"),
    ({"n_recovery": 0}, "n_recovery"), ({"n_real": 9900}, "n_real"), ({"config": "gpu"}, "config"),
    ({"t_f": (0.5, 0.2)}, "t_f"), ({"t_f": ()}, "t_f"), ({"scan_lo": (0.6,)}, "scan"),
    ({"hybrid_R": 5}, "hybrid_R"), ({"window": (0.5, 0.5)}, "window"), ({"radii": (1, 1, 3)}, "radii"),
    ({"train_overrides": {"lr": float("nan")}}, "lr"), ({"train_overrides": {"steps": 0}}, "steps"),
])
def test_issue13_item12_pipeline_config_refuses_bad_fields(kw, field, tmp_path):
    with pytest.raises((ValueError, TypeError), match=field):
        PipelineConfig(cache_dir=tmp_path, **kw)


def test_issue13_item14_every_option_has_help_and_steps_are_named_unambiguously(capsys):
    parser = build_parser()
    for cmd in ["train", "recovery", "hybrid", "demo"]:
        with pytest.raises(SystemExit):
            parser.parse_args([cmd, "--help"])
        text = capsys.readouterr().out
        options = text[text.index("options:"):]
        entries = re.split(r"\n  (?=-)", options)[1:]
        assert len(entries) >= 5
        for entry in entries:
            flag = entry.split()[0].rstrip(",")
            words = re.sub(r"^\S+(?: [A-Z_]+)*(?: \{[^}]*\})?", "", entry.strip()).split()
            assert len(words) >= 3, f"{cmd} {flag} has no help text"
        assert "--train-steps" in text and "--steps " not in text
        if cmd != "train":
            assert "--euler-steps" in text and "Euler steps per unit time" in text
        assert "'cpu-small' =" in text  # the named configurations are explained


def test_issue13_item1_cli_refuses_an_unreadable_checkpoint_in_one_line(tmp_path, capsys):
    ck = tmp_path / "r2.pt"
    ck.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["train", "--model", "local", "--R", "2", "--checkpoint", str(ck), "--threads", "1"]) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m classical train: error: checkpoint") and str(ck) in err
    assert "Traceback" not in err and ck.read_bytes() == b"PK\x03\x04 not really a zip"


@pytest.mark.slow
def test_issue13_item1_cli_resumes_and_refuses_a_corrupt_checkpoint(tmp_path, capsys, flip_tensor_byte):
    ck = tmp_path / "r2.pt"
    base = ["train", "--model", "local", "--R", "2", "--checkpoint", str(ck), "--threads", "1"]
    assert main([*base, "--train-steps", "1"]) == 0
    capsys.readouterr()
    assert main([*base, "--steps", "2"]) == 0  # the old spelling still works, with a note
    out, err = capsys.readouterr()
    assert "resuming from step 1" in out and "--steps is deprecated, use --train-steps" in err
    flip_tensor_byte(ck)
    assert main([*base, "--train-steps", "3"]) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(ck) in lines[0] and "corrupt" in lines[0], err
    assert str(previous_checkpoint_path(ck)) in lines[0]
