r"""Continuous-time Petz, rotated-Petz and twirled-Petz recovery as backward Lindbladians.

Convention (see quantum_diffusion.conventions, "Time directions"): for the channel
:math:`\mathcal E_{dt} = e^{dt\mathcal L}` and the reference :math:`\sigma` (the state *before* the step),

.. math::

    \mathcal P^{(\cdot)}_{\sigma,\,e^{dt\mathcal L}} = \mathrm{id} + dt\,\mathcal B + O(dt^2),

and the object returned by :func:`petz_generator` has superoperator :math:`\mathcal B`.  The denoising
evolution is :math:`d\rho/dt = -\mathcal B_{\sigma(t)}(\rho)` integrated from :math:`t=T` down to 0.

Everything is computed in the eigenbasis of :math:`\sigma=\sum_k p_k|k\rangle\langle k|`, with
:math:`x_k=\ln p_k`, :math:`u_{kl}=(x_k-x_l)/2` (theory note ``petz.md``, eqs. P.11-P.23):

* Petz / rotated (P.18)-(P.19): :math:`(L^\theta_{b,j})_{kl} = e^{(1+i\theta)u_{kl}}(L_j^\dagger)_{kl}`,

  .. math::

      (H_b^\theta)_{kl} = -H_{kl} + \tfrac i2\big[c_1(u_{kl})\tilde A_{kl} + c_2(u_{kl}) C_{kl}\big],\quad
      c_1 = \operatorname{csch}u - e^{i\theta u}\coth u,\ c_2 = e^{i\theta u}\operatorname{csch}u - \coth u,

  with :math:`\tilde A=\sum_j L_{b,j}^\dagger L_{b,j}` (:math:`\theta=0` jumps), :math:`C=\sum_j L_j^\dagger L_j`.
* Twirled (P.20)-(P.23): :math:`\mathcal B^{\rm tw} = -i[H^{\rm tw},\cdot] + \mathcal J^{\rm tw}
  - \frac12\{\tilde A^\varphi,\cdot\}` with :math:`\varphi(a)=a/\sinh a`,

  .. math::

      \mathcal J^{\rm tw}(X)_{kl} = \sum_j\sum_{mn}(L_{b,j})_{km}X_{mn}\overline{(L_{b,j})_{ln}}\,
      \varphi(u_{kl}-u_{mn}),\qquad \tilde A^\varphi_{kl} = \tilde A_{kl}\varphi(u_{kl}),

  and explicit jump operators from the Choi decomposition of :math:`\mathcal J^{\rm tw}` (P.23).

All :math:`u\to 0` limits (degenerate eigenvalues of :math:`\sigma`) are evaluated with cancellation-free
rewritings or Taylor series, so a diagonal reference with repeated eigenvalues is handled exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_array, check_density_matrix, check_square
from .lindbladian import Lindbladian, lindblad_superop

__all__ = [
    "BackwardLindbladian",
    "petz_generator",
    "petz_generator_direct_superop",
    "phi",
    "spectral_reference",
]

KINDS = ("petz", "rotated", "twirled")
_KERNEL_CACHE_MAX = 2**22  # cache the d^4 twirl kernel (64 MB complex) up to d = 45
_CHOI_MAX_DIM = 64  # explicit twirled Choi jumps only up to d = 64 (a 4096 x 4096 eigh)
_SERIES_U = 1e-3  # below |u| = 1e-3 the twirl coefficients use their Taylor series (error ~ u^5 < 1e-15)


# --------------------------------------------------------------------------- scalar kernels
def phi(a: np.ndarray | float) -> np.ndarray:
    r"""Characteristic function of the twirl density, :math:`\varphi(a) = a/\sinh a` (P.4), ``phi(0) = 1``."""
    a = np.asarray(a, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = np.where(a == 0.0, 1.0, a / np.sinh(np.where(a == 0.0, 1.0, a)))
    return np.where(np.isfinite(out), out, 0.0)


def _u_over_tanh(u: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(u == 0.0, 1.0, u / np.tanh(np.where(u == 0.0, 1.0, u)))


def _expm1_i_over_u(u: np.ndarray, theta: float) -> np.ndarray:
    """``(exp(i theta u) - 1) / u`` without cancellation (-> ``i theta`` at u = 0), via np.sinc."""
    s_half = np.sin(theta * u / 2.0)
    return theta * (-s_half * np.sinc(theta * u / (2 * np.pi)) + 1j * np.sinc(theta * u / np.pi))


def _rotated_coeffs(u: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`c_1 = -\tanh(u/2) - h\,u\coth u` and :math:`c_2 = h\varphi(u) - \tanh(u/2)`,
    :math:`h = (e^{i\theta u}-1)/u`: the cancellation-free forms of P.19's csch/coth combinations."""
    th = np.tanh(u / 2.0)
    h = _expm1_i_over_u(u, theta)
    return -th - h * _u_over_tanh(u), h * phi(u) - th


