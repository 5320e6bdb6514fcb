"""Root test configuration: headless matplotlib, small BLAS thread pools, one seeded ``rng`` fixture."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(1)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for each test (tests must not share random state)."""
    return np.random.default_rng(20261129)
