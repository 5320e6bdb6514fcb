"""Crash-safe file output: atomic writes for JSON, numpy archives, text and arbitrary bytes.

A file is written to a temporary sibling, flushed, fsynced and then renamed over the target
(``os.replace`` is atomic on POSIX), so a crash leaves either the old or the new file, never a
half-written one.

Permissions: :func:`tempfile.mkstemp` creates files with mode ``0600``; the temporary file is given the
mode an ordinary ``open(path, "w")`` would give (``0o666 & ~umask``, so ``0644`` under the usual umask
``022``) before it is renamed, or the mode of the file it replaces when that file already exists.

Temporary files are named ``.qdtmp.<host>.<pid>.<target name>.<random>`` (:data:`TEMP_PREFIX`).  They are
removed when a write fails; a temporary file that a killed process left behind is removed the first time
this process writes into the same directory (see :func:`clean_stale_temp_files`).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "TEMP_PREFIX",
    "atomic_copy",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_figure",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_write_npz",
    "clean_stale_temp_files",
    "current_umask",
    "to_jsonable",
]

#: Prefix of every temporary file written by this module (recognised by :func:`clean_stale_temp_files`).
TEMP_PREFIX = ".qdtmp."

_HOST = socket.gethostname().replace(".", "_")
#: Temporary files older than this process (import time of this module) may be stale.
_PROCESS_START = time.time()
#: A temporary file from another host is only treated as stale after this many seconds.
_FOREIGN_STALE_S = 24 * 3600.0
_cleaned_dirs: set[str] = set()
_cleaned_lock = threading.Lock()


def current_umask() -> int:
    """Return the process umask without changing it (read from ``/proc`` on Linux).

    Returns
    -------
    int
        The umask, e.g. ``0o022``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    # Portable fallback: os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _is_stale(entry: os.DirEntry) -> bool:
    parts = entry.name[len(TEMP_PREFIX):].split(".", 2)
    try:
        mtime = entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    if len(parts) < 3 or not parts[1].isdigit():
        return mtime < _PROCESS_START - _FOREIGN_STALE_S
    host, pid = parts[0], int(parts[1])
    if host != _HOST:
        return mtime < _PROCESS_START - _FOREIGN_STALE_S
    if pid == os.getpid():
        return False
    return mtime < _PROCESS_START and not _pid_alive(pid)


