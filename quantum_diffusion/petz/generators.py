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

**Cost of the twirled jump part** on an operand that does not commute with :math:`\sigma` (``J`` jumps,
dimension ``d``): the exact kernel (P.22) costs :math:`d^4` evaluations of :math:`\varphi` plus :math:`Jd^4`
products (built once per generator, then :math:`d^4` per application); the :math:`\theta` quadrature
:math:`\varphi(a)\approx\sum_q w_q e^{i\theta_q a}` factorises the phases into diagonal rescalings,
:math:`\mathcal J^{\rm tw}(X)\approx\sum_q w_qD_q\big[\sum_jL_{b,j}(D_q^*XD_q)L_{b,j}^\dagger\big]D_q^*`, and
costs :math:`2QJd^3` in BLAS, with :math:`Q\approx(\Delta+23)\ln(4\cdot10^8)/\pi^2` nodes for the spectral
width :math:`\Delta=\ln p_{\max}-\ln p_{\min}` at kernel error 1e-8 (69 nodes at :math:`\Delta = 10`).
Measured crossover (``benchmarks/petz_bench.py`` section 4, spectral width 10): the quadrature wins from about
``d = 16`` for one and for four jumps (exact/quadrature 1.1-1.4 at d = 16, 12-39 at d = 64);
a certified low-rank (Nystroem) factorisation of the positive-definite kernel :math:`\varphi(s-t)` needs about
half as many terms (28 vs 69 at width 10); ``twirl_method="auto"`` takes it when ``d >= 16`` and
:math:`rJ\le 40d`. In a flow every
right-hand side builds a new generator, so the exact kernel is paid in full at every evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import finite_result
from ..linalg import kraus_from_superop, psd_power
from ..typing import PetzKind, TwirlMethod
from .lindbladian import Lindbladian, lindblad_superop
from .spectral import (
    REFERENCE_RANK_TOL,
    check_kind,
    from_eigenbasis,
    phi,
    rotated_coefficients,
    spectral_reference,
    to_eigenbasis,
    twirl_lowrank_factor,
    twirl_lowrank_rank,
    twirl_quadrature,
    twirled_coefficients,
)

__all__ = [
    "BackwardLindbladian",
    "petz_generator",
    "petz_generator_direct_superop",
    "check_forward",
]

_KERNEL_CACHE_MAX = 2**22  # cache the d^4 twirl kernel (64 MB complex) up to d = 45
#: Bound on the twirl kernel error of the theta quadrature and of the low-rank factorisation, relative to
#: max phi = 1 (issue 15 item 5).
TWIRL_QUADRATURE_TOL = 1e-8
#: The evaluations of the twirled jump kernel (``TwirlMethod`` in quantum_diffusion.typing).
TWIRL_METHODS = ("auto", "exact", "quadrature", "lowrank")
_CHOI_MAX_DIM = 64  # explicit twirled Choi jumps only up to d = 64 (a 4096 x 4096 eigh)


