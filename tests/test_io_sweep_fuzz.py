"""Property-based fuzzing of ``quantum_diffusion.io`` and ``quantum_diffusion.sweep`` (issue 13, item 6).

Each property checks an entry point against an independent oracle over random valid and invalid inputs: JSON
conversion is lossless (a structure and its numpy-typed twin serialise identically), atomic writes read back
byte for byte with the right mode and leave no temp file, grids expand to the Cartesian product, keys ignore
dict order and numpy types, and bad arguments raise an exception naming the argument.  The default suite runs
a few hundred examples per property, the ``slow`` twins 10 000 (2 000 for the properties that write files).
"""

from __future__ import annotations

import itertools
import json
import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantum_diffusion.io import TEMP_PREFIX, atomic_write_bytes, atomic_write_json, current_umask, to_jsonable
from quantum_diffusion.sweep import grid_points, point_key, sweep

FAST = 100


def _pair(strategy, check, slow_examples=10_000):
    common = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    fast = settings(max_examples=FAST, **common)(given(strategy)(check))
    slow = pytest.mark.slow(settings(max_examples=slow_examples, **common)(given(strategy)(check)))
    return fast, slow


# --- JSON conversion -----------------------------------------------------------------------------------------

_SCALARS = st.one_of(st.integers(-2**53, 2**53), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                     st.text(max_size=5), st.none())
_PLAIN = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=4), inner, max_size=4)),
                      max_leaves=10)


