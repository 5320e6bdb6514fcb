r"""Small model systems for the recovery experiments: transverse-field Ising ring, Gibbs states, one-site noise.

.. math::

    H_{\rm TFIM} = -J\sum_{i} Z_iZ_{i+1} - h\sum_i X_i\quad(\text{periodic}),\qquad
    \sigma_\beta = e^{-\beta H}/\mathrm{tr}\,e^{-\beta H}.

Qubit ordering is kron order (site 0 most significant), see quantum_diffusion.conventions.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .lindbladian import Lindbladian

__all__ = ["tfim_ring_hamiltonian", "gibbs_state", "amplitude_damping", "depolarizing"]

_X = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
_Z = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, -1.0]]))


def _site_op(op: sp.spmatrix, i: int, n: int) -> sp.csr_matrix:
    return sp.kron(sp.kron(sp.identity(2**i), op), sp.identity(2 ** (n - i - 1)), format="csr")


def tfim_ring_hamiltonian(n: int, J: float = 1.0, h: float = 1.0) -> sp.csr_matrix:
    """Sparse transverse-field Ising Hamiltonian on a periodic ring of ``n >= 2`` qubits, shape (2^n, 2^n).

    Raises
    ------
    ValueError
        If ``n < 2``.
    """
    if int(n) != n or n < 2:
        raise ValueError(f"ring length must be an integer >= 2, got {n!r}")
    n = int(n)
    h_op = sp.csr_matrix((2**n, 2**n))
    bonds = [(i, (i + 1) % n) for i in range(n if n > 2 else 1)]
    for i, j in bonds:
        h_op = h_op - J * (_site_op(_Z, i, n) @ _site_op(_Z, j, n))
    for i in range(n):
        h_op = h_op - h * _site_op(_X, i, n)
    return h_op.tocsr()


def gibbs_state(h_op: np.ndarray | sp.spmatrix, beta: float) -> np.ndarray:
    r"""Gibbs state :math:`e^{-\beta H}/Z` (dense, via ``eigh``; full rank for finite ``beta``).

    Raises
    ------
    ValueError
        If ``beta`` is negative or not finite.
    """
    if not np.isfinite(beta) or beta < 0:
        raise ValueError(f"beta must be finite and >= 0, got {beta!r}")
    dense = h_op.toarray() if sp.issparse(h_op) else np.asarray(h_op)
    w, v = sla.eigh(dense)
    p = np.exp(-beta * (w - w.min()))
    p /= p.sum()
    return (v * p) @ v.conj().T


def amplitude_damping(gamma: float) -> Lindbladian:
    """One-qubit amplitude damping ``L = sqrt(gamma) |0><1|`` (decay towards |0>)."""
    return Lindbladian(np.zeros((2, 2)), [np.sqrt(gamma) * np.array([[0.0, 1.0], [0.0, 0.0]])])


def depolarizing(gamma: float) -> Lindbladian:
    """One-qubit depolarising generator with jumps ``sqrt(gamma/4) P`` for P in {X, Y, Z}."""
    paulis = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
    return Lindbladian(np.zeros((2, 2)), [np.sqrt(gamma / 4) * p for p in paulis])
