"""The README's Python blocks run as written (their asserts check the physics they claim), issue 13 item 15."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _run(block: str) -> dict:
    namespace: dict = {"__name__": "readme"}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    return namespace


def test_readme_tour_runs():
    tour = [b for b in BLOCKS if "from quantum_diffusion import" in b]
    assert tour, "the README must contain the API tour"
    namespace = _run(tour[0])
    assert namespace["exact"].cmi > 0 and namespace["c_star"] > 0 and 0 < namespace["err"] < 0.5


def test_issue13_item15_readme_sweep_snippet_runs_as_written():
    snippet = [b for b in BLOCKS if "sweep(" in b]
    assert len(snippet) == 1
    namespace = _run(snippet[0])
    assert len(namespace["again"]) == 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_every_readme_python_block_runs(index):
    _run(BLOCKS[index])


def test_issue13_item15_readme_states_the_checkpoint_location(monkeypatch, tmp_path):
    from classical.data import default_cache_dir
    from classical.pipeline import PipelineConfig

    text = " ".join(README.read_text().split())
    assert "`$QD_CACHE_DIR/classical/checkpoints/<config>/`" in text
    monkeypatch.setenv("QD_CACHE_DIR", str(tmp_path))
    cfg = PipelineConfig()
    assert cfg.cache_dir == default_cache_dir() == tmp_path / "classical"
    # where ensure_models reads and writes the checkpoints (classical.pipeline.ensure_models)
    assert cfg.cache_dir / "checkpoints" / cfg.config == tmp_path / "classical" / "checkpoints" / "cpu-small"
