r"""Local backward generators and local recovery maps on a tensor-product system (P.24-P.25).

The forward generator acts on a region :math:`A` only. For a neighbourhood :math:`AB\supseteq A` (e.g. the
ball of radius ``r`` around :math:`A` on a ring) and the rest :math:`C`, the local backward generator is

.. math::

    \mathcal B^{\rm loc}_t = \mathcal B\big[\mathcal L_A\otimes\mathrm{id}_B,\ \sigma_{AB}(t)\big]\otimes
    \mathrm{id}_C,\qquad \sigma_{AB}(t) = \mathrm{tr}_C\,\sigma(t) = e^{t\mathcal L_A}(\sigma_{AB}(0)),

(P.24) for any kind (Petz, rotated, twirled); it is the generator of
:math:`\mathcal P^{(\cdot)}_{\sigma_{AB},e^{dt\mathcal L_A}}\otimes\mathrm{id}_C`.
Subsystems are in kron order (first factor most significant); superoperators are row-major (see
quantum_diffusion.conventions). Operators "on A" are given in the kron order of ``sorted(region)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import as_array, check_density_matrix
from ..info import partial_trace
from .generators import BackwardLindbladian, petz_generator, phi, spectral_reference
from .lindbladian import Lindbladian
from .maps import rotated_petz_map, twirled_petz_map

__all__ = [
    "ring_neighbourhood",
    "embed_operator",
    "embed_lindbladian",
    "apply_on_subsystems",
    "conjugate_on_subsystems",
    "LocalGenerator",
    "local_petz_generator",
    "local_recovery_map",
    "apply_local_recovery_map",
]


def ring_neighbourhood(region: Sequence[int], radius: int, n: int) -> list[int]:
    """Sites of a ring of ``n`` sites within graph distance ``radius`` of ``region`` (sorted).

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
    out = {(s + k) % n for s in reg for k in range(-int(radius), int(radius) + 1)}
    return sorted(out)


def _check_sites(dims: Sequence[int], sites: Sequence[int], name: str = "sites") -> list[int]:
    s = [int(x) for x in sites]
    if len(set(s)) != len(s) or any(x < 0 or x >= len(dims) for x in s):
        raise ValueError(f"{name} {list(sites)} must be distinct indices in [0, {len(dims)})")
    return sorted(s)



def _split(dims: Sequence[int], sites: Sequence[int]) -> tuple[list[int], list[int], int, list[int], int, int]:
    """Validated (sites, dims, n, rest, d_sites, d_rest) for a split of ``dims`` into ``sites`` and the rest."""
    s = _check_sites(dims, sites)
    dims = [int(d) for d in dims]
    n = len(dims)
    rest = [i for i in range(n) if i not in s]
    ds = int(np.prod([dims[i] for i in s]))
    dr = int(np.prod([dims[i] for i in rest])) if rest else 1
    return s, dims, n, rest, ds, dr

def embed_operator(op: Any, dims: Sequence[int], targets: Sequence[int], sites: Sequence[int]) -> np.ndarray:
    r"""Embed ``op`` acting on ``targets`` into the space of ``sites`` (identity on ``sites \ targets``).

    ``op`` is in the kron order of ``sorted(targets)``, the result in that of ``sorted(sites)``.

    Raises
    ------
    ValueError
        If ``targets`` is not a subset of ``sites`` or the operator dimension does not match.
    """
    t = _check_sites(dims, targets, "targets")
    s = _check_sites(dims, sites)
    if not set(t) <= set(s):
        raise ValueError(f"targets {t} are not contained in sites {s}")
    o = as_array(op, "operator", dtype=complex)
    dt = int(np.prod([dims[i] for i in t]))
    if o.shape != (dt, dt):
        raise ValueError(f"operator shape {o.shape} does not match target dimension {dt}")
    rest = [i for i in s if i not in t]
    drest = int(np.prod([dims[i] for i in rest])) if rest else 1
    full = np.kron(o, np.eye(drest))  # order: targets then rest
    order = t + rest
    sub = [dims[i] for i in order]
    m = len(order)
    perm = [order.index(i) for i in s]  # new axis j <- old axis perm[j]
    tens = full.reshape(sub + sub).transpose(perm + [m + p for p in perm])
    ds = int(np.prod([dims[i] for i in s]))
    return tens.reshape(ds, ds)


