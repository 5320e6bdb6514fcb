"""Decoder irreversibility and both sides of the reconstructed Theorem 2 (never forced to hold)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from quantum_diffusion.gaussian import (
    attenuator,
    c_geom,
    decoder_irreversibility,
    decoder_output,
    fidelity_squared,
    noise_floor,
    repair_cost_map,
    repair_rate,
    squeezed_thermal,
    symplectic_eigenvalues,
)


def test_unrepaired_decoder_retraces_the_target(atol: float = 1e-8) -> None:
    g0 = squeezed_thermal(1.5, 0.9, 0.3)
    assert np.allclose(decoder_output(g0, 0.7, repair=False), g0, atol=atol)


def test_repair_rate_matches_closed_form_along_the_path(rng: np.random.Generator) -> None:
    gen = attenuator()
    g0 = squeezed_thermal(1.5, 1.1)
    for t in (0.0, 0.1, 0.4):
        sig = gen.evolve(g0, t)
        nu = symplectic_eigenvalues(sig)[0]
        r = 0.25 * np.log(np.max(np.linalg.eigvalsh(sig)) / np.min(np.linalg.eigvalsh(sig)))
        assert np.isclose(repair_rate(sig), repair_cost_map(nu, r), rtol=1e-10)


def test_i_dec_is_zero_for_a_cp_family_and_positive_otherwise() -> None:
    assert decoder_irreversibility(squeezed_thermal(3.0, 0.3), 1.0) == 0.0
    assert decoder_irreversibility(squeezed_thermal(1.5, 0.9), 0.3) > 0.0


def test_i_dec_against_an_independent_quadrature(T: float = 0.5) -> None:
    """quad of the closed-form rate along the analytic path Sigma_t = e^-t Sigma_0 + (1 - e^-t) I."""
    g0 = squeezed_thermal(1.5, 0.9)

    def rate(t: float) -> float:
        sig = np.exp(-t) * g0 + (1 - np.exp(-t)) * np.eye(2)
        ev = np.linalg.eigvalsh(sig)
        return float(repair_cost_map(np.sqrt(ev[0] * ev[1]), 0.25 * np.log(ev[1] / ev[0])))

    ref, _ = quad(rate, 0, T, epsabs=0, epsrel=1e-11)
    assert np.isclose(decoder_irreversibility(g0, T), ref, rtol=1e-8)


def test_mixed_target_infidelity_is_quadratic_while_i_dec_is_linear() -> None:
    """The reason the reconstructed Theorem 2 fails for mixed targets: slopes 2 and 1 at small depth."""
    g0 = squeezed_thermal(1.5, 0.9)  # violates CP at t = 0 (cosh 1.8 > 1.5)
    ts = np.array([0.004, 0.002, 0.001])  # asymptotic regime (measured slopes 0.99 and 1.98)
    i_dec = np.array([decoder_irreversibility(g0, t) for t in ts])
    infid = np.array([-2 * np.log(fidelity_squared(g0, decoder_output(g0, t))) for t in ts])
    s_i = np.polyfit(np.log(ts), np.log(i_dec), 1)[0]
    s_f = np.polyfit(np.log(ts), np.log(infid), 1)[0]
    assert 0.95 < s_i < 1.05
    assert 1.9 < s_f < 2.1
    res = noise_floor([g0], 0.01)
    assert not res.holds and res.lhs < res.rhs  # reported honestly, not forced


def test_noise_floor_fields_are_consistent() -> None:
    fam = [squeezed_thermal(1.01, 1.0), squeezed_thermal(1.5, 0.9)]
    res = noise_floor(fam, 0.1)
    assert np.isclose(res.i_wc, res.i_dec.max())
    assert np.isclose(res.lhs, res.neg2_log_f.max())
    assert np.isclose(res.c_geom, c_geom(res.nu_min)) and np.isclose(res.rhs, res.c_geom * res.i_wc)
    assert 1.0 <= res.nu_min <= 1.01 + 1e-12
    assert res.holds == (res.lhs >= res.rhs)


def test_noise_floor_input_errors() -> None:
    with pytest.raises(ValueError, match="at least one"):
        noise_floor([], 1.0)
    with pytest.raises(ValueError, match="depth"):
        decoder_irreversibility(np.eye(2), -1.0)
    with pytest.raises(ValueError, match="mode"):  # generator and covariance disagree on the number of modes
        repair_rate(np.eye(2), attenuator(1.0, 2))
