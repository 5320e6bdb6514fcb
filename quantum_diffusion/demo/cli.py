"""One command-line shape for the example scripts: parser, argument types, output folder and progress lines.

Every script in ``examples/`` builds its parser with :func:`example_parser` (help text shows every default; ``--out``
defaults to ``results/examples/<name>/`` so that no example overwrites the demo's ``results/``), validates all
arguments with the types below before any work starts, and exposes ``main(argv=None) -> int``.

:func:`configure_progress` keeps tqdm bars readable in log files, and :class:`StageLog` prints one line per stage
of a long computation.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TextIO

__all__ = [
    "EXAMPLES_DIR",
    "StageLog",
    "configure_progress",
    "example_parser",
    "nonnegative_float",
    "nonnegative_int",
    "positive_float",
    "positive_int",
    "probability",
]

#: parent folder of every example's default output folder
EXAMPLES_DIR = Path("results") / "examples"


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show defaults (except ``None``, which the help text then explains) and keep the description's line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def example_parser(name: str, doc: str) -> argparse.ArgumentParser:
    """Build the parser of the example ``name`` with its ``--out`` option.

    Parameters
    ----------
    name : str
        Script name without ``.py``; the default output folder is ``results/examples/<name>``.
    doc : str
        The script's module docstring (shown as the description).

    Returns
    -------
    argparse.ArgumentParser
        A parser whose help text shows every option's default.
    """
    ap = argparse.ArgumentParser(prog=f"python examples/{name}.py", description=doc, formatter_class=_Formatter)
    ap.add_argument("--out", type=Path, default=EXAMPLES_DIR / name, help="output folder (created if missing)")
    return ap


def _number(kind: type, text: str, ok, what: str) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if value != value or value in (float("inf"), float("-inf")) or not ok(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be {what}")
    return value


def positive_int(text: str) -> int:
    """Argparse type: an integer >= 1."""
    return _number(int, text, lambda v: v >= 1, "an integer >= 1")


def nonnegative_int(text: str) -> int:
    """Argparse type: an integer >= 0."""
    return _number(int, text, lambda v: v >= 0, "an integer >= 0")


def positive_float(text: str) -> float:
    """Argparse type: a finite number > 0."""
    return _number(float, text, lambda v: v > 0, "a finite number > 0")


def nonnegative_float(text: str) -> float:
    """Argparse type: a finite number >= 0."""
    return _number(float, text, lambda v: v >= 0, "a finite number >= 0")


def probability(text: str) -> float:
    """Argparse type: a number in [0, 1]."""
    return _number(float, text, lambda v: 0 <= v <= 1, "a probability in [0, 1]")


def configure_progress(stream: TextIO | None = None, *, log_interval: float = 30.0) -> bool:
    """Make tqdm bars readable in logs: when ``stream`` (default stderr) is not a terminal, redraw rarely.

    tqdm redraws a bar up to ten times a second; in a file every redraw is a new line.  This sets the environment
    variable ``TQDM_MININTERVAL`` (read by every tqdm bar created afterwards, in this process and its children)
    to ``log_interval`` seconds unless the user set it.

    Parameters
    ----------
    stream : file-like, optional
        The stream the bars go to (default: ``sys.stderr``).
    log_interval : float, optional
        Seconds between redraws when not writing to a terminal.

    Returns
    -------
    bool
        True when the stream is a terminal (bars left as they are).
    """
    stream = sys.stderr if stream is None else stream
    tty = bool(getattr(stream, "isatty", lambda: False)())
    if not tty:
        os.environ.setdefault("TQDM_MININTERVAL", str(log_interval))
    return tty


class StageLog:
    """Print one line per stage of a long computation, with the elapsed time: ``[name 12.3 s] message``.

    Parameters
    ----------
    name : str
        Prefix of every line.
    stream : file-like, optional
        Where to print (default: stdout).
    """

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        self.stream = stream
        self.t0 = time.perf_counter()

    def __call__(self, message: str) -> None:
        """Print ``message`` with the time elapsed since construction."""
        print(f"[{self.name} {time.perf_counter() - self.t0:.1f} s] {message}", file=self.stream or sys.stdout,
              flush=True)
