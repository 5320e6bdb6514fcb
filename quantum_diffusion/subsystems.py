r"""Subsystems of a tensor-product space: partial trace, embedding, and maps acting on a few factors.

A state on :math:`\bigotimes_i\mathbb C^{d_i}` is a matrix of shape ``(D, D)``, ``D = prod(dims)``, in kron
order (first factor most significant, see quantum_diffusion.conventions). A set of ``sites`` is always used in
increasing order: an operator "on sites" is in the kron order of ``sorted(sites)``. Superoperators are
row-major (:math:`\mathrm{vec}(AXB) = (A\otimes B^T)\mathrm{vec}(X)`).

One implementation each of: :func:`partial_trace`, :func:`embed_operator`, :func:`embed_superoperator`,
:func:`apply_on_subsystems` (a superoperator on some factors, identity elsewhere, matrix-free),
:func:`conjugate_on_subsystems` (:math:`(U\otimes 1)X(W\otimes 1)` by tensor contraction) and
:func:`ring_neighbourhood`. These helpers take validated arrays (callers validate at their public boundary),
but check every shape and site list, because a wrong permutation is a silent wrong answer.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from ._validation import as_operator

__all__ = [
    "check_sites",
    "resolve_subsystems",
    "ring_neighbourhood",
    "partial_trace",
    "embed_operator",
    "embed_superoperator",
    "apply_on_subsystems",
    "conjugate_on_subsystems",
]


def check_sites(dims: Sequence[int], sites: Sequence[int], name: str = "sites") -> list[int]:
    """Validate a list of distinct subsystem indices and return it sorted.

    Parameters
    ----------
    dims : sequence of int
        Subsystem dimensions.
    sites : sequence of int
        Indices into ``dims``.
    name : str
        Argument name used in error messages.

    Returns
    -------
    list of int
        ``sorted(sites)``.

    Raises
    ------
    ValueError
        If an index repeats or lies outside ``[0, len(dims))``.
    """
    s = [int(x) for x in sites]
    if len(set(s)) != len(s) or any(x < 0 or x >= len(dims) for x in s):
        raise ValueError(f"{name} {list(sites)} must be distinct indices in [0, {len(dims)})")
    return sorted(s)


def _split(dims: Sequence[int], sites: Sequence[int]) -> tuple[list[int], list[int], int, list[int], int, int]:
    """Return validated (sites, dims, n, rest, d_sites, d_rest) for a split of ``dims`` into ``sites`` and the rest."""
    s = check_sites(dims, sites)
    dims = [int(d) for d in dims]
    n = len(dims)
    rest = [i for i in range(n) if i not in s]
    ds = int(np.prod([dims[i] for i in s]))
    dr = int(np.prod([dims[i] for i in rest])) if rest else 1
    return s, dims, n, rest, ds, dr


def _permute_back(t: np.ndarray, dims: list[int], order: list[int]) -> np.ndarray:
    """Reorder a matrix whose factors are in ``order`` back to the natural order ``0..n-1``."""
    n = len(dims)
    sub = [dims[i] for i in order]
    inv = [order.index(i) for i in range(n)]
    dfull = int(np.prod(dims))
    return t.reshape(sub + sub).transpose(inv + [n + i for i in inv]).reshape(dfull, dfull)


def resolve_subsystems(systems: Sequence[int | Hashable] | int | Hashable, n: int,
                       names: Sequence[Hashable] | None = None) -> list[int]:
    """Turn subsystem indices or names into a list of indices.

    Parameters
    ----------
    systems : int, name, or a sequence of them
        Subsystems, as indices in ``[0, n)`` or (with ``names``) names.
    n : int
        Number of subsystems.
    names : sequence, optional
        Names of the ``n`` subsystems.

    Returns
    -------
    list of int
        Indices, in the given order.

    Raises
    ------
    ValueError
        For an unknown name or an index outside ``[0, n)``.
    """
    items = list(systems) if isinstance(systems, (list, tuple, range, np.ndarray)) else [systems]
    out: list[int] = []
    for s in items:
        if names is not None and not isinstance(s, (int, np.integer)):
            if s not in names:
                raise ValueError(f"unknown subsystem name {s!r}; known names: {list(names)}")
            out.append(list(names).index(s))
        elif isinstance(s, (int, np.integer)) and 0 <= int(s) < n:
            out.append(int(s))
        else:
            raise ValueError(f"subsystem {s!r} is not an index in [0, {n}) or a name in {names}")
    return out


def ring_neighbourhood(region: Sequence[int], radius: int, n: int) -> list[int]:
    """Sites of a ring of ``n`` sites within graph distance ``radius`` of ``region``.

    Parameters
    ----------
    region : sequence of int
        Sites of the region (non-empty, in ``[0, n)``).
    radius : int
        Graph distance, ``>= 0``.
    n : int
        Number of sites on the ring.

    Returns
    -------
    list of int
        The neighbourhood, sorted.

    Raises
    ------
    ValueError
        If ``radius < 0`` or a site is outside ``[0, n)``.
    """
    if int(radius) != radius or radius < 0:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
    reg = sorted({int(s) for s in region})
    if not reg or reg[0] < 0 or reg[-1] >= n:
        raise ValueError(f"region {region!r} must be a non-empty set of sites in [0, {n})")
    return sorted({(s + k) % n for s in reg for k in range(-int(radius), int(radius) + 1)})


def partial_trace(rho: Any, dims: Sequence[int], keep: Sequence[int | Hashable] | int | Hashable,
                  *, names: Sequence[Hashable] | None = None) -> np.ndarray:
    r"""Reduced state :math:`\mathrm{tr}_{\overline{\rm keep}}\rho`, kept factors in increasing order.

    Parameters
    ----------
    rho : array_like or qutip.Qobj, shape ``(D, D)``, ``D = prod(dims)``
        Operator on the full space (not validated as a state).
    dims : sequence of int
        Subsystem dimensions (kron order).
    keep : int, name, or a sequence of them
        Subsystems to keep (indices, or names with ``names``).
    names : sequence, optional
        Subsystem names.

    Returns
    -------
    numpy.ndarray, shape ``(d_keep, d_keep)``

    Raises
    ------
    ValueError
        If ``prod(dims)`` does not match ``rho`` or a subsystem is unknown or repeated.
    """
    r = as_operator(rho, "rho")
    dims = [int(d) for d in dims]
    n = len(dims)
    if r.shape != (int(np.prod(dims)), int(np.prod(dims))):
        raise ValueError(f"state of shape {r.shape} does not match dims {dims} (product {int(np.prod(dims))})")
    k = resolve_subsystems(keep, n, names)
    if len(set(k)) != len(k):
        raise ValueError(f"repeated subsystem in {keep!r}")
    k = sorted(k)
    traced = [i for i in range(n) if i not in k]
    dk = int(np.prod([dims[i] for i in k])) if k else 1
    dt = int(np.prod([dims[i] for i in traced])) if traced else 1
    order = k + traced
    t = r.reshape(dims + dims).transpose(order + [n + i for i in order]).reshape(dk, dt, dk, dt)
    return np.trace(t, axis1=1, axis2=3)


def embed_operator(op: Any, dims: Sequence[int], targets: Sequence[int], sites: Sequence[int]) -> np.ndarray:
    r"""Embed ``op`` acting on ``targets`` into the space of ``sites`` (identity on ``sites \ targets``).

    Parameters
    ----------
    op : array_like, shape ``(d_targets, d_targets)``
        Operator in the kron order of ``sorted(targets)``.
    dims : sequence of int
        Dimensions of all subsystems.
    targets, sites : sequence of int
        ``targets`` must be a subset of ``sites``.

    Returns
    -------
    numpy.ndarray, shape ``(d_sites, d_sites)``
        In the kron order of ``sorted(sites)``.

    Raises
    ------
    ValueError
        If ``targets`` is not a subset of ``sites`` or the operator dimension does not match.
    """
    t = check_sites(dims, targets, "targets")
    s = check_sites(dims, sites)
    if not set(t) <= set(s):
        raise ValueError(f"targets {t} are not contained in sites {s}")
    o = as_operator(op, "operator")
    dt = int(np.prod([dims[i] for i in t]))
    if o.shape != (dt, dt):
        raise ValueError(f"operator shape {o.shape} does not match target dimension {dt}")
    rest = [i for i in s if i not in t]
    drest = int(np.prod([dims[i] for i in rest])) if rest else 1
    local = [s.index(i) for i in t + rest]  # positions within sites of the (targets, rest) order
    return _permute_back(np.kron(o, np.eye(drest)), [int(dims[i]) for i in s], local)


def embed_superoperator(superop: np.ndarray, dims: Sequence[int], targets: Sequence[int],
                        sites: Sequence[int]) -> np.ndarray:
    r"""Row-major superoperator of :math:`\mathcal S_{\rm targets}\otimes\mathrm{id}` on ``sites``.

    Parameters
    ----------
    superop : numpy.ndarray, shape ``(d_t^2, d_t^2)``
        Row-major superoperator on ``targets`` (kron order of ``sorted(targets)``).
    dims : sequence of int
        Dimensions of all subsystems.
    targets, sites : sequence of int
        ``targets`` must be a subset of ``sites``.

    Returns
    -------
    numpy.ndarray, shape ``(d_s^2, d_s^2)``

    Raises
    ------
    ValueError
        If ``targets`` is not within ``sites`` or the shape does not match.
    """
    t = check_sites(dims, targets, "targets")
    s = check_sites(dims, sites)
    if not set(t) <= set(s):
        raise ValueError(f"targets {t} are not contained in sites {s}")
    sub = [int(dims[i]) for i in s]
    rest = [i for i in s if i not in t]
    dt = int(np.prod([dims[i] for i in t]))
    dr = int(np.prod([dims[i] for i in rest])) if rest else 1
    if superop.shape != (dt * dt, dt * dt):
        raise ValueError(f"superoperator shape {superop.shape} does not match target dimension {dt}")
    eye = np.eye(dr)
    # (S kron-structured with identities) in the (targets, rest) order, then each of the four index groups
    # (row-left, row-right, col-left, col-right) is permuted back to the natural order of sites
    big = np.einsum("xyzw,rs,uv->xryuzswv", superop.reshape(dt, dt, dt, dt), eye, eye)
    order = [s.index(i) for i in t + rest]
    m = len(s)
    grp = [sub[i] for i in order]
    inv = [order.index(i) for i in range(m)]
    axes = [g * m + i for g in range(4) for i in inv]
    ds = int(np.prod(sub))
    return big.reshape(grp * 4).transpose(axes).reshape(ds * ds, ds * ds)


def apply_on_subsystems(superop: np.ndarray, x: np.ndarray, dims: Sequence[int], sites: Sequence[int]) -> np.ndarray:
    r"""Apply :math:`\mathcal S_{\rm sites}\otimes\mathrm{id}_{\rm rest}` to ``x``, matrix-free in the rest.

    Parameters
    ----------
    superop : numpy.ndarray, shape ``(d_s^2, d_s^2)``
        Row-major, in the kron order of ``sorted(sites)``.
    x : numpy.ndarray, shape ``(D, D)``
        Operand on the full space.
    dims : sequence of int
        Subsystem dimensions.
    sites : sequence of int
        Where ``superop`` acts.

    Returns
    -------
    numpy.ndarray, shape ``(D, D)``
        Cost :math:`O(d_s^4 d_{\rm rest}^2)`.

    Raises
    ------
    ValueError
        On dimension mismatch.
    """
    s, dims, n, rest, ds, dr = _split(dims, sites)
    if superop.shape != (ds * ds, ds * ds):
        raise ValueError(f"superoperator shape {superop.shape} does not match sites dimension {ds}")
    if x.shape != (ds * dr, ds * dr):
        raise ValueError(f"operand shape {x.shape} does not match dims {dims}")
    order = s + rest
    t = x.reshape(dims + dims).transpose(order + [n + i for i in order])
    t = t.reshape(ds, dr, ds, dr).transpose(0, 2, 1, 3).reshape(ds * ds, dr * dr)
    t = (superop @ t).reshape(ds, ds, dr, dr).transpose(0, 2, 1, 3)
    return _permute_back(t, dims, order)


def conjugate_on_subsystems(u: np.ndarray, x: np.ndarray, dims: Sequence[int], sites: Sequence[int],
                            w: np.ndarray | None = None) -> np.ndarray:
    r""":math:`(U\otimes 1)\,X\,(W\otimes 1)` with ``U``, ``W`` on ``sites`` (``W`` defaults to :math:`U^\dagger`).

    Parameters
    ----------
    u : numpy.ndarray, shape ``(d_s, d_s)``
        Left factor on ``sites``.
    x : numpy.ndarray, shape ``(D, D)``
        Operand.
    dims : sequence of int
        Subsystem dimensions.
    sites : sequence of int
        Where ``u`` and ``w`` act.
    w : numpy.ndarray, shape ``(d_s, d_s)``, optional
        Right factor (default :math:`U^\dagger`).

    Returns
    -------
    numpy.ndarray, shape ``(D, D)``
        Cost :math:`O(d_s D^2)` (tensor contraction, no ``D x D`` operator is built).

    Raises
    ------
    ValueError
        On dimension mismatch.
    """
    s, dims, n, rest, ds, dr = _split(dims, sites)
    if u.shape != (ds, ds) or x.shape != (ds * dr, ds * dr):
        raise ValueError(f"shapes {u.shape}, {x.shape} do not match sites dimension {ds} and dims {dims}")
    w = u.conj().T if w is None else w
    order = s + rest
    t = x.reshape(dims + dims).transpose(order + [n + i for i in order]).reshape(ds, dr, ds, dr)
    t = np.einsum("ab,bcde,dg->acge", u, t, w, optimize=True)
    return _permute_back(t, dims, order)