def embed_lindbladian(lind: Lindbladian, dims: Sequence[int], targets: Sequence[int],
                      sites: Sequence[int]) -> Lindbladian:
    """The Lindbladian ``lind`` (acting on ``targets``) as a Lindbladian on ``sites`` (identity elsewhere)."""
    return Lindbladian(embed_operator(lind.H, dims, targets, sites),
                       [embed_operator(lj, dims, targets, sites) for lj in lind.jumps])


def apply_on_subsystems(superop: np.ndarray, x: np.ndarray, dims: Sequence[int], sites: Sequence[int]) -> np.ndarray:
    r"""Apply :math:`\mathcal S_{\rm sites}\otimes\mathrm{id}_{\rm rest}` to ``x`` (D, D), matrix-free in the rest.

    ``superop`` is row-major of shape (d_s^2, d_s^2), in the kron order of ``sorted(sites)``.
    Cost :math:`O(d_s^4 d_{\rm rest}^2)`.

    Raises
    ------
    ValueError
        On dimension mismatch.
    """
    s, dims, n, rest, ds, dr = _split(dims, sites)
    if superop.shape != (ds * ds, ds * ds):
        raise ValueError(f"superoperator shape {superop.shape} does not match sites dimension {ds}")
    dfull = ds * dr
    if x.shape != (dfull, dfull):
        raise ValueError(f"operand shape {x.shape} does not match dims {dims}")
    order = s + rest
    t = x.reshape(dims + dims).transpose(order + [n + i for i in order])
    t = t.reshape(ds, dr, ds, dr).transpose(0, 2, 1, 3).reshape(ds * ds, dr * dr)
    t = (superop @ t).reshape(ds, ds, dr, dr).transpose(0, 2, 1, 3)
    sub = [dims[i] for i in order]
    t = t.reshape(sub + sub)
    inv = [order.index(i) for i in range(n)]
    return t.transpose(inv + [n + i for i in inv]).reshape(dfull, dfull)


