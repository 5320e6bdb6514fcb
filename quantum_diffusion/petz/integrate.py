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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

from .._threads import small_blas
from .._validation import as_array, check_density_matrix
from ..info import partial_trace
from .generators import BackwardLindbladian, petz_generator
from .lindbladian import Lindbladian
from .local import LocalGenerator, embed_lindbladian, ring_neighbourhood

__all__ = ["recover", "reference_path"]


def _running_generator(forward: Lindbladian, sig: np.ndarray, kind: str, theta: float) -> BackwardLindbladian:
    """Generator for a reference produced by our own forward solve: one ``eigh``, no re-validation."""
    if not np.any(sig - np.diag(np.diag(sig))):  # diagonal reference (classical path): keep the basis exactly
        p, v = np.diag(sig).real.copy(), None
    else:
        p, v = np.linalg.eigh(sig)
    if p.min() <= 0.0:
        raise RuntimeError(
            f"the running reference lost full rank (smallest eigenvalue {p.min():.3e}); the backward generator "
            "needs sigma(t)^(-1/2): tighten rtol/atol or shorten T"
        )
    return BackwardLindbladian(forward, p, v, kind, theta)


def _solve(rhs: Callable[[float, np.ndarray], np.ndarray], y0: np.ndarray, t_span: tuple[float, float],
           method: str, rtol: float, atol: float, dense: bool = False) -> Any:
    sol = solve_ivp(rhs, t_span, y0.astype(complex), method=method, rtol=rtol, atol=atol, dense_output=dense)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed (status {sol.status}): {sol.message}")
    return sol


def reference_path(forward: Lindbladian, sigma_0: Any, T: float, *, method: str = "DOP853",
                   rtol: float = 1e-10, atol: float = 1e-12) -> Callable[[float], np.ndarray]:
    r"""The running reference :math:`t\mapsto\sigma(t) = e^{t\mathcal L}\sigma_0` on ``[0, T]`` (dense output).

    Returns a callable ``t -> ndarray (d, d)`` (Hermitised).

    Raises
    ------
    ValueError
        If ``sigma_0`` is not a density matrix of the right dimension or ``T`` is not positive.
    RuntimeError
        If the ODE solver fails (with its status).
    """
    d = forward.dim
    s0 = check_density_matrix(sigma_0, "sigma_0", dim=d)
    sol = _solve(lambda t, y: forward.apply(y.reshape(d, d)).reshape(-1), s0.reshape(-1), (0.0, float(T)),
                 method, rtol, atol, dense=True)

    def sigma_at(t: float) -> np.ndarray:
        m = sol.sol(min(max(t, 0.0), float(T))).reshape(d, d)
        return 0.5 * (m + m.conj().T)

    return sigma_at


def recover(
    forward: Lindbladian,
    rho_T: Any,
    sigma_0: Any,
    T: float,
    kind: str = "petz",
    theta: float = 0.0,
    local_radius: int | None = None,
    *,
    dims: Sequence[int] | None = None,
    region: Sequence[int] | None = None,
    method: str = "RK45",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    return_solution: bool = False,
    reference: Callable[[float], np.ndarray] | None = None,
    picture: str = "schrodinger",
) -> np.ndarray | tuple[np.ndarray, Any]:
    r"""Integrate the backward equation :math:`d\rho/dt = -\mathcal B_{\sigma(t)}(\rho)` from ``T`` to 0.

    Parameters
    ----------
    forward : Lindbladian
        Global forward generator (``local_radius=None``) or, with ``local_radius``, the generator acting on
        ``region`` only (kron order of ``sorted(region)``).
    rho_T : array or Qobj (D, D)
        State to denoise at time ``T``.
    sigma_0 : array or Qobj (D, D)
        Full-rank reference at ``t = 0``; the running reference is :math:`\sigma(t) = e^{t\mathcal L}\sigma_0`
        (locally: :math:`\sigma_{AB}(t) = e^{t\mathcal L_A}\mathrm{tr}_C\sigma_0`, exact since the channel
        acts on ``A`` only).
    T : float > 0
    kind, theta : as :func:`~quantum_diffusion.petz.petz_generator`
    local_radius : int, optional
        Ring radius ``r`` of the neighbourhood ``AB = ball(region, r)`` (requires ``dims`` and ``region``).
    method, rtol, atol : passed to ``scipy.integrate.solve_ivp`` (the reference uses DOP853 at
        ``rtol/10``).
    return_solution : also return the backward ``solve_ivp`` result (in ``s = T - t``).
    reference : callable ``t -> sigma(t)``, optional
        A precomputed running reference (e.g. from :func:`reference_path`, reused over many samples); on the
        neighbourhood ``AB`` for the local version. Default: solved here from ``sigma_0``.
    picture : ``"schrodinger"`` (default) or ``"heisenberg"``
        ``"heisenberg"`` (plain Petz kind, global only) integrates the same backward equation after the change
        of variables :math:`\rho(t) = \sigma(t)^{1/2} Y(t) \sigma(t)^{1/2}`, under which it becomes the
        Heisenberg equation :math:`dY/dt = -\mathcal L^\dagger(Y)` with
        :math:`Y(T) = \sigma(T)^{-1/2}\rho_T\sigma(T)^{-1/2}`: no running reference and no generator builds,
        so it costs about one forward solve.  (Only the plain Petz flow has this form; it is the differential
        version of compositionality, P.15.)

    Returns
    -------
    ndarray (D, D): :math:`\rho(0)`.

    Raises
    ------
    ValueError
        Bad states (non-Hermitian, unnormalised, non-PSD), rank-deficient reference, mismatched dimensions,
        ``T <= 0``, or missing ``dims``/``region`` for the local version.
    RuntimeError
        If an ODE solve fails (status reported).
    """
    if picture not in ("schrodinger", "heisenberg"):
        raise ValueError(f"picture must be 'schrodinger' or 'heisenberg', got {picture!r}")
    if picture == "heisenberg":
        if kind != "petz" or local_radius is not None or reference is not None:
            raise ValueError("picture='heisenberg' exists for the global plain Petz flow only (kind='petz', "
                             "no local_radius, no precomputed reference)")
        with small_blas():
            return _recover_heisenberg(forward, rho_T, sigma_0, T, method, rtol, atol, return_solution)
    with small_blas():  # many small dense ops: the reference solve and every right-hand side
        return _recover(forward, rho_T, sigma_0, T, kind, theta, local_radius, dims, region, method, rtol, atol,
                        return_solution, reference)


