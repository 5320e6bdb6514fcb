r"""Forward dynamics: a Lindbladian in GKSL form, its row-major superoperator, and its flow.

.. math::

    \mathcal L(X) = -i[H, X] + \sum_j \Big(L_j X L_j^\dagger - \tfrac12\{L_j^\dagger L_j, X\}\Big),
    \qquad
    \mathcal L^\dagger(Y) = i[H, Y] + \sum_j \Big(L_j^\dagger Y L_j - \tfrac12\{L_j^\dagger L_j, Y\}\Big).

Superoperators are **row-major** (``vec(A X B) = (A kron B^T) vec(X)``); qutip objects are converted to
column stacking explicitly; see :mod:`quantum_diffusion.conventions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.linalg as sla

from .._validation import as_operator, check_hermitian, finite_result
from ..conventions import row_to_column_superop
from ..linalg import hermitian_part

__all__ = ["Lindbladian", "lindblad_superop", "lindblad_apply"]

#: Largest Hilbert-space dimension for which :meth:`Lindbladian.evolve` uses the exact exponential.
EXPM_MAX_DIM = 24


def lindblad_superop(h: np.ndarray, jumps: Sequence[np.ndarray]) -> np.ndarray:
    r"""Row-major superoperator of the GKSL generator with Hamiltonian ``h`` and jumps ``jumps``.

    .. math::

        S = -i(H\otimes 1 - 1\otimes H^T) + \sum_j \Big(L_j\otimes \bar L_j
            - \tfrac12 C\otimes 1 - \tfrac12 1\otimes C^T\Big),\quad C = \sum_j L_j^\dagger L_j .

    Shapes: ``h`` (d, d), each jump (d, d); returns (d^2, d^2). See quantum_diffusion.conventions.
    """
    d = h.shape[0]
    eye = np.eye(d)
    s = -1j * (np.kron(h, eye) - np.kron(eye, h.T))
    c = np.zeros((d, d), dtype=complex)
    for lj in jumps:
        s = s + np.kron(lj, lj.conj())
        c = c + lj.conj().T @ lj
    return s - 0.5 * (np.kron(c, eye) + np.kron(eye, c.T))


def lindblad_apply(
    h: np.ndarray, jumps: Sequence[np.ndarray], x: np.ndarray, c: np.ndarray | None = None
) -> np.ndarray:
    """Matrix-free GKSL action ``-i[H, X] + sum_j D[L_j](X)`` in O(d^3) per jump (``c`` = sum L^dag L)."""
    hx = h @ x
    out = -1j * (hx - x @ h)
    if c is None:
        c = sum((lj.conj().T @ lj for lj in jumps), np.zeros_like(h, dtype=complex))
    for lj in jumps:
        out = out + lj @ x @ lj.conj().T
    return out - 0.5 * (c @ x + x @ c)


class Lindbladian:
    r"""A GKSL generator :math:`\mathcal L = -i[H,\cdot] + \sum_j \mathcal D[L_j]`.

    Parameters
    ----------
    H : array or qutip.Qobj of shape (d, d)
        Hermitian Hamiltonian.
    jumps : sequence of arrays or qutip.Qobj of shape (d, d)
        Jump (Lindblad) operators :math:`L_j` (rates absorbed into the operators).

    Attributes
    ----------
    H : ndarray (d, d), complex.
    jumps : list of ndarray (d, d), complex.
    dim : int, the Hilbert-space dimension ``d``.

    Notes
    -----
    :meth:`superop` is row-major; :meth:`to_qutip` returns qutip's column-stacking Liouvillian
    (see quantum_diffusion.conventions).

    Raises
    ------
    ValueError
        If ``H`` is not square/Hermitian/finite, or a jump operator has the wrong shape.
    """

    def __init__(self, H: Any, jumps: Sequence[Any] = ()) -> None:
        h = as_operator(H, "H")
        check_hermitian(h, "H")
        self.H: np.ndarray = hermitian_part(h)
        self.dim: int = int(h.shape[0])
        self.jumps: list[np.ndarray] = [
            as_operator(lj, f"jumps[{j}]", dim=self.dim)
            for j, lj in enumerate(jumps)
        ]
        self._c: np.ndarray | None = None
        self._stack: np.ndarray | None = None

    def __repr__(self) -> str:  # noqa: D105
        return f"{type(self).__name__}(dim={self.dim}, n_jumps={len(self.jumps)})"

    @property
    def C(self) -> np.ndarray:
        r""":math:`C = \sum_j L_j^\dagger L_j`, shape (d, d)."""
        if self._c is None:
            self._c = sum((lj.conj().T @ lj for lj in self.jumps), np.zeros((self.dim, self.dim), complex))
        return self._c

    def jump_stack(self) -> np.ndarray:
        """Return the jump operators stacked into one array of shape (n_jumps, d, d) (cached)."""
        if getattr(self, "_stack", None) is None:
            self._stack = np.asarray(self.jumps, dtype=complex).reshape(-1, self.dim, self.dim)
        return self._stack

    def superop(self) -> np.ndarray:
        """Row-major superoperator, shape (d^2, d^2) (see quantum_diffusion.conventions)."""
        return lindblad_superop(self.H, self.jumps)

    def _check_operand(self, x: Any, name: str) -> np.ndarray:
        return as_operator(x, name, dim=self.dim)

    def apply(self, rho: Any) -> np.ndarray:
        r"""Matrix-free :math:`\mathcal L(\rho)`, O(d^3) per jump; ``rho`` (d, d) -> (d, d).

        Raises
        ------
        ValueError
            If ``rho`` has the wrong shape or non-finite entries.
        """
        return finite_result(lindblad_apply(self.H, self.jumps, self._check_operand(rho, "rho"), self.C), "rho",
                             "L(rho)")

    def adjoint_apply(self, y: Any) -> np.ndarray:
        r"""Heisenberg-picture :math:`\mathcal L^\dagger(Y) = i[H,Y] + \sum_j (L_j^\dagger Y L_j - \frac12\{C, Y\})`."""
        y = self._check_operand(y, "Y")
        out = 1j * (self.H @ y - y @ self.H)
        for lj in self.jumps:
            out = out + lj.conj().T @ y @ lj
        return finite_result(out - 0.5 * (self.C @ y + y @ self.C), "Y", "L^dagger(Y)")

    def channel(self, t: float) -> np.ndarray:
        r"""Row-major superoperator of :math:`e^{t\mathcal L}`, shape (d^2, d^2) (exact ``expm``)."""
        return sla.expm(float(t) * self.superop())

    def to_qutip(self) -> Any:
        """Return qutip's column-stacking Liouvillian (``qutip.liouvillian(H, c_ops)``) as a super ``Qobj``."""
        import qutip

        return qutip.liouvillian(qutip.Qobj(self.H), [qutip.Qobj(lj) for lj in self.jumps])

    def to_qutip_column_superop(self) -> np.ndarray:
        """Our superoperator converted to column stacking (should equal :meth:`to_qutip` ``.full()``)."""
        return row_to_column_superop(self.superop())

    def evolve(self, rho: Any, t: float | Sequence[float], *, method: str = "auto",
               rtol: float = 1e-10, atol: float = 1e-12) -> np.ndarray:
        r"""Evolve :math:`\rho(t) = e^{t\mathcal L}\rho`.

        Parameters
        ----------
        rho : array or Qobj (d, d)
        t : float or sequence of floats (>= 0)
            Times in any order, repeats allowed; the output follows the given order for every method.
        method : "auto" | "expm" | "mesolve"
            ``"auto"`` uses the exact ``scipy.linalg.expm`` of the superoperator for ``d <= 24`` and qutip
            ``mesolve`` otherwise (solved on the sorted distinct times, returned in the given order).

        Returns
        -------
        ndarray (d, d) for scalar ``t``, (len(t), d, d) for a sequence.

        Raises
        ------
        ValueError
            On bad shapes, negative times or an unknown method.
        """
        x = self._check_operand(rho, "rho")
        ts = np.atleast_1d(np.asarray(t, dtype=float))
        if ts.size == 0:
            raise ValueError("t must hold at least one time")
        if np.any(ts < 0) or not np.all(np.isfinite(ts)):
            raise ValueError(f"evolution times must be finite and >= 0, got {t!r}")
        if method == "auto":
            method = "expm" if self.dim <= EXPM_MAX_DIM else "mesolve"
        if method == "expm":
            s = self.superop()
            out = np.stack([(sla.expm(tk * s) @ x.reshape(-1)).reshape(self.dim, self.dim) for tk in ts])
        elif method == "mesolve":
            import qutip

            # qutip needs an increasing time list starting at 0: solve on the sorted distinct times and
            # return the states in the order given (the same contract as "expm", any order and repeats)
            uniq, inverse = np.unique(ts, return_inverse=True)
            tlist = np.concatenate([[0.0], uniq]) if uniq[0] != 0.0 else uniq
            opts = {"rtol": rtol, "atol": atol, "progress_bar": False, "store_states": True}
            res = qutip.mesolve(qutip.Qobj(self.H), qutip.Qobj(x), tlist,
                                [qutip.Qobj(lj) for lj in self.jumps], options=opts)
            states = np.stack([s.full() for s in res.states])
            if uniq[0] != 0.0:
                states = states[1:]
            out = states[inverse.reshape(-1)]
        else:
            raise ValueError(f"unknown method {method!r}; use 'auto', 'expm' or 'mesolve'")
        return out[0] if np.ndim(t) == 0 else out
