"""Resumable parameter sweeps through any :class:`concurrent.futures.Executor`.

A sweep runs ``fn(**params)`` for every point of a parameter grid and appends one JSON line per
finished point to a results store.  Each line carries a key, the SHA-256 of the canonical JSON of
``(function id, code version, params)``, so a sweep that is killed midway (a worker that raises, a
``SIGKILL``, a lost cluster) and started again recomputes only the points whose key is missing.

Code version: by default the fingerprint of ``fn``'s code (:func:`code_fingerprint`: the source of ``fn``, of
the module that defines it and of every module of its top-level package), so editing the point function or the
library it calls makes the stored results stale: they are not reused, and the sweep reports how many there are
(a :class:`StaleResultsWarning`, or :class:`StaleStoreError` with ``on_stale="raise"``).  Pass
``code_version="..."`` to manage versions by hand (for instance to keep results across a cosmetic edit).

Workers of the local process pool poll their parent and exit when it dies (on Linux they also get
``SIGTERM`` from the kernel through ``prctl(PR_SET_PDEATHSIG)``), so a killed sweep leaves no orphans.

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
import functools
import hashlib
import importlib.util
import inspect
import itertools
import json
import os
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm.auto import tqdm

from .io import atomic_write, atomic_write_bytes, to_jsonable

__all__ = [
    "sweep",
    "grid_points",
    "load_results",
    "point_key",
    "point_seed",
    "code_fingerprint",
    "SweepError",
    "StoreCorruptError",
    "StaleStoreError",
    "StaleResultsWarning",
    "PointFailure",
]


class StoreCorruptError(ValueError):
    """A line of the results store is not a valid record; nothing in the store was changed."""


class StaleStoreError(RuntimeError):
    """The store holds results of the point function computed with other code (``on_stale="raise"``)."""


class StaleResultsWarning(UserWarning):
    """The store holds results of the point function computed with other code; they are not reused."""


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
    """Expand a grid: a mapping name -> values (Cartesian product, last name fastest) or a list of dicts.

    Parameters
    ----------
    grid : mapping or sequence of mappings
        ``{name: values}`` or an explicit list of parameter dicts.

    Returns
    -------
    list of dict
        One parameter dict per point.

    Raises
    ------
    TypeError
        If a value of the mapping is not a sequence, or the list holds something other than dicts.
    """
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
    if isinstance(fn, functools.partial):
        return f"{_fn_id(fn.func)}{_canonical([list(fn.args), fn.keywords], 'functools.partial arguments')}"
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', type(fn).__qualname__)}"


@functools.lru_cache(maxsize=4096)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _digest_file(path: Path) -> str:
    st = path.stat()
    return _file_digest(str(path), st.st_mtime_ns, st.st_size)


def _code_digest(code: Any, h: Any) -> None:
    """Bytecode and constants of a code object, recursively (for functions without source)."""
    h.update(code.co_code)
    h.update(repr(code.co_names).encode())
    for c in code.co_consts:
        if inspect.iscode(c):
            _code_digest(c, h)
        else:
            h.update(repr(c).encode())


def _package_files(module_name: str) -> list[tuple[str, Path]]:
    """(relative name, path) of the ``.py`` files of ``module_name``'s top-level package (or its own file)."""
    top = module_name.split(".")[0]
    try:
        spec = importlib.util.find_spec(top) if top not in ("__main__", "") else None
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        files: list[tuple[str, Path]] = []
        for loc in spec.submodule_search_locations:
            files += sorted((p.relative_to(loc).as_posix(), p) for p in Path(loc).rglob("*.py"))
        return files
    mod = sys.modules.get(module_name)
    file = getattr(mod, "__file__", None)
    return [(Path(file).name, Path(file))] if file else []


