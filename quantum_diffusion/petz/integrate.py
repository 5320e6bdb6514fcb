r"""Backward (denoising) integration with a running reference state.

.. math::

    \frac{d\rho}{dt} = -\mathcal B_{\sigma(t)}(\rho)\ \ \text{from } t=T \text{ down to } 0,\qquad
    \sigma(t) = e^{t\mathcal L}(\sigma_0),

i.e. :math:`d\rho/ds = \mathcal B_{\sigma(T-s)}(\rho)` with :math:`s = T-t` (see quantum_diffusion.conventions,
"Time directions"). The reference is obtained from a forward ``solve_ivp`` run with dense output, so the
only error is the integrator tolerance. For the plain Petz kind the result equals the one-shot Petz map of
the whole channel (P.15). Both runs use ``scipy.integrate.solve_ivp`` on the (d^2,) vectorised matrices with
matrix-free right-hand sides (never a d^2 x d^2 matrix), so larger problems are limited by O(d^3) work per
evaluation, not memory. With ``local_radius`` the generator is the local one (P.24) built from the reduced
reference on a ring neighbourhood and acting as the identity elsewhere.

The Heisenberg picture (``picture="heisenberg"``, plain Petz and rotated kinds, global) uses compositionality
(P.15 and its rotated form, petz.md section 4): the flow equals the one-shot map of the whole channel,

.. math::

    \rho(0) = \sigma_0^{\frac{1+i\theta}2}\,Y(0)\,\sigma_0^{\frac{1-i\theta}2},\qquad
    \frac{dY}{ds} = \mathcal L^\dagger(Y),\quad
    Y(s=0) = \sigma_T^{-\frac{1+i\theta}2}\,\rho_T\,\sigma_T^{-\frac{1-i\theta}2},

i.e. one forward solve (for :math:`\sigma_T`) and one adjoint solve, with no generator built at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

from .._threads import small_blas
from .._validation import as_operator, check_density_matrix
from ..linalg import hermitian_part
from ..subsystems import partial_trace, ring_neighbourhood
from ..typing import OperatorLike, PetzKind, Picture, TwirlMethod
from .generators import TWIRL_METHODS, BackwardLindbladian, check_forward
from .lindbladian import Lindbladian, lindblad_apply
from .local import LocalGenerator, embed_lindbladian
from .spectral import check_kind, complex_power, spectral_reference

__all__ = ["recover", "solve_recovery", "RecoverySolution", "reference_path", "ReferencePath"]

_TIME_SLACK = 1e-12  # relative slack on [0, T] for the integrator's own rounding (not a clamp of user times)


def _running_generator(forward: Lindbladian, sig: np.ndarray, kind: str, theta: float,
                       twirl_method: str = "auto") -> BackwardLindbladian:
    """Build the generator for a reference produced by our own forward solve: one ``eigh``, no re-validation."""
    if not np.any(sig - np.diag(np.diag(sig))):  # diagonal reference (classical path): keep the basis exactly
        p, v = np.diag(sig).real.copy(), None
    else:
        p, v = np.linalg.eigh(sig)
    if p.min() <= 0.0:
        raise RuntimeError(
            f"the running reference lost full rank (smallest eigenvalue {p.min():.3e}); the backward generator "
            "needs sigma(t)^(-1/2): tighten rtol/atol or shorten T"
        )
    return BackwardLindbladian(forward, p, v, kind, theta, twirl_method=twirl_method)


def _solve(rhs: Any, y0: np.ndarray, t_span: tuple[float, float], method: str, rtol: float, atol: float,
           dense: bool = False) -> Any:
    sol = solve_ivp(rhs, t_span, y0.astype(complex), method=method, rtol=rtol, atol=atol, dense_output=dense)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed (status {sol.status}): {sol.message}")
    return sol


def _check_T(T: Any) -> float:
    try:
        t = float(T)
    except (TypeError, ValueError) as err:
        raise ValueError(f"T must be a positive number, got {T!r}") from err
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"T must be a positive finite number, got {T!r}")
    return t


def _check_tolerances(rtol: float, atol: float) -> None:
    for name, val in (("rtol", rtol), ("atol", atol)):
        if not np.isfinite(val) or val <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {val!r}")


class ReferencePath:
    r"""The running reference :math:`t\mapsto\sigma(t) = e^{t\mathcal L}\sigma_0` on ``[0, T]`` (dense output).

    Built by :func:`reference_path`; call it as ``ref(t)`` for ``0 <= t <= T``. It records what it was built
    for (``forward``, ``sigma_0``, ``T``), so :func:`recover` can refuse a reference built for another
    problem instead of silently using it.

    Attributes
    ----------
    forward : Lindbladian
        The forward generator.
    sigma_0 : numpy.ndarray, shape ``(d, d)``
        The initial reference (read-only copy).
    T : float
        The final time.
    """

    def __init__(self, forward: Lindbladian, sigma_0: np.ndarray, T: float, sol: Any) -> None:
        self.forward, self.T, self._sol = forward, float(T), sol
        self.sigma_0 = np.array(sigma_0, dtype=complex)
        self.sigma_0.setflags(write=False)

    def __repr__(self) -> str:  # noqa: D105
        return f"ReferencePath(dim={self.forward.dim}, T={self.T})"

    def __call__(self, t: float) -> np.ndarray:
        r"""Return :math:`\sigma(t)` (Hermitised).

        Parameters
        ----------
        t : float
            Time in ``[0, T]``.

        Returns
        -------
        numpy.ndarray, shape ``(d, d)``

        Raises
        ------
        ValueError
            If ``t`` is not finite or outside ``[0, T]`` (no silent clamping).
        """
        t = float(t)
        slack = _TIME_SLACK * max(1.0, self.T)
        if not np.isfinite(t) or t < -slack or t > self.T + slack:
            raise ValueError(f"t = {t!r} is outside the reference's time range [0, {self.T}]")
        d = self.forward.dim
        return hermitian_part(self._sol.sol(min(max(t, 0.0), self.T)).reshape(d, d))

    def check_matches(self, forward: Lindbladian, sigma_0: np.ndarray, T: float) -> None:
        """Raise unless this reference was built for ``forward``, ``sigma_0`` and ``T``.

        Parameters
        ----------
        forward : Lindbladian
            Forward generator of the problem.
        sigma_0 : numpy.ndarray, shape ``(d, d)``
            Initial reference of the problem.
        T : float
            Final time of the problem.

        Raises
        ------
        ValueError
            Naming the mismatch.
        """
        if abs(self.T - T) > _TIME_SLACK * max(1.0, T):
            raise ValueError(f"reference was built for T = {self.T}, but recover was called with T = {T}")
        if self.sigma_0.shape != sigma_0.shape:
            raise ValueError(f"reference was built for a sigma_0 of shape {self.sigma_0.shape}, got {sigma_0.shape}")
        diff = float(np.max(np.abs(self.sigma_0 - sigma_0)))
        if diff > 1e-12:
            raise ValueError(f"reference was built for another sigma_0 (max entry difference {diff:.3e})")
        f = self.forward
        if f is forward:
            return
        if f.dim != forward.dim:
            raise ValueError("reference was built for another forward Lindbladian (other dimension)")
        # compare the two generators' action on a fixed random operand: O(d^3), no d^2 x d^2 superoperators
        rng = np.random.default_rng(0)
        x = rng.normal(size=(f.dim, f.dim)) + 1j * rng.normal(size=(f.dim, f.dim))
        a, b = f.apply(x), forward.apply(x)
        if np.max(np.abs(a - b)) > 1e-12 * max(1.0, float(np.max(np.abs(b)))):
            raise ValueError("reference was built for another forward Lindbladian")


def _forward_rhs(forward: Lindbladian, adjoint: bool = False) -> Any:
    """Right-hand side ``y -> vec(L(Y))`` (or ``L^dagger``) on validated data: no per-call input checks."""
    d, c = forward.dim, forward.C
    if adjoint:  # L^dag(Y) = -i[-H, Y] + sum_j L_j^dag Y L_j - {C, Y}/2, with C = sum_j L_j^dag L_j kept explicit
        h, jumps = -forward.H, [lj.conj().T for lj in forward.jumps]
    else:
        h, jumps = forward.H, forward.jumps
    return lambda t, y: lindblad_apply(h, jumps, y.reshape(d, d), c).reshape(-1)


def _reference_path(forward: Lindbladian, s0: np.ndarray, T: float, rtol: float, atol: float) -> ReferencePath:
    sol = _solve(_forward_rhs(forward), s0.reshape(-1), (0.0, T), "DOP853", rtol, atol, dense=True)
    return ReferencePath(forward, s0, T, sol)


def reference_path(forward: Lindbladian, sigma_0: OperatorLike, T: float, *, rtol: float = 1e-10,
                   atol: float = 1e-12) -> ReferencePath:
    r"""Solve for the running reference :math:`t\mapsto\sigma(t) = e^{t\mathcal L}\sigma_0` on ``[0, T]``.

    DOP853 with dense output.

    Parameters
    ----------
    forward : Lindbladian
        Forward generator, dimension ``d``.
    sigma_0 : OperatorLike, shape ``(d, d)``
        Full-rank initial reference.
    T : float
        Final time, ``> 0``.
    rtol, atol : float
        ``solve_ivp`` tolerances.

    Returns
    -------
    ReferencePath
        Callable ``t -> sigma(t)`` on ``[0, T]``; pass it to :func:`recover` as ``reference=`` for the same
        ``forward``, ``sigma_0`` and ``T``.

    Raises
    ------
    ValueError
        If ``sigma_0`` is not a full-rank density matrix of the right dimension or ``T`` is not positive.
    RuntimeError
        If the ODE solver fails (with its status).
    """
    check_forward(forward, "forward")
    T = _check_T(T)
    _check_tolerances(rtol, atol)
    s0 = as_operator(sigma_0, "sigma_0", dim=forward.dim)
    spectral_reference(s0, forward.dim, name="sigma_0")  # validates (full-rank density matrix)
    with small_blas():
        return _reference_path(forward, s0, T, rtol, atol)


@dataclass(frozen=True)
class RecoverySolution:
    r"""Result of :func:`solve_recovery`.

    Attributes
    ----------
    state : numpy.ndarray, shape ``(D, D)``
        The recovered state :math:`\rho(0)` (Hermitised).
    n_rhs : int
        Right-hand-side evaluations of the backward (or adjoint) solve.
    kind : str
        Recovery family.
    theta : float
        Rotation angle.
    picture : str
        Integration picture used.
    """

    state: np.ndarray
    n_rhs: int
    kind: str
    theta: float
    picture: str


def recover(
    forward: Lindbladian,
    rho_T: OperatorLike,
    sigma_0: OperatorLike,
    T: float,
    *,
    kind: PetzKind = "petz",
    theta: float = 0.0,
    local_radius: int | None = None,
    dims: Sequence[int] | None = None,
    region: Sequence[int] | None = None,
    method: str = "RK45",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    reference: ReferencePath | None = None,
    picture: Picture | None = None,
    twirl_method: TwirlMethod = "auto",
) -> np.ndarray:
    r"""Integrate the backward equation :math:`d\rho/dt = -\mathcal B_{\sigma(t)}(\rho)` from ``T`` to 0.

    Same arguments as :func:`solve_recovery`, which also reports solver statistics.

    Parameters
    ----------
    forward : Lindbladian
        Global forward generator (``local_radius=None``) or, with ``local_radius``, the generator acting on
        ``region`` only (kron order of ``sorted(region)``).
    rho_T : OperatorLike, shape ``(D, D)``
        State to denoise at time ``T``.
    sigma_0 : OperatorLike, shape ``(D, D)``
        Full-rank reference at ``t = 0``.
    T : float
        Final time, ``> 0``.
    kind : {"petz", "rotated", "twirled"}
        Recovery family.
    theta : float
        Rotation angle (``kind="rotated"`` only).
    local_radius : int, optional
        Ring radius of the neighbourhood (requires ``dims`` and ``region``).
    dims : sequence of int, optional
        Subsystem dimensions (local version).
    region : sequence of int, optional
        Sites the forward generator acts on (local version).
    method : str
        ``solve_ivp`` method of the backward solve.
    rtol, atol : float
        ``solve_ivp`` tolerances (the reference uses DOP853 at a tenth of them).
    reference : ReferencePath, optional
        Precomputed running reference from :func:`reference_path` for the same problem.
    picture : {"schrodinger", "heisenberg"} or None
        See :func:`solve_recovery` (default: the one-shot Heisenberg form where it exists).
    twirl_method : {"auto", "exact", "quadrature", "lowrank"}
        Twirled kernel evaluation (see :func:`~quantum_diffusion.petz.petz_generator`).

    Returns
    -------
    numpy.ndarray, shape ``(D, D)``
        :math:`\rho(0)`.

    Raises
    ------
    ValueError
        As :func:`solve_recovery`.
    RuntimeError
        If an ODE solve fails (status reported).

    Examples
    --------
    >>> import numpy as np
    >>> from quantum_diffusion.petz import Lindbladian, recover
    >>> L = Lindbladian(np.zeros((2, 2)), [np.array([[0, 0.7], [0, 0]])])
    >>> s0 = np.diag([0.4, 0.6])
    >>> sT = L.evolve(s0, 0.5)
    >>> bool(np.allclose(recover(L, sT, s0, 0.5), s0, atol=1e-6))
    True
    """
    return solve_recovery(forward, rho_T, sigma_0, T, kind=kind, theta=theta, local_radius=local_radius, dims=dims,
                          region=region, method=method, rtol=rtol, atol=atol, reference=reference,
                          picture=picture, twirl_method=twirl_method).state


def solve_recovery(
    forward: Lindbladian,
    rho_T: OperatorLike,
    sigma_0: OperatorLike,
    T: float,
    *,
    kind: PetzKind = "petz",
    theta: float = 0.0,
    local_radius: int | None = None,
    dims: Sequence[int] | None = None,
    region: Sequence[int] | None = None,
    method: str = "RK45",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    reference: ReferencePath | None = None,
    picture: Picture | None = None,
    twirl_method: TwirlMethod = "auto",
) -> RecoverySolution:
    r"""Integrate the backward equation from ``T`` to 0 and report the solve (see :func:`recover`).

    .. math::

        \frac{d\rho}{ds} = \mathcal B_{\sigma(T-s)}(\rho),\quad s = T - t,\qquad
        \sigma(t) = e^{t\mathcal L}\sigma_0

    (locally :math:`\sigma_{AB}(t) = e^{t\mathcal L_A}\mathrm{tr}_C\sigma_0`, exact since the channel acts on
    ``A`` only).

    Parameters
    ----------
    forward : Lindbladian
        As :func:`recover`.
    rho_T : OperatorLike, shape ``(D, D)``
        As :func:`recover`.
    sigma_0 : OperatorLike, shape ``(D, D)``
        As :func:`recover`.
    T : float
        As :func:`recover`.
    kind : {"petz", "rotated", "twirled"}
        As :func:`recover`.
    theta : float
        As :func:`recover`.
    local_radius : int, optional
        As :func:`recover`.
    dims : sequence of int, optional
        As :func:`recover`.
    region : sequence of int, optional
        As :func:`recover`.
    method : str
        As :func:`recover`.
    rtol, atol : float
        As :func:`recover`.
    reference : ReferencePath, optional
        As :func:`recover`; it must have been built for the same ``forward`` (on ``AB`` for the local version),
        ``sigma_0`` (reduced to ``AB``) and ``T``.
    picture : {"schrodinger", "heisenberg"} or None
        ``"schrodinger"`` integrates the backward generator with its running reference. ``"heisenberg"``
        (global Petz and rotated kinds) uses the one-shot form of the same flow (module docstring): one forward
        and one adjoint solve, no running reference and no generator builds (equal to the Schroedinger flow to
        integrator tolerance; about 2x the forward solve instead of 6-15x at 6 qubits). ``None`` (default):
        ``"heisenberg"`` where it exists (global, kind "petz" or "rotated", no ``reference``), else
        ``"schrodinger"``.
    twirl_method : {"auto", "exact", "quadrature", "lowrank"}
        Twirled kernel evaluation at every right-hand side (see :func:`~quantum_diffusion.petz.petz_generator`).

    Returns
    -------
    RecoverySolution

    Raises
    ------
    TypeError
        If ``forward`` is not a forward Lindbladian or ``reference`` is not a :class:`ReferencePath`.
    ValueError
        Bad states (non-Hermitian, unnormalised, non-PSD), rank-deficient reference, mismatched dimensions,
        ``T <= 0``, a ``reference`` built for another problem, missing ``dims``/``region`` for the local version,
        or a picture/kind combination without a Heisenberg form.
    RuntimeError
        If an ODE solve fails (status reported).
    """
    check_forward(forward, "forward")
    theta = check_kind(kind, theta)
    if picture is None:
        one_shot = kind != "twirled" and local_radius is None and reference is None
        picture = "heisenberg" if one_shot else "schrodinger"
    if picture not in ("schrodinger", "heisenberg"):
        raise ValueError(f"picture must be 'schrodinger', 'heisenberg' or None, got {picture!r}")
    if twirl_method not in TWIRL_METHODS:
        raise ValueError(f"twirl_method must be one of {TWIRL_METHODS}, got {twirl_method!r}")
    T = _check_T(T)
    _check_tolerances(rtol, atol)
    if reference is not None and not isinstance(reference, ReferencePath):
        raise TypeError(f"reference must be a ReferencePath from reference_path(), got {type(reference).__name__}")
    if picture == "heisenberg" and (kind == "twirled" or local_radius is not None or reference is not None):
        raise ValueError("picture='heisenberg' exists for the global Petz and rotated flows only (kind='petz' or "
                         "'rotated', no local_radius, no precomputed reference): the twirled flow is not "
                         "compositional")
    if local_radius is None:
        d = forward.dim
        rho = check_density_matrix(rho_T, "rho_T", dim=d)
        s0 = as_operator(sigma_0, "sigma_0", dim=d)
        p0, v0 = spectral_reference(s0, d, name="sigma_0")  # the one validation of sigma_0
        with small_blas():
            if picture == "heisenberg":
                return _recover_heisenberg(forward, rho, s0, p0, v0, T, kind, theta, method, rtol, atol)
            if reference is not None:
                reference.check_matches(forward, s0, T)
            sig = reference or _reference_path(forward, s0, T, rtol / 10, atol / 10)

            def apply(s: float, x: np.ndarray) -> np.ndarray:
                return _running_generator(forward, sig(T - s), kind, theta, twirl_method).apply_unchecked(x)

            return _integrate(apply, rho, T, kind, theta, method, rtol, atol)
    if dims is None or region is None:
        raise ValueError("local recovery needs the subsystem dims and the region the forward generator acts on")
    dims = [int(x) for x in dims]
    d = int(np.prod(dims))
    rho = check_density_matrix(rho_T, "rho_T", dim=d)
    s0 = check_density_matrix(sigma_0, "sigma_0", dim=d)  # the full state; its reduction is checked below
    sites = ring_neighbourhood(region, local_radius, len(dims))
    fwd_ab = embed_lindbladian(forward, dims, region, sites)
    s0_ab = partial_trace(s0, dims, sites)
    spectral_reference(s0_ab, fwd_ab.dim, name="sigma_AB")
    with small_blas():
        if reference is not None:
            reference.check_matches(fwd_ab, s0_ab, T)
        sig_ab = reference or _reference_path(fwd_ab, s0_ab, T, rtol / 10, atol / 10)

        def apply(s: float, x: np.ndarray) -> np.ndarray:
            return LocalGenerator(_running_generator(fwd_ab, sig_ab(T - s), kind, theta, twirl_method), dims,
                                  sites).apply_unchecked(x)

        return _integrate(apply, rho, T, kind, theta, method, rtol, atol)


def _integrate(apply: Any, rho: np.ndarray, T: float, kind: str, theta: float, method: str, rtol: float,
               atol: float) -> RecoverySolution:
    d = rho.shape[0]

    def rhs(s: float, y: np.ndarray) -> np.ndarray:
        return apply(s, y.reshape(d, d)).reshape(-1)

    sol = _solve(rhs, rho.reshape(-1), (0.0, T), method, rtol, atol)
    out = hermitian_part(sol.y[:, -1].reshape(d, d))
    return RecoverySolution(out, int(sol.nfev), kind, theta, "schrodinger")


def _recover_heisenberg(forward: Lindbladian, rho: np.ndarray, s0: np.ndarray, p0: np.ndarray,
                        v0: np.ndarray | None, T: float, kind: str, theta: float, method: str, rtol: float,
                        atol: float) -> RecoverySolution:
    d = forward.dim
    # sigma_T with the same integrator and tolerances as the adjoint solve: the result is accurate to that level
    sig_T = hermitian_part(_solve(_forward_rhs(forward), s0.reshape(-1), (0.0, T), method, rtol,
                                  atol).y[:, -1].reshape(d, d))
    p_T, v_T = np.linalg.eigh(sig_T)
    if p_T[0] <= 0:
        raise RuntimeError(f"the reference became rank-deficient (smallest eigenvalue {p_T[0]:.3e}); "
                           "the Petz flow needs a full-rank reference")
    a = 0.5 * (1.0 + 1j * theta)
    left_T = complex_power(p_T, v_T, -a)
    y_T = left_T @ rho @ left_T.conj().T  # sigma_T^{-a} rho sigma_T^{-conj(a)}
    # s = T - t:  dY/ds = +L^dagger(Y)
    sol = _solve(_forward_rhs(forward, adjoint=True), y_T.reshape(-1), (0.0, T), method, rtol, atol)
    left_0 = complex_power(p0, v0, a)
    out = hermitian_part(left_0 @ sol.y[:, -1].reshape(d, d) @ left_0.conj().T)
    return RecoverySolution(out, int(sol.nfev), kind, theta, "heisenberg")
