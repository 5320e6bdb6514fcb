"""Sweep runner: resumability after failures and SIGKILL, executor independence, seeds, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from quantum_diffusion.sweep import (
    StoreCorruptError,
    SweepError,
    code_fingerprint,
    grid_points,
    load_results,
    point_key,
    sweep,
)


def work(x: int, log: str, fail_marker: str = "", sleep: float = 0.0, rng=None) -> dict:
    """A sweep function that logs each call, optionally fails for x == 3 while a marker file exists."""
    with open(log, "a") as fh:
        fh.write(f"{x}\n")
    if sleep:
        time.sleep(sleep)
    if fail_marker and x == 3 and os.path.exists(fail_marker):
        raise RuntimeError("worker failure for x=3")
    return {"square": x * x, "draw": float(rng.standard_normal())}


def unserialisable(x: int) -> dict:
    return {"obj": object()} if x == 1 else {"x": x}


def _calls(log: Path) -> list[int]:
    return [int(s) for s in log.read_text().split()] if log.exists() else []


def test_grid_points_is_cartesian_product():
    pts = grid_points({"a": [1, 2, 3], "b": [0.5, 1.5]})
    assert len(pts) == 6 and pts[1] == {"a": 1, "b": 1.5}
    assert grid_points([{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]


def test_failed_worker_then_resume_computes_each_point_once(tmp_path):
    store, log, marker = tmp_path / "s.jsonl", tmp_path / "calls.log", tmp_path / "fail"
    marker.touch()
    grid = {"x": list(range(6)), "log": [str(log)], "fail_marker": [str(marker)]}
    with pytest.raises(SweepError, match="x=3|1 sweep point"):
        sweep(work, grid, store=store, max_workers=2, progress=False)
    stored = load_results(store)
    assert sorted(r["params"]["x"] for r in stored) == [0, 1, 2, 4, 5]
    marker.unlink()
    records = sweep(work, grid, store=store, max_workers=2, progress=False)
    assert [r["result"]["square"] for r in records] == [x * x for x in range(6)]
    calls = _calls(log)
    # x=3 ran twice (failed, then retried); every other point exactly once
    assert sorted(calls) == [0, 1, 2, 3, 3, 4, 5]
    assert len(load_results(store)) == 6


def test_sigkill_midway_then_resume(tmp_path):
    store, log = tmp_path / "s.jsonl", tmp_path / "calls.log"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_sweep import work
        from quantum_diffusion.sweep import sweep
        sweep(work, {{"x": list(range(8)), "log": [{str(log)!r}], "sleep": [0.4]}},
              store={str(store)!r}, max_workers=1, progress=False)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(load_results(store)) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r["params"]["x"] for r in load_results(store)}
    assert 3 <= len(before) < 8, "the kill must land midway"
    records = sweep(work, {"x": list(range(8)), "log": [str(log)], "sleep": [0.4]}, store=store,
                    max_workers=2, progress=False)
    assert [r["params"]["x"] for r in records] == list(range(8))
    calls = _calls(log)
    for x in before:
        assert calls.count(x) == 1, f"finished point {x} was recomputed"
    keys = [r["key"] for r in load_results(store)]
    assert len(keys) == len(set(keys)) == 8


def test_seeds_depend_on_point_not_on_order_or_executor(tmp_path):
    log = tmp_path / "log"
    grid = [{"x": x, "log": str(log)} for x in range(4)]
    a = sweep(work, grid, store=tmp_path / "a.jsonl", seed=7, executor="serial", progress=False)
    b = sweep(work, grid[::-1], store=tmp_path / "b.jsonl", seed=7, max_workers=2, progress=False)
    c = sweep(work, grid, store=tmp_path / "c.jsonl", seed=8, executor="serial", progress=False)
    draws_a = {r["params"]["x"]: r["result"]["draw"] for r in a}
    draws_b = {r["params"]["x"]: r["result"]["draw"] for r in b}
    assert draws_a == draws_b
    assert len(set(draws_a.values())) == 4
    assert all(draws_a[x] != r["result"]["draw"] for x, r in zip(range(4), c))


def test_dask_local_cluster_matches_local_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    log = tmp_path / "log"
    grid = {"x": list(range(5)), "log": [str(log)]}
    local = sweep(work, grid, store=tmp_path / "local.jsonl", seed=3, max_workers=2, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = sweep(work, grid, store=tmp_path / "dask.jsonl", seed=3, executor=client.get_executor(),
                       progress=False)
    strip = lambda recs: [(r["key"], r["params"], r["result"], r["seed"]) for r in recs]  # noqa: E731
    assert strip(local) == strip(remote)


def test_unknown_parameter_name_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown parameter name.*'y'"):
        sweep(work, {"x": [1], "y": [2], "log": ["l"]}, store=tmp_path / "s.jsonl", progress=False)
    assert not (tmp_path / "s.jsonl").exists() or load_results(tmp_path / "s.jsonl") == []


def test_unserialisable_result_is_rejected_and_stored_points_kept(tmp_path):
    store = tmp_path / "s.jsonl"
    sweep(unserialisable, {"x": [0, 2]}, store=store, executor="serial", progress=False)
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        sweep(unserialisable, {"x": [0, 1, 2]}, store=store, executor="serial", progress=False)
    assert sorted(r["params"]["x"] for r in load_results(store)) == [0, 2]


def test_corrupt_line_raises_and_store_is_untouched(tmp_path):
    store = tmp_path / "s.jsonl"
    sweep(unserialisable, {"x": [0, 2, 3]}, store=store, executor="serial", progress=False)
    lines = store.read_text().splitlines()
    lines[1] = lines[1][:20]  # corrupt a middle line
    corrupted = "\n".join(lines) + "\n"
    store.write_text(corrupted)
    with pytest.raises(StoreCorruptError, match=r"s\.jsonl:2: corrupt"):
        sweep(unserialisable, {"x": [0, 2, 3, 4]}, store=store, executor="serial", progress=False)
    assert store.read_text() == corrupted


def test_truncated_final_line_is_an_interrupted_write(tmp_path):
    store = tmp_path / "s.jsonl"
    sweep(unserialisable, {"x": [0, 2]}, store=store, executor="serial", progress=False)
    with open(store, "a") as fh:
        fh.write('{"key": "abc", "par')
    with pytest.warns(UserWarning, match="incomplete final line"):
        recs = sweep(unserialisable, {"x": [0, 2, 3]}, store=store, executor="serial", progress=False)
    assert [r["params"]["x"] for r in recs] == [0, 2, 3]
    assert [json.loads(s)["params"]["x"] for s in store.read_text().splitlines()] == [0, 2, 3]
    assert (tmp_path / "s.jsonl.partial").read_text().startswith('{"key": "abc"')


def test_key_changes_with_code_version_and_params():
    k = point_key({"a": 1}, "m:f", "1")
    assert k == point_key({"a": 1}, "m:f", "1")
    assert k != point_key({"a": 2}, "m:f", "1") and k != point_key({"a": 1}, "m:f", "2")
    assert point_key({"a": np.int64(1)}, "m:f", "1") == k


# --- issue 13, item 3: results of edited code are never silently reused ---------------------------------------

_POINT_MODULE = '''
def f(a):
    return {{"y": {factor} * a}}
'''

_RUN_SWEEP = '''
import json, sys, warnings
sys.path.insert(0, {root!r})
from pointmod import f
from quantum_diffusion.sweep import sweep
kw = json.loads(sys.argv[1])
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    try:
        recs = sweep(f, {{"a": [1, 2, 3]}}, store={store!r}, executor="serial", progress=False, **kw)
        out = [r["result"]["y"] for r in recs]
    except Exception as exc:
        out = type(exc).__name__ + ": " + str(exc)
print(json.dumps({{"out": out, "warnings": [str(x.message) for x in w]}}))
'''


def _sweep_in_fresh_process(tmp_path, factor, **kw):
    (tmp_path / "pointmod.py").write_text(_POINT_MODULE.format(factor=factor))
    code = _RUN_SWEEP.format(root=str(tmp_path), store=str(tmp_path / "s.jsonl"))
    res = subprocess.run([sys.executable, "-c", code, json.dumps(kw)], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.splitlines()[-1])


def test_issue13_item3_edited_point_function_is_recomputed_and_stale_results_reported(tmp_path):
    first = _sweep_in_fresh_process(tmp_path, 2)
    assert first == {"out": [2, 4, 6], "warnings": []}
    edited = _sweep_in_fresh_process(tmp_path, 100)
    assert edited["out"] == [100, 200, 300]
    assert len(edited["warnings"]) == 1 and "3 stored result(s)" in edited["warnings"][0]
    again = _sweep_in_fresh_process(tmp_path, 100, on_stale="raise")
    assert again["out"].startswith("StaleStoreError") and "3 stored result(s)" in again["out"]
    # unchanged code reuses its own results: no new line in the store
    n_lines = len((tmp_path / "s.jsonl").read_text().splitlines())
    assert _sweep_in_fresh_process(tmp_path, 100, on_stale="ignore")["out"] == [100, 200, 300]
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == n_lines == 6


def test_issue13_item3_explicit_code_version_overrides_the_fingerprint(tmp_path):
    assert _sweep_in_fresh_process(tmp_path, 2, code_version="v1")["out"] == [2, 4, 6]
    assert _sweep_in_fresh_process(tmp_path, 100, code_version="v1") == {"out": [2, 4, 6], "warnings": []}
    assert _sweep_in_fresh_process(tmp_path, 100, code_version="v2")["out"] == [100, 200, 300]


def test_code_fingerprint_covers_the_package_the_function_lives_in(tmp_path, monkeypatch):
    pkg = tmp_path / "fppkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "lib.py").write_text("def g(a):\n    return 2 * a\n")
    (pkg / "points.py").write_text("from .lib import g\n\n\ndef f(a):\n    return {'y': g(a)}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from fppkg.points import f

    before = code_fingerprint(f)
    assert code_fingerprint(f) == before and before.startswith("code-")
    time.sleep(0.01)
    (pkg / "lib.py").write_text("def g(a):\n    return 100 * a\n")
    assert code_fingerprint(f) != before
    assert code_fingerprint(work) != code_fingerprint(unserialisable)
    with pytest.raises(TypeError, match="fn must be callable"):
        code_fingerprint(3)


def test_sweep_arguments_are_validated(tmp_path):
    store = tmp_path / "s.jsonl"
    with pytest.raises(ValueError, match="executor"):
        sweep(unserialisable, {"x": [1]}, store=store, executor="threads", progress=False)
    with pytest.raises(ValueError, match="max_workers"):
        sweep(unserialisable, {"x": [1]}, store=store, max_workers=0, progress=False)
    with pytest.raises(ValueError, match="on_stale"):
        sweep(unserialisable, {"x": [1]}, store=store, on_stale="maybe", progress=False)
    with pytest.raises(ValueError, match="seed"):
        sweep(unserialisable, {"x": [1]}, store=store, seed=-1, progress=False)
    with pytest.raises(IsADirectoryError, match="store"):
        sweep(unserialisable, {"x": [1]}, store=tmp_path, executor="serial", progress=False)
    assert not store.exists()


# --- issue 13, item 11: a killed sweep leaves no orphaned workers ---------------------------------------------

def sleeper(x: int, pid_dir: str) -> dict:
    """Record this worker's pid, then work 'forever'."""
    Path(pid_dir, f"{os.getpid()}").touch()
    time.sleep(300)
    return {"x": x}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in fh)
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_issue13_item11_killed_sweep_leaves_no_orphaned_workers(tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_sweep import sleeper
        from quantum_diffusion.sweep import sweep
        sweep(sleeper, {{"x": [0, 1], "pid_dir": [{str(pid_dir)!r}]}}, store={str(tmp_path / "s.jsonl")!r},
              max_workers=2, progress=False)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(list(pid_dir.iterdir())) < 2:
            time.sleep(0.05)
        workers = [int(p.name) for p in pid_dir.iterdir()]
        assert len(workers) == 2 and all(_alive(w) for w in workers)
        os.kill(proc.pid, signal.SIGKILL)  # the parent only, as an OOM killer or a lost login shell would
        proc.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "workers outlived the killed sweep"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
