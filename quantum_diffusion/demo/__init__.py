"""The application layer: figures, JSON files and report sections of the demo (``python -m quantum_diffusion demo``).

The library (:mod:`quantum_diffusion.gaussian`, ``.petz``, ``.classical_limit``, ``.toric``, :mod:`classical`)
computes and returns data; nothing there imports matplotlib or writes report prose.  This package draws and reports:
one module per area (:mod:`.gaussian`, :mod:`.petz`, :mod:`.classical_limit`, :mod:`.toric`, :mod:`.mnist`), each
with ``<figure>_data(...)`` (the numbers a figure shows), ``plot_<figure>(data, ax=None)`` (the figure) and
``demo_sections(out)`` (PNG + JSON + :class:`~.report.Section` per figure); :mod:`.runner` runs the areas and
:mod:`.report` renders ``results/README.md``.

Importing this package does not import matplotlib; the backend is chosen by :func:`.runner.run_demo`.
"""

from .report import Section, save_figure, write_report
from .runner import AREAS, run_demo

__all__ = ["AREAS", "Section", "run_demo", "save_figure", "write_report"]
