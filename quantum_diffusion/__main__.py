"""Command line: ``python -m quantum_diffusion --help``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    from .demo.runner import AREAS

    parser = argparse.ArgumentParser(
        prog="python -m quantum_diffusion",
        description="Diffusion models through the lens of open quantum systems.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the main job: figures + JSON + results/README.md",
                          description="Run the demo areas; each writes PNG + JSON files and its sections of "
                                      "OUT/README.md. Rerunning some areas (--only) replaces their sections and "
                                      "keeps the others'.",
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    demo.add_argument("--out", default="results", help="output directory")
    demo.add_argument("--only", nargs="+", choices=list(AREAS), metavar="AREA",
                      help=f"run only these areas (default: all of {', '.join(AREAS)})", default=argparse.SUPPRESS)
    demo.add_argument("--skip", nargs="+", choices=list(AREAS), default=[], metavar="AREA", help="skip these areas")
    sub.add_parser("conventions", help="print the package's conventions (HHW, SF, vectorisation, time)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _build_parser().parse_args(argv)
    if args.command == "conventions":
        from . import conventions

        print(conventions.__doc__)
        return 0
    if args.command == "demo":
        from .demo.cli import configure_progress
        from .demo.runner import AREAS, run_demo

        configure_progress()

        areas = [a for a in getattr(args, "only", list(AREAS)) if a not in args.skip]
        sections, failed = run_demo(args.out, areas)
        print(f"wrote {args.out}/README.md with {len(sections)} section(s)")
        if failed:
            print(f"FAILED areas: {failed}", file=sys.stderr)
            return 1
        return 0
    raise AssertionError(args.command)  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
