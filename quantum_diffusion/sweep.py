"""Resumable parameter sweeps through any :class:`concurrent.futures.Executor`.

A sweep runs ``fn(**params)`` for every point of a parameter grid and appends one JSON line per
finished point to a results store.  Each line carries a key, the SHA-256 of the canonical JSON of
``(function id, code version, params)``, so a sweep that is killed midway (a worker that raises, a
``SIGKILL``, a lost cluster) and started again recomputes only the points whose key is missing.

Executors: the default is a local :class:`~concurrent.futures.ProcessPoolExecutor`; for a cluster pass
a ``dask.distributed`` client's executor (``Client(...).get_executor()``) or mpi4py's
``MPIPoolExecutor``; ``executor="serial"`` runs in-process (handy for debugging).

Seeds: one root :class:`numpy.random.SeedSequence` (from ``seed``); every point gets the child
``SeedSequence(root.entropy, spawn_key=root.spawn_key + k(params))`` where ``k`` is derived from the point's
key.  The seed of a point therefore depends only on the root seed and on the point itself, not on
the grid's order or on which points were already stored.  If ``fn`` has a parameter named ``rng`` it
receives ``numpy.random.default_rng(child)``.

Store format (JSON lines, one record per finished point)::

    {"key": str, "fn": "module:qualname", "code_version": str, "params": {...},
     "seed": {"entropy": int, "spawn_key": [int, ...]}, "result": {...}, "elapsed_s": float}

Example
-------
>>> from quantum_diffusion.sweep import grid_points
>>> grid_points({"a": [1, 2], "b": ["x"]})
[{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import inspect
import itertools
import json
import os
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import __version__
from .io import atomic_write, to_jsonable

__all__ = [
    "sweep",
    "grid_points",
    "load_results",
    "point_key",
    "point_seed",
    "SweepError",
    "StoreCorruptError",
    "PointFailure",
]


class StoreCorruptError(ValueError):
    """A line of the results store is not a valid record; nothing in the store was changed."""


@dataclass
class PointFailure:
    """A point whose function raised: its parameters and the formatted traceback."""

    params: dict[str, Any]
    error: str


class SweepError(RuntimeError):
    """Some points failed; every other point finished and is stored (rerun to retry the failed ones)."""

    def __init__(self, failures: list[PointFailure], n_done: int, store: Path):
        self.failures = failures
        first = failures[0]
        super().__init__(
            f"{len(failures)} sweep point(s) failed ({n_done} stored in {store}); rerun the sweep to "
            f"retry them. First failure, params={first.params}:\n{first.error}"
        )


def grid_points(grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Expand a grid: a mapping name -> values (Cartesian product, last name fastest) or a list of dicts."""
    if isinstance(grid, Mapping):
        names = list(grid)
        for name in names:
            if isinstance(grid[name], (str, bytes)) or not isinstance(grid[name], Sequence | np.ndarray):
                raise TypeError(f"grid values must be sequences; {name!r} is {type(grid[name]).__name__}")
        return [dict(zip(names, combo)) for combo in itertools.product(*(list(grid[n]) for n in names))]
    points = [dict(p) for p in grid]
    if not all(isinstance(p, dict) for p in points):
        raise TypeError("a list grid must contain parameter dicts")
    return points


def _canonical(obj: Any, what: str) -> str:
    try:
        return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} is not JSON-serialisable: {exc}") from exc


def _fn_id(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


def point_key(params: Mapping[str, Any], fn_id: str, code_version: str) -> str:
    """SHA-256 hex key of ``(fn_id, code_version, params)`` in canonical JSON."""
    payload = _canonical({"fn": fn_id, "code_version": code_version, "params": dict(params)}, "parameters")
    return hashlib.sha256(payload.encode()).hexdigest()


def point_seed(root: np.random.SeedSequence, key: str) -> np.random.SeedSequence:
    """The point's child seed: ``root``'s entropy with the key's first 128 bits appended to the spawn key."""
    words = tuple(int(key[i : i + 8], 16) for i in range(0, 32, 8))
    return np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + words)


def _check_params(fn: Callable[..., Any], points: list[dict[str, Any]]) -> bool:
    """Validate parameter names against ``fn``'s signature; return whether fn takes ``rng``."""
    sig = inspect.signature(fn)
    accepts_var = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    takes_rng = "rng" in sig.parameters
    allowed = {n for n, p in sig.parameters.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL}
    required = {
        n
        for n, p in sig.parameters.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and n != "rng"
    }
    for params in points:
        if "rng" in params:
            raise ValueError("'rng' is reserved: the sweep passes each point its own Generator")
        unknown = set(params) - allowed
        if unknown and not accepts_var:
            raise ValueError(
                f"unknown parameter name(s) {sorted(unknown)} for {_fn_id(fn)}; it accepts {sorted(allowed)}"
            )
        missing = required - set(params)
        if missing:
            raise ValueError(f"grid point {params} lacks required parameter(s) {sorted(missing)} of {_fn_id(fn)}")
    return takes_rng


def _run_point(fn: Callable[..., Any], params: dict[str, Any], seed: np.random.SeedSequence | None):
    """Executed on the worker: call fn, time it."""
    t0 = time.perf_counter()
    kwargs = dict(params)
    if seed is not None:
        kwargs["rng"] = np.random.default_rng(seed)
    result = fn(**kwargs)
    return result, time.perf_counter() - t0


