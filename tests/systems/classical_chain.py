r"""A classical Markov chain of three bits, A -> B -> C, as a diagonal 3-qubit state.

:math:`p(a,b,c) = p(a)\,T(b|a)\,T(c|b)` with a binary symmetric channel :math:`T` of flip probability ``q``, so that
:math:`I(A{:}C|B) = 0` exactly, while

.. math:: I(A{:}C) = \ln 2 - h(q_2), \qquad q_2 = 2q(1-q)

(for a uniform ``A``; :math:`h` is the binary entropy in nats).  Mixing in a correlated A-C term breaks the Markov
property: :func:`non_markov_state` has :math:`I(A{:}C|B) > 0`.  Qubit order A, B, C; basis index ``4a + 2b + c``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary_entropy", "markov_chain_probabilities", "markov_chain_state", "non_markov_state"]


def binary_entropy(q: float) -> float:
    """Binary entropy ``-q ln q - (1-q) ln(1-q)`` in nats."""
    return float(-sum(x * np.log(x) for x in (q, 1 - q) if x > 0))


def markov_chain_probabilities(q: float, p_a: float = 0.5) -> np.ndarray:
    """Joint probabilities ``p[a, b, c]`` of the chain A -> B -> C with flip probability ``q`` per link."""
    t = np.array([[1 - q, q], [q, 1 - q]])
    pa = np.array([1 - p_a, p_a])
    return pa[:, None, None] * t[:, :, None] * t[None, :, :]


def markov_chain_state(q: float, p_a: float = 0.5) -> np.ndarray:
    """The chain as a diagonal 8 x 8 density matrix (qubits A, B, C)."""
    return np.diag(markov_chain_probabilities(q, p_a).ravel())


def non_markov_state(q: float, eps: float) -> np.ndarray:
    """Mix the chain with ``eps`` of a state where C copies A (B uniform): ``I(A:C|B) > 0`` for ``0 < eps``."""
    copy = np.zeros((2, 2, 2))
    for a in range(2):
        copy[a, :, a] = 0.25
    return np.diag(((1 - eps) * markov_chain_probabilities(q) + eps * copy).ravel())
