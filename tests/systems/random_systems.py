"""Seeded random systems: Hermitian matrices, full-rank states and Lindbladians (for identities that hold always)."""

from __future__ import annotations

import numpy as np

from quantum_diffusion.petz import Lindbladian

__all__ = ["random_hermitian", "random_lindbladian", "random_state"]


def random_hermitian(rng: np.random.Generator, d: int, scale: float = 1.0) -> np.ndarray:
    """Random Hermitian ``d x d`` matrix with Gaussian entries of size ``scale``."""
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return scale * 0.5 * (a + a.conj().T)


def random_state(rng: np.random.Generator, d: int, mix: float = 0.3) -> np.ndarray:
    """Random full-rank density matrix: a Wishart state mixed with the identity (smallest eigenvalue >= mix/d)."""
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    s = a @ a.conj().T
    return (1 - mix) * s / np.trace(s).real + mix * np.eye(d) / d


def random_lindbladian(rng: np.random.Generator, d: int, n_jumps: int = 2, h_scale: float = 0.5,
                       j_scale: float = 0.3) -> Lindbladian:
    """Random GKSL generator: Hermitian H of size ``h_scale`` and ``n_jumps`` Gaussian jumps of size ``j_scale``."""
    jumps = [j_scale * (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) for _ in range(n_jumps)]
    return Lindbladian(random_hermitian(rng, d, h_scale), jumps)