def _recover(forward: Lindbladian, rho_T: Any, sigma_0: Any, T: float, kind: str, theta: float,
             local_radius: int | None, dims: Sequence[int] | None, region: Sequence[int] | None, method: str,
             rtol: float, atol: float, return_solution: bool,
             reference: Callable[[float], np.ndarray] | None) -> np.ndarray | tuple[np.ndarray, Any]:
    T = float(T)
    if not np.isfinite(T) or T <= 0:
        raise ValueError(f"T must be a positive number, got {T!r}")
    if local_radius is None:
        d = forward.dim
        rho = check_density_matrix(rho_T, "rho_T", dim=d)
        s0 = check_density_matrix(sigma_0, "sigma_0", dim=d)
        petz_generator(forward, s0, kind, theta)  # validates kind/theta/rank of the reference up front
        sig = reference or reference_path(forward, s0, T, rtol=rtol / 10, atol=atol / 10)

        def apply(s: float, x: np.ndarray) -> np.ndarray:
            return _running_generator(forward, sig(T - s), kind, theta)._apply_unchecked(x)
    else:
        if dims is None or region is None:
            raise ValueError("local recovery needs the subsystem dims and the region the forward generator acts on")
        dims = [int(x) for x in dims]
        d = int(np.prod(dims))
        rho = check_density_matrix(rho_T, "rho_T", dim=d)
        s0 = check_density_matrix(sigma_0, "sigma_0", dim=d)
        sites = ring_neighbourhood(region, local_radius, len(dims))
        fwd_ab = embed_lindbladian(forward, dims, region, sites)
        s0_ab = partial_trace(s0, dims, sites)
        petz_generator(fwd_ab, s0_ab, kind, theta)
        sig_ab = reference or reference_path(fwd_ab, s0_ab, T, rtol=rtol / 10, atol=atol / 10)

        def apply(s: float, x: np.ndarray) -> np.ndarray:
            return LocalGenerator(_running_generator(fwd_ab, sig_ab(T - s), kind, theta), dims, sites).apply(x)

    def rhs(s: float, y: np.ndarray) -> np.ndarray:
        return apply(s, y.reshape(d, d)).reshape(-1)

    sol = _solve(rhs, as_array(rho, "rho_T", dtype=complex).reshape(-1), (0.0, T), method, rtol, atol)
    out = sol.y[:, -1].reshape(d, d)
    out = 0.5 * (out + out.conj().T)
    return (out, sol) if return_solution else out


def _psd_power(s: np.ndarray, a: float) -> np.ndarray:
    """``s**a`` for a full-rank Hermitian positive ``s`` via its eigendecomposition."""
    w, v = np.linalg.eigh(s)
    if w[0] <= 0:
        raise ValueError(f"the reference became rank-deficient (smallest eigenvalue {w[0]:.3e}); "
                         "the Petz flow needs a full-rank reference")
    return (v * w**a) @ v.conj().T


def _recover_heisenberg(forward: Lindbladian, rho_T: Any, sigma_0: Any, T: float, method: str, rtol: float,
                        atol: float, return_solution: bool) -> np.ndarray | tuple[np.ndarray, Any]:
    T = float(T)
    if not np.isfinite(T) or T <= 0:
        raise ValueError(f"T must be a positive number, got {T!r}")
    d = forward.dim
    rho = check_density_matrix(rho_T, "rho_T", dim=d)
    s0 = check_density_matrix(sigma_0, "sigma_0", dim=d, full_rank=True)
    sig_T = _solve(lambda t, y: forward.apply(y.reshape(d, d)).reshape(-1), s0.reshape(-1), (0.0, T),
                   "DOP853", rtol / 10, atol / 10).y[:, -1].reshape(d, d)
    sig_T = 0.5 * (sig_T + sig_T.conj().T)
    inv_half = _psd_power(sig_T, -0.5)
    y_T = inv_half @ rho @ inv_half
    # s = T - t:  dY/ds = +L^dagger(Y)
    sol = _solve(lambda s, y: forward.adjoint_apply(y.reshape(d, d)).reshape(-1), y_T.reshape(-1), (0.0, T),
                 method, rtol, atol)
    half = _psd_power(s0, 0.5)
    out = half @ sol.y[:, -1].reshape(d, d) @ half
    out = 0.5 * (out + out.conj().T)
    return (out, sol) if return_solution else out