def _numpyfy(obj, draw):
    """A numpy-typed twin of a plain JSON structure (homogeneous numeric lists become arrays)."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return np.int64(obj) if draw(st.booleans()) else obj
    if isinstance(obj, float):
        return np.float64(obj) if draw(st.booleans()) else obj
    if isinstance(obj, dict):
        return {k: _numpyfy(v, draw) for k, v in obj.items()}
    if obj and all(isinstance(v, float) for v in obj) and draw(st.booleans()):
        return np.array(obj, dtype=np.float64)
    if obj and all(isinstance(v, int) and not isinstance(v, bool) for v in obj) and draw(st.booleans()):
        return np.array(obj, dtype=np.int64)
    items = [_numpyfy(v, draw) for v in obj]
    return tuple(items) if draw(st.booleans()) else items


@st.composite
def _plain_and_twin(draw):
    plain = draw(_PLAIN)
    return plain, _numpyfy(plain, draw)


def _check_to_jsonable(case):
    plain, twin = case
    text = json.dumps(to_jsonable(twin), allow_nan=False, sort_keys=True)
    assert text == json.dumps(plain, allow_nan=False, sort_keys=True)
    assert json.loads(text) == json.loads(json.dumps(plain))


test_fuzz_to_jsonable, test_fuzz_to_jsonable_slow = _pair(_plain_and_twin(), _check_to_jsonable)


def test_to_jsonable_complex_and_paths():
    assert to_jsonable({"z": np.complex128(1 + 2j), "p": Path("a/b")}) == {"z": {"real": 1.0, "imag": 2.0},
                                                                         "p": "a/b"}


# --- atomic writes -------------------------------------------------------------------------------------------

_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=20).filter(
    lambda s: s not in (".", "..") and not s.startswith(TEMP_PREFIX))
_WRITE_CASE = st.fixed_dictionaries({
    "name": _NAMES,
    "data": st.one_of(st.binary(max_size=2000), st.text(max_size=20), st.integers(), st.none()),
    "mode": st.one_of(st.none(), st.sampled_from([0o600, 0o640, 0o644, 0o664])),
    "twice": st.booleans(),
    "json": st.one_of(st.none(), _plain_and_twin()),
})


def _check_atomic_write(case):
    umask = current_umask()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / case["name"]
        for _ in range(2 if case["twice"] else 1):
            if not isinstance(case["data"], bytes):
                with pytest.raises(TypeError, match="data must be bytes"):
                    atomic_write_bytes(path, case["data"], mode=case["mode"])
                assert not path.exists()
                break
            atomic_write_bytes(path, case["data"], mode=case["mode"])
            assert path.read_bytes() == case["data"]
            want = case["mode"] if case["mode"] is not None else 0o666 & ~umask
            assert stat.S_IMODE(os.stat(path).st_mode) == want
        if case["json"] is not None:
            plain, twin = case["json"]
            atomic_write_json(Path(d) / "r.json", twin)
            assert json.loads((Path(d) / "r.json").read_text()) == json.loads(json.dumps(plain))
        assert not [f for f in os.listdir(d) if f.startswith(TEMP_PREFIX)]


test_fuzz_atomic_write, test_fuzz_atomic_write_slow = _pair(_WRITE_CASE, _check_atomic_write, 2_000)


# --- grids and keys ------------------------------------------------------------------------------------------

_VALUES = st.lists(st.one_of(st.integers(-5, 5), st.floats(-2, 2), st.text(max_size=3)), min_size=1, max_size=3)
_GRID = st.dictionaries(st.text(alphabet="abcxyz_", min_size=1, max_size=4), _VALUES, min_size=1, max_size=3)


@st.composite
def _grid_case(draw):
    grid = draw(_GRID)
    if draw(st.integers(0, 4)) == 0:  # an invalid value: a scalar or a string instead of a sequence
        name = draw(st.sampled_from(sorted(grid)))
        grid[name] = draw(st.one_of(st.integers(), st.text(max_size=3), st.floats(allow_nan=False)))
        return grid, name
    return grid, None


def _check_grid_points(case):
    grid, bad = case
    if bad is not None:
        with pytest.raises(TypeError, match=repr(bad)):
            grid_points(grid)
        return
    pts = grid_points(grid)
    names = list(grid)
    assert pts == [dict(zip(names, c)) for c in itertools.product(*grid.values())]
    assert len(pts) == int(np.prod([len(v) for v in grid.values()]))
    keys = {point_key(p, "m:f", "v") for p in pts}
    distinct = {json.dumps(p, sort_keys=True) for p in pts}
    assert len(keys) == len(distinct)  # distinct points, distinct keys
    for p in pts:
        shuffled = dict(reversed(list(p.items())))
        typed = {k: (np.int64(v) if isinstance(v, int) else np.float64(v) if isinstance(v, float) else v)
                 for k, v in p.items()}
        assert point_key(shuffled, "m:f", "v") == point_key(typed, "m:f", "v") == point_key(p, "m:f", "v")
        assert point_key(p, "m:f", "w") != point_key(p, "m:f", "v")


test_fuzz_grid_points_and_keys, test_fuzz_grid_points_and_keys_slow = _pair(_grid_case(), _check_grid_points)


# --- sweep arguments and results -----------------------------------------------------------------------------

def affine(x, b=0.0):
    """A point function for the fuzzed sweeps."""
    return {"y": 2 * x + b}


_SWEEP_CASE = st.fixed_dictionaries({
    "xs": st.lists(st.integers(-100, 100), min_size=1, max_size=5),
    "b": st.lists(st.floats(-10, 10), min_size=1, max_size=2),
    "seed": st.one_of(st.integers(0, 2**32), st.sampled_from([-1, 1.5, "0", None])),
    "max_workers": st.one_of(st.none(), st.sampled_from([0, -2, 2.0, True])),
    "executor": st.sampled_from(["serial", "serial", "serial", "threads", "", 3]),
    "on_stale": st.sampled_from(["warn", "raise", "ignore", "never"]),
    "code_version": st.one_of(st.sampled_from(["v1", "v2"]), st.sampled_from([None, "", 3])),
})


def _sweep_bad(case):
    bad = []
    if not (isinstance(case["seed"], int) and not isinstance(case["seed"], bool) and case["seed"] >= 0):
        bad.append("seed")
    if case["max_workers"] is not None:
        bad.append("max_workers")
    if case["executor"] != "serial":
        bad.append("executor")
    if case["on_stale"] not in ("warn", "raise", "ignore"):
        bad.append("on_stale")
    if case["code_version"] in ("", 3):
        bad.append("code_version")
    return bad


def _check_sweep(case):
    bad = _sweep_bad(case)
    grid = {"x": case["xs"], "b": case["b"]}
    kw = {k: case[k] for k in ("seed", "max_workers", "executor", "on_stale", "code_version")}
    with tempfile.TemporaryDirectory() as d:
        store = Path(d) / "s.jsonl"
        if bad:
            with pytest.raises((TypeError, ValueError)) as exc:
                sweep(affine, grid, store=store, progress=False, **kw)
            assert any(b in str(exc.value) for b in bad), (bad, exc.value)
            assert not store.exists()
            return
        recs = sweep(affine, grid, store=store, progress=False, **kw)
        want = [2 * p["x"] + p["b"] for p in grid_points(grid)]
        assert [r["result"]["y"] for r in recs] == want
        n_lines = len(store.read_text().splitlines())
        again = sweep(affine, grid, store=store, progress=False, **kw)
        assert again == recs and len(store.read_text().splitlines()) == n_lines  # nothing recomputed


test_fuzz_sweep, test_fuzz_sweep_slow = _pair(_SWEEP_CASE, _check_sweep, 2_000)