def _twirled_coeffs(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""P.21: :math:`c_1 = (1-u\coth u)/\sinh u`, :math:`c_2 = (u-\sinh u\cosh u)/\sinh^2 u` (odd in u)."""
    small = np.abs(u) < _SERIES_U
    us = np.where(small, 1.0, u)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        sh = np.sinh(us)
        c1 = 1.0 / sh - _u_over_tanh(us) / sh
        c2 = us / sh**2 - 1.0 / np.tanh(us)
    c1 = np.where(np.isfinite(c1), c1, 0.0)
    c1 = np.where(small, -u / 3.0 + 7.0 * u**3 / 90.0, c1)
    c2 = np.where(small, -2.0 * u / 3.0 + 4.0 * u**3 / 45.0, np.where(np.isfinite(c2), c2, -np.sign(u)))
    return c1, c2


# --------------------------------------------------------------------------- reference state
def spectral_reference(
    sigma: Any, dim: int | None = None, *, name: str = "sigma", rank_tol: float | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Validate a full-rank reference state and return ``(p, V)`` with :math:`\sigma = V\,\mathrm{diag}(p)V^\dagger`.

    A diagonal ``sigma`` returns ``V = None`` (the computational basis, kept exactly, so degenerate
    eigenvalues and diagonal operands stay diagonal).

    Parameters
    ----------
    rank_tol : float, optional
        Smallest admissible eigenvalue. Default: 0 for a diagonal ``sigma`` (exact eigenvalues) and
        ``1e-12`` otherwise (``eigh`` round-off).

    Raises
    ------
    ValueError
        If ``sigma`` is not a density matrix (shape, Hermiticity, trace, positivity), or is rank-deficient:
        the Petz constructions use :math:`\sigma^{-1/2}` and are only defined on the support of the
        reference, so a rank-deficient reference must be restricted to its support by the caller.
    """
    arr = check_square(as_array(sigma, name, dtype=complex), name, dim)
    off = arr - np.diag(np.diag(arr))
    if not np.any(off):
        # diagonal reference: exact eigenvalues, no eigensolver (validated here, cheaper than eigvalsh)
        p, v = np.diag(arr).real.copy(), None
        if np.max(np.abs(np.diag(arr).imag)) > 1e-10:
            raise ValueError(f"{name} is not Hermitian: its diagonal has imaginary parts")
        if abs(p.sum() - 1.0) > 1e-8 * max(1, p.size):
            raise ValueError(f"{name} is not normalised: trace = {p.sum():.12g}")
        if p.min() < -1e-8:
            raise ValueError(f"{name} is not positive semidefinite: smallest eigenvalue {p.min():.3e}")
        tol = 0.0 if rank_tol is None else rank_tol
    else:
        arr = check_density_matrix(arr, name, dim=dim)
        p, v = np.linalg.eigh(0.5 * (arr + arr.conj().T))
        tol = 1e-12 if rank_tol is None else rank_tol
    if p.min() <= tol:
        raise ValueError(
            f"{name} is rank-deficient (smallest eigenvalue {p.min():.3e} <= {tol:.1e}): the Petz-type "
            f"recovery uses {name}^(-1/2) and is only defined on the support of the reference; restrict the "
            f"problem to supp({name}) or mix in a little of the maximally mixed state"
        )
    return p, v


def _to_eig(x: np.ndarray, v: np.ndarray | None) -> np.ndarray:
    return x if v is None else v.conj().T @ x @ v


def _from_eig(x: np.ndarray, v: np.ndarray | None) -> np.ndarray:
    return x if v is None else v @ x @ v.conj().T


def _commutes_with_reference(xp: np.ndarray, u: np.ndarray, tol: float = 1e-13) -> bool:
    """True if the eigenbasis operand ``xp`` has no entries between different eigenvalues of sigma."""
    scale = max(float(np.max(np.abs(xp))), 1e-300)
    return not np.any((np.abs(xp) > tol * scale) & (np.abs(u) > 1e-12))


# --------------------------------------------------------------------------- the generator
class BackwardLindbladian(Lindbladian):
    r"""Backward (recovery) generator :math:`\mathcal B` of the Petz / rotated / twirled map.

    Built by :func:`petz_generator`; has the :class:`~quantum_diffusion.petz.Lindbladian` interface:
    ``.H`` (Hermitian (d, d)), ``.jumps`` (list of (d, d)), ``.dim``, ``.superop()`` (row-major (d^2, d^2)),
    ``.apply(X)`` (matrix-free), ``.evolve(rho, t)``.

    For ``kind="twirled"``, ``.jumps`` is computed lazily from the Choi decomposition of the jump part
    (P.23, costs O(d^6): small ``d`` only), while ``.apply`` uses the P.22 kernel directly: O(d^4) per
    forward jump in general and O(d^3) (a Hadamard product) when ``X`` commutes with ``sigma``.

    Attributes
    ----------
    kind : "petz" | "rotated" | "twirled"
    theta : float (0 for petz and twirled)
    p : ndarray (d,), eigenvalues of the reference; ``V`` : ndarray (d, d) or None (diagonal reference).
    """

    def __init__(self, forward: Lindbladian, p: np.ndarray, v: np.ndarray | None, kind: str, theta: float,
                 choi_tol: float = 1e-13) -> None:
        self.kind, self.theta, self.p, self.V = kind, float(theta), p, v
        self.dim = d = forward.dim
        self.forward = forward
        self._choi_tol = choi_tol
        x = np.log(p)
        self.u = 0.5 * (x[:, None] - x[None, :])
        hp = _to_eig(forward.H, v)
        eu = np.exp(self.u)
        # P.11 in the eigenbasis: (L_b)_kl = e^{u_kl} (L^dag)_kl
        stack = forward.jump_stack()
        if v is not None:
            stack = v.conj().T @ stack @ v  # broadcast over jumps: one call instead of a Python loop
        lb0 = eu * stack.conj().transpose(0, 2, 1)
        flat = lb0.reshape(-1, d)  # rows (j, m): A~ = sum_j L_b^dag L_b = flat^dag flat (one BLAS call)
        a_tilde = flat.conj().T @ flat
        c_fwd = _to_eig(forward.C, v)
        if kind == "twirled":
            c1, c2 = _twirled_coeffs(self.u)
            self._lb_eig = lb0
            self._phi_u = phi(self.u)
            self._cb_eig = a_tilde * self._phi_u  # A~^phi (P.22)
        else:
            if self.theta == 0.0:  # P.12: c1 = c2 = -tanh(u/2)
                c1 = c2 = -np.tanh(0.5 * self.u)
                self._lb_eig, self._cb_eig = lb0, a_tilde
            else:
                c1, c2 = _rotated_coeffs(self.u, self.theta)
                rot = np.exp(1j * self.theta * self.u)
                self._lb_eig = lb0 * rot  # P.18: e^{(1 + i theta) u_kl} (L^dag)_kl
                self._cb_eig = a_tilde * rot  # sum_j L_b^theta^dag L_b^theta = sigma^{i theta/2} A~ sigma^{-i theta/2}
        # not symmetrised: Hermiticity of H_b (= trace preservation) is a tested identity of P.12/P.19/P.21
        self._h_eig = -hp + 0.5j * (c1 * a_tilde + c2 * c_fwd)
        self._h: np.ndarray | None = None
        self._jumps_cache: list[np.ndarray] | None = None
        self._jump_kernel: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"BackwardLindbladian(kind={self.kind!r}, theta={self.theta}, dim={self.dim})"

    # -- Lindblad-form data (computational basis, computed on first use)
    @property
    def H(self) -> np.ndarray:  # type: ignore[override]
        """Backward Hamiltonian :math:`H_b` (Hermitian, (d, d))."""
        if self._h is None:
            self._h = _from_eig(self._h_eig, self.V)
        return self._h

    @property
    def jumps(self) -> list[np.ndarray]:  # type: ignore[override]
        """Backward jump operators (for the twirled kind: Choi-decomposition jumps P.23, O(d^6) on first use)."""
        if self._jumps_cache is None:
            if self.kind == "twirled":
                self._jumps_cache = self._choi_jumps()
            else:
                self._jumps_cache = [_from_eig(b, self.V) for b in self._lb_eig]
        return self._jumps_cache

    @property
    def C(self) -> np.ndarray:  # type: ignore[override]
        r""":math:`\sum_\alpha K_\alpha^\dagger K_\alpha` (:math:`\tilde A`, rotated, or :math:`\tilde A^\varphi`)."""
        return _from_eig(self._cb_eig, self.V)

    # -- twirled kernel pieces (eigenbasis)
    def _jump_kernel_eig(self) -> np.ndarray:
        """Row-major superoperator of the twirled jump part in the eigenbasis, shape (d^2, d^2)."""
        d = self.dim
        lb = self._lb_eig
        flat = lb.reshape(len(lb), d * d)  # one BLAS call for sum_j L_km conj(L_ln), then reorder to (k, l, m, n)
        k4 = (flat.T @ flat.conj()).reshape(d, d, d, d).transpose(0, 2, 1, 3)
        k4 = k4 * phi(self.u[:, :, None, None] - self.u[None, None, :, :])
        return k4.reshape(d * d, d * d)

    def jump_part_superop(self) -> np.ndarray:
        r"""Row-major superoperator of the jump part (:math:`\mathcal J^{\rm tw}` or :math:`\sum_j L X L^\dagger`)."""
        d = self.dim
        if self.kind != "twirled":
            return sum((np.kron(b, b.conj()) for b in self.jumps), np.zeros((d * d, d * d), complex))
        return _rotate_superop(self._jump_kernel_eig(), self.V)

    def _choi_jumps(self) -> list[np.ndarray]:
        d = self.dim
        if d > _CHOI_MAX_DIM:
            raise ValueError(
                f"explicit twirled jump operators need an eigendecomposition of the {d * d} x {d * d} Choi matrix "
                f"(O(d^6)); refused for d = {d} > {_CHOI_MAX_DIM}. Use .apply (P.22 kernel, no jumps needed)"
            )
        r = self._jump_kernel_eig().reshape(d, d, d, d).transpose(0, 2, 1, 3).reshape(d * d, d * d)
        lam, w = np.linalg.eigh(0.5 * (r + r.conj().T))
        keep = lam > self._choi_tol * max(lam.max(), 1e-300)
        return [_from_eig(np.sqrt(lam[a]) * w[:, a].reshape(d, d), self.V) for a in np.flatnonzero(keep)[::-1]]

    def _apply_jump_tw_eig(self, xp: np.ndarray) -> np.ndarray:
        lb = self._lb_eig
        if _commutes_with_reference(xp, self.u):
            # [X, sigma] = 0: P.22 reduces to a Hadamard product, O(d^3) per jump
            return np.einsum("jkm,mn,jln->kl", lb, xp, lb.conj(), optimize=True) * self._phi_u
        d = self.dim
        if d**4 <= _KERNEL_CACHE_MAX:
            if self._jump_kernel is None:
                self._jump_kernel = self._jump_kernel_eig()
            return (self._jump_kernel @ xp.reshape(-1)).reshape(d, d)
        out = np.empty((d, d), complex)
        lbc = lb.conj()
        # general operand: O(d^4) per jump, one row k at a time to keep memory O(d^3)
        for k in range(d):
            w = phi(self.u[k][:, None, None] - self.u[None, :, :])  # (l, m, n)
            y = lb[:, k, :, None] * xp[None, :, :]  # (j, m, n)
            z = np.einsum("lmn,jmn->jln", w, y, optimize=True)
            out[k] = np.einsum("jln,jln->l", lbc, z)
        return out

    # -- superoperator / action
    def eigenbasis_superop(self) -> np.ndarray:
        """Row-major superoperator in the eigenbasis of ``sigma`` (``V^dag X V`` coordinates), (d^2, d^2)."""
        d = self.dim
        eye = np.eye(d)
        if self.kind != "twirled":
            return lindblad_superop(self._h_eig, list(self._lb_eig))
        h, a = self._h_eig, self._cb_eig
        s = self._jump_kernel_eig() - 1j * (np.kron(h, eye) - np.kron(eye, h.T))
        s -= 0.5 * (np.kron(a, eye) + np.kron(eye, a.T))
        return s

    def superop(self) -> np.ndarray:
        """Row-major superoperator of the backward generator, shape (d^2, d^2)."""
        if self.kind != "twirled":
            return lindblad_superop(self.H, self.jumps)
        return _rotate_superop(self.eigenbasis_superop(), self.V)

    def apply(self, rho: Any) -> np.ndarray:
        r"""Matrix-free :math:`\mathcal B(X)`; ``X`` (d, d) -> (d, d), computed in the eigenbasis of ``sigma``.

        Raises
        ------
        ValueError
            If ``X`` has the wrong shape or non-finite entries.
        """
        return self._apply_unchecked(self._check_operand(rho, "X"))

    def _apply_unchecked(self, x: np.ndarray) -> np.ndarray:
        xp = _to_eig(x, self.V)
        h, a = self._h_eig, self._cb_eig
        if self.kind != "twirled":
            out = -1j * (h @ xp - xp @ h) - 0.5 * (a @ xp + xp @ a)
            for b in self._lb_eig:
                out += b @ xp @ b.conj().T
        else:
            out = -1j * (h @ xp - xp @ h) - 0.5 * (a @ xp + xp @ a) + self._apply_jump_tw_eig(xp)
        return _from_eig(out, self.V)

    def adjoint_apply(self, y: Any) -> np.ndarray:
        """Heisenberg-picture action via the superoperator (small ``d``)."""
        y = self._check_operand(y, "Y")
        return (self.superop().conj().T @ y.reshape(-1)).reshape(self.dim, self.dim)

    def to_qutip(self) -> Any:
        """qutip column-stacking Liouvillian of ``B`` (built from our superoperator)."""
        import qutip

        return qutip.Qobj(self.to_qutip_column_superop(), dims=[[[self.dim], [self.dim]]] * 2,
                          superrep="super")


def _rotate_superop(s_eig: np.ndarray, v: np.ndarray | None) -> np.ndarray:
    """Eigenbasis superoperator -> computational basis: ``(V kron conj V) S (V^dag kron V^T)``."""
    if v is None:
        return s_eig
    u_l = np.kron(v, v.conj())
    return u_l @ s_eig @ u_l.conj().T


def petz_generator(
    lindbladian: Lindbladian,
    sigma: Any,
    kind: str = "petz",
    theta: float = 0.0,
    *,
    rank_tol: float | None = None,
) -> BackwardLindbladian:
    r"""Backward Lindbladian of the continuous-time Petz / rotated / twirled recovery map.

    .. math::

        \mathcal P^{(\mathrm{kind})}_{\sigma,\,e^{dt\mathcal L}} = \mathrm{id} + dt\,\mathcal B + O(dt^2),
        \qquad \mathcal B = -i[H_b,\cdot\,] + \sum_j \mathcal D[L_{b,j}] .

    ``kind="petz"`` is P.11-P.12, ``"rotated"`` is P.18-P.19 (JRSWW convention
    :math:`\mathcal U_{\sigma,\theta/2}\circ\mathcal P\circ\mathcal U_{\mathcal E(\sigma),-\theta/2}`),
    ``"twirled"`` is P.20-P.23 (average over :math:`\beta_0(\theta)`, exact closed forms). The denoising
    flow is :math:`d\rho/dt = -\mathcal B_{\sigma(t)}(\rho)` from ``T`` down to 0 (see :func:`recover`).
    Row-major superoperators (see quantum_diffusion.conventions).

    Parameters
    ----------
    lindbladian : Lindbladian
        Forward generator on a ``d``-dimensional space.
    sigma : array or Qobj (d, d)
        Full-rank reference state (the state *before* the step); may be diagonal with degenerate eigenvalues.
    kind : "petz" | "rotated" | "twirled"
    theta : float
        Rotation angle (``kind="rotated"`` only; must be 0 otherwise).
    rank_tol : float, optional
        See :func:`spectral_reference`.

    Returns
    -------
    BackwardLindbladian

    Raises
    ------
    TypeError
        If ``lindbladian`` is not a :class:`Lindbladian`.
    ValueError
        Unknown ``kind``, non-finite or misplaced ``theta``, mismatched dimensions, ``sigma`` not a density
        matrix, or ``sigma`` rank-deficient (the recovery is defined only on the support of the reference).

    Examples
    --------
    >>> import numpy as np
    >>> from quantum_diffusion.petz import Lindbladian, petz_generator
    >>> L = Lindbladian(np.diag([0.0, 1.0]), [np.array([[0, 1], [0, 0]])])
    >>> sigma = np.diag([0.3, 0.7])
    >>> B = petz_generator(L, sigma)
    >>> bool(np.allclose(B.apply(sigma), -L.apply(sigma)))
    True
    """
    if not isinstance(lindbladian, Lindbladian) or isinstance(lindbladian, BackwardLindbladian):
        raise TypeError(f"lindbladian must be a forward Lindbladian, got {type(lindbladian).__name__}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    theta = float(theta)
    if not np.isfinite(theta):
        raise ValueError(f"theta must be finite, got {theta!r}")
    if kind != "rotated" and theta != 0.0:
        raise ValueError(f"theta={theta} is only meaningful for kind='rotated' (got kind={kind!r})")
    sig = as_array(sigma, "sigma", dtype=complex)
    if sig.ndim != 2 or sig.shape[0] != lindbladian.dim:
        raise ValueError(f"sigma has shape {sig.shape} but the Lindbladian acts on dimension {lindbladian.dim}")
    p, v = spectral_reference(sig, lindbladian.dim, rank_tol=rank_tol)
    return BackwardLindbladian(lindbladian, p, v, kind, theta)


def petz_generator_direct_superop(lindbladian: Lindbladian, sigma: Any) -> np.ndarray:
    r"""Row-major superoperator of the Petz generator in the direct form (P.8)-(P.9), an independent check.

    .. math::

        \mathcal B(X) = \sigma^{1/2}\mathcal L^\dagger(\sigma^{-1/2}X\sigma^{-1/2})\sigma^{1/2}
            - S\sigma^{-1/2}X - X\sigma^{-1/2}S,\qquad S\sigma^{1/2}+\sigma^{1/2}S = \mathcal L(\sigma).

    Raises
    ------
    ValueError
        As :func:`petz_generator`.
    """
    d = lindbladian.dim
    sig = check_square(as_array(sigma, "sigma", dtype=complex), "sigma", d)
    p, v = np.linalg.eigh(check_density_matrix(sig, "sigma", dim=d))
    if p.min() <= 1e-12:
        raise ValueError("sigma is rank-deficient: the Petz generator needs sigma^(-1/2)")
    sq = v @ np.diag(np.sqrt(p)) @ v.conj().T
    isq = v @ np.diag(1 / np.sqrt(p)) @ v.conj().T
    lsig = v.conj().T @ lindbladian.apply(sig) @ v
    s = v @ (lsig / (np.sqrt(p)[:, None] + np.sqrt(p)[None, :])) @ v.conj().T
    ladj = lindblad_superop(lindbladian.H, lindbladian.jumps).conj().T
    eye = np.eye(d)
    kr = np.kron
    return (kr(sq, sq.T) @ ladj @ kr(isq, isq.T) - kr(s @ isq, eye) - kr(eye, (isq @ s).T))

