"""The README's Python tour runs as written (its asserts check the physics it claims)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    tour = [b for b in blocks if "from quantum_diffusion import" in b]
    assert tour, "the README must contain the API tour"
    namespace: dict = {}
    exec(compile(tour[0], str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["cmi"] > 0 and namespace["c_star"] > 0 and 0 < namespace["err"] < 0.5
