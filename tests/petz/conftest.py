"""Random test systems for the Petz tests (from the shared ``tests/systems``): seeded H, jumps, references."""

from __future__ import annotations

import numpy as np
import pytest
from systems.random_systems import random_hermitian, random_lindbladian, random_state


class Systems:
    hermitian = staticmethod(random_hermitian)
    state = staticmethod(random_state)
    lindbladian = staticmethod(random_lindbladian)


@pytest.fixture
def systems() -> type[Systems]:
    return Systems


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)
