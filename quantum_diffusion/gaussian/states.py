r"""Gaussian states in HHW conventions: validation, Williamson form, entropy, fidelity, Fisher information.

All covariances are HHW covariances (xpxp ordering, vacuum = identity, ``gamma + i Omega >= 0``);
see :mod:`quantum_diffusion.conventions`.  Entropies are in nats.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import schur, sqrtm

from .._validation import as_array, check_square
from ..conventions import omega

__all__ = [
    "symplectic_form",
    "real_matrix",
    "check_nu_r",
    "check_covariance",
    "n_modes_of",
    "symplectic_eigenvalues",
    "williamson",
    "squeezed_thermal",
    "tmsv",
    "thermal",
    "entropy",
    "fidelity_squared",
    "fidelity_squared_one_mode",
    "PURE_TOL",
    "sld_fisher",
    "bkm_fisher",
    "c_geom",
]


@lru_cache(maxsize=16)
def _cached_omega(n: int) -> np.ndarray:
    om = omega(n)
    om.setflags(write=False)
    return om


def symplectic_form(n: int) -> np.ndarray:
    r"""Symplectic form :math:`\Omega = \oplus_{j=1}^n [[0, 1], [-1, 0]]` (xpxp), shape (2n, 2n), read-only.

    Cached (it is used in ODE right-hand sides); see :func:`quantum_diffusion.conventions.omega`.

    Parameters
    ----------
    n : int
        Number of modes (positive).

    Returns
    -------
    numpy.ndarray, shape (2n, 2n)
        Read-only array; copy it before writing.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"number of modes n must be a positive integer, got {n!r}")
    return _cached_omega(int(n))


def n_modes_of(mat: np.ndarray, name: str = "matrix") -> int:
    """Return the number of modes ``n`` of a square ``(2n, 2n)`` phase-space matrix.

    Raises
    ------
    ValueError
        If ``mat`` is not square or its size is odd.
    """
    check_square(mat, name)
    if mat.shape[0] % 2 or mat.shape[0] == 0:
        raise ValueError(f"{name} must have even shape (2n, 2n), got {mat.shape}")
    return mat.shape[0] // 2


def real_matrix(x: Any, name: str, atol: float = 1e-12) -> np.ndarray:
    """Convert ``x`` (array_like or ``Qobj``) to a finite real float array, naming ``name`` in errors.

    Parameters
    ----------
    x : array_like or qutip.Qobj
        Input.
    name : str
        Argument name for error messages.
    atol : float
        Largest imaginary part tolerated (dropped).

    Returns
    -------
    numpy.ndarray
        Real float array.

    Raises
    ------
    ValueError
        On NaN/inf or imaginary parts above ``atol``.
    """
    arr = as_array(x, name)
    if np.iscomplexobj(arr):
        if np.max(np.abs(arr.imag), initial=0.0) > atol:
            raise ValueError(f"{name} must be real, got max |imag| = {np.max(np.abs(arr.imag)):.3e}")
        arr = arr.real
    return np.asarray(arr, dtype=float)


def check_covariance(
    gamma: Any, name: str = "gamma", *, n_modes: int | None = None, atol: float = 1e-9
) -> np.ndarray:
    r"""Validate an HHW covariance matrix and return it as a symmetric float array of shape (2n, 2n).

    A real symmetric :math:`\gamma` is the covariance of a quantum state iff

    .. math:: \gamma + i\Omega \succeq 0 \iff \nu_j \ge 1\ \text{for all symplectic eigenvalues},

    with :math:`\Omega = \oplus_j [[0, 1], [-1, 0]]` (see :mod:`quantum_diffusion.conventions`).

    Parameters
    ----------
    gamma : array_like or qutip.Qobj, shape (2n, 2n)
    n_modes : int, optional
        Required number of modes.
    atol : float
        Tolerance for symmetry (relative to ``max(1, max|gamma|)``) and for the smallest symplectic
        eigenvalue, ``nu_min >= 1 - atol - 8 eps cond(gamma)`` (scale-invariant: the test is on the
        symplectic spectrum, computed from the Cholesky factor, not on ``gamma + i Omega``; the second
        term is the change of ``nu`` caused by rounding the entries of a squeezed covariance).

    Raises
    ------
    ValueError
        If ``gamma`` has NaN/inf, is complex, not square, of odd size, of the wrong number of modes,
        not symmetric, or violates ``gamma + i Omega >= 0`` (the message gives the eigenvalue).
    """
    g = real_matrix(gamma, name)
    n = n_modes_of(g, name)
    if n_modes is not None and n != n_modes:
        raise ValueError(f"{name} must describe {n_modes} mode(s), got shape {g.shape}")
    scale = max(1.0, float(np.max(np.abs(g))))
    asym = float(np.max(np.abs(g - g.T)))
    if asym > atol * scale:
        raise ValueError(f"{name} is not symmetric: max |gamma - gamma^T| = {asym:.3e}")
    g = 0.5 * (g + g.T)
    nu_min = _symplectic_eigenvalues_unchecked(g, name)[0]
    # Scale-invariant test nu_min >= 1 - tol.  Rounding the entries of a squeezed covariance already moves its
    # symplectic eigenvalues by ~eps * cond(gamma) (det gamma = prod nu^2 cancels terms of size ||gamma||^2), so
    # that much is tolerated: 0.85 diag(e^-10, e^10) (cond 5e8) is rejected, a rotated pure state with r = 6
    # (cond 3e10, nu off by ~2e-7 after rounding) is accepted.
    tol = atol + _rounding_tolerance(g)
    if nu_min < 1.0 - tol:
        raise ValueError(
            f"{name} is not a physical covariance: smallest symplectic eigenvalue is {nu_min:.12g} < 1 "
            "(HHW convention: vacuum = identity, gamma + i Omega >= 0 iff all symplectic eigenvalues >= 1)"
        )
    return g


