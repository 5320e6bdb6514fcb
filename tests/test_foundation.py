"""Foundation: validation errors, atomic IO, the strawberryfields shim, the report and the CLI."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest
import qutip
import scipy.integrate

from quantum_diffusion import __main__ as cli
from quantum_diffusion import _validation as val
from quantum_diffusion._sf_compat import ensure_simps_alias, import_strawberryfields
from quantum_diffusion.demo import runner
from quantum_diffusion.demo.report import Section
from quantum_diffusion.io import atomic_write_json


def test_density_matrix_validation_names_the_problem():
    good = np.diag([0.7, 0.3])
    assert np.allclose(val.check_density_matrix(qutip.Qobj(good)), good)
    with pytest.raises(ValueError, match="not Hermitian"):
        val.check_density_matrix(np.array([[0.5, 0.1], [0.3, 0.5]]))
    with pytest.raises(ValueError, match="not normalised"):
        val.check_density_matrix(np.diag([0.5, 0.6]))
    with pytest.raises(ValueError, match="not positive semidefinite"):
        val.check_density_matrix(np.diag([1.2, -0.2]))
    with pytest.raises(ValueError, match="rank-deficient"):
        val.check_density_matrix(np.diag([1.0, 0.0]), full_rank=True)
    with pytest.raises(ValueError, match="NaN"):
        val.check_density_matrix(np.array([[np.nan, 0], [0, 1]]))
    with pytest.raises(ValueError, match="shape"):
        val.check_density_matrix(np.eye(2) / 2, dim=3)


def test_atomic_json_roundtrip_with_numpy(tmp_path):
    p = atomic_write_json(tmp_path / "a" / "x.json", {"a": np.arange(3), "b": np.float64(1.5)})
    assert json.loads(p.read_text()) == {"a": [0, 1, 2], "b": 1.5}
    assert [f.name for f in p.parent.iterdir()] == ["x.json"]  # no temp file left behind


def test_simps_shim_adds_alias_only_when_missing(monkeypatch):
    if hasattr(scipy.integrate, "simps"):
        monkeypatch.delattr(scipy.integrate, "simps")
    assert ensure_simps_alias() is True
    assert scipy.integrate.simps is scipy.integrate.simpson
    assert ensure_simps_alias() is False
    x = np.linspace(0, 1, 101)
    assert scipy.integrate.simps(x**2, x=x) == pytest.approx(1 / 3, abs=1e-8)


def test_strawberryfields_imports_through_the_shim():
    sf = import_strawberryfields()
    assert sf.__version__.startswith("0.")


def _fake_area(out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.savefig(out / "fake.png")
    plt.close(fig)
    atomic_write_json(out / "fake.json", {"slope": 1.0})
    return [Section("Fake", "A line of slope one.", ["fake.png"], "fake.json", {"slope": 1.0})]


def _broken_area(out):
    raise RuntimeError("deliberately broken")


@pytest.fixture
def fake_areas(monkeypatch):
    mod = types.ModuleType("qd_fake_area")
    mod.demo_sections = _fake_area
    bad = types.ModuleType("qd_broken_area")
    bad.demo_sections = _broken_area
    monkeypatch.setitem(sys.modules, "qd_fake_area", mod)
    monkeypatch.setitem(sys.modules, "qd_broken_area", bad)
    monkeypatch.setattr(runner, "AREAS", {"fake": "qd_fake_area", "broken": "qd_broken_area"})


def test_cli_demo_writes_report_and_flags_failures(tmp_path, fake_areas, capsys):
    code = cli.main(["demo", "--out", str(tmp_path), "--only", "fake"])
    assert code == 0
    report = (tmp_path / "README.md").read_text()
    assert "![Fake](fake.png)" in report and "| slope | 1 |" in report and "fake.json" in report
    assert (tmp_path / "fake.png").stat().st_size > 0
    code = cli.main(["demo", "--out", str(tmp_path)])
    assert code == 1
    report = (tmp_path / "README.md").read_text()
    assert "broken: FAILED" in report and "deliberately broken" in report
    assert "![Fake](fake.png)" in report  # the working area is still reported


def test_cli_help_and_conventions(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    assert "demo" in capsys.readouterr().out
    assert cli.main(["conventions"]) == 0
    assert "vacuum has" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["demo", "--only", "nonexistent"])
