r"""Quantum information quantities in **nats**: trace distance, root fidelity, entropies, quantum CMI.

Conventions (see quantum_diffusion.conventions, "Information quantities"):

.. math::

    \mathrm{TD}(\rho,\sigma) = \tfrac12\|\rho-\sigma\|_1,\qquad
    F(\rho,\sigma) = \|\sqrt\rho\sqrt\sigma\|_1\ \ (\text{root fidelity, as in the theory note}),

    S(\rho) = -\mathrm{tr}\,\rho\ln\rho,\qquad D(\rho\|\sigma) = \mathrm{tr}\,\rho(\ln\rho-\ln\sigma),\qquad
    I(A{:}C|B) = S_{AB} + S_{BC} - S_B - S_{ABC}.

Subsystems of a state on :math:`\bigotimes_i \mathbb C^{d_i}` are indexed by position in ``dims``
(kron order, first factor most significant) or by name through ``names``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from ._validation import as_operator, check_density_matrix
from .linalg import hermitian_part, psd_power
from .subsystems import partial_trace, resolve_subsystems

__all__ = ["trace_distance", "fidelity", "entropy", "relative_entropy", "partial_trace", "quantum_cmi",
           "mutual_information"]

_EIG_TOL = 1e-14


def trace_distance(rho: Any, sigma: Any, *, validate: bool = True) -> float:
    r"""Trace distance :math:`\frac12\|\rho-\sigma\|_1` (eigenvalues of the Hermitian difference).

    Raises
    ------
    ValueError
        If either argument is not a density matrix (when ``validate``) or the dimensions differ.
    """
    r, s = _pair(rho, sigma, validate)
    ev = np.linalg.eigvalsh(hermitian_part(r - s))
    return float(0.5 * np.sum(np.abs(ev)))


def fidelity(rho: Any, sigma: Any, *, validate: bool = True) -> float:
    r"""**Root** fidelity :math:`F(\rho,\sigma) = \|\sqrt\rho\sqrt\sigma\|_1` (1 for equal states; not squared).

    Computed as the sum of singular values of :math:`\sqrt\rho\sqrt\sigma`.

    Raises
    ------
    ValueError
        As :func:`trace_distance`.
    """
    r, s = _pair(rho, sigma, validate)
    sv = np.linalg.svd(psd_power(r, 0.5) @ psd_power(s, 0.5), compute_uv=False)
    return float(min(np.sum(sv), 1.0 + 1e-12))


def entropy(rho: Any, *, validate: bool = True) -> float:
    r"""Von Neumann entropy :math:`S(\rho) = -\sum_k\lambda_k\ln\lambda_k` in nats (0 ln 0 = 0).

    Raises
    ------
    ValueError
        If ``rho`` is not a density matrix (when ``validate``).
    """
    r = check_density_matrix(rho, "rho") if validate else as_operator(rho, "rho")
    lam = np.linalg.eigvalsh(hermitian_part(r))
    lam = lam[lam > _EIG_TOL]
    return float(-np.sum(lam * np.log(lam)))


def relative_entropy(rho: Any, sigma: Any, *, validate: bool = True, support_tol: float = 1e-12) -> float:
    r"""Umegaki relative entropy :math:`D(\rho\|\sigma) = \mathrm{tr}\rho(\ln\rho-\ln\sigma)` in nats.

    Returns ``inf`` when :math:`\mathrm{supp}\,\rho\not\subseteq\mathrm{supp}\,\sigma` (weight of
    :math:`\rho` on the kernel of :math:`\sigma` above ``support_tol``).

    Raises
    ------
    ValueError
        As :func:`trace_distance`.
    """
    r, s = _pair(rho, sigma, validate)
    lr, vr = np.linalg.eigh(hermitian_part(r))
    ls, vs = np.linalg.eigh(hermitian_part(s))
    overlap = np.abs(vr.conj().T @ vs) ** 2  # overlap[i, j] = |<r_i|s_j>|^2
    pos_r = lr > _EIG_TOL
    ker_s = ls <= _EIG_TOL
    if np.sum(lr[pos_r, None] * overlap[np.ix_(pos_r, ker_s)]) > support_tol:
        return float("inf")
    term1 = np.sum(lr[pos_r] * np.log(lr[pos_r]))
    log_s = np.where(ker_s, 0.0, np.log(np.where(ker_s, 1.0, ls)))
    term2 = np.sum(lr[pos_r, None] * overlap[pos_r] * log_s[None, :])
    return float(max(term1 - term2, 0.0))


def mutual_information(rho: Any, dims: Sequence[int], A: Any, B: Any, *,
                       names: Sequence[Hashable] | None = None) -> float:
    r"""Mutual information :math:`I(A{:}B) = S_A + S_B - S_{AB}` in nats.

    Raises
    ------
    ValueError
        As :func:`quantum_cmi`.
    """
    return quantum_cmi(rho, dims, A, [], B, names=names)


def quantum_cmi(rho: Any, dims: Sequence[int], A: Any, B: Any, C: Any, *,
                names: Sequence[Hashable] | None = None, validate: bool = True) -> float:
    r"""Quantum conditional mutual information :math:`I(A{:}C|B) = S_{AB}+S_{BC}-S_B-S_{ABC}` in nats.

    Parameters
    ----------
    rho : array or Qobj (D, D), ``D = prod(dims)``
    dims : subsystem dimensions
    A, B, C : index/name or sequences of them (disjoint; ``B`` may be empty; anything not in A, B, C is
        traced out)
    names : optional subsystem names, same length as ``dims``

    Raises
    ------
    ValueError
        If ``rho`` is not a density matrix, the regions overlap, or a subsystem is unknown.
    """
    n = len(dims)
    if names is not None and len(names) != n:
        raise ValueError(f"names has {len(names)} entries but dims has {n}")
    r = check_density_matrix(rho, "rho") if validate else as_operator(rho, "rho")
    a, b, c = (resolve_subsystems(x, n, names) if not (isinstance(x, (list, tuple)) and len(x) == 0) else []
               for x in (A, B, C))
    if set(a) & set(b) or set(a) & set(c) or set(b) & set(c):
        raise ValueError(f"regions must be disjoint, got A={a}, B={b}, C={c}")
    if not a or not c:
        raise ValueError("regions A and C must be non-empty")

    def s(keep: list[int]) -> float:
        return entropy(partial_trace(r, dims, keep), validate=False) if keep else 0.0

    return float(s(a + b) + s(b + c) - s(b) - s(a + b + c))


def _pair(rho: Any, sigma: Any, validate: bool) -> tuple[np.ndarray, np.ndarray]:
    if validate:
        r = check_density_matrix(rho, "rho")
        s = check_density_matrix(sigma, "sigma")
    else:
        r, s = as_operator(rho, "rho"), as_operator(sigma, "sigma")
    if r.shape != s.shape:
        raise ValueError(f"dimension mismatch: rho {r.shape} vs sigma {s.shape}")
    return r, s
