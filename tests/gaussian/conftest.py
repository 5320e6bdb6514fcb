"""Fixtures for the Gaussian tests (HHW conventions, see quantum_diffusion.conventions)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The Gaussian tests loop over many 2x2 / 4x4 matrices: one BLAS thread is much faster."""
    from quantum_diffusion._threads import small_blas

    with small_blas():
        yield