def _rounding_tolerance(g: np.ndarray) -> float:
    """Change of the symplectic eigenvalues caused by rounding the entries of ``g``: ``8 eps cond(g)``."""
    ev = np.linalg.eigvalsh(g)
    return 8.0 * np.finfo(float).eps * float(ev[-1] / ev[0]) if ev[0] > 0 else np.inf


def _symplectic_eigenvalues_unchecked(g: np.ndarray, name: str = "gamma") -> np.ndarray:
    """Sorted symplectic eigenvalues of a symmetric matrix via Cholesky (raises if not positive definite)."""
    n = g.shape[0] // 2
    try:
        chol = np.linalg.cholesky(g)
    except np.linalg.LinAlgError:
        lam = float(np.linalg.eigvalsh(g)[0])
        raise ValueError(
            f"{name} is not a physical covariance: it is not positive definite (smallest eigenvalue {lam:.3e}); "
            "HHW covariances satisfy gamma + i Omega >= 0, hence gamma > 0"
        ) from None
    ev = np.linalg.eigvalsh(1j * chol.T @ symplectic_form(n) @ chol)
    return np.sort(ev[n:])


def symplectic_eigenvalues(gamma: Any) -> np.ndarray:
    r"""Symplectic eigenvalues :math:`\nu_1 \le \dots \le \nu_n` of a covariance, shape (n,).

    They are the moduli of the eigenvalues of :math:`i\Omega\gamma`; computed from the Hermitian
    matrix :math:`i L^T \Omega L` with :math:`\gamma = L L^T` (Cholesky), which is similar to
    :math:`i\Omega\gamma`.  For one mode :math:`\nu = \sqrt{\det\gamma}`.

    Raises
    ------
    ValueError
        If ``gamma`` is not a physical covariance (see :func:`check_covariance`).
    """
    g = check_covariance(gamma)
    return _symplectic_eigenvalues_unchecked(g)