def code_fingerprint(fn: Callable[..., Any]) -> str:
    """SHA-256 fingerprint of the code a point function runs: the default ``code_version`` of :func:`sweep`.

    It hashes the source of ``fn`` (its bytecode and constants when the source is not available, e.g. for a
    function defined interactively), the file of the module that defines it and every ``.py`` file of that
    module's top-level package (``quantum_diffusion``, ``classical``, your own package), so an edit to the
    function or to the library it lives in changes the fingerprint.  Code in other installed packages (numpy,
    qutip, ...) is not part of it.

    Parameters
    ----------
    fn : callable
        The point function (a ``functools.partial`` is fingerprinted through its ``func``, args and keywords).

    Returns
    -------
    str
        ``"code-"`` followed by 16 hex digits.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    h = hashlib.sha256()
    if isinstance(fn, functools.partial):
        h.update(code_fingerprint(fn.func).encode())
        h.update(_canonical([list(fn.args), fn.keywords], "functools.partial arguments").encode())
        return "code-" + h.hexdigest()[:16]
    target = inspect.unwrap(fn)
    try:
        h.update(inspect.getsource(target).encode())
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        if code is not None:
            _code_digest(code, h)
        else:
            h.update(_fn_id(fn).encode())
    module = getattr(target, "__module__", None) or ""
    for name, path in _package_files(module):
        h.update(name.encode())
        h.update(_digest_file(path).encode())
    return "code-" + h.hexdigest()[:16]


def point_key(params: Mapping[str, Any], fn_id: str, code_version: str) -> str:
    """Return the SHA-256 hex key of ``(fn_id, code_version, params)`` in canonical JSON.

    Parameters
    ----------
    params : mapping
        The point's parameters (numpy scalars and arrays allowed).
    fn_id : str
        ``"module:qualname"`` of the point function.
    code_version : str
        Code version (default in :func:`sweep`: :func:`code_fingerprint`).

    Returns
    -------
    str
        64 hex digits.

    Raises
    ------
    TypeError
        If the parameters are not JSON-serialisable.
    """
    payload = _canonical({"fn": fn_id, "code_version": code_version, "params": dict(params)}, "parameters")
    return hashlib.sha256(payload.encode()).hexdigest()


def point_seed(root: np.random.SeedSequence, key: str) -> np.random.SeedSequence:
    """Return the point's child seed: ``root``'s entropy with the key's first 128 bits appended to the spawn key.

    Parameters
    ----------
    root : numpy.random.SeedSequence
        The sweep's root seed.
    key : str
        The point's key (:func:`point_key`).

    Returns
    -------
    numpy.random.SeedSequence
        A seed that depends only on ``root`` and the point.
    """
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


def _exit_if_orphaned(parent_pid: int, start_ppid: int) -> None:
    """Worker-side watchdog thread: exit as soon as the sweep's process is gone."""
    while True:
        time.sleep(0.5)
        if os.getppid() != start_ppid:  # re-parented: the process that started us has exited
            os._exit(1)
        try:
            os.kill(parent_pid, 0)
        except OSError:  # gone (or the pid now belongs to another user's process)
            os._exit(1)


