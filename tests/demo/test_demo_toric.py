"""Toric demo sections: exact and Monte Carlo CMI agree at the same p; every figure has its numbers (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from quantum_diffusion.demo.toric import SCALING_STORE, collapse_data, demo_sections, plot_collapse


@pytest.mark.slow
def test_demo_sections_compare_exact_and_mc_at_the_same_p(tmp_path):
    sections = demo_sections(tmp_path)
    assert len(sections) == (3 if SCALING_STORE.exists() else 2)  # the collapse needs the committed run
    for s in sections:
        assert all((tmp_path / f).stat().st_size > 10_000 for f in s.figures)
        assert json.loads((tmp_path / s.json).read_text())
    table = sections[0].key_numbers
    z = [float(v) for k, v in table.items() if k.endswith("stderr")]
    assert len(z) == 6 and max(abs(v) for v in z) < 4  # 300 samples per point: agreement within error bars
    assert all(k.startswith(("p=", "MC samples")) for k in table)


def test_collapse_figure_from_a_small_store(tmp_path):
    from quantum_diffusion.toric.scaling import scaling_point  # noqa: F401  (the store's point function)

    rng = np.random.default_rng(0)
    pc, nu, alpha = 0.109, 1.5, 1.0
    lines = []
    for p in (0.05, 0.08, 0.10, 0.11, 0.12, 0.14, 0.17, 0.2):
        for r in (2, 3, 4, 5):
            x = (p - pc) * r ** (1 / nu)
            mean = r**-alpha * np.exp(-1.0 - 3.0 * x - 6.0 * x**2)
            rec = {"key": f"{p}-{r}", "params": {"p": p, "r": r, "r_C": None, "batch": 0},
                   "result": {"cmi": mean * (1 + 0.02 * rng.standard_normal()), "var": (0.1 * mean) ** 2 * 100,
                              "n_samples": 100, "method": "cv"}}
            lines.append(json.dumps(rec))
    store = tmp_path / "store.jsonl"
    store.write_text("\n".join(lines) + "\n")
    data = collapse_data(store, n_boot=5)
    fit = data["geometries"]["r_C=r"]["fit"]
    assert abs(fit["p_c"] - pc) < 0.01
    fig = plot_collapse(data)
    fig.savefig(tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 10_000
