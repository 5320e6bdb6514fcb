"""MNIST figures and JSON from pipeline-shaped numbers (the pipeline itself runs in the slow example test)."""

from __future__ import annotations

import json

import numpy as np

from classical.pipeline import hybrid_panels
from quantum_diffusion.demo.mnist import write_outputs


def _result(rng):
    t_f, radii = [0.2, 0.4, 0.6], [1, 3]
    rec = {"t_f": t_f, "R": radii, "mse_local": rng.uniform(0.01, 0.05, (2, 3)), "mse_global": [0.01, 0.02, 0.03],
           "threshold": 0.03, "crossing_local": {1: 0.3, 3: None}, "crossing_global": None,
           "examples": rng.uniform(0, 1, (4, 3, 28, 28)).astype(np.float32)}
    names = list(hybrid_panels(object(), object(), (0.2, 0.5)))
    panels = {n: {"fid": 10.0 + k, "confident_rate": 0.9, "flops_ratio": 1.0 - 0.1 * k, "wall_ratio": 1.0,
                  "fid_ratio": 1.0, "wall_s": 1.0, "flops_per_sample": 100} for k, n in enumerate(names)}
    hybrid = {"window": [0.2, 0.5], "n_samples": 8, "n_steps": 4, "panels": panels,
              "samples": {n: rng.uniform(0, 1, (8, 28, 28)) for n in names}}
    scan = {"t_dn": [0.0, 0.2], "t_up": [0.5, 0.8], "fid": np.array([[12.0, 13.0], [11.0, np.nan]]),
            "confident_rate": np.ones((2, 2)), "flops_ratio": np.full((2, 2), 0.5)}
    return {"config": "cpu-small", "parameters": {"global": 10}, "reference": {"real_vs_real_fid": 1.0},
            "train_seconds_this_run": {}, "threads": 1, "recovery": rec, "hybrid": hybrid, "scan": scan}


def test_write_outputs_writes_both_figures_and_their_numbers(tmp_path, rng):
    files = write_outputs(_result(rng), tmp_path / "out")
    for key in ("recovery_png", "hybrid_png"):
        assert (tmp_path / "out" / files[key]).stat().st_size > 10_000
    rec = json.loads((tmp_path / "out" / files["recovery_json"]).read_text())
    assert rec["recovery"]["t_f"] == [0.2, 0.4, 0.6] and rec["config"] == "cpu-small"
    hyb = json.loads((tmp_path / "out" / files["hybrid_json"]).read_text())
    assert set(hyb["hybrid"]["panels"]) == set(hybrid_panels(object(), object(), (0.2, 0.5)))
