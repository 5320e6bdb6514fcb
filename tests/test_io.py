"""Atomic writes: permissions follow the umask, temp files never outlive a failure or a killed writer."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from quantum_diffusion.io import (
    TEMP_PREFIX,
    atomic_write,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_npz,
    atomic_write_text,
    current_umask,
)

ROOT = Path(__file__).resolve().parents[1]


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def umask():
    """Set the umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(m: int) -> None:
        os.umask(m)

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_issue13_item11_files_honour_the_umask(tmp_path, umask, mask):
    umask(mask)
    assert current_umask() == mask
    writers = {
        "a.json": lambda p: atomic_write_json(p, {"x": 1}),
        "b.npz": lambda p: atomic_write_npz(p, x=np.arange(3)),
        "README.md": lambda p: atomic_write_text(p, "# report\n"),
        "c.png": lambda p: atomic_write_bytes(p, b"\x89PNG\r\n\x1a\n"),
    }
    for name, write in writers.items():
        p = write(tmp_path / name)
        # what a plain open(path, "w") would give: the reference for "honours the umask"
        ref = tmp_path / f"ref_{name}"
        ref.write_bytes(b"")
        assert _mode(p) == _mode(ref) == 0o666 & ~mask, name


def test_replacing_a_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    p = atomic_write_text(tmp_path / "x.txt", "a")
    os.chmod(p, 0o600)
    atomic_write_text(p, "b")
    assert _mode(p) == 0o600 and p.read_text() == "b"
    atomic_write_text(p, "c")
    assert _mode(atomic_write_bytes(tmp_path / "y", b"", mode=0o640)) == 0o640


def test_issue13_item11_temp_file_removed_when_the_writer_fails(tmp_path):
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")

    def failing(fh):
        fh.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, failing)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["x.bin"]
    assert target.read_bytes() == b"old"


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(TypeError, match="data must be bytes"):
        atomic_write_bytes(tmp_path / "x", "text")
    with pytest.raises(TypeError, match="text must be a str"):
        atomic_write_text(tmp_path / "x", b"bytes")
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        atomic_write_bytes(tmp_path, b"")


def _run(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, start_new_session=True)


def test_issue13_item11_stale_temp_of_a_killed_writer_is_removed_at_next_start(tmp_path):
    target = tmp_path / "big.npz"
    writer = _run(f"""
        import time
        from quantum_diffusion.io import atomic_write
        def slow(fh):
            fh.write(b"x" * 100000)
            fh.flush()
            time.sleep(600)
        atomic_write({str(target)!r}, slow)
        """)
    deadline = time.time() + 60
    while time.time() < deadline and not any(f.name.startswith(TEMP_PREFIX) for f in tmp_path.iterdir()):
        time.sleep(0.05)
    os.killpg(writer.pid, signal.SIGKILL)
    writer.wait()
    left = [f for f in tmp_path.iterdir() if f.name.startswith(TEMP_PREFIX)]
    assert len(left) == 1 and str(writer.pid) in left[0].name, "the killed writer leaves its temp file"
    # a temp file of a live writer in the same directory must survive the cleanup
    live = _run("import time; time.sleep(600)")
    try:
        import socket

        host = socket.gethostname().replace(".", "_")
        alive_tmp = tmp_path / f"{TEMP_PREFIX}{host}.{live.pid}.other.npz.abc"
        alive_tmp.write_bytes(b"in progress")
        time.sleep(0.05)  # both temp files are now older than the next process
        out = str(tmp_path / "r.json")
        nxt = _run(f"from quantum_diffusion.io import atomic_write_json; atomic_write_json({out!r}, 1)")
        assert nxt.wait(60) == 0
        assert not left[0].exists(), "stale temp file of the killed writer was not removed"
        assert alive_tmp.exists(), "temp file of a running writer was removed"
    finally:
        os.killpg(live.pid, signal.SIGKILL)
        live.wait()
    assert not target.exists()


def test_issue13_item11_figures_are_written_atomically(tmp_path, umask):
    import matplotlib.pyplot as plt

    from quantum_diffusion.io import atomic_write_figure

    umask(0o022)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    p = atomic_write_figure(tmp_path / "f.png", fig, dpi=50)
    assert p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and _mode(p) == 0o644
    assert atomic_write_figure(tmp_path / "f.svg", fig).read_text().lstrip().startswith("<?xml")

    class Broken:
        def savefig(self, fh, **kw):
            fh.write(b"\x89PNG partial")
            raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        atomic_write_figure(tmp_path / "f.png", Broken())
    assert p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and sorted(f.name for f in tmp_path.iterdir()) == [
        "f.png", "f.svg"]
    with pytest.raises(TypeError, match="fig must be"):
        atomic_write_figure(tmp_path / "g.png", object())
    with pytest.raises(ValueError, match="no suffix"):
        atomic_write_figure(tmp_path / "g", fig)
    plt.close(fig)