def williamson(gamma: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Williamson normal form :math:`\gamma = S\,(\oplus_j \nu_j I_2)\,S^T` with :math:`S\Omega S^T = \Omega`.

    Construction (hand-written because thewalrus is an optional dependency): the antisymmetric
    matrix :math:`A = \gamma^{-1/2}\Omega\gamma^{-1/2}` has real Schur form
    :math:`O^T A O = \oplus_j [[0, 1/\nu_j], [-1/\nu_j, 0]]`; then :math:`S = \gamma^{1/2} O D^{-1/2}`.

    Returns
    -------
    nu : ndarray, shape (n,)
        Symplectic eigenvalues in the order of the blocks of ``S``.
    S : ndarray, shape (2n, 2n)
        Symplectic matrix (xpxp ordering; see :mod:`quantum_diffusion.conventions`).

    Raises
    ------
    ValueError
        If ``gamma`` is not a physical covariance.
    """
    g = check_covariance(gamma)
    n = g.shape[0] // 2
    w, v = np.linalg.eigh(g)
    g_half = (v * np.sqrt(w)) @ v.T
    g_mhalf = (v / np.sqrt(w)) @ v.T
    a = g_mhalf @ omega(n) @ g_mhalf
    a = 0.5 * (a - a.T)
    t, o = schur(a, output="real")
    nu = np.empty(n)
    for j in range(n):
        b = t[2 * j, 2 * j + 1]
        if b < 0:  # swap the pair so that the block reads [[0, +1/nu], [-1/nu, 0]]
            o[:, [2 * j, 2 * j + 1]] = o[:, [2 * j + 1, 2 * j]]
            b = -b
        nu[j] = 1.0 / b
    s = g_half @ o @ np.diag(np.repeat(1.0 / np.sqrt(nu), 2))
    return nu, s


def check_nu_r(nu: ArrayLike, r: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate symplectic eigenvalues ``nu >= 1`` and squeezing ``r`` (finite), returned as float arrays.

    Parameters
    ----------
    nu, r : array_like
        Symplectic eigenvalue(s) and squeezing parameter(s).

    Returns
    -------
    tuple of numpy.ndarray
        ``(nu, r)``.

    Raises
    ------
    ValueError
        If an entry is NaN/inf or some ``nu < 1``.
    """
    nu_a = np.asarray(nu, dtype=float)
    r_a = np.asarray(r, dtype=float)
    if not (np.all(np.isfinite(nu_a)) and np.all(np.isfinite(r_a))):
        raise ValueError("nu and r must be finite (got NaN or inf)")
    if np.any(nu_a < 1.0):
        raise ValueError(f"nu must be >= 1 (HHW vacuum has nu = 1), got min nu = {np.min(nu_a):.6g}")
    return nu_a, r_a


def squeezed_thermal(nu: float, r: float, phi: float = 0.0) -> np.ndarray:
    r"""One-mode squeezed thermal covariance (HHW), shape (2, 2).

    .. math:: \Sigma(\nu, r, \phi) = \nu\, R_\phi\, \mathrm{diag}(e^{-2r}, e^{2r})\, R_\phi^T,
              \qquad R_\phi = [[\cos\phi, -\sin\phi], [\sin\phi, \cos\phi]],

    i.e. ``Sgate(r)`` (then a rotation by ``phi``) on a thermal state with mean photon number
    :math:`(\nu - 1)/2`.  See :mod:`quantum_diffusion.conventions`.

    Raises
    ------
    ValueError
        If ``nu < 1``, any argument is NaN/inf, :math:`\nu e^{2|r|}` overflows, or a rotated (``phi`` not a multiple
        of :math:`\pi/2`) state has condition number :math:`e^{4|r|} > 10^{15}` (not positive definite in floating
        point); the message names ``r``.
    """
    nu_a, r_a = check_nu_r(nu, r)
    if nu_a.ndim or r_a.ndim or not np.isfinite(phi):
        raise ValueError("squeezed_thermal takes finite scalars nu, r, phi")
    c, s = np.cos(phi), np.sin(phi)
    rot = np.array([[c, -s], [s, c]])
    big = float(nu_a) * np.exp(2 * abs(float(r_a))) if abs(float(r_a)) < 354.0 else np.inf
    if not np.isfinite(big) or big > 1e150:
        raise ValueError(
            f"squeezing r = {float(r_a)!r} with nu = {float(nu_a)!r} gives covariance entries "
            f"nu * e^(2|r|) beyond 1e150 (float overflow); use |r| <= {0.5 * np.log(1e150 / float(nu_a)):.1f}"
        )
    if s * c != 0.0 and 4.0 * abs(float(r_a)) > np.log(1e15):
        # rotated, the small eigenvalue nu e^{-2|r|} drowns in the rounding of the e^{2|r|} entries: the result would
        # not be positive definite in floating point (found by fuzzing, issue 13)
        raise ValueError(
            f"squeezing r = {float(r_a)!r} with a rotation phi = {phi!r} is not representable: condition number "
            f"e^(4|r|) > 1e15; use |r| <= {0.25 * np.log(1e15):.2f} or phi = 0"
        )
    return float(nu_a) * rot @ np.diag([np.exp(-2 * float(r_a)), np.exp(2 * float(r_a))]) @ rot.T


def thermal(nu: float, n_modes: int = 1) -> np.ndarray:
    r"""Thermal covariance :math:`\nu I_{2n}` (HHW, vacuum for ``nu = 1``).

    Raises
    ------
    ValueError
        If ``nu < 1`` or NaN.
    """
    check_nu_r(nu, 0.0)
    return float(nu) * np.eye(2 * n_modes)


def tmsv(s: float) -> np.ndarray:
    r"""Two-mode squeezed vacuum covariance (HHW, xpxp), shape (4, 4).

    .. math:: \gamma_{AB}(s) = \begin{pmatrix}\cosh 2s\, I & \sinh 2s\, Z\\ \sinh 2s\, Z & \cosh 2s\, I
              \end{pmatrix}, \qquad Z = \mathrm{diag}(1, -1).

    Raises
    ------
    ValueError
        If ``s`` is NaN/inf.
    """
    s = float(s)
    if not np.isfinite(s):
        raise ValueError(f"squeezing s must be finite, got {s!r}")
    z = np.diag([1.0, -1.0])
    c, sh = np.cosh(2 * s), np.sinh(2 * s)
    return np.block([[c * np.eye(2), sh * z], [sh * z, c * np.eye(2)]])


def _g_entropy(nu: np.ndarray) -> np.ndarray:
    # g(N) = (N+1) ln(N+1) - N ln N with N = (nu - 1)/2, written as ln(1+N) + N ln(1 + 1/N): exact at nu = 1 and
    # free of the cancellation of the two ~N ln N terms at large N (which lost all digits near nu ~ 1e15).
    n_ph = (nu - 1.0) / 2.0
    out = np.log1p(n_ph)
    pos = n_ph > 0
    out[pos] += n_ph[pos] * np.log1p(1.0 / n_ph[pos])
    return out


def entropy(gamma: Any) -> float:
    r"""Von Neumann entropy (nats) of a Gaussian state.

    .. math:: S = \sum_j \big[(N_j + 1)\ln(N_j + 1) - N_j \ln N_j\big], \qquad N_j = (\nu_j - 1)/2.

    Raises
    ------
    ValueError
        If ``gamma`` is not a physical covariance.
    """
    nu = np.maximum(symplectic_eigenvalues(gamma), 1.0)
    return float(np.sum(_g_entropy(nu)))


def _means(d1: Any, d2: Any, dim: int) -> np.ndarray:
    out = []
    for d, name in ((d1, "d1"), (d2, "d2")):
        if d is None:
            out.append(np.zeros(dim))
        else:
            v = real_matrix(d, name).reshape(-1)
            if v.shape != (dim,):
                raise ValueError(f"{name} must have shape ({dim},), got {np.shape(d)}")
            out.append(v)
    return out[0] - out[1]


def fidelity_squared_one_mode(gamma1: Any, gamma2: Any, d1: Any = None, d2: Any = None) -> float:
    r"""Closed-form squared Uhlmann fidelity of two one-mode Gaussian states (HHW units).

    .. math:: F = \frac{2\, e^{-\delta^T(\gamma_1+\gamma_2)^{-1}\delta}}{\sqrt{\Delta+\Lambda}-\sqrt{\Lambda}},
              \quad \Delta = \det(\gamma_1+\gamma_2),\ \Lambda = (\det\gamma_1 - 1)(\det\gamma_2 - 1),

    with :math:`\delta = d_1 - d_2` (Scutaru 1998; Marian & Marian 2012).  ``F`` is the squared
    fidelity :math:`(\mathrm{tr}|\sqrt{\rho_1}\sqrt{\rho_2}|)^2`; see :mod:`quantum_diffusion.conventions`.

    Parameters
    ----------
    gamma1, gamma2 : array_like, shape (2, 2)
        One-mode HHW covariances.
    d1, d2 : array_like, shape (2,), optional
        Means (default zero).

    Returns
    -------
    float
        :math:`F \in [0, 1]`.

    Raises
    ------
    ValueError
        If a covariance is not a physical one-mode covariance or a mean has the wrong shape.
    """
    g1 = check_covariance(gamma1, "gamma1", n_modes=1)
    g2 = check_covariance(gamma2, "gamma2", n_modes=1)
    delta = _means(d1, d2, 2)
    s = g1 + g2
    big_delta = np.linalg.det(s)
    lam = max(np.linalg.det(g1) - 1.0, 0.0) * max(np.linalg.det(g2) - 1.0, 0.0)
    expo = float(delta @ np.linalg.solve(s, delta))
    return float(2.0 * np.exp(-expo) / (np.sqrt(big_delta + lam) - np.sqrt(lam)))


#: Symplectic eigenvalues within this distance of 1 count as pure in :func:`fidelity_squared` (the overlap
#: formula is then exact up to O(nu - 1), far below the O(sqrt(eps)) loss of the general formula there).
PURE_TOL = 1e-9


def fidelity_squared(gamma1: Any, gamma2: Any, d1: Any = None, d2: Any = None) -> float:
    r"""Squared Uhlmann fidelity :math:`F = (\mathrm{tr}|\sqrt{\rho_1}\sqrt{\rho_2}|)^2` of two n-mode Gaussian states.

    (:func:`quantum_diffusion.info.fidelity` is the *root* fidelity; this one is squared, as in the Gaussian
    papers.)  If a state is pure (all symplectic eigenvalues within ``PURE_TOL`` of 1, plus the rounding allowance
    ``8 eps cond(gamma)`` of :func:`check_covariance`) the overlap formula is used,

    .. math:: F = \frac{\mathrm{tr}(\rho_1\rho_2)}{\sqrt{\prod_{\rm pure}\mathrm{tr}\rho_k^2}},\qquad
              \mathrm{tr}(\rho_1\rho_2) = \frac{2^n e^{-\delta^T(\gamma_1+\gamma_2)^{-1}\delta}}
              {\sqrt{\det(\gamma_1+\gamma_2)}},\quad \mathrm{tr}\rho^2 = \det(\gamma)^{-1/2},

    (the purity normalisation is 1 in exact arithmetic and makes :math:`F(\rho, \rho) = 1` exact for
    rounded pure inputs).  Precision: ~1e-12 for pure and for fully mixed states; ~1e-8 (:math:`\sqrt{\epsilon}`)
    when only some modes are pure, where the square root below is singular.  One mode, mixed:
    :func:`fidelity_squared_one_mode`.  n modes, mixed: Banchi, Braunstein & Pirandola, PRL 115, 260501 (2015),
    with :math:`V_i = \gamma_i/2`:

    .. math::
        V_{\rm aux} = \Omega^T (V_1+V_2)^{-1}(\Omega/4 + V_2\Omega V_1),\qquad
        F = \sqrt{\det (V_1+V_2)^{-1}\,\det\!\big[2(\sqrt{I + (V_{\rm aux}\Omega)^{-2}/4} + I)
        V_{\rm aux}\big]}\; e^{-\delta^T(\gamma_1+\gamma_2)^{-1}\delta}.

    Conventions: HHW covariances and means ``d = <R>`` (xpxp); see :mod:`quantum_diffusion.conventions`.

    Parameters
    ----------
    gamma1, gamma2 : array_like, shape (2n, 2n)
        HHW covariances.
    d1, d2 : array_like, shape (2n,), optional
        Means (default zero).

    Returns
    -------
    float
        :math:`F \in [0, 1]`.

    Raises
    ------
    ValueError
        If a covariance is unphysical, the shapes disagree, or a mean has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> round(fidelity_squared(np.eye(2), np.eye(2), [np.sqrt(2) * 0.5, 0.0]), 12)  # |<0|alpha=0.5>|^2 = e^{-1/4}
    0.778800783071
    """
    g1 = check_covariance(gamma1, "gamma1")
    g2 = check_covariance(gamma2, "gamma2")
    if g1.shape != g2.shape:
        raise ValueError(f"gamma1 and gamma2 must have the same shape, got {g1.shape} and {g2.shape}")
    n = g1.shape[0] // 2
    delta = _means(d1, d2, 2 * n)
    if n == 1:  # the closed form is exact, pure or not (the pure branch below snaps nu <= 1 + 1e-9 to 1, an
        # error ~ sqrt(nu - 1) ~ 1e-5 that the fuzz found)
        return fidelity_squared_one_mode(g1, g2, d1, d2)
    pure = [bool(_symplectic_eigenvalues_unchecked(g)[-1] <= 1.0 + PURE_TOL + _rounding_tolerance(g)) for g in (g1, g2)]
    expo = float(delta @ np.linalg.solve(g1 + g2, delta))
    if any(pure):
        log_f = n * np.log(2.0) - 0.5 * np.linalg.slogdet(g1 + g2)[1] - expo
        for g, is_pure in zip((g1, g2), pure):
            if is_pure:
                log_f += 0.25 * np.linalg.slogdet(g)[1]
        return float(min(np.exp(log_f), 1.0))
    if n == 1:
        return fidelity_squared_one_mode(g1, g2, d1, d2)
    om = omega(n)
    v1, v2 = g1 / 2.0, g2 / 2.0
    si12 = np.linalg.inv(v1 + v2)
    vaux = om.T @ si12 @ (om / 4.0 + v2 @ om @ v1)
    p = vaux @ om
    p = np.eye(2 * n) + 0.25 * np.linalg.inv(p @ p)
    # sqrtm of a real matrix with real positive spectrum; drop the round-off imaginary part.
    p = np.real(sqrtm(p)) if np.max(np.abs(p)) > 1e-12 else np.zeros_like(p)
    p = 2.0 * (p + np.eye(2 * n)) @ vaux
    f = np.sqrt(np.linalg.det(si12) * np.linalg.det(p)) * np.exp(-expo)
    if not np.isfinite(f):
        # KNOWN LIMITATION (fuzz, issue 13): sqrtm is singular when some but not all modes are exactly pure; a
        # clear error instead of NaN until the formula is regularised there
        raise ValueError("fidelity_squared: the n-mode formula is singular for gamma1, gamma2 with some (not all) "
                         "modes exactly pure; perturb nu by ~1e-6 or use a product decomposition")
    return float(np.real(f))


def sld_fisher(gamma: Any) -> np.ndarray:
    r"""SLD quantum Fisher information matrix for displacements of a Gaussian state, shape (2n, 2n).

    .. math:: J_{\rm SLD} = 2\gamma^{-1}

    with respect to shifts of the mean :math:`d = \langle R\rangle` (HHW units; see
    :mod:`quantum_diffusion.conventions`).

    Raises
    ------
    ValueError
        If ``gamma`` is not a physical covariance.
    """
    g = check_covariance(gamma)
    return 2.0 * np.linalg.inv(g)


def bkm_fisher(gamma: Any) -> np.ndarray:
    r"""BKM (Kubo-Mori) quantum Fisher information matrix for displacements, shape (2n, 2n).

    With the Williamson form :math:`\gamma = S(\oplus_j\nu_j I)S^T`,

    .. math:: J_{\rm BKM} = S^{-T}\big(\oplus_j 2\,\mathrm{arccoth}(\nu_j)\, I\big) S^{-1},

    which for one mode is :math:`2\nu\,\mathrm{arccoth}(\nu)\,\gamma^{-1}`.  It satisfies the
    Gaussian de Bruijn identity :math:`\partial S/\partial\gamma = J_{\rm BKM}/4`.

    Raises
    ------
    ValueError
        If ``gamma`` is unphysical or has a pure mode (some :math:`\nu_j = 1`, where
        :math:`J_{\rm BKM}` diverges; use :func:`sld_fisher` there).
    """
    g = check_covariance(gamma)
    if g.shape[0] == 2:  # one mode: 2 nu arccoth(nu) gamma^{-1}, no Williamson form needed
        nu1 = float(np.sqrt(max(np.linalg.det(g), 1.0)))
        if nu1 <= 1.0 + 1e-12:
            raise ValueError(
                f"J_BKM diverges for a pure mode (symplectic eigenvalue {nu1:.15g} = 1); use the SLD weight instead"
            )
        return 2.0 * nu1 * np.arctanh(1.0 / nu1) * np.linalg.inv(g)
    nu, s = williamson(g)
    if np.any(nu <= 1.0 + 1e-12):
        raise ValueError(
            f"J_BKM diverges for a pure mode (symplectic eigenvalue {np.min(nu):.15g} = 1); "
            "use the SLD weight instead"
        )
    s_inv = np.linalg.inv(s)
    mid = np.repeat(2.0 * np.arctanh(1.0 / nu), 2)
    return s_inv.T @ (mid[:, None] * s_inv)


def c_geom(nu: ArrayLike) -> np.ndarray | float:
    r"""Geometric constant :math:`c_{\rm geom}(\nu) = J_{\rm SLD}/J_{\rm BKM}` (vectorised).

    .. math:: c_{\rm geom}(\nu) = \frac{1}{\nu\,\mathrm{arccoth}\,\nu} = \frac{2}{\nu\ln\frac{\nu+1}{\nu-1}},
              \qquad c_{\rm geom}(1) = 0,\quad c_{\rm geom}(\nu)\to 1\ (\nu\to\infty).

    Raises
    ------
    ValueError
        If any ``nu < 1`` or NaN.

    Examples
    --------
    >>> c_geom(1.0), round(c_geom(3.0), 6)
    (0.0, 0.961797)
    """
    nu_a, _ = check_nu_r(nu, 0.0)
    with np.errstate(divide="ignore"):
        out = np.where(nu_a > 1.0, 1.0 / (nu_a * np.arctanh(1.0 / np.maximum(nu_a, 1.0))), 0.0)
    return float(out) if out.ndim == 0 else out
