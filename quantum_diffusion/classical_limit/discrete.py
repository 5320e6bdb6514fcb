r"""Discrete-variable diffusion: classical master equations and their embedding as jump operators.

A classical Markov jump process on ``d`` states with rates :math:`w_{a\to b}` is embedded in a
Lindbladian by the jump operators :math:`L_{a\to b}=\sqrt{w_{a\to b}}\,|b\rangle\langle a|` (theory note
``petz.md`` section 9, (P.34)-(P.35)).  On diagonal ("fully decohered") states the forward Lindbladian is
the classical master equation, and the Petz backward generator (rotated for any angle, and twirled) is
the Bayes-reversed master equation with rates :math:`\hat w_{b\to a}=w_{a\to b}\,p_a/p_b`.

**Index convention (used by every function here).**  ``rates[a, b]`` is the rate of the jump
*from* state ``a`` *to* state ``b`` (source index first); the diagonal must be zero.  Probability
vectors are column vectors and generators act on the left: :math:`\dot p=G\,p` with
:math:`G_{ba}=w_{a\to b}` for :math:`a\ne b` and :math:`G_{aa}=-\sum_b w_{a\to b}`.

Superoperators are row-major (``vec(X)[i*d + j] = X[i, j]``), see :mod:`quantum_diffusion.conventions`;
the diagonal entries of a ``d x d`` matrix sit at row-major indices ``k * (d + 1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_array, check_square

__all__ = [
    "check_rates",
    "check_reference",
    "reverse_rates",
    "master_generator",
    "reverse_generator",
    "jump_operators",
    "diagonal_indices",
    "diagonal_block",
    "coherence_leakage",
]


def check_rates(rates: Any, name: str = "rates") -> np.ndarray:
    """Validate a rate matrix ``rates[a, b] = w_{a->b}`` (finite, square, non-negative, zero diagonal).

    Raises
    ------
    ValueError
        If the matrix is not square, has NaN/inf, negative rates or a non-zero diagonal.
    """
    w = as_array(rates, name)
    if np.iscomplexobj(w):
        if np.max(np.abs(w.imag)) > 0:
            raise ValueError(f"{name} must be real, got complex entries")
        w = w.real
    w = check_square(np.asarray(w, dtype=float), name)
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative, smallest entry {w.min():.3e}")
    if np.any(np.diag(w) != 0):
        raise ValueError(f"{name} must have a zero diagonal (rates[a, a] is not a jump), got {np.diag(w)}")
    return w


def check_reference(p: Any, d: int | None = None, name: str = "p") -> np.ndarray:
    """Validate a strictly positive reference distribution of length ``d`` and return it normalised.

    Raises
    ------
    ValueError
        If ``p`` is not a 1-D finite vector of length ``d`` with strictly positive entries.
    """
    q = as_array(p, name)
    if np.iscomplexobj(q):
        if np.max(np.abs(q.imag)) > 0:
            raise ValueError(f"{name} must be real, got complex entries")
        q = q.real
    q = np.asarray(q, dtype=float)
    if q.ndim != 1:
        raise ValueError(f"{name} must be a 1-D probability vector, got shape {q.shape}")
    if d is not None and q.size != d:
        raise ValueError(f"{name} must have length {d}, got {q.size}")
    if np.any(q <= 0):
        raise ValueError(
            f"{name} must be strictly positive (the reverse rates divide by it), smallest entry {q.min():.3e}"
        )
    return q / q.sum()


def reverse_rates(rates: Any, p: Any) -> np.ndarray:
    r"""Bayes-reversed jump rates with respect to the reference distribution ``p`` (P.7', P.35).

    .. math::

        \hat w_{b\to a} = w_{a\to b}\,\frac{p_a}{p_b},
        \qquad\text{i.e.}\qquad \hat R_{ba} = R_{ab}\,\frac{p_a}{p_b}.

    Index convention: ``rates[a, b]`` is the forward rate from ``a`` to ``b`` and the returned
    ``rev[b, a]`` is the reverse-time rate from ``b`` to ``a`` (same "source first" convention), so that
    ``rev = (rates * p[:, None] / p[None, :]).T``.  The overall scale of ``p`` drops out.

    Parameters
    ----------
    rates : array of shape (d, d)
        Forward rates, source index first, zero diagonal.
    p : array of shape (d,)
        Strictly positive reference distribution (the state *before* the forward step).

    Returns
    -------
    numpy.ndarray of shape (d, d)
        Reverse rates, source index first.

    Raises
    ------
    ValueError
        If ``rates`` or ``p`` fail :func:`check_rates` / :func:`check_reference`.

    Examples
    --------
    >>> import numpy as np
    >>> reverse_rates(np.array([[0.0, 2.0], [0.0, 0.0]]), np.array([0.75, 0.25]))
    array([[0., 0.],
           [6., 0.]])
    """
    w = check_rates(rates)
    q = check_reference(p, w.shape[0])
    return (w * q[:, None] / q[None, :]).T


def master_generator(rates: Any) -> np.ndarray:
    r"""Return the generator ``G`` of the classical master equation :math:`\dot p = G p` (columns sum to zero).

    .. math::

        \dot p_b=\sum_a\big(w_{a\to b}\,p_a-w_{b\to a}\,p_b\big),\qquad
        G = R^{T}-\operatorname{diag}\Big(\sum_b R_{ab}\Big).

    Parameters
    ----------
    rates : array of shape (d, d)
        ``rates[a, b] = w_{a->b}`` (source first, zero diagonal).

    Returns
    -------
    numpy.ndarray of shape (d, d)

    Raises
    ------
    ValueError
        If ``rates`` is not a valid rate matrix.
    """
    w = check_rates(rates)
    return w.T - np.diag(w.sum(axis=1))


def reverse_generator(rates: Any, p: Any) -> np.ndarray:
    r"""Return the generator of the reverse-time (Bayes / Petz) master equation for reference ``p`` (P.35).

    .. math::

        \frac{dq_a}{ds}=\sum_b\Big(w_{a\to b}\frac{p_a}{p_b}\,q_b-w_{b\to a}\frac{p_b}{p_a}\,q_a\Big),
        \qquad \hat G = \texttt{master\_generator}(\texttt{reverse\_rates}(R, p)).

    With the package's time convention (see quantum_diffusion.conventions) this is the backward
    generator :math:`\mathcal B` restricted to diagonal states: the denoising flow is
    :math:`dq/ds = \hat G_{T-s}\,q`.  It satisfies :math:`\hat G\,p = -G\,p`.

    Raises
    ------
    ValueError
        If ``rates`` or ``p`` are invalid.
    """
    return master_generator(reverse_rates(rates, p))


def jump_operators(rates: Any, *, atol: float = 0.0) -> list[np.ndarray]:
    r"""Embed a classical jump process as Lindblad jump operators :math:`\sqrt{w_{a\to b}}\,|b\rangle\langle a|`.

    One operator per non-zero rate (rates ``<= atol`` are skipped), in row-major order of ``(a, b)``.
    On diagonal density matrices the Lindbladian :math:`\sum\mathcal D[L_{a\to b}]` is the master
    equation of :func:`master_generator` and generates no coherences (P.34).

    Returns
    -------
    list of numpy.ndarray, each of shape (d, d), complex

    Raises
    ------
    ValueError
        If ``rates`` is invalid.
    """
    w = check_rates(rates)
    d = w.shape[0]
    ops = []
    for a in range(d):
        for b in range(d):
            if w[a, b] > atol:
                op = np.zeros((d, d), dtype=complex)
                op[b, a] = np.sqrt(w[a, b])
                ops.append(op)
    return ops


def diagonal_indices(d: int) -> np.ndarray:
    """Row-major indices ``k * (d + 1)`` of the diagonal entries of a ``d x d`` matrix (conventions)."""
    if int(d) != d or d < 1:
        raise ValueError(f"dimension must be a positive integer, got {d!r}")
    return np.arange(int(d)) * (int(d) + 1)


def _check_superop(superop: Any) -> tuple[np.ndarray, int]:
    s = as_array(superop, "superop")
    check_square(s, "superop")
    d = int(round(np.sqrt(s.shape[0])))
    if d * d != s.shape[0]:
        raise ValueError(f"superoperator must have shape (d^2, d^2), got {s.shape}")
    return s, d


def diagonal_block(superop: Any) -> np.ndarray:
    r"""Return the diagonal-to-diagonal block :math:`\mathcal S_{(kk),(ll)}` of a row-major superoperator.

    For a superoperator that maps diagonal matrices to diagonal matrices this is the classical
    generator acting on the vector of diagonal entries.  The diagonal indices ``k * (d + 1)`` are the same
    for row-major and column-stacking vectorisation, so a qutip superoperator (``Qobj``) may be passed
    directly (see quantum_diffusion.conventions); the same holds for :func:`coherence_leakage`.

    Parameters
    ----------
    superop : array of shape (d*d, d*d)
        Row-major superoperator (see quantum_diffusion.conventions).

    Returns
    -------
    numpy.ndarray of shape (d, d)

    Raises
    ------
    ValueError
        If ``superop`` is not of shape (d^2, d^2).
    """
    s, d = _check_superop(superop)
    idx = diagonal_indices(d)
    return s[np.ix_(idx, idx)]


def coherence_leakage(superop: Any) -> float:
    r"""Largest matrix element from diagonal inputs to off-diagonal outputs.

    .. math::

        \max_{k\ne l,\,m}\big|\mathcal S_{(kl),(mm)}\big| .


    Zero exactly when the superoperator maps every diagonal state to a diagonal matrix.

    Raises
    ------
    ValueError
        If ``superop`` is not of shape (d^2, d^2).
    """
    s, d = _check_superop(superop)
    idx = diagonal_indices(d)
    off = np.setdiff1d(np.arange(d * d), idx)
    if off.size == 0:
        return 0.0
    return float(np.max(np.abs(s[np.ix_(off, idx)])))
