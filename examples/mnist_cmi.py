"""MNIST CMI heat map (paper Fig. 3a) with error bars, exact empirical-mixture reference and Markov lengths.

The same options as ``python -m classical cmi`` (:mod:`quantum_diffusion.demo.cmi`), writing into
``results/examples/mnist_cmi/``; every piece is a resumable sweep point stored in ``<out>/cmi_store.jsonl``.
Reduced grid (a few minutes on a CPU):
``python examples/mnist_cmi.py --times 0.1 0.3 0.5 --radii 1 2 3 4 --train-steps 500 --n-images 5000
--ref-n 2000 5000 --n-mc 100``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from quantum_diffusion.demo.cli import example_parser
from quantum_diffusion.demo.cmi import add_cmi_arguments, check_cmi_arguments, run_cmi


def build_parser() -> argparse.ArgumentParser:
    """Return the parser (every option checked while parsing, every default shown)."""
    return add_cmi_arguments(example_parser("mnist_cmi", __doc__), out=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line), run the heat map and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_cmi_arguments(args, parser)
    return run_cmi(args, log_name="mnist_cmi")


if __name__ == "__main__":
    sys.exit(main())
