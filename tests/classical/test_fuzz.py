"""Property-based fuzzing of the classical entry points (issue 13, item 6).

Random valid and invalid inputs; each property compares the entry point with an independent oracle written
here: invalid input must raise a clear exception that names the offending argument, valid input must be
accepted and give finite results, and nothing may return NaN/inf or silently clamp.  The default suite runs
a few hundred examples per property, the ``slow`` twins 10 000.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classical.__main__ import main
from classical.pipeline import PipelineConfig
from classical.sampling import NonFiniteVelocityError, Segment, euler_sample, hybrid_sample, reverse_sde_sample
from classical.train import TrainConfig

FAST, SLOW = 150, 10_000
TINY = {"kind": "local", "R": 2, "base": 4, "emb": 8, "mults": [1, 2, 2, 2]}


def _pair(strategy, check):
    """A default-suite test and its slow 10 000-example twin for one property."""
    common = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    fast = settings(max_examples=FAST, **common)(given(strategy)(check))
    slow = pytest.mark.slow(settings(max_examples=SLOW, **common)(given(strategy)(check)))
    return fast, slow


def _unit(lo=-0.2, hi=1.2):
    """Floats around [0, 1], sometimes NaN."""
    return st.one_of(st.floats(lo, hi), st.floats(lo, hi), st.just(float("nan")))


_BAD_NUMBERS = st.sampled_from([float("nan"), float("inf"), -float("inf"), -1.0, 0.0, -1, 0, True, "1", None])


def _maybe_bad(good):
    return st.one_of(good, good, good, _BAD_NUMBERS)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# --- TrainConfig ---------------------------------------------------------------------------------------------

_TRAIN_FIELDS = st.fixed_dictionaries({
    "steps": _maybe_bad(st.integers(1, 10**6)),
    "batch_size": _maybe_bad(st.integers(1, 4096)),
    "lr": _maybe_bad(st.floats(1e-8, 10.0)),
    "weight_decay": _maybe_bad(st.floats(0.0, 1.0)),
    "warmup": _maybe_bad(st.integers(0, 1000)),
    "grad_clip": st.one_of(st.none(), _maybe_bad(st.floats(1e-3, 100.0))),
    "seed": _maybe_bad(st.integers(0, 2**31)),
    "ckpt_every": _maybe_bad(st.integers(1, 1000)),
    "t_range": st.one_of(st.tuples(_unit(-0.5, 1.5), _unit(-0.5, 1.5)),
                         st.just((0.0, 1.0))),
    "optimizer": st.sampled_from(["adamw", "sgd", "adamw", "adam", ""]),
})


def _train_field_ok(name, v):
    """Oracle: the documented valid range of each field."""
    if name in ("steps", "batch_size", "ckpt_every"):
        return _is_int(v) and v >= 1
    if name in ("warmup", "seed"):
        return _is_int(v) and v >= 0
    if name == "lr":
        return _is_real(v) and math.isfinite(v) and v > 0
    if name == "weight_decay":
        return _is_real(v) and math.isfinite(v) and v >= 0
    if name == "grad_clip":
        return v is None or (_is_real(v) and math.isfinite(v) and v > 0)
    if name == "t_range":
        return 0.0 <= v[0] < v[1] <= 1.0
    if name == "optimizer":
        return v in ("adamw", "sgd")
    raise AssertionError(name)


def _check_train_config(fields):
    bad = [k for k, v in fields.items() if not _train_field_ok(k, v)]
    try:
        cfg = TrainConfig(TINY, **fields)
    except (TypeError, ValueError) as exc:
        assert bad, f"valid configuration refused: {exc}"
        assert any(k in str(exc) for k in bad), f"error does not name a bad field {bad}: {exc}"
        return
    assert not bad, f"invalid field(s) {bad} accepted: {cfg}"
    assert cfg.lr == fields["lr"] and cfg.t_range == fields["t_range"]  # nothing clamped


test_fuzz_train_config, test_fuzz_train_config_slow = _pair(_TRAIN_FIELDS, _check_train_config)


# --- PipelineConfig ------------------------------------------------------------------------------------------

_PIPE_FIELDS = st.fixed_dictionaries({
    "radii": st.lists(st.integers(-1, 14), min_size=0, max_size=4).map(tuple),
    "hybrid_R": st.integers(-1, 14),
    "window": st.tuples(_unit(), _unit()),
    "n_samples": st.integers(-2, 12000),
    "n_steps": st.integers(-2, 100),
    "n_recovery": st.integers(-2, 12000),
    "t_f": st.lists(_unit(), min_size=0, max_size=4).map(tuple),
})


def _pipe_bad(f):
    """Oracle: names of the invalid fields (the rules documented in ``PipelineConfig``)."""
    bad = []
    r = f["radii"]
    if not r or any(not 1 <= R <= 12 for R in r) or len(set(r)) != len(r):
        bad.append("radii")
    if f["hybrid_R"] not in r:
        bad.append("hybrid_R")
    lo, hi = f["window"]
    if not (0.0 <= lo < hi <= 1.0):
        bad.append("window")
    t = f["t_f"]
    if not t or any(not 0.0 < x <= 1.0 for x in t) or any(b <= a for a, b in zip(t[:-1], t[1:])):
        bad.append("t_f")
    if f["n_samples"] < 2 or f["n_samples"] + 2000 > 10000:
        bad.append("n_samples")
    if f["n_steps"] < 1:
        bad.append("n_steps")
    if f["n_recovery"] < 1 or f["n_recovery"] > 10000:
        bad.append("n_recovery")
    return bad


def _check_pipeline_config(fields):
    bad = _pipe_bad(fields)
    try:
        PipelineConfig(cache_dir=Path("/nonexistent-cache"), **fields)
    except (TypeError, ValueError) as exc:
        assert bad, f"valid pipeline configuration refused: {exc}"
        assert any(k in str(exc) for k in bad), f"error does not name a bad field {bad}: {exc}"
        return
    assert not bad, f"invalid field(s) {bad} accepted: {fields}"


test_fuzz_pipeline_config, test_fuzz_pipeline_config_slow = _pair(_PIPE_FIELDS, _check_pipeline_config)


# --- the command line ----------------------------------------------------------------------------------------

_OPTION_VALUES = {
    "--config": ["cpu-small", "paper", "gpu-huge"],
    "--threads": ["1", "4", "0", "-1", "x"],
    "--train-steps": ["1", "300", "0", "-3", "1.5"],
    "--model": ["global", "local", "mixed"],
    "--R": ["1", "5", "12", "0", "13", "two"],
    "--radii": ["1 3 6", "3", "13", "0 3", "3 3", "x"],
    "--hybrid-R": ["3", "1", "6", "13"],
    "--window": ["0.2 0.5", "0.5 0.2", "0 1", "-0.1 0.5", "0.2 nan", "0.2"],
    "--n-samples": ["256", "2", "1", "0", "x"],
    "--euler-steps": ["32", "1", "0", "x"],
}
_TRAIN_OPTS = ["--config", "--threads", "--train-steps", "--model", "--R"]
_PIPE_OPTS = ["--config", "--threads", "--train-steps", "--radii", "--hybrid-R", "--window", "--n-samples",
              "--euler-steps"]


@st.composite
def _argv(draw):
    cmd = draw(st.sampled_from(["train", "recovery", "hybrid", "demo"]))
    names = _TRAIN_OPTS if cmd == "train" else _PIPE_OPTS
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    opts = {n: draw(st.sampled_from(_OPTION_VALUES[n])) for n in chosen}
    return cmd, opts


def _cli_bad(cmd, opts):
    """Oracle: the options whose values are invalid, alone or together."""
    def num(text, kind):
        try:
            v = kind(text)
        except ValueError:
            return None
        return v

    bad = []
    for name, value in opts.items():
        if name == "--config" and value not in ("cpu-small", "paper"):
            bad.append(name)
        elif name in ("--threads", "--train-steps", "--euler-steps") and not ((num(value, int) or 0) >= 1):
            bad.append(name)
        elif name == "--model" and value not in ("global", "local"):
            bad.append(name)
        elif name == "--R" and num(value, int) not in range(1, 13):
            bad.append(name)
        elif name == "--radii":
            rs = [num(v, int) for v in value.split()]
            if any(r not in range(1, 13) for r in rs) or len(set(rs)) != len(rs):
                bad.append(name)
        elif name == "--hybrid-R" and num(value, int) not in range(1, 13):
            bad.append(name)
        elif name == "--window":
            ws = [num(v, float) for v in value.split()]
            if len(ws) != 2 or any(w is None or not 0 <= w <= 1 for w in ws) or not ws[0] < ws[1]:
                bad.append(name)
        elif name == "--n-samples" and not ((num(value, int) or 0) >= 2):
            bad.append(name)
    # cross-argument rules, wherever the values involved are valid on their own
    if cmd == "train" and "--model" not in bad and opts.get("--model", "global") == "global" and "--R" in opts:
        bad.append("--R")
    if cmd != "train" and "--radii" not in bad and "--hybrid-R" not in bad:
        radii = [int(v) for v in opts.get("--radii", "1 3 6").split()]
        if int(opts.get("--hybrid-R", "3")) not in radii:
            bad.append("--hybrid-R")
    return bad


class _Started(Exception):
    pass


def _check_cli(case):
    cmd, opts = case
    argv = [cmd]
    for name, value in opts.items():
        argv += [name, *value.split()]
    bad = _cli_bad(cmd, opts)
    err = io.StringIO()
    with mock.patch("classical.__main__._threads", side_effect=_Started), contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
        except _Started:
            assert not bad, f"{argv}: work started although {bad} is invalid"
            return
        except SystemExit as exc:
            assert exc.code == 2, argv
    lines = err.getvalue().strip().splitlines()
    assert bad, f"{argv}: valid arguments refused: {err.getvalue()}"
    assert len(lines) == 1 and "Traceback" not in err.getvalue(), err.getvalue()
    assert any(name in lines[0] for name in bad), f"{argv}: message does not name {bad}: {lines[0]}"


test_fuzz_cli_arguments, test_fuzz_cli_arguments_slow = _pair(_argv(), _check_cli)


# --- samplers ------------------------------------------------------------------------------------------------

_SAMPLER_CASE = st.fixed_dictionaries({
    "shape": st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3)),
    "a": st.one_of(st.floats(-5.0, 5.0), st.sampled_from([1e30, -1e38, float("nan"), float("inf")])),
    "bad_step": st.one_of(st.none(), st.integers(0, 9)),
    "n_steps": st.integers(-1, 9),
    "t": st.tuples(_unit(-0.1, 1.1), _unit(-0.1, 1.1)),
    "sampler": st.sampled_from(["euler", "hybrid", "sde"]),
    "seed": st.integers(0, 2**16),
})


def _check_sampler(case):
    x1 = torch.randn(case["shape"], generator=torch.Generator().manual_seed(case["seed"]))
    calls = []

    def model(x, t):
        calls.append(1)
        v = case["a"] * x
        if case["bad_step"] is not None and len(calls) - 1 == case["bad_step"]:
            v = v.clone()
            v.view(-1)[0] = float("nan")
        return v

    t_start, t_end = case["t"]
    n = case["n_steps"]
    times_ok = 0.0 <= t_end < t_start <= 1.0 and (case["sampler"] != "sde" or t_start < 1.0)
    if case["sampler"] == "sde" and times_ok and n >= 1:
        # every step time must be resolvable in float32, where the score (t > 0) and drift (t < 1) are finite
        dt = (t_start - t_end) / n
        times_ok = all(0.0 < np.float32(t_start - k * dt) < 1.0 for k in range(n))
    try:
        if case["sampler"] == "euler":
            out = euler_sample(model, x1, n, t_start=t_start, t_end=t_end)
        elif case["sampler"] == "hybrid":
            segs = [Segment(0.0, 0.4, model, "a"), Segment(0.4, 1.0, model, "b")]
            out = hybrid_sample(segs, x1, n, t_start=t_start, t_end=t_end, batch_size=2)
        else:
            out = reverse_sde_sample(model, x1, t_start, n, t_end=t_end,
                                     generator=torch.Generator().manual_seed(case["seed"]))
    except NonFiniteVelocityError as exc:
        assert times_ok and n >= 1
        assert "step" in str(exc)
        return
    except ValueError as exc:
        assert not (times_ok and n >= 1), f"valid sampler call refused: {exc}"
        assert "n_steps" in str(exc) or "t_start" in str(exc) or "t_end" in str(exc), exc
        return
    assert times_ok and n >= 1, f"invalid times/steps accepted: {case}"
    assert torch.isfinite(out).all(), f"non-finite samples returned: {case}"
    if case["bad_step"] is not None and case["bad_step"] < len(calls):
        raise AssertionError(f"a NaN velocity went unnoticed: {case}")


test_fuzz_samplers, test_fuzz_samplers_slow = _pair(_SAMPLER_CASE, _check_sampler)
