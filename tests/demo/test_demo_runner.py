"""The demo runner: ``demo --only`` updates its areas' sections and keeps the others (issue 13 item 4)."""

from __future__ import annotations

import json
import sys
import types

import pytest

from quantum_diffusion import __main__ as cli
from quantum_diffusion.demo import runner
from quantum_diffusion.demo.report import SECTIONS_FILE, Section, load_sections, update_report


def _area(title: str, summary: str):
    def demo_sections(out):
        (out / f"{title}.json").write_text("{}")
        return [Section(title, summary, [], f"{title}.json", {"x": 1.0})]

    mod = types.ModuleType(f"qd_area_{title}")
    mod.demo_sections = demo_sections
    return mod


@pytest.fixture
def areas(monkeypatch):
    mods = {"first": _area("First", "first, version 1"), "second": _area("Second", "second, version 1")}
    for mod in mods.values():
        monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setattr(runner, "AREAS", {name: mod.__name__ for name, mod in mods.items()})
    return mods


def test_issue13_item4_demo_only_keeps_the_other_sections(tmp_path, areas):
    assert cli.main(["demo", "--out", str(tmp_path)]) == 0
    areas["first"].demo_sections = _area("First", "first, version 2").demo_sections
    assert cli.main(["demo", "--out", str(tmp_path), "--only", "first"]) == 0
    report = (tmp_path / "README.md").read_text()
    assert "## Second" in report and "second, version 1" in report  # kept
    assert "first, version 2" in report and "first, version 1" not in report  # replaced, not duplicated
    assert report.index("## First") < report.index("## Second")  # report order = AREAS order
    stored = json.loads((tmp_path / SECTIONS_FILE).read_text())
    assert list(stored["areas"]) == ["first", "second"]


def test_issue13_item4_only_in_reverse_order_keeps_report_order(tmp_path, areas):
    assert cli.main(["demo", "--out", str(tmp_path), "--only", "second"]) == 0
    assert cli.main(["demo", "--out", str(tmp_path), "--only", "first"]) == 0
    report = (tmp_path / "README.md").read_text()
    assert report.index("## First") < report.index("## Second")


def test_sections_round_trip_and_unreadable_store_warns(tmp_path):
    s = Section("T", "S", ["a.png"], "a.json", {"k": 0.5}, seconds=1.5)
    update_report(tmp_path, {"area": [s]})
    assert load_sections(tmp_path) == {"area": [s]}
    (tmp_path / SECTIONS_FILE).write_text("{not json")
    with pytest.warns(UserWarning, match="unreadable"):
        assert load_sections(tmp_path) == {}
