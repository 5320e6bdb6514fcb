"""MNIST CMI heat map (paper Fig. 3a) with error bars, exact empirical-mixture reference and Markov lengths.

Thin script over ``python -m classical cmi`` (:mod:`quantum_diffusion.demo.cmi`); every piece is a resumable sweep
point stored in ``<out>/cmi_store.jsonl``.  Example (reduced grid, minutes on a CPU):
``python examples/mnist_cmi.py --out results/examples/mnist_cmi --times 0.1 0.3 0.5 --radii 1 2 3 4 --steps 500``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from classical.__main__ import main as classical_main


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m classical cmi`` with ``argv`` (see ``--help``); returns the exit status."""
    return classical_main(["cmi", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
