r"""TMSV (Choi-state) witness of complete positivity of a one-mode Gaussian channel.

Conventions: HHW (see :mod:`quantum_diffusion.conventions`).
"""

from __future__ import annotations

import numpy as np

from ..conventions import omega
from .channels import GaussianChannel
from .states import tmsv

__all__ = ["tmsv_output", "tmsv_witness", "tmsv_schur_complement"]


def _check(channel: GaussianChannel, s: float) -> float:
    if not isinstance(channel, GaussianChannel):
        raise TypeError(f"channel must be a GaussianChannel, got {type(channel).__name__}")
    if channel.n_modes != 1:
        raise ValueError(f"the TMSV witness is implemented for one-mode channels, got {channel.n_modes} modes")
    s = float(s)
    if not np.isfinite(s) or s <= 0:
        raise ValueError(f"TMSV squeezing s must be finite and > 0, got {s!r}")
    return s


def tmsv_output(channel: GaussianChannel, s: float) -> np.ndarray:
    r"""Covariance after applying ``channel`` to mode B of a TMSV, shape (4, 4).

    .. math:: \Gamma = (I\oplus X)^T\gamma_{AB}(s)(I\oplus X) + 0\oplus Y.

    Raises
    ------
    TypeError, ValueError
        If ``channel`` is not a one-mode GaussianChannel or ``s <= 0``.
    """
    s = _check(channel, s)
    big_x = np.eye(4)
    big_x[2:, 2:] = channel.X
    big_y = np.zeros((4, 4))
    big_y[2:, 2:] = channel.Y
    return big_x.T @ tmsv(s) @ big_x + big_y


def tmsv_witness(channel: GaussianChannel, s: float = 1.0) -> float:
    r"""Smallest eigenvalue of :math:`\Gamma + i\Omega` for the channel applied to half a TMSV.

    .. math:: \lambda_{\min}\big(\Gamma + i\Omega\big),\qquad \Omega = \sigma\oplus\sigma;

    it is ``>= 0`` iff the channel is CP (Choi criterion, for any ``s > 0``), because the Schur
    complement of :math:`\Gamma + i\Omega` equals :math:`Y + i\sigma - iX^T\sigma X`
    (:func:`tmsv_schur_complement`).

    Raises
    ------
    TypeError, ValueError
        If ``channel`` is not a one-mode GaussianChannel or ``s <= 0``.
    """
    gam = tmsv_output(channel, s)
    return float(np.linalg.eigvalsh(gam + 1j * omega(2))[0])


def tmsv_schur_complement(channel: GaussianChannel, s: float) -> np.ndarray:
    r"""Schur complement :math:`R - Q^\dagger P^{-1}Q` of :math:`\Gamma + i\Omega = [[P, Q], [Q^\dagger, R]]`.

    Computed numerically from :func:`tmsv_output`; analytically it equals
    :math:`Y + i\sigma - iX^T\sigma X` for every ``s > 0`` (shape (2, 2)).

    Raises
    ------
    TypeError, ValueError
        If ``channel`` is not a one-mode GaussianChannel or ``s <= 0``.
    """
    big = tmsv_output(channel, s) + 1j * omega(2)
    p, q, r = big[:2, :2], big[:2, 2:], big[2:, 2:]
    return r - q.conj().T @ np.linalg.solve(p, q)
