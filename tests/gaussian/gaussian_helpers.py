"""Helpers shared by the Gaussian tests: re-exported from the shared analytic test systems (``tests/systems``)."""

from __future__ import annotations

from systems.gaussian import fock_covariance, fock_state, quadratures, random_covariance

__all__ = ["fock_covariance", "fock_state", "quadratures", "random_covariance"]