# --------------------------------------------------------------------------- the generator
def _commutes_with_reference(xp: np.ndarray, u: np.ndarray, tol: float = 1e-13) -> bool:
    """Return True if the eigenbasis operand ``xp`` has no entries between different eigenvalues of sigma."""
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
                 choi_tol: float = 1e-13, twirl_method: str = "auto") -> None:
        if twirl_method not in TWIRL_METHODS:
            raise ValueError(f"twirl_method must be one of {TWIRL_METHODS}, got {twirl_method!r}")
        self.kind, self.theta, self.p, self.V = kind, float(theta), p, v
        self.twirl_method = twirl_method
        self.dim = d = forward.dim
        self.forward = forward
        self._choi_tol = choi_tol
        x = np.log(p)
        self.u = 0.5 * (x[:, None] - x[None, :])
        hp = to_eigenbasis(forward.H, v)
        eu = np.exp(self.u)
        # P.11 in the eigenbasis: (L_b)_kl = e^{u_kl} (L^dag)_kl
        stack = forward.jump_stack()
        if v is not None:
            stack = v.conj().T @ stack @ v  # broadcast over jumps: one call instead of a Python loop
        lb0 = eu * stack.conj().transpose(0, 2, 1)
        flat = lb0.reshape(-1, d)  # rows (j, m): A~ = sum_j L_b^dag L_b = flat^dag flat (one BLAS call)
        a_tilde = flat.conj().T @ flat
        c_fwd = to_eigenbasis(forward.C, v)
        if kind == "twirled":
            c1, c2 = twirled_coefficients(self.u)
            self._lb_eig = lb0
            self._phi_u = phi(self.u)
            self._cb_eig = a_tilde * self._phi_u  # A~^phi (P.22)
        else:
            if self.theta == 0.0:  # P.12: c1 = c2 = -tanh(u/2)
                c1 = c2 = -np.tanh(0.5 * self.u)
                self._lb_eig, self._cb_eig = lb0, a_tilde
            else:
                c1, c2 = rotated_coefficients(self.u, self.theta)
                rot = np.exp(1j * self.theta * self.u)
                self._lb_eig = lb0 * rot  # P.18: e^{(1 + i theta) u_kl} (L^dag)_kl
                self._cb_eig = a_tilde * rot  # sum_j L_b^theta^dag L_b^theta = sigma^{i theta/2} A~ sigma^{-i theta/2}
        # not symmetrised: Hermiticity of H_b (= trace preservation) is a tested identity of P.12/P.19/P.21
        self._h_eig = -hp + 0.5j * (c1 * a_tilde + c2 * c_fwd)
        self._h: np.ndarray | None = None
        self._jumps_cache: list[np.ndarray] | None = None
        self._jump_kernel: np.ndarray | None = None
        self._lowrank: tuple[np.ndarray, float] | None = None

    def __repr__(self) -> str:  # noqa: D105
        return f"BackwardLindbladian(kind={self.kind!r}, theta={self.theta}, dim={self.dim})"

    # -- Lindblad-form data (computational basis, computed on first use)
    @property
    def H(self) -> np.ndarray:  # type: ignore[override]
        """Backward Hamiltonian :math:`H_b` (Hermitian, (d, d))."""
        if self._h is None:
            self._h = from_eigenbasis(self._h_eig, self.V)
        return self._h

    @property
    def jumps(self) -> list[np.ndarray]:  # type: ignore[override]
        """Backward jump operators (for the twirled kind: Choi-decomposition jumps P.23, O(d^6) on first use)."""
        if self._jumps_cache is None:
            if self.kind == "twirled":
                self._jumps_cache = self._choi_jumps()
            else:
                self._jumps_cache = [from_eigenbasis(b, self.V) for b in self._lb_eig]
        return self._jumps_cache

    @property
    def C(self) -> np.ndarray:  # type: ignore[override]
        r""":math:`\sum_\alpha K_\alpha^\dagger K_\alpha` (:math:`\tilde A`, rotated, or :math:`\tilde A^\varphi`)."""
        return from_eigenbasis(self._cb_eig, self.V)

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
        return [from_eigenbasis(k, self.V) for k in kraus_from_superop(self._jump_kernel_eig(), rtol=self._choi_tol)]

    def twirl_kernel_method(self) -> str:
        r"""Return the evaluation of the twirled jump kernel that :meth:`apply` uses for a generic operand.

        ``"auto"`` picks the certified low-rank factorisation when ``d >= 16`` and :math:`r\,J \le 40\,d` (``r``
        terms for the reference's spectral width at 1e-8, ``J`` jumps, dimension ``d``), and the exact kernel
        otherwise or once it has been built (a cached kernel costs one :math:`d^4` matvec per application). Cost
        law measured in ``benchmarks/petz_bench.py`` (section 4, one core, width 10): exact
        :math:`\approx 5\cdot10^{-8}\,d^4` s (dominated by the :math:`d^4` evaluations of :math:`\varphi`,
        nearly independent of ``J``), quadrature :math:`\approx 10^{-9}\,QJd^3` s, low rank the same per term
        with about half the terms; below ``d`` of about 16 fixed overheads dominate and all take about the same
        time (exact/quadrature measured 0.74-1.18 for d <= 12, 1.1-1.4 at d = 16, 2-3.7 at d = 24, 7-18 at
        d = 48, 12-39 at d = 64, for J = 4 and 1).

        Returns
        -------
        str
            ``"exact"``, ``"quadrature"`` or ``"lowrank"``.
        """
        if self.twirl_method != "auto":
            return self.twirl_method
        if self._jump_kernel is not None:
            return "exact"
        width = float(np.ptp(np.log(self.p)))
        rank = twirl_lowrank_rank(width, tol=TWIRL_QUADRATURE_TOL)
        return "lowrank" if self.dim >= 16 and rank * len(self._lb_eig) <= 40 * self.dim else "exact"

    def _lowrank_factor(self) -> np.ndarray | None:
        """Certified factor ``F`` (r, d, d) with ``phi(u_kl - u_mn) ~ sum_r F_r[k, l] F_r[m, n]`` (or None)."""
        if self._lowrank is None:
            f, bound = twirl_lowrank_factor(self.u.ravel(), tol=TWIRL_QUADRATURE_TOL)
            self._lowrank = (f.T.reshape(-1, self.dim, self.dim), bound)
        f, bound = self._lowrank
        return f if bound <= TWIRL_QUADRATURE_TOL else None

    def _apply_jump_tw_lowrank(self, xp: np.ndarray, f: np.ndarray) -> np.ndarray:
        r"""P.22 by the low-rank kernel: :math:`\sum_r F_r\circ\big[\sum_j L_j(F_r\circ X)L_j^\dagger\big]`.

        Cost :math:`2rJd^3` in two batched BLAS products (``r`` about half the quadrature's ``Q``).
        """
        d, lb = self.dim, self._lb_eig
        nj = lb.shape[0]
        z = f * xp[None]
        t1 = np.matmul(lb[None], z[:, None]).transpose(0, 2, 1, 3).reshape(f.shape[0], d, nj * d)
        y = t1 @ lb.conj().transpose(0, 2, 1).reshape(nj * d, d)
        return np.einsum("rkl,rkl->kl", f, y, optimize=True)

    def _apply_jump_tw_quadrature(self, xp: np.ndarray) -> np.ndarray:
        r"""P.22 by the theta quadrature: :math:`\sum_q w_q D_q\big[\sum_j L_j(D_q^*XD_q)L_j^\dagger\big]D_q^*`.

        :math:`D_q = \mathrm{diag}(e^{i\theta_q x_k/2})` carries the phases of
        :math:`e^{i\theta_q(u_{kl}-u_{mn})}`; the kernel error is at most ``TWIRL_QUADRATURE_TOL`` times
        :math:`\max\varphi = 1` (see :func:`~quantum_diffusion.petz.spectral.twirl_quadrature`). Cost
        :math:`2QJd^3` in two batched BLAS products.
        """
        d, lb = self.dim, self._lb_eig
        nj = lb.shape[0]
        x = np.log(self.p)
        theta, w = twirl_quadrature(float(np.ptp(x)), tol=TWIRL_QUADRATURE_TOL)
        e = np.exp(0.5j * theta[:, None] * x[None, :])  # (Q, d)
        z = xp[None] * e.conj()[:, :, None] * e[:, None, :]  # D_q^* X D_q
        t1 = np.matmul(lb[None], z[:, None]).transpose(0, 2, 1, 3).reshape(theta.size, d, nj * d)
        y = t1 @ lb.conj().transpose(0, 2, 1).reshape(nj * d, d)  # sum_j L_j Z L_j^dag, (Q, d, d)
        return np.einsum("q,qk,qkl,ql->kl", w, e, y, e.conj(), optimize=True)

    def _apply_jump_tw_eig(self, xp: np.ndarray) -> np.ndarray:
        lb = self._lb_eig
        if _commutes_with_reference(xp, self.u):
            # [X, sigma] = 0: P.22 reduces to a Hadamard product, O(d^3) per jump
            return np.einsum("jkm,mn,jln->kl", lb, xp, lb.conj(), optimize=True) * self._phi_u
        method = self.twirl_kernel_method()
        if method == "lowrank":
            f = self._lowrank_factor()
            if f is not None:
                return self._apply_jump_tw_lowrank(xp, f)
            method = "quadrature"  # certificate above tolerance (not seen in practice): fall back
        if method == "quadrature":
            return self._apply_jump_tw_quadrature(xp)
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
        return finite_result(self.apply_unchecked(self._check_operand(rho, "X")), "X", "B(X)")

    def apply_unchecked(self, x: np.ndarray) -> np.ndarray:
        """Apply to a validated complex ``(d, d)`` array (the flow's right-hand side; no checks).

        Parameters
        ----------
        x : numpy.ndarray, shape ``(d, d)``
            Operand.

        Returns
        -------
        numpy.ndarray, shape ``(d, d)``
        """
        xp = to_eigenbasis(x, self.V)
        h, a = self._h_eig, self._cb_eig
        if self.kind != "twirled":
            out = -1j * (h @ xp - xp @ h) - 0.5 * (a @ xp + xp @ a)
            for b in self._lb_eig:
                out += b @ xp @ b.conj().T
        else:
            out = -1j * (h @ xp - xp @ h) - 0.5 * (a @ xp + xp @ a) + self._apply_jump_tw_eig(xp)
        return from_eigenbasis(out, self.V)

    def adjoint_apply(self, y: Any) -> np.ndarray:
        """Heisenberg-picture action via the superoperator (small ``d``)."""
        y = self._check_operand(y, "Y")
        return finite_result((self.superop().conj().T @ y.reshape(-1)).reshape(self.dim, self.dim), "Y",
                             "B^dagger(Y)")

    def to_qutip(self) -> Any:
        """Return the qutip column-stacking Liouvillian of ``B`` (built from our superoperator)."""
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
    *,
    kind: PetzKind = "petz",
    theta: float = 0.0,
    rank_tol: float = REFERENCE_RANK_TOL,
    twirl_method: TwirlMethod = "auto",
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
    sigma : OperatorLike, shape ``(d, d)``
        Full-rank reference state (the state *before* the step); may be diagonal with degenerate eigenvalues.
    kind : {"petz", "rotated", "twirled"}
        Recovery family.
    theta : float
        Rotation angle (``kind="rotated"`` only; must be 0 otherwise).
    rank_tol : float
        Smallest admissible eigenvalue of ``sigma`` (see :func:`~quantum_diffusion.petz.spectral.spectral_reference`).
    twirl_method : {"auto", "exact", "quadrature", "lowrank"}
        Evaluation of the twirled jump kernel in :meth:`BackwardLindbladian.apply` (``kind="twirled"`` only):
        exact (P.22, :math:`O(Jd^4)`), theta quadrature (:math:`O(QJd^3)`), certified low-rank factorisation
        (:math:`O(rJd^3)`, :math:`r\approx Q/2`), both with kernel error <= 1e-8, or the faster (see
        :meth:`BackwardLindbladian.twirl_kernel_method`).

    Returns
    -------
    BackwardLindbladian

    Raises
    ------
    TypeError
        If ``lindbladian`` is not a forward :class:`Lindbladian`.
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
    check_forward(lindbladian)
    theta = check_kind(kind, theta)
    p, v = spectral_reference(sigma, lindbladian.dim, rank_tol=rank_tol)
    return BackwardLindbladian(lindbladian, p, v, kind, theta, twirl_method=twirl_method)


