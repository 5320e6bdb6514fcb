r"""One-shot recovery maps of a channel: Petz (P.1), rotated Petz (P.2) and twirled Petz (P.3, P.5).

Channels and the returned maps are **row-major superoperators** (``vec(A X B) = (A kron B^T) vec(X)``,
see quantum_diffusion.conventions): a channel :math:`\mathcal E` from dimension ``d_in`` to ``d_out`` is an
array of shape ``(d_out^2, d_in^2)``; its Hilbert-Schmidt adjoint is the conjugate transpose; every map
returned here has shape ``(d_in^2, d_out^2)``. Every channel input goes through
:func:`quantum_diffusion._validation.as_superoperator` (row-major array, qutip super ``Qobj`` in column stacking,
or a list of Kraus operators), every state through the reference validation of
:func:`~quantum_diffusion.petz.spectral.spectral_reference`.

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

import numpy as np

from .._validation import as_operator, as_superoperator
from ..linalg import hermitian_part
from ..typing import ChannelLike, OperatorLike, PetzKind
from .spectral import check_kind, complex_power, phi, spectral_reference, twirl_density

__all__ = ["recovery_map", "recovery_superop", "petz_map", "rotated_petz_map", "twirled_petz_map", "twirl_density",
           "apply_superop", "as_channel_superop"]


def as_channel_superop(channel: ChannelLike, d_in: int | None = None) -> np.ndarray:
    """Return a channel as a row-major superoperator ``(d_out^2, d_in^2)`` (see ``_validation.as_superoperator``).

    Parameters
    ----------
    channel : ChannelLike
        Row-major array, qutip super ``Qobj`` (column stacking, converted) or a list of Kraus operators.
    d_in : int, optional
        Required input dimension.

    Returns
    -------
    numpy.ndarray, shape ``(d_out^2, d_in^2)``

    Raises
    ------
    ValueError
        If the shape is not ``(d_out^2, d_in^2)`` (or ``d_in`` mismatches).
    TypeError
        For a ``Lindbladian`` (a generator, not a channel).
    """
    return as_superoperator(channel, "channel", d_in=d_in)


def apply_superop(s: ChannelLike, x: OperatorLike) -> np.ndarray:
    """Apply a superoperator ``(d_out^2, d_in^2)`` to a matrix ``(d_in, d_in)``.

    Parameters
    ----------
    s : ChannelLike
        Superoperator (any input format of ``as_superoperator``).
    x : OperatorLike, shape ``(d_in, d_in)``
        Operand.

    Returns
    -------
    numpy.ndarray, shape ``(d_out, d_out)``

    Raises
    ------
    ValueError
        On dimension mismatch.
    """
    arr = as_operator(x, "X")
    s = as_superoperator(s, "superop", d_in=arr.shape[0])
    do = int(round(np.sqrt(s.shape[0])))
    return (s @ arr.reshape(-1)).reshape(do, do)


def _frame(s: np.ndarray, p: np.ndarray, v: np.ndarray | None) -> tuple[tuple, tuple]:
    """Diagonalise ``omega = E(sigma)`` for a validated channel ``s`` and reference spectrum ``(p, v)``."""
    d = p.size
    v = np.eye(d) if v is None else v
    do = int(round(np.sqrt(s.shape[0])))
    omega = (s @ ((v * p) @ v.conj().T).reshape(-1)).reshape(do, do)
    try:
        q, w = spectral_reference(hermitian_part(omega), name="E(sigma)")
    except ValueError as err:
        raise ValueError(f"{err} (the recovery map is defined on the support of E(sigma) only)") from err
    return (p, v), (q, np.eye(q.size) if w is None else w)


def recovery_superop(s: np.ndarray, p: np.ndarray, v: np.ndarray | None, kind: str, theta: float) -> np.ndarray:
    r"""Recovery map of a validated channel and reference spectrum (internal entry point, no validation).

    Parameters
    ----------
    s : numpy.ndarray, shape ``(d_out^2, d_in^2)``
        Row-major channel.
    p, v : numpy.ndarray
        Reference spectrum from :func:`~quantum_diffusion.petz.spectral.spectral_reference`.
    kind : {"petz", "rotated", "twirled"}
        Recovery family (already validated).
    theta : float
        Rotation angle.

    Returns
    -------
    numpy.ndarray, shape ``(d_in^2, d_out^2)``

    Raises
    ------
    ValueError
        If ``E(sigma)`` is rank-deficient.
    """
    (p, v), (q, w) = _frame(s, p, v)
    if kind == "twirled":
        # M in mixed eigenbases: <k| E^dag(|a><b|) |l>, then the exact kernel (P.5)
        m = np.kron(v.conj().T, v.T) @ s.conj().T @ np.kron(w, w.conj())
        x, y = np.log(p), np.log(q)
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        amp = np.sqrt(np.outer(p, p))[:, :, None, None] / np.sqrt(np.outer(q, q))[None, None, :, :]
        ker = amp * phi(0.5 * (dx[:, :, None, None] - dy[None, None, :, :]))
        t_eig = m * ker.reshape(m.shape)
        return np.kron(v, v.conj()) @ t_eig @ np.kron(w.conj().T, w.T)
    a = 0.5 * (1 + 1j * theta)
    left = complex_power(p, v, a)
    right = complex_power(q, w, -a)
    pre = np.kron(left, left.conj())  # X -> s^a X s^{a*}, with (s^a)^dag = s^{conj(a)}
    post = np.kron(right, right.conj())
    return pre @ s.conj().T @ post


def recovery_map(channel: ChannelLike, sigma: OperatorLike, *, kind: PetzKind = "petz",
                 theta: float = 0.0) -> np.ndarray:
    r"""Row-major superoperator of the Petz, rotated Petz (P.2) or twirled Petz (P.3, exact kernel P.5) map.

    .. math::

        \mathcal P^\theta_{\sigma,\mathcal E}(X) = \sigma^{\frac{1+i\theta}2}\,
            \mathcal E^\dagger\!\big(\omega^{-\frac{1+i\theta}2} X\,\omega^{-\frac{1-i\theta}2}\big)\,
            \sigma^{\frac{1-i\theta}2},\quad \omega = \mathcal E(\sigma),\qquad
        \mathcal T_{\sigma,\mathcal E} = \int d\theta\,\beta_0(\theta)\,\mathcal P^\theta_{\sigma,\mathcal E}.

    Parameters
    ----------
    channel : ChannelLike
        Row-major array ``(d_out^2, d_in^2)``, qutip super ``Qobj``, or a list of Kraus operators.
    sigma : OperatorLike, shape ``(d_in, d_in)``
        Full-rank reference; ``E(sigma)`` must be full rank too.
    kind : {"petz", "rotated", "twirled"}
        Recovery family.
    theta : float
        Rotation angle (``kind="rotated"`` only; JRSWW convention, see module docstring).

    Returns
    -------
    numpy.ndarray, shape ``(d_in^2, d_out^2)``

    Raises
    ------
    ValueError
        Bad shapes, non-density-matrix ``sigma``, rank-deficient ``sigma`` or ``E(sigma)`` (the map is only
        defined on their supports), bad ``kind``/``theta``.
    TypeError
        For a ``Lindbladian`` given as the channel.
    """
    theta = check_kind(kind, theta)
    sig = as_operator(sigma, "sigma")
    s = as_superoperator(channel, "channel", d_in=sig.shape[0])
    p, v = spectral_reference(sig, name="sigma")
    return recovery_superop(s, p, v, kind, theta)


def rotated_petz_map(channel: ChannelLike, sigma: OperatorLike, theta: float) -> np.ndarray:
    r"""Rotated Petz map :math:`\mathcal P^\theta_{\sigma,\mathcal E}` (P.2): ``recovery_map(kind="rotated")``.

    Parameters
    ----------
    channel : ChannelLike
        As :func:`recovery_map`.
    sigma : OperatorLike, shape ``(d_in, d_in)``
        As :func:`recovery_map`.
    theta : float
        Rotation angle.

    Returns
    -------
    numpy.ndarray, shape ``(d_in^2, d_out^2)``

    Raises
    ------
    ValueError
        As :func:`recovery_map`.
    """
    return recovery_map(channel, sigma, kind="rotated", theta=theta)


def petz_map(channel: ChannelLike, sigma: OperatorLike) -> np.ndarray:
    r"""Petz map :math:`\mathcal P_{\sigma,\mathcal E}` (P.1): ``recovery_map(kind="petz")``.

    .. math:: \mathcal P_{\sigma,\mathcal E}(X) = \sigma^{1/2}\mathcal E^\dagger\big(\mathcal E(\sigma)^{-1/2}
              X\,\mathcal E(\sigma)^{-1/2}\big)\sigma^{1/2}

    Parameters
    ----------
    channel : ChannelLike
        As :func:`recovery_map`.
    sigma : OperatorLike, shape ``(d_in, d_in)``
        As :func:`recovery_map`.

    Returns
    -------
    numpy.ndarray, shape ``(d_in^2, d_out^2)``

    Raises
    ------
    ValueError
        As :func:`recovery_map`.
    """
    return recovery_map(channel, sigma, kind="petz")


def twirled_petz_map(channel: ChannelLike, sigma: OperatorLike) -> np.ndarray:
    r"""Twirled Petz map :math:`\mathcal T_{\sigma,\mathcal E}` (exact kernel P.5): ``recovery_map(kind="twirled")``.

    No quadrature: the :math:`\theta` average of the phases :math:`e^{i\theta s}` is the characteristic
    function :math:`\varphi(s) = s/\sinh s` of :math:`\beta_0`.

    Parameters
    ----------
    channel : ChannelLike
        As :func:`recovery_map`.
    sigma : OperatorLike, shape ``(d_in, d_in)``
        As :func:`recovery_map`.

    Returns
    -------
    numpy.ndarray, shape ``(d_in^2, d_out^2)``

    Raises
    ------
    ValueError
        As :func:`recovery_map`.
    """
    return recovery_map(channel, sigma, kind="twirled")
