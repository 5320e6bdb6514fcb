"""Input conversion and validation shared by every module: one input path per concept, clear errors.

Every public function of the package funnels its inputs through these converters at its public boundary
(internal helpers take the validated arrays), so a physicist who passes a qutip ``Qobj``, a nested list or a
numpy array gets the same result, and bad input (NaN, wrong shape, non-Hermitian, unnormalised or non-PSD
states) fails loudly with a message that says which argument is wrong and by how much.

* Operators and states: :func:`as_operator` (any square matrix), :func:`check_density_matrix` (a state).
* Channels and superoperators: :func:`as_superoperator` (row-major ndarray, qutip ``super`` ``Qobj`` in
  column stacking, a list of Kraus operators, or, where a generator is meant, a ``Lindbladian``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .linalg import superop_from_kraus

__all__ = [
    "as_array",
    "as_operator",
    "as_superoperator",
    "check_square",
    "check_hermitian",
    "check_density_matrix",
    "check_probability",
    "check_finite",
    "finite_result",
]


def as_array(x: Any, name: str = "input", *, dtype: Any = None) -> np.ndarray:
    """Return ``x`` as a numpy array, accepting qutip ``Qobj`` (via ``.full()``) and array-likes.

    Raises
    ------
    ValueError
        If the array contains NaN or infinite entries.
    """
    if hasattr(x, "full") and callable(x.full):  # qutip.Qobj and friends
        x = x.full()
    arr = np.asarray(x, dtype=dtype)
    if arr.dtype == object:
        raise TypeError(f"{name}: expected a numeric array, got an object array")
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    check_finite(arr, name)
    return arr


def _is_qobj(x: Any) -> bool:
    return hasattr(x, "full") and callable(x.full) and hasattr(x, "dims")


def as_operator(x: Any, name: str = "operator", *, dim: int | None = None) -> np.ndarray:
    """Return a square matrix (numpy array, nested list or qutip operator ``Qobj``) as a complex array.

    Parameters
    ----------
    x : array_like or qutip.Qobj, shape ``(d, d)``
        The operator.
    name : str
        Argument name used in error messages.
    dim : int, optional
        Required dimension ``d``.

    Returns
    -------
    numpy.ndarray, shape ``(d, d)``, complex
        A new array (never a view of the caller's data).

    Raises
    ------
    TypeError
        If ``x`` is a qutip superoperator or ket (not an operator) or not numeric.
    ValueError
        If ``x`` is not square, has the wrong dimension, or holds NaN/inf.
    """
    if _is_qobj(x) and getattr(x, "type", "oper") != "oper":
        raise TypeError(f"{name}: expected an operator, got a qutip Qobj of type {x.type!r}")
    arr = np.array(as_array(x, name, dtype=complex), dtype=complex)
    return check_square(arr, name, dim)


def as_superoperator(
    x: Any, name: str = "channel", *, d_in: int | None = None, square: bool = False, generator: bool = False
) -> np.ndarray:
    r"""Return a channel or superoperator as a **row-major** array of shape ``(d_out^2, d_in^2)``.

    Row-major means :math:`\mathrm{vec}(AXB) = (A\otimes B^T)\,\mathrm{vec}(X)` (see
    quantum_diffusion.conventions). Accepted inputs:

    * a numpy array (or nested list) of shape ``(d_out^2, d_in^2)``, taken as row-major;
    * a qutip superoperator ``Qobj`` (any ``superrep``; converted with ``qutip.to_super`` and from qutip's
      column stacking to row-major);
    * a list of Kraus operators :math:`K_i` (arrays, nested lists or qutip operators, or one array of shape
      ``(n, d_out, d_in)``): :math:`\mathcal E(X) = \sum_i K_i X K_i^\dagger`;
    * with ``generator=True`` only, a ``Lindbladian`` (its row-major generator :math:`\mathcal L`).

    Parameters
    ----------
    x : ChannelLike
        The channel or superoperator.
    name : str
        Argument name used in error messages.
    d_in : int, optional
        Required input dimension.
    square : bool
        Require ``d_out == d_in``.
    generator : bool
        Accept a ``Lindbladian`` (a generator, not a channel).

    Returns
    -------
    numpy.ndarray, shape ``(d_out^2, d_in^2)``, complex

    Raises
    ------
    TypeError
        For a ``Lindbladian`` where a channel is required (pass ``L.channel(t)``), or a non-numeric input.
    ValueError
        For shapes that are not ``(d_out^2, d_in^2)``, mismatched ``d_in``, or NaN/inf entries.
    """
    if hasattr(x, "superop") and callable(x.superop) and hasattr(x, "jumps"):
        if not generator:
            raise TypeError(f"{name}: got a Lindbladian (a generator), but a channel is required; pass "
                            f"its channel, e.g. L.channel(t)")
        s = np.array(x.superop(), dtype=complex)
    elif _is_qobj(x) and getattr(x, "issuper", False):
        import qutip

        sq = qutip.to_super(x)
        s = np.array(sq.full(), dtype=complex)
        do, di = (int(round(np.sqrt(n))) for n in s.shape)
        if do * do != s.shape[0] or di * di != s.shape[1]:
            raise ValueError(f"{name}: qutip superoperator of shape {s.shape} is not (d_out^2, d_in^2)")
        # column stacking -> row-major: vec_col index (j*d + i) holds X_ij; permute rows and columns
        prow = np.arange(do * do).reshape(do, do).T.reshape(-1)
        pcol = np.arange(di * di).reshape(di, di).T.reshape(-1)
        s = s[np.ix_(prow, pcol)]
    elif _is_qobj(x):
        raise TypeError(f"{name}: expected a superoperator or a list of Kraus operators, got a qutip Qobj of "
                        f"type {getattr(x, 'type', '?')!r}")
    elif isinstance(x, (list, tuple)) and x and (_is_qobj(x[0]) or np.ndim(x[0]) == 2):
        ops = np.stack([as_operator(k, f"{name}[{i}]") if _is_qobj(k) else as_array(k, f"{name}[{i}]",
                                                                                       dtype=complex)
                        for i, k in enumerate(x)]) if _is_qobj(x[0]) else as_array(x, name, dtype=complex)
        if ops.ndim != 3:
            raise ValueError(f"{name}: Kraus operators must all have the same shape (d_out, d_in)")
        s = superop_from_kraus(ops)
    else:
        s = np.array(as_array(x, name, dtype=complex), dtype=complex)
        if s.ndim == 3:
            s = superop_from_kraus(s)
    if s.ndim != 2:
        raise ValueError(f"{name} must be a 2-D superoperator (d_out^2, d_in^2), got shape {s.shape}")
    check_finite(s, name)
    do, di = (int(round(np.sqrt(n))) for n in s.shape)
    if do * do != s.shape[0] or di * di != s.shape[1] or s.size == 0:
        raise ValueError(f"{name}: superoperator shape {s.shape} is not (d_out^2, d_in^2) = (d^2, d^2) for square maps")
    if square and do != di:
        raise ValueError(f"{name} must map a space to itself, got d_in = {di}, d_out = {do}")
    if d_in is not None and di != d_in:
        raise ValueError(f"{name} acts on dimension {di}, expected {d_in}")
    return s


def check_finite(arr: np.ndarray, name: str = "input") -> None:
    """Raise ``ValueError`` if ``arr`` holds NaN or inf."""
    if np.issubdtype(np.asarray(arr).dtype, np.number) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")


def finite_result(out: np.ndarray, name: str, what: str) -> np.ndarray:
    """Return ``out`` if it is finite; otherwise raise, naming the input that overflowed.

    Parameters
    ----------
    out : numpy.ndarray
        A computed result.
    name : str
        Name of the input argument.
    what : str
        What was computed (for the message).

    Returns
    -------
    numpy.ndarray
        ``out``.

    Raises
    ------
    ValueError
        If ``out`` holds NaN or inf although the inputs were finite (the result overflows float64).
    """
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name}: {what} overflows float64 (entries too large); rescale {name}")
    return out


def check_square(arr: np.ndarray, name: str = "matrix", dim: int | None = None) -> np.ndarray:
    """Check that ``arr`` is a square 2-D array (of size ``dim`` if given)."""
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} must have shape ({dim}, {dim}) (dimension {dim}), got {arr.shape}")
    return arr


def check_hermitian(arr: np.ndarray, name: str = "matrix", atol: float = 1e-10) -> np.ndarray:
    """Check that ``arr`` is square and Hermitian to ``atol`` (relative to its norm)."""
    check_square(arr, name)
    scale = max(1.0, float(np.max(np.abs(arr))) if arr.size else 1.0)
    dev = float(np.max(np.abs(arr - arr.conj().T))) if arr.size else 0.0
    if dev > atol * scale:
        raise ValueError(f"{name} is not Hermitian: max |A - A^dagger| = {dev:.3e}")
    return arr


def check_density_matrix(
    rho: Any,
    name: str = "rho",
    *,
    dim: int | None = None,
    atol: float = 1e-8,
    full_rank: bool = False,
) -> np.ndarray:
    """Validate a density matrix and return it as a complex array of shape (d, d).

    Checks: finite, square (size ``dim``), Hermitian, unit trace, positive semidefinite, and, when
    ``full_rank`` is set, strictly positive definite (needed wherever ``rho^{-1/2}`` appears).

    Raises
    ------
    ValueError
        Naming the violated property and its size.
    """
    arr = as_array(rho, name, dtype=complex)
    check_square(arr, name, dim)
    check_hermitian(arr, name, atol)
    tr = np.trace(arr).real
    if abs(tr - 1.0) > atol * max(1, arr.shape[0]):
        raise ValueError(f"{name} is not normalised: trace = {tr:.12g}")
    evals = np.linalg.eigvalsh(0.5 * (arr + arr.conj().T))
    if evals[0] < -atol:
        raise ValueError(f"{name} is not positive semidefinite: smallest eigenvalue {evals[0]:.3e}")
    if full_rank and evals[0] <= atol:
        raise ValueError(
            f"{name} is rank-deficient (smallest eigenvalue {evals[0]:.3e}); a full-rank reference is "
            "required because the construction uses its inverse square root"
        )
    return arr


def check_probability(p: Any, name: str = "p", *, lo: float = 0.0, hi: float = 1.0) -> float:
    """Check that a scalar ``p`` is a finite number in ``[lo, hi]`` and return it as float."""
    try:
        val = float(p)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real number, got {p!r}") from exc
    if not np.isfinite(val) or val < lo or val > hi:
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {p!r}")
    return val