def load_results(store: str | os.PathLike, *, repair_tail: bool = False) -> list[dict[str, Any]]:
    """Read every record of a JSON-lines results store (missing file -> empty list).

    A final line without its newline is an interrupted write (a crash while appending): it is
    ignored with a warning, and with ``repair_tail=True`` moved to ``<store>.partial`` so appends can
    continue.  Any other unreadable line raises :class:`StoreCorruptError` naming file and line; the
    store is left untouched so no finished result is lost.
    """
    path = Path(store)
    if not path.exists():
        return []
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    records: list[dict[str, Any]] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        is_tail = lineno == len(lines) and not raw.endswith(b"\n")
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict) or not {"key", "params", "result"} <= set(rec):
                raise ValueError("record lacks 'key', 'params' or 'result'")
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            if is_tail:
                warnings.warn(
                    f"{path}:{lineno}: ignoring an incomplete final line (interrupted write)", stacklevel=2
                )
                if repair_tail:
                    Path(str(path) + ".partial").write_bytes(line)
                    good = raw[: len(raw) - len(line)]
                    atomic_write(path, lambda fh, data=good: fh.write(data))
                break
            raise StoreCorruptError(
                f"{path}:{lineno}: corrupt results-store line ({exc}); fix or delete that line by hand. "
                "Nothing in the store was changed."
            ) from exc
        records.append(rec)
    return records


def _append(path: Path, record: dict[str, Any]) -> None:
    line = _canonical(record, "record") + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def sweep(
    fn: Callable[..., Mapping[str, Any]],
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    *,
    store: str | os.PathLike,
    seed: int | np.random.SeedSequence = 0,
    executor: cf.Executor | str | None = None,
    max_workers: int | None = None,
    progress: bool = True,
    code_version: str | None = None,
    fail_fast: bool = False,
) -> list[dict[str, Any]]:
    """Run ``fn(**params)`` over ``grid``, resuming from ``store``; return the records in grid order.

    Parameters
    ----------
    fn : module-level callable (picklable) returning a JSON-serialisable mapping.  If it has an
        ``rng`` parameter it receives the point's ``numpy.random.Generator``.
    grid : mapping name -> values (Cartesian product) or a list of parameter dicts.
    store : path of the JSON-lines results store (created if missing).
    seed : root seed or :class:`numpy.random.SeedSequence`; per-point seeds are derived from it and
        from the point's key (see the module docstring).
    executor : a :class:`concurrent.futures.Executor` (not shut down here), ``"serial"``, or ``None`` for
        a local process pool of ``max_workers`` workers.
    code_version : part of every key; change it when ``fn``'s meaning changes to force recomputation.
        Default ``quantum_diffusion.__version__``.
    fail_fast : stop at the first failing point instead of finishing the others.

    Raises
    ------
    ValueError : unknown or missing parameter names.
    TypeError : parameters or a result that are not JSON-serialisable (already stored points are kept).
    StoreCorruptError : a corrupt line in the store (the store is not modified).
    SweepError : some points raised; all others are stored, and a rerun retries only the failed ones.
    """
    points = grid_points(grid)
    takes_rng = _check_params(fn, points)
    code_version = __version__ if code_version is None else str(code_version)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
    fid = _fn_id(fn)
    keys = [point_key(p, fid, code_version) for p in points]
    path = Path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = {r["key"]: r for r in load_results(path, repair_tail=True)}
    todo = [(k, p) for k, p in zip(keys, points) if k not in done]
    todo = list({k: (k, p) for k, p in todo}.values())  # duplicate grid points run once

    failures: list[PointFailure] = []
    bar = tqdm(total=len(set(keys)), initial=len(set(keys)) - len(todo), disable=not progress, desc="sweep")

    def finish(key: str, params: dict[str, Any], seed_ss, outcome) -> None:
        result, elapsed = outcome
        if not isinstance(result, Mapping):
            raise TypeError(f"{fid} returned {type(result).__name__} for params={params}; expected a mapping")
        _canonical(result, f"result of {fid} for params={params}")
        record = {
            "key": key,
            "fn": fid,
            "code_version": code_version,
            "params": to_jsonable(params),
            "seed": {"entropy": seed_ss.entropy, "spawn_key": list(seed_ss.spawn_key)},
            "result": to_jsonable(dict(result)),
            "elapsed_s": elapsed,
        }
        _append(path, record)
        done[key] = json.loads(_canonical(record, "record"))
        bar.update(1)

    seeds = {k: point_seed(root, k) for k, _ in todo}
    try:
        if executor == "serial":
            for k, p in todo:
                try:
                    outcome = _run_point(fn, p, seeds[k] if takes_rng else None)
                except Exception:
                    failures.append(PointFailure(p, traceback.format_exc()))
                    if fail_fast:
                        break
                    continue
                finish(k, p, seeds[k], outcome)
        else:
            own = executor is None
            ex = cf.ProcessPoolExecutor(max_workers=max_workers) if own else executor
            try:
                futures = {
                    ex.submit(_run_point, fn, p, seeds[k] if takes_rng else None): (k, p) for k, p in todo
                }
                for fut in cf.as_completed(futures):
                    k, p = futures[fut]
                    try:
                        outcome = fut.result()
                    except Exception as exc:
                        failures.append(PointFailure(p, "".join(traceback.format_exception(exc))))
                        if fail_fast:
                            for f in futures:
                                f.cancel()
                            break
                        continue
                    try:
                        finish(k, p, seeds[k], outcome)
                    except TypeError:
                        for f in futures:
                            f.cancel()
                        raise
            finally:
                if own:
                    ex.shutdown(wait=True, cancel_futures=True)
    finally:
        bar.close()
    if failures:
        raise SweepError(failures, len(done), path)
    return [done[k] for k in keys]