def conjugate_on_subsystems(u: np.ndarray, x: np.ndarray, dims: Sequence[int], sites: Sequence[int],
                            w: np.ndarray | None = None) -> np.ndarray:
    r""":math:`(U\otimes 1)\,X\,(W\otimes 1)` with ``U``, ``W`` on ``sites`` (``W`` defaults to :math:`U^\dagger`).

    Cost :math:`O(d_s D^2)` (tensor contraction, no D x D operator is built).

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
    sub = [dims[i] for i in order]
    inv = [order.index(i) for i in range(n)]
    return t.reshape(sub + sub).transpose(inv + [n + i for i in inv]).reshape(ds * dr, ds * dr)


class LocalGenerator:
    r"""The local backward generator :math:`\mathcal B[\sigma_{AB}]\otimes\mathrm{id}_C` on the full system.

    ``apply`` never builds a full-system superoperator: Petz/rotated act through their Lindblad operators on
    ``AB`` (cost :math:`O(n_{\rm jumps} d_{AB} D^2)`); the twirled kind rotates ``AB`` into the eigenbasis of
    :math:`\sigma_{AB}` and applies the P.22 kernel there (cost :math:`O(d_{AB}^2 D^2)`).

    Attributes
    ----------
    local : BackwardLindbladian on the neighbourhood ``sites`` (``.H``, ``.jumps``, ``.superop()``).
    dims : list of subsystem dimensions; ``sites`` : sorted neighbourhood; ``dim`` : full dimension.
    """

    def __init__(self, local: BackwardLindbladian, dims: Sequence[int], sites: Sequence[int]) -> None:
        self.local = local
        self.dims = [int(d) for d in dims]
        self.sites = sorted(int(s) for s in sites)
        self.dim = int(np.prod(self.dims))
        self._s_eig: np.ndarray | None = None

    def local_superop(self) -> np.ndarray:
        """Row-major superoperator on the neighbourhood, (d_AB^2, d_AB^2)."""
        return self.local.superop()

    def apply(self, x: Any) -> np.ndarray:
        r""":math:`(\mathcal B_{AB}\otimes\mathrm{id}_C)(X)` for ``X`` (D, D)."""
        arr = as_array(x, "X", dtype=complex)
        if arr.shape != (self.dim, self.dim):
            raise ValueError(f"X has shape {arr.shape}, expected ({self.dim}, {self.dim})")
        dims, sites, loc = self.dims, self.sites, self.local
        if loc.kind != "twirled":
            eye = np.eye(loc.dim)
            h_eff = loc.H - 0.5j * loc.C  # B(X) = -i(H_eff X - X H_eff^dag) + sum_j L X L^dag
            out = -1j * conjugate_on_subsystems(h_eff, arr, dims, sites, eye)
            out = out + 1j * conjugate_on_subsystems(eye, arr, dims, sites, h_eff.conj().T)
            for lj in loc.jumps:
                out = out + conjugate_on_subsystems(lj, arr, dims, sites)
            return out
        if self._s_eig is None:
            self._s_eig = loc.eigenbasis_superop()
        v = np.eye(loc.dim) if loc.V is None else loc.V
        xp = conjugate_on_subsystems(v.conj().T, arr, dims, sites)
        yp = apply_on_subsystems(self._s_eig, xp, dims, sites)
        return conjugate_on_subsystems(v, yp, dims, sites)


def local_petz_generator(forward: Lindbladian, sigma: Any, dims: Sequence[int], region: Sequence[int],
                         neighbourhood: Sequence[int], kind: str = "twirled", theta: float = 0.0,
                         *, sigma_is_local: bool = False) -> LocalGenerator:
    r"""Local backward generator (P.24) from the reduced reference on ``neighbourhood``.

    Parameters
    ----------
    forward : Lindbladian acting on ``region`` (kron order of ``sorted(region)``)
    sigma : (D, D) full reference state, or (if ``sigma_is_local``) the reduced state on ``neighbourhood``
    dims, region, neighbourhood : subsystem dimensions and site lists (``region`` within ``neighbourhood``)
    kind, theta : as :func:`~quantum_diffusion.petz.petz_generator`

    Raises
    ------
    ValueError
        If the region is not inside the neighbourhood, dimensions mismatch, or the reduced reference is
        not a full-rank density matrix (the local recovery lives on the support of :math:`\sigma_{AB}`).
    """
    sites = _check_sites(dims, neighbourhood, "neighbourhood")
    fwd_ab = embed_lindbladian(forward, dims, region, sites)
    if sigma_is_local:
        sig_ab = as_array(sigma, "sigma_AB", dtype=complex)
    else:
        sig = check_density_matrix(sigma, "sigma", dim=int(np.prod(dims)))
        sig_ab = partial_trace(sig, dims, sites)
    return LocalGenerator(petz_generator(fwd_ab, sig_ab, kind, theta), dims, sites)


def local_recovery_map(channel_a: Any, sigma: Any, dims: Sequence[int], region: Sequence[int],
                       neighbourhood: Sequence[int], kind: str = "twirled", theta: float = 0.0) -> np.ndarray:
    r"""One-shot local recovery map :math:`\mathcal R_{\sigma_{AB},\mathcal E_A\otimes\mathrm{id}_B}` on AB.

    Apply it to a full state with :func:`apply_on_subsystems` (it acts as identity on :math:`C`).

    Parameters
    ----------
    channel_a : row-major superoperator of the channel on ``region`` (kron order of ``sorted(region)``)
    sigma : (D, D) full reference state
    kind : "petz" | "rotated" | "twirled" (exact kernel P.5)

    Returns
    -------
    ndarray (d_AB^2, d_AB^2), row-major, kron order of ``sorted(neighbourhood)``.

    Raises
    ------
    ValueError
        As :func:`local_petz_generator` and :func:`~quantum_diffusion.petz.maps.rotated_petz_map`.
    """
    sites = _check_sites(dims, neighbourhood, "neighbourhood")
    reg = _check_sites(dims, region, "region")
    if not set(reg) <= set(sites):
        raise ValueError(f"region {reg} is not contained in the neighbourhood {sites}")
    sig = check_density_matrix(sigma, "sigma", dim=int(np.prod(dims)))
    sig_ab = partial_trace(sig, dims, sites)
    da = int(np.prod([dims[i] for i in reg]))
    ch = as_array(channel_a, "channel_a", dtype=complex)
    if ch.shape != (da * da, da * da):
        raise ValueError(f"channel_a must have shape ({da * da}, {da * da}), got {ch.shape}")
    # the channel on AB: embed E_A as a superoperator via its action on the operator basis of A
    sub = [dims[i] for i in sites]
    ch_ab = _embed_superop(ch, [dims[i] for i in reg], sub, [sites.index(i) for i in reg])
    if kind == "twirled":
        if theta != 0.0:
            raise ValueError("theta is only meaningful for kind='rotated'")
        return twirled_petz_map(ch_ab, sig_ab)
    if kind == "petz":
        return rotated_petz_map(ch_ab, sig_ab, 0.0)
    if kind == "rotated":
        return rotated_petz_map(ch_ab, sig_ab, theta)
    raise ValueError(f"kind must be 'petz', 'rotated' or 'twirled', got {kind!r}")


def _kraus_from_superop(ch: np.ndarray, tol: float = 1e-14) -> list[np.ndarray]:
    """Kraus operators of a CP map given as a row-major superoperator (Choi eigendecomposition)."""
    d = int(round(np.sqrt(ch.shape[0])))
    choi = ch.reshape(d, d, d, d).transpose(0, 2, 1, 3).reshape(d * d, d * d)
    lam, w = np.linalg.eigh(0.5 * (choi + choi.conj().T))
    if lam.min() < -1e-10 * max(1.0, lam.max()):
        raise ValueError(f"channel_a is not completely positive (Choi eigenvalue {lam.min():.3e})")
    return [np.sqrt(lam[i]) * w[:, i].reshape(d, d) for i in range(lam.size) if lam[i] > tol * lam.max()]


def apply_local_recovery_map(channel_a: Any, sigma: Any, dims: Sequence[int], region: Sequence[int],
                             neighbourhood: Sequence[int], x: Any, kind: str = "twirled",
                             theta: float = 0.0) -> np.ndarray:
    r"""Matrix-free :math:`(\mathcal R_{\sigma_{AB},\mathcal E_A\otimes\mathrm{id}_B}\otimes\mathrm{id}_C)(X)`.

    Same map as :func:`local_recovery_map` followed by :func:`apply_on_subsystems`, without the
    :math:`d_{AB}^2\times d_{AB}^2` superoperator: with Kraus operators :math:`K_i` of :math:`\mathcal E_A`,
    :math:`N_i = V^\dagger(K_i^\dagger\otimes 1_B)W` (eigenbases of :math:`\sigma_{AB}` and
    :math:`\omega_{AB}=\mathcal E(\sigma_{AB})`) and :math:`\tilde Y_{ab} = (W^\dagger X W)_{ab}/\sqrt{q_aq_b}`
    (blocks acting on ``C``), the kernel (P.5) reads

    .. math::

        \mathcal R(X)_{kl} = \sqrt{p_kp_l}\sum_i\sum_{ab}(N_i)_{ka}\overline{(N_i)_{lb}}\,
        w\big(\tfrac12(x_k-x_l-y_a+y_b)\big)\,\tilde Y_{ab},

    with :math:`w = \varphi` (twirled), :math:`e^{i\theta s}` (rotated) or 1 (Petz). Memory
    :math:`O(d_{AB}^3 + d_{AB}^2 d_C^2)`, time :math:`O(n_{\rm Kraus}\,d_{AB}^4 d_C^2)`.

    Raises
    ------
    ValueError
        As :func:`local_recovery_map`.
    """
    sites = _check_sites(dims, neighbourhood, "neighbourhood")
    reg = _check_sites(dims, region, "region")
    if not set(reg) <= set(sites):
        raise ValueError(f"region {reg} is not contained in the neighbourhood {sites}")
    if kind not in ("petz", "rotated", "twirled"):
        raise ValueError(f"kind must be 'petz', 'rotated' or 'twirled', got {kind!r}")
    dims = [int(d) for d in dims]
    dfull = int(np.prod(dims))
    sig = check_density_matrix(sigma, "sigma", dim=dfull)
    arr = as_array(x, "X", dtype=complex)
    if arr.shape != (dfull, dfull):
        raise ValueError(f"X has shape {arr.shape}, expected ({dfull}, {dfull})")
    sub = [dims[i] for i in sites]
    pos = [sites.index(i) for i in reg]
    da = int(np.prod([dims[i] for i in reg]))
    ch = as_array(channel_a, "channel_a", dtype=complex)
    if ch.shape != (da * da, da * da):
        raise ValueError(f"channel_a must have shape ({da * da}, {da * da}), got {ch.shape}")
    sig_ab = partial_trace(sig, dims, sites)
    omega = apply_on_subsystems(ch, sig_ab, sub, pos)
    p, v = spectral_reference(sig_ab, name="sigma_AB")
    q, w = spectral_reference(0.5 * (omega + omega.conj().T), name="E(sigma_AB)")
    dab = p.size
    v = np.eye(dab) if v is None else v
    w = np.eye(dab) if w is None else w
    nks = [v.conj().T @ embed_operator(k.conj().T, sub, pos, list(range(len(sub)))) @ w
           for k in _kraus_from_superop(ch)]
    rest = [i for i in range(len(dims)) if i not in sites]
    dc = int(np.prod([dims[i] for i in rest])) if rest else 1
    y = conjugate_on_subsystems(w.conj().T, arr, dims, sites)
    order = sites + rest
    nd = len(dims)
    yt = y.reshape(dims + dims).transpose(order + [nd + i for i in order]).reshape(dab, dc, dab, dc)
    yt = yt.transpose(0, 2, 1, 3) / np.sqrt(np.outer(q, q))[:, :, None, None]  # (a, b, c, c')
    yflat = yt.reshape(dab * dab, dc * dc)
    xs, ys = np.log(p), np.log(q)
    dy = ys[:, None] - ys[None, :]
    out = np.zeros((dab, dab, dc * dc), complex)
    for k in range(dab):
        s = 0.5 * ((xs[k] - xs)[:, None, None] - dy[None, :, :])  # (l, a, b)
        if kind == "twirled":
            wk = phi(s)
        elif kind == "rotated":
            wk = np.exp(1j * theta * s)
        else:
            wk = np.ones_like(s)
        for n_i in nks:
            z = wk * n_i[k][None, :, None] * n_i.conj()[:, None, :]  # (l, a, b)
            out[k] += z.reshape(dab, dab * dab) @ yflat
    out *= np.sqrt(np.outer(p, p))[:, :, None]
    res = out.reshape(dab, dab, dc, dc).transpose(0, 2, 1, 3).reshape(dab * dc, dab * dc)
    subo = [dims[i] for i in order]
    inv = [order.index(i) for i in range(nd)]
    res = res.reshape(subo + subo).transpose(inv + [nd + i for i in inv]).reshape(dfull, dfull)
    return conjugate_on_subsystems(v, res, dims, sites)


def _embed_superop(ch: np.ndarray, dims_a: list[int], dims_ab: list[int], pos: list[int]) -> np.ndarray:
    """Row-major superoperator of ``E_A (x) id_B`` on the factors ``dims_ab`` (A at positions ``pos``)."""
    m = len(dims_ab)
    rest = [i for i in range(m) if i not in pos]
    da = int(np.prod(dims_a))
    dr = int(np.prod([dims_ab[i] for i in rest])) if rest else 1
    # E_A (x) id in the (A, rest) order: vec index (a r, a' r') -> kron structure
    big = np.einsum("ijkl,mn,op->imjokn lp".replace(" ", ""), ch.reshape(da, da, da, da), np.eye(dr), np.eye(dr))
    big = big.reshape(da * dr * da * dr, da * dr * da * dr)
    order = pos + rest
    sub = [dims_ab[i] for i in order]
    dab = da * dr
    # permute the (A, rest) ordering to the natural ordering of the neighbourhood
    perm_op = np.eye(dab).reshape([dab] + sub).transpose([0] + [1 + order.index(i) for i in range(m)])
    perm_op = perm_op.reshape(dab, dab).T  # maps (A, rest)-ordered vectors to natural ordering
    p2 = np.kron(perm_op, perm_op)
    return p2 @ big @ p2.T