def check_forward(lindbladian: Any, name: str = "lindbladian") -> Lindbladian:
    """Check that ``lindbladian`` is a forward :class:`Lindbladian` (not a backward one) and return it.

    Parameters
    ----------
    lindbladian : Any
        Candidate.
    name : str
        Argument name used in error messages.

    Returns
    -------
    Lindbladian

    Raises
    ------
    TypeError
        Otherwise.
    """
    if not isinstance(lindbladian, Lindbladian) or isinstance(lindbladian, BackwardLindbladian):
        raise TypeError(f"{name} must be a forward Lindbladian, got {type(lindbladian).__name__}")
    return lindbladian


def petz_generator_direct_superop(lindbladian: Lindbladian, sigma: Any) -> np.ndarray:
    r"""Row-major superoperator of the Petz generator in the direct form (P.8)-(P.9), an independent check.

    .. math::

        \mathcal B(X) = \sigma^{1/2}\mathcal L^\dagger(\sigma^{-1/2}X\sigma^{-1/2})\sigma^{1/2}
            - S\sigma^{-1/2}X - X\sigma^{-1/2}S,\qquad S\sigma^{1/2}+\sigma^{1/2}S = \mathcal L(\sigma).

    Parameters
    ----------
    lindbladian : Lindbladian
        Forward generator, dimension ``d``.
    sigma : OperatorLike, shape ``(d, d)``
        Full-rank reference.

    Returns
    -------
    numpy.ndarray, shape ``(d^2, d^2)``

    Raises
    ------
    ValueError
        As :func:`petz_generator`.
    """
    check_forward(lindbladian)
    d = lindbladian.dim
    p, v = spectral_reference(sigma, d)
    v = np.eye(d) if v is None else v
    sig = (v * p) @ v.conj().T
    sq, isq = psd_power(sig, 0.5), psd_power(sig, -0.5)
    lsig = v.conj().T @ lindbladian.apply(sig) @ v
    s = v @ (lsig / (np.sqrt(p)[:, None] + np.sqrt(p)[None, :])) @ v.conj().T
    ladj = lindbladian.superop().conj().T
    eye = np.eye(d)
    kr = np.kron
    return (kr(sq, sq.T) @ ladj @ kr(isq, isq.T) - kr(s @ isq, eye) - kr(eye, (isq @ s).T))
