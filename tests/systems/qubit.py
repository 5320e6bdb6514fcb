r"""One-qubit systems with closed-form evolution.

Amplitude damping at rate :math:`\gamma` (jump :math:`\sqrt\gamma\,|0\rangle\langle 1|`, no Hamiltonian):

.. math:: \rho(t) = \begin{pmatrix} 1 - p\,e^{-\gamma t} & c\,e^{-\gamma t/2} \\
          \bar c\,e^{-\gamma t/2} & p\,e^{-\gamma t} \end{pmatrix},
          \qquad \rho(0) = \begin{pmatrix} 1-p & c \\ \bar c & p \end{pmatrix}.

Basis order ``|0>, |1>`` (``|0>`` is the fixed point).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SIGMA_MINUS", "amplitude_damping_jump", "amplitude_damping_state", "qubit_state"]

#: lowering operator |0><1|
SIGMA_MINUS = np.array([[0.0, 1.0], [0.0, 0.0]])


def amplitude_damping_jump(gamma: float) -> np.ndarray:
    """Jump operator ``sqrt(gamma) |0><1|`` of amplitude damping at rate ``gamma``."""
    return np.sqrt(gamma) * SIGMA_MINUS


def qubit_state(p: float, c: complex) -> np.ndarray:
    """Density matrix with excited population ``p`` and coherence ``c = <0|rho|1>`` (needs ``|c|^2 <= p(1-p)``)."""
    if abs(c) ** 2 > p * (1 - p) + 1e-15:
        raise ValueError(f"|c|^2 = {abs(c) ** 2} exceeds p(1-p) = {p * (1 - p)}: not a state")
    return np.array([[1 - p, c], [np.conj(c), p]], dtype=complex)


def amplitude_damping_state(p: float, c: complex, gamma: float, t: float) -> np.ndarray:
    """Exact state at time ``t`` of amplitude damping started from :func:`qubit_state` ``(p, c)``."""
    decay = np.exp(-gamma * t)
    return qubit_state(p * decay, c * np.sqrt(decay))
