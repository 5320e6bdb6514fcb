r"""Local backward generators and local recovery maps on a tensor-product system (P.24-P.25).

The forward generator acts on a region :math:`A` only. For a neighbourhood :math:`AB\supseteq A` (e.g. the
ball of radius ``r`` around :math:`A` on a ring) and the rest :math:`C`, the local backward generator is

.. math::

    \mathcal B^{\rm loc}_t = \mathcal B\big[\mathcal L_A\otimes\mathrm{id}_B,\ \sigma_{AB}(t)\big]\otimes
    \mathrm{id}_C,\qquad \sigma_{AB}(t) = \mathrm{tr}_C\,\sigma(t) = e^{t\mathcal L_A}(\sigma_{AB}(0)),

(P.24) for any kind (Petz, rotated, twirled); it is the generator of
:math:`\mathcal P^{(\cdot)}_{\sigma_{AB},e^{dt\mathcal L_A}}\otimes\mathrm{id}_C`.
Subsystems are in kron order (first factor most significant); superoperators are row-major (see
quantum_diffusion.conventions). Operators "on A" are given in the kron order of ``sorted(region)``. Channels
go through the one channel converter (``_validation.as_superoperator``: row-major array, qutip super ``Qobj``
or Kraus list), states through ``check_density_matrix``; subsystem bookkeeping lives in
:mod:`quantum_diffusion.subsystems` (re-exported here for compatibility).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import as_operator, as_superoperator, check_density_matrix, finite_result
from ..linalg import hermitian_part, kraus_from_superop
from ..subsystems import (
    apply_on_subsystems,
    check_sites,
    conjugate_on_subsystems,
    embed_operator,
    embed_superoperator,
    partial_trace,
    ring_neighbourhood,
)
from ..typing import ChannelLike, OperatorLike, PetzKind
from .generators import BackwardLindbladian, check_forward
from .lindbladian import Lindbladian
from .maps import recovery_superop
from .spectral import check_kind, phi, spectral_reference

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


def embed_lindbladian(lind: Lindbladian, dims: Sequence[int], targets: Sequence[int],
                      sites: Sequence[int]) -> Lindbladian:
    """Return the Lindbladian ``lind`` (acting on ``targets``) as a Lindbladian on ``sites`` (identity elsewhere).

    Parameters
    ----------
    lind : Lindbladian
        Generator on ``targets`` (kron order of ``sorted(targets)``).
    dims : sequence of int
        Subsystem dimensions.
    targets, sites : sequence of int
        ``targets`` within ``sites``.

    Returns
    -------
    Lindbladian
        On ``sites``.

    Raises
    ------
    ValueError
        As :func:`~quantum_diffusion.subsystems.embed_operator`.
    """
    return Lindbladian(embed_operator(lind.H, dims, targets, sites),
                       [embed_operator(lj, dims, targets, sites) for lj in lind.jumps])


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
        """Row-major superoperator on the neighbourhood.

        Returns
        -------
        numpy.ndarray, shape ``(d_AB^2, d_AB^2)``
        """
        return self.local.superop()

    def apply(self, x: OperatorLike) -> np.ndarray:
        r"""Apply :math:`(\mathcal B_{AB}\otimes\mathrm{id}_C)` to ``X``.

        Parameters
        ----------
        x : OperatorLike, shape ``(D, D)``
            Operand on the full system.

        Returns
        -------
        numpy.ndarray, shape ``(D, D)``

        Raises
        ------
        ValueError
            On a wrong shape or non-finite entries.
        """
        return finite_result(self.apply_unchecked(as_operator(x, "X", dim=self.dim)), "X", "B(X)")

    def apply_unchecked(self, arr: np.ndarray) -> np.ndarray:
        """Apply to a validated complex ``(D, D)`` array (the flow's right-hand side; no checks).

        Parameters
        ----------
        arr : numpy.ndarray, shape ``(D, D)``
            Operand.

        Returns
        -------
        numpy.ndarray, shape ``(D, D)``
        """
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


def local_petz_generator(forward: Lindbladian, sigma: OperatorLike, dims: Sequence[int], region: Sequence[int],
                         neighbourhood: Sequence[int], *, kind: PetzKind = "petz", theta: float = 0.0,
                         sigma_is_local: bool = False) -> LocalGenerator:
    r"""Local backward generator (P.24) from the reduced reference on ``neighbourhood``.

    Parameters
    ----------
    forward : Lindbladian
        Acting on ``region`` (kron order of ``sorted(region)``).
    sigma : OperatorLike
        Full reference state ``(D, D)``, or (if ``sigma_is_local``) the reduced state on ``neighbourhood``.
    dims : sequence of int
        Subsystem dimensions.
    region, neighbourhood : sequence of int
        Site lists (``region`` within ``neighbourhood``).
    kind : {"petz", "rotated", "twirled"}
        Recovery family.
    theta : float
        Rotation angle (``kind="rotated"`` only).
    sigma_is_local : bool
        ``sigma`` is already the reduced state on ``neighbourhood``.

    Returns
    -------
    LocalGenerator

    Raises
    ------
    ValueError
        If the region is not inside the neighbourhood, dimensions mismatch, or the reduced reference is
        not a full-rank density matrix (the local recovery lives on the support of :math:`\sigma_{AB}`).
    """
    check_forward(forward, "forward")
    theta = check_kind(kind, theta)
    sites = _check_region(dims, region, neighbourhood)
    fwd_ab = embed_lindbladian(forward, dims, region, sites)
    if sigma_is_local:
        sig_ab = sigma
    else:
        sig = check_density_matrix(sigma, "sigma", dim=int(np.prod(dims)))
        sig_ab = partial_trace(sig, dims, sites)
    p, v = spectral_reference(sig_ab, fwd_ab.dim, name="sigma_AB")
    return LocalGenerator(BackwardLindbladian(fwd_ab, p, v, kind, theta), dims, sites)


def _check_region(dims: Sequence[int], region: Sequence[int], neighbourhood: Sequence[int]) -> list[int]:
    sites = check_sites(dims, neighbourhood, "neighbourhood")
    reg = check_sites(dims, region, "region")
    if not reg:
        raise ValueError("region must not be empty")
    if not set(reg) <= set(sites):
        raise ValueError(f"region {reg} is not contained in the neighbourhood {sites}")
    return sites


def _local_inputs(channel_a: ChannelLike, sigma: OperatorLike, dims: Sequence[int], region: Sequence[int],
                  neighbourhood: Sequence[int]) -> tuple[list[int], list[int], np.ndarray, np.ndarray]:
    """Validate the inputs of the local maps once: (sites, region, channel on A, full sigma)."""
    sites = _check_region(dims, region, neighbourhood)
    reg = check_sites(dims, region, "region")
    sig = check_density_matrix(sigma, "sigma", dim=int(np.prod(dims)))
    da = int(np.prod([dims[i] for i in reg]))
    ch = as_superoperator(channel_a, "channel_a", d_in=da, square=True)
    return sites, reg, ch, sig


def local_recovery_map(channel_a: ChannelLike, sigma: OperatorLike, dims: Sequence[int], region: Sequence[int],
                       neighbourhood: Sequence[int], *, kind: PetzKind = "petz", theta: float = 0.0) -> np.ndarray:
    r"""One-shot local recovery map :math:`\mathcal R_{\sigma_{AB},\mathcal E_A\otimes\mathrm{id}_B}` on AB.

    Apply it to a full state with :func:`apply_on_subsystems` (it acts as identity on :math:`C`).

    Parameters
    ----------
    channel_a : ChannelLike
        The channel on ``region`` (kron order of ``sorted(region)``): row-major array, qutip super ``Qobj``
        (column stacking, converted) or a list of Kraus operators.
    sigma : OperatorLike, shape ``(D, D)``
        Full reference state.
    dims : sequence of int
        Subsystem dimensions.
    region, neighbourhood : sequence of int
        Site lists (``region`` within ``neighbourhood``).
    kind : {"petz", "rotated", "twirled"}
        Recovery family (twirled: exact kernel P.5).
    theta : float
        Rotation angle (``kind="rotated"`` only).

    Returns
    -------
    numpy.ndarray, shape ``(d_AB^2, d_AB^2)``
        Row-major, kron order of ``sorted(neighbourhood)``.

    Raises
    ------
    ValueError
        As :func:`local_petz_generator` and :func:`~quantum_diffusion.petz.maps.recovery_map`.
    """
    theta = check_kind(kind, theta)
    sites, reg, ch, sig = _local_inputs(channel_a, sigma, dims, region, neighbourhood)
    sig_ab = partial_trace(sig, dims, sites)
    ch_ab = embed_superoperator(ch, dims, reg, sites)
    p, v = spectral_reference(sig_ab, name="sigma_AB")
    return recovery_superop(ch_ab, p, v, kind, theta)


def apply_local_recovery_map(channel_a: ChannelLike, sigma: OperatorLike, dims: Sequence[int],
                             region: Sequence[int], neighbourhood: Sequence[int], x: OperatorLike, *,
                             kind: PetzKind = "petz", theta: float = 0.0) -> np.ndarray:
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

    Parameters
    ----------
    channel_a : ChannelLike
        As :func:`local_recovery_map`.
    sigma : OperatorLike, shape ``(D, D)``
        Full reference state.
    dims : sequence of int
        Subsystem dimensions.
    region, neighbourhood : sequence of int
        Site lists.
    x : OperatorLike, shape ``(D, D)``
        Operand.
    kind : {"petz", "rotated", "twirled"}
        Recovery family.
    theta : float
        Rotation angle (``kind="rotated"`` only).

    Returns
    -------
    numpy.ndarray, shape ``(D, D)``

    Raises
    ------
    ValueError
        As :func:`local_recovery_map`.
    """
    theta = check_kind(kind, theta)
    sites, reg, ch, sig = _local_inputs(channel_a, sigma, dims, region, neighbourhood)
    dims = [int(d) for d in dims]
    dfull = int(np.prod(dims))
    arr = as_operator(x, "X", dim=dfull)
    sub = [dims[i] for i in sites]
    pos = [sites.index(i) for i in reg]
    sig_ab = partial_trace(sig, dims, sites)
    omega = apply_on_subsystems(ch, sig_ab, sub, pos)
    p, v = spectral_reference(sig_ab, name="sigma_AB")
    q, w = spectral_reference(hermitian_part(omega), name="E(sigma_AB)")
    dab = p.size
    v = np.eye(dab) if v is None else v
    w = np.eye(dab) if w is None else w
    nks = [v.conj().T @ embed_operator(k.conj().T, sub, pos, list(range(len(sub)))) @ w
           for k in kraus_from_superop(ch, rtol=1e-14)]
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
