"""Crash-safe file output: atomic writes for JSON, numpy archives and arbitrary bytes.

A file is written to a temporary sibling, flushed, fsynced and then renamed over the target
(``os.replace`` is atomic on POSIX), so a crash leaves either the old or the new file, never a
half-written one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_write", "atomic_write_json", "atomic_write_npz", "to_jsonable"]


def atomic_write(path: str | os.PathLike, writer: Callable[[IO[bytes]], None]) -> Path:
    """Write ``path`` atomically; ``writer`` receives an open binary file handle."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and dataclass instances (recursively) to plain Python for ``json``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):  # frozen result objects -> field dicts
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, complex):
        return {"real": obj.real, "imag": obj.imag}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Atomically write ``obj`` (numpy types allowed) as JSON."""
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=True)
    return atomic_write(path, lambda fh: fh.write(text.encode()))


def atomic_write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """Atomically write a compressed ``.npz`` archive."""
    return atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays))