def _worker_init(parent_pid: int) -> None:
    """Process-pool initializer: die with the parent (prctl on Linux, plus a polling watchdog everywhere)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no usable libc: the watchdog still runs
            pass
    threading.Thread(target=_exit_if_orphaned, args=(parent_pid, os.getppid()), name="sweep-orphan-watchdog",
                     daemon=True).start()


def _run_point(fn: Callable[..., Any], params: dict[str, Any], seed: np.random.SeedSequence | None):
    """Call ``fn`` on the worker and time it."""
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

    Parameters
    ----------
    store : str or os.PathLike
        The JSON-lines store.
    repair_tail : bool
        Move an interrupted final line to ``<store>.partial``.

    Returns
    -------
    list of dict
        The records, in file order.

    Raises
    ------
    StoreCorruptError
        If a line other than an interrupted final one is not a valid record.
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
                    atomic_write_bytes(Path(str(path) + ".partial"), line)
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
    on_stale: Literal["warn", "raise", "ignore"] = "warn",
    fail_fast: bool = False,
) -> list[dict[str, Any]]:
    """Run ``fn(**params)`` over ``grid``, resuming from ``store``; return the records in grid order.

    Parameters
    ----------
    fn : callable
        Module-level callable (picklable) returning a JSON-serialisable mapping.  If it has an
        ``rng`` parameter it receives the point's ``numpy.random.Generator``.
    grid : mapping or sequence of mappings
        Mapping name -> values (Cartesian product) or a list of parameter dicts.
    store : str or os.PathLike
        Path of the JSON-lines results store (created if missing).
    seed : int or numpy.random.SeedSequence
        Root seed; per-point seeds are derived from it and from the point's key (see the module docstring).
    executor : concurrent.futures.Executor, "serial" or None
        An executor (not shut down here), ``"serial"``, or ``None`` for a local process pool of
        ``max_workers`` workers whose processes exit when this process dies.
    max_workers : int, optional
        Size of the local process pool.
    progress : bool
        Show a progress bar.
    code_version : str, optional
        Part of every key.  Default: :func:`code_fingerprint` of ``fn`` (its source and that of
        its package), so results computed by other code are never reused.  Pass a string to manage versions
        by hand.
    on_stale : {"warn", "raise", "ignore"}
        What to do when the store holds results of ``fn`` computed with another code version:
        ``"warn"`` (a :class:`StaleResultsWarning` naming their count; they are recomputed), ``"raise"``
        (:class:`StaleStoreError` before anything runs) or ``"ignore"``.  Stale records are never reused.
    fail_fast : bool
        Stop at the first failing point instead of finishing the others.

    Returns
    -------
    list of dict
        The store records of the grid's points, in grid order.

    Raises
    ------
    ValueError
        Unknown or missing parameter names, an unknown executor name or ``on_stale``, max_workers < 1, a
        negative seed.
    TypeError
        Parameters or a result that are not JSON-serialisable (already stored points are kept).
    StoreCorruptError
        A corrupt line in the store (the store is not modified).
    StaleStoreError
        With ``on_stale="raise"``, stored results of ``fn`` from another code version.
    SweepError
        Some points raised; all others are stored, and a rerun retries only the failed ones.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(executor, str) and executor != "serial":
        raise ValueError(f"executor must be a concurrent.futures.Executor, 'serial' or None, got {executor!r}")
    if executor is not None and not isinstance(executor, str) and not hasattr(executor, "submit"):
        raise TypeError(f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}")
    if max_workers is not None and (isinstance(max_workers, bool) or not isinstance(max_workers, int)
                                    or max_workers < 1):
        raise ValueError(f"max_workers must be a positive integer or None, got {max_workers!r}")
    if on_stale not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_stale must be 'warn', 'raise' or 'ignore', got {on_stale!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer, np.random.SeedSequence)) or (
            not isinstance(seed, np.random.SeedSequence) and seed < 0):
        raise ValueError(f"seed must be a non-negative integer or a numpy SeedSequence, got {seed!r}")
    if code_version is not None and (not isinstance(code_version, str) or not code_version):
        raise ValueError(f"code_version must be a non-empty string or None, got {code_version!r}")
    points = grid_points(grid)
    takes_rng = _check_params(fn, points)
    code_version = code_fingerprint(fn) if code_version is None else code_version
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
    fid = _fn_id(fn)
    keys = [point_key(p, fid, code_version) for p in points]
    path = Path(store)
    if path.is_dir():
        raise IsADirectoryError(f"store {path} is a directory; expected a JSON-lines file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    records = load_results(path, repair_tail=True)
    stale = [r for r in records if r.get("fn") == fid and r.get("code_version") != code_version]
    if stale and on_stale != "ignore":
        versions = sorted({str(r.get("code_version")) for r in stale})
        msg = (f"{path}: {len(stale)} stored result(s) of {fid} were computed with other code (code_version "
               f"{', '.join(versions[:3])}{', ...' if len(versions) > 3 else ''}; now {code_version}); they are "
               "not reused. Pass code_version=<old version> to reuse them, or remove them from the store.")
        if on_stale == "raise":
            raise StaleStoreError(msg)
        warnings.warn(msg, StaleResultsWarning, stacklevel=2)
    done = {r["key"]: r for r in records}
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
            ex = (cf.ProcessPoolExecutor(max_workers=max_workers, initializer=_worker_init,
                                         initargs=(os.getpid(),)) if own else executor)
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