def clean_stale_temp_files(directory: str | os.PathLike) -> list[Path]:
    """Remove temporary files that killed writers left in ``directory``.

    A file named with :data:`TEMP_PREFIX` is stale when it is older than this process and the process that
    created it (host and pid are part of the name) no longer runs; a file from another host (a shared file
    system) is stale when it is more than a day older than this process.

    Parameters
    ----------
    directory : str or os.PathLike
        Directory to clean (not recursive).  A missing directory is ignored.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False) and _is_stale(entry):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except FileNotFoundError:  # another process cleaned it first
                pass
    return removed


def _clean_once(directory: Path) -> None:
    key = os.path.abspath(directory)
    with _cleaned_lock:
        if key in _cleaned_dirs:
            return
        _cleaned_dirs.add(key)
    clean_stale_temp_files(directory)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename durable; directories cannot be opened this way on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, writer: Callable[[IO[bytes]], None], *, mode: int | None = None) -> Path:
    """Write ``path`` atomically; ``writer`` receives an open binary file handle.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its parent directories are created.
    writer : callable
        ``writer(fh)`` writes the content to the binary handle ``fh``.
    mode : int, optional
        Permission bits of the new file.  Default: those of the file being replaced, else
        ``0o666 & ~umask``.

    Returns
    -------
    Path
        The target path.

    Raises
    ------
    IsADirectoryError
        If ``path`` is an existing directory.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"path {path} is a directory, expected a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_once(path.parent)
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{_HOST}.{os.getpid()}.{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if not hasattr(os, "fchmod"):  # pragma: no cover - Windows
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, mode: int | None = None) -> Path:
    """Atomically write ``data`` to ``path`` (e.g. a PNG rendered into memory by ``savefig``).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    data : bytes
        The complete content.
    mode : int, optional
        Permission bits (see :func:`atomic_write`).

    Returns
    -------
    Path
        The target path.

    Raises
    ------
    TypeError
        If ``data`` is not bytes-like.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    return atomic_write(path, lambda fh: fh.write(data), mode=mode)


def atomic_write_figure(path: str | os.PathLike, fig: Any, **savefig_kwargs: Any) -> Path:
    """Render a matplotlib figure into memory and write it atomically (no half-written PNG after a crash).

    This module does not import matplotlib: ``fig`` is any object with a matplotlib-style
    ``savefig(file, format=...)`` method.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its suffix (``.png``, ``.pdf``, ``.svg``) selects the format unless ``format=`` is given.
    fig : matplotlib.figure.Figure
        The figure.
    **savefig_kwargs
        Passed to ``fig.savefig`` (``dpi``, ``bbox_inches``, ...).

    Returns
    -------
    Path
        The target path.

    Raises
    ------
    TypeError
        If ``fig`` has no ``savefig`` method.
    ValueError
        If the format cannot be inferred from ``path``.
    """
    if not callable(getattr(fig, "savefig", None)):
        raise TypeError(f"fig must be a matplotlib figure (with savefig), got {type(fig).__name__}")
    path = Path(path)
    fmt = savefig_kwargs.pop("format", None) or path.suffix.lstrip(".").lower()
    if not fmt:
        raise ValueError(f"path {path} has no suffix: pass format='png' (or pdf, svg)")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, **savefig_kwargs)
    return atomic_write_bytes(path, buf.getvalue())


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Atomically write ``text`` to ``path`` (e.g. a report's README).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    text : str
        The complete content.
    encoding : str
        Text encoding.

    Returns
    -------
    Path
        The target path.

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return atomic_write_bytes(path, text.encode(encoding))


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and dataclass instances (recursively) to plain Python for ``json``.

    Parameters
    ----------
    obj : Any
        Nested dicts, lists, tuples, dataclass instances (frozen results), numpy arrays and scalars, complex
        numbers and paths.

    Returns
    -------
    Any
        The same structure made of JSON types (dataclasses become field dicts, complex numbers become
        ``{"real", "imag"}``).
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):  # frozen result objects -> field dicts
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, complex):
        return {"real": obj.real, "imag": obj.imag}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Atomically write ``obj`` (numpy types allowed) as JSON.

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    obj : Any
        Anything :func:`to_jsonable` converts.
    indent : int
        JSON indentation.

    Returns
    -------
    Path
        The target path.
    """
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=True)
    return atomic_write_bytes(path, text.encode())


def atomic_write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """Atomically write a compressed ``.npz`` archive.

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    **arrays : numpy.ndarray
        Arrays stored under their keyword names.

    Returns
    -------
    Path
        The target path.
    """
    return atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays))


def atomic_copy(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Atomically make ``dst`` a copy of ``src`` (a hard link when the file system allows it).

    Used to keep the previous good version of a file beside it before it is replaced: ``dst`` is complete
    or absent at every instant, and a later :func:`atomic_write` to ``src`` creates a new file, so a hard
    link keeps the old content.

    Parameters
    ----------
    src : str or os.PathLike
        Existing file.
    dst : str or os.PathLike
        Copy to create or replace.

    Returns
    -------
    Path
        ``dst``.

    Raises
    ------
    FileNotFoundError
        If ``src`` does not exist.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise FileNotFoundError(f"cannot copy {src}: it does not exist")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f"{TEMP_PREFIX}{_HOST}.{os.getpid()}.{dst.name}.link"
    try:
        if tmp.exists():
            tmp.unlink()
        os.link(src, tmp)
        os.replace(tmp, dst)
    except OSError:
        if tmp.exists():
            tmp.unlink()
        mode = stat.S_IMODE(os.stat(src).st_mode)
        with open(src, "rb") as fh:
            atomic_write(dst, lambda out: shutil.copyfileobj(fh, out), mode=mode)
    return dst
