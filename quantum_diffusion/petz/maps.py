r"""One-shot recovery maps of a channel: Petz (P.1), rotated Petz (P.2) and twirled Petz (P.3, P.5).

Channels and the returned maps are **row-major superoperators** (``vec(A X B) = (A kron B^T) vec(X)``,
see quantum_diffusion.conventions): a channel :math:`\mathcal E` from dimension ``d_in`` to ``d_out`` is an
array of shape ``(d_out^2, d_in^2)``; its Hilbert-Schmidt adjoint is the conjugate transpose; every map
returned here has shape ``(d_in^2, d_out^2)``. qutip super ``Qobj`` channels (column stacking) are
converted automatically.

.. math::

    \mathcal P^\theta_{\sigma,\mathcal E}(X) = \sigma^{\frac{1+i\theta}2}\,
        \mathcal E^\dagger\!\big(\omega^{-\frac{1+i\theta}2} X\,\omega^{-\frac{1-i\theta}2}\big)\,
        \sigma^{\frac{1-i\theta}2},\quad \omega = \mathcal E(\sigma),\qquad
    \mathcal T_{\sigma,\mathcal E} = \int d\theta\,\beta_0(\theta)\,\mathcal P^\theta_{\sigma,\mathcal E},
    \quad \beta_0(\theta) = \frac{\pi}{2(\cosh\pi\theta + 1)} .

The twirl is evaluated exactly with the kernel (P.5): in the eigenbases of :math:`\sigma` (:math:`p_k`) and
:math:`\omega` (:math:`q_a`), :math:`[\mathcal T]_{(kl),(ab)} = M_{(kl),(ab)}\sqrt{p_kp_l/q_aq_b}\,
\varphi\big((x_k-x_l-y_a+y_b)/2\big)` with :math:`\varphi(a) = a/\sinh a`, :math:`x=\ln p`, :math:`y=\ln q`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_array
from ..conventions import row_to_column_superop
from .generators import phi, spectral_reference

__all__ = ["petz_map", "rotated_petz_map", "twirled_petz_map", "twirl_density", "apply_superop",
           "as_channel_superop"]


def twirl_density(theta: np.ndarray | float) -> np.ndarray:
    r"""The twirl weight :math:`\beta_0(\theta) = \frac{\pi}{2}\,(\cosh\pi\theta+1)^{-1}` (P.3)."""
    t = np.asarray(theta, dtype=float)
    with np.errstate(over="ignore"):
        return np.pi / 2.0 / (np.cosh(np.pi * t) + 1.0)


def as_channel_superop(channel: Any, d_in: int | None = None) -> np.ndarray:
    """Return a channel as a row-major superoperator ``(d_out^2, d_in^2)``.

    Accepts a row-major numpy array or a qutip super ``Qobj`` (column stacking, converted).

    Raises
    ------
    ValueError
        If the shape is not ``(d_out^2, d_in^2)`` (or ``d_in`` mismatches).
    """
    is_qobj = hasattr(channel, "superrep")
    s = as_array(channel, "channel", dtype=complex)
    if s.ndim != 2:
        raise ValueError(f"channel must be a 2-D superoperator, got shape {s.shape}")
    do, di = (int(round(np.sqrt(n))) for n in s.shape)
    if do * do != s.shape[0] or di * di != s.shape[1]:
        raise ValueError(f"channel superoperator shape {s.shape} is not (d_out^2, d_in^2)")
    if d_in is not None and di != d_in:
        raise ValueError(f"channel acts on dimension {di}, but the reference state has dimension {d_in}")
    if is_qobj:
        if do != di:
            raise ValueError("qutip channels must be square superoperators here")
        s = row_to_column_superop(s)
    return s


def apply_superop(s: np.ndarray, x: Any) -> np.ndarray:
    """Apply a row-major superoperator ``(d_out^2, d_in^2)`` to a matrix ``(d_in, d_in)``."""
    x = as_array(x, "X", dtype=complex)
    do = int(round(np.sqrt(s.shape[0])))
    if x.size != s.shape[1]:
        raise ValueError(f"operand of shape {x.shape} does not match superoperator input dimension {s.shape[1]}")
    return (s @ x.reshape(-1)).reshape(do, do)


def _frame(channel: Any, sigma: Any) -> tuple[np.ndarray, tuple, tuple]:
    """Validate and diagonalise sigma and omega = E(sigma)."""
    sig = as_array(sigma, "sigma", dtype=complex)
    if sig.ndim != 2:
        raise ValueError(f"sigma must be a matrix, got shape {sig.shape}")
    s = as_channel_superop(channel, sig.shape[0])
    p, v = spectral_reference(sig, sig.shape[0], name="sigma")
    omega = apply_superop(s, sig)
    try:
        q, w = spectral_reference(0.5 * (omega + omega.conj().T), name="E(sigma)")
    except ValueError as err:
        raise ValueError(f"{err} (the recovery map is defined on the support of E(sigma) only)") from err
    eye_v = np.eye(p.size) if v is None else v
    eye_w = np.eye(q.size) if w is None else w
    return s, (p, eye_v), (q, eye_w)


def _power(p: np.ndarray, v: np.ndarray, a: complex) -> np.ndarray:
    return (v * p.astype(complex) ** a) @ v.conj().T


def rotated_petz_map(channel: Any, sigma: Any, theta: float) -> np.ndarray:
    r"""Row-major superoperator of the rotated Petz map :math:`\mathcal P^\theta_{\sigma,\mathcal E}` (P.2).

    Parameters
    ----------
    channel : ndarray (d_out^2, d_in^2) or qutip super Qobj
    sigma : array or Qobj (d_in, d_in), full rank; ``E(sigma)`` must be full rank too.
    theta : float (JRSWW convention, see module docstring)

    Returns
    -------
    ndarray (d_in^2, d_out^2)

    Raises
    ------
    ValueError
        Bad shapes, non-density-matrix ``sigma``, rank-deficient ``sigma`` or ``E(sigma)`` (the map is only
        defined on their supports), non-finite ``theta``.
    """
    theta = float(theta)
    if not np.isfinite(theta):
        raise ValueError(f"theta must be finite, got {theta!r}")
    s, (p, v), (q, w) = _frame(channel, sigma)
    a = 0.5 * (1 + 1j * theta)
    left = _power(p, v, a)
    right = _power(q, w, -a)
    pre = np.kron(left, left.conj())  # X -> s^a X s^{a*}, with (s^a)^dag = s^{conj(a)}
    post = np.kron(right, right.conj())
    return pre @ s.conj().T @ post


def petz_map(channel: Any, sigma: Any) -> np.ndarray:
    r"""Row-major superoperator of the Petz map :math:`\mathcal P_{\sigma,\mathcal E}` (P.1), shape (d_in^2, d_out^2).

    .. math:: \mathcal P_{\sigma,\mathcal E}(X) = \sigma^{1/2}\mathcal E^\dagger\big(\mathcal E(\sigma)^{-1/2}
              X\,\mathcal E(\sigma)^{-1/2}\big)\sigma^{1/2}

    Raises
    ------
    ValueError
        As :func:`rotated_petz_map`.
    """
    return rotated_petz_map(channel, sigma, 0.0)


def twirled_petz_map(channel: Any, sigma: Any) -> np.ndarray:
    r"""Row-major superoperator of the twirled Petz map :math:`\mathcal T_{\sigma,\mathcal E}` (exact kernel P.5).

    No quadrature: the :math:`\theta` average of the phases :math:`e^{i\theta s}` is the characteristic
    function :math:`\varphi(s) = s/\sinh s` of :math:`\beta_0`.

    Returns
    -------
    ndarray (d_in^2, d_out^2)

    Raises
    ------
    ValueError
        As :func:`rotated_petz_map`.
    """
    s, (p, v), (q, w) = _frame(channel, sigma)
    # M in mixed eigenbases: <k| E^dag(|a><b|) |l>
    m = np.kron(v.conj().T, v.T) @ s.conj().T @ np.kron(w, w.conj())
    x, y = np.log(p), np.log(q)
    dx = x[:, None] - x[None, :]
    dy = y[:, None] - y[None, :]
    amp = np.sqrt(np.outer(p, p))[:, :, None, None] / np.sqrt(np.outer(q, q))[None, None, :, :]
    ker = amp * phi(0.5 * (dx[:, :, None, None] - dy[None, None, :, :]))
    t_eig = m * ker.reshape(m.shape)
    return np.kron(v, v.conj()) @ t_eig @ np.kron(w.conj().T, w.T)
