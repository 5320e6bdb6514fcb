"""MNIST CMI heat map (paper Fig. 3a) with error bars, exact empirical-mixture reference and Markov lengths.

Thin script over :mod:`classical.information.heatmap`; every piece is a resumable sweep point stored in
``<out>/cmi_store.jsonl``.  Example: ``python examples/mnist_cmi.py --out results/cmi --repeats 2``.
"""

from __future__ import annotations

import argparse
import sys

from classical.__main__ import main

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("rest", nargs=argparse.REMAINDER, help="options of `python -m classical cmi`")
    a = p.parse_args()
    sys.exit(main(["cmi", *a.rest]))
