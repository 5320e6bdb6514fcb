"""Every example script has one CLI shape and runs with tiny arguments (issue 10 item 5, issue 13 items 4, 13, 14)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.py"))

#: tiny arguments per example; the slow ones train networks or run minutes of Monte Carlo at full size
TINY = {
    "cmi_validation": ["--part", "generic", "--train-steps", "1"],
    "mnist_cmi": ["--times", "0.3", "--radii", "1", "2", "--repeats", "1", "--train-steps", "5", "--n-images", "500",
                  "--ref-n", "300", "--n-mc", "10"],
    "decoherence_limit": ["--n-grid", "16", "--n-samples", "400", "--sde-steps", "10", "--ns", "8", "16",
                          "--quantum-n", "8", "--sde-levels", "1"],
    "gaussian_multimode": ["--n-angles", "2"],
    "gaussian_noise_floor": ["--depths", "0.1", "0.5"],
    "gaussian_phase_diagram": ["--n-nu", "8", "--n-r", "8", "--n-check", "2"],
    "gaussian_petz_comparison": ["--n-nu", "3", "--n-r", "3"],
    "local_recovery_chain": ["--n", "4", "--radii", "0", "1", "--flow-radii", "0"],
    "mnist_local_denoisers": ["--radii", "1", "--hybrid-R", "1", "--n-samples", "8", "--n-recovery", "4",
                              "--n-real", "32", "--euler-steps", "2", "--train-steps", "1"],
    "mnist_ideal_denoisers": ["--preset", "smoke"],
    "petz_convergence": ["--dims", "2", "--n-dt", "3", "--dt-min", "1e-3"],
    "toric_markov_length": ["--p", "0.1", "0.2", "--r-max", "3", "--n-samples", "6", "--workers", "1"],
    "toric_scaling": ["--p", "0.08", "0.11", "--r", "2", "3", "--batches", "1", "--batch-size", "4",
                      "--n-boot", "10"],
}
#: examples that write numbers (JSON) but no figure
TABLES_ONLY = {"cmi_validation"}
#: > 5 s even when tiny
SLOW = {"cmi_validation", "mnist_cmi", "mnist_local_denoisers", "mnist_ideal_denoisers", "decoherence_limit",
        "gaussian_noise_floor"}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_example_has_tiny_arguments_here():
    assert sorted(TINY) == EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_issue13_item4_examples_do_not_overwrite_demo(name):
    """Each example writes to its own folder ``results/examples/<name>/`` by default, never the demo's ``results/``."""
    args = _load(name).build_parser().parse_args([])
    assert args.out == Path("results") / "examples" / name


@pytest.mark.parametrize("name", EXAMPLES)
def test_issue13_item14_every_option_has_help_and_shows_its_default(name):
    parser = _load(name).build_parser()
    text = parser.format_help()
    for action in parser._actions:  # noqa: SLF001 - argparse has no public accessor
        if isinstance(action, argparse._HelpAction):  # noqa: SLF001
            continue
        assert action.help, f"{name}: {action.option_strings} has no help text"
        if action.default is None:
            assert "default" in action.help, f"{name}: {action.option_strings} must say what None means"
        elif action.default is not False:
            assert f"(default: {action.default}" in " ".join(text.split()) or "(default: [" in text
    assert "--samples " not in text and "--steps " not in text  # one name per meaning (--n-samples, --*-steps)


def test_issue13_item14_configurations_are_explained():
    text = " ".join(_load("mnist_local_denoisers").build_parser().format_help().split())
    assert "cpu-small" in text and "paper" in text and "GPU" in text and "optimiser steps" in text
    assert "Euler steps of the sampler over the whole time interval" in text


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_main_returns_zero_with_tiny_arguments(name, tmp_path, monkeypatch, capsys):
    if name in SLOW:
        pytest.skip("over 5 s even with tiny arguments: see test_slow_examples_run_small")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert _load(name).main([*TINY[name], "--out", str(out)]) == 0
    pngs, jsons = list(out.glob("*.png")), list(out.glob("*.json"))
    assert pngs and all(p.stat().st_size > 5000 for p in pngs)
    assert jsons and all(json.loads(p.read_text()) for p in jsons)
    assert not (tmp_path / "results").exists()  # nothing written outside --out
    assert f"[{name} " in capsys.readouterr().out  # progress lines (issue 13 item 13)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW))
def test_slow_examples_run_small(name, tmp_path):
    out = tmp_path / "out"
    # examples that cache trained models keep that cache inside tmp_path (mnist_cmi caches nothing: its
    # sweep store lives under --out); asking the parser keeps this in step with the examples
    parser = _load(name).build_parser()
    has_cache = any("--cache-dir" in a.option_strings for a in parser._actions)  # noqa: SLF001
    extra = ["--cache-dir", str(tmp_path / "cache")] if has_cache else []
    assert _load(name).main([*TINY[name], "--out", str(out), *extra]) == 0
    pngs = list(out.glob("*.png"))
    assert name in TABLES_ONLY or (pngs and all(p.stat().st_size > 5000 for p in pngs))
    assert all(json.loads(p.read_text()) for p in out.glob("*.json"))
    assert list(out.glob("*.json"))


@pytest.mark.parametrize(("name", "bad"), [
    ("petz_convergence", ["--dims", "1"]),
    ("petz_convergence", ["--dt-min", "1", "--dt-max", "0.1"]),
    ("gaussian_multimode", ["--nu", "0.5", "2"]),
    ("gaussian_noise_floor", ["--depths", "-1"]),
    ("gaussian_petz_comparison", ["--nu-range", "1.0", "2.0"]),
    ("decoherence_limit", ["--n-samples", "0"]),
    ("toric_markov_length", ["--p", "0.7"]),
    ("toric_markov_length", ["--p", "nan"]),
    ("toric_scaling", ["--p", "0.5"]),
    ("toric_scaling", ["--batch-size", "2"]),
    ("mnist_local_denoisers", ["--radii", "13"]),
    ("mnist_local_denoisers", ["--radii", "1", "3", "--hybrid-R", "5"]),
    ("local_recovery_chain", ["--n", "2"]),
])
def test_bad_arguments_exit_2_with_a_one_line_message_before_any_work(name, bad, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        _load(name).main([*bad, "--out", str(tmp_path / "never")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"python examples/{name}.py: error:")
    assert not (tmp_path / "never").exists()


def test_issue13_item13_tqdm_bars_stay_readable_in_logs():
    """A bar written to a file (not a terminal) redraws at most every 30 s instead of ten times a second."""
    code = ("import time\nfrom quantum_diffusion.demo.cli import configure_progress\nconfigure_progress()\n"
            "from tqdm.auto import tqdm\nfor _ in tqdm(range(100)):\n    time.sleep(0.01)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("\r") <= 3, res.stderr
