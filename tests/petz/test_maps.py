"""One-shot recovery maps: CPTP, perfect recovery of sigma, twirl kernel vs quadrature, JRSWW (P.6)."""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from quantum_diffusion.conventions import row_to_column_superop
from quantum_diffusion.info import fidelity, relative_entropy
from quantum_diffusion.petz import petz_map, rotated_petz_map, twirled_petz_map
from quantum_diffusion.petz.maps import apply_superop, twirl_density


def _random_channel(rng, d_in, d_out, n_kraus=3):
    """Random CPTP map as a row-major superoperator (Stinespring isometry from a QR decomposition)."""
    g = rng.normal(size=(d_out * n_kraus, d_in)) + 1j * rng.normal(size=(d_out * n_kraus, d_in))
    q, _ = np.linalg.qr(g)
    ks = q.reshape(n_kraus, d_out, d_in)
    return sum(np.kron(k, k.conj()) for k in ks)


def _choi(s, d_in, d_out):
    return s.reshape(d_out, d_out, d_in, d_in).transpose(0, 2, 1, 3).reshape(d_out * d_in, d_out * d_in)


MAPS = [("petz", lambda E, s: petz_map(E, s)), ("rotated", lambda E, s: rotated_petz_map(E, s, 0.9)),
        ("twirled", lambda E, s: twirled_petz_map(E, s))]


@pytest.mark.parametrize("name,make", MAPS)
@pytest.mark.parametrize("d_in,d_out", [(2, 2), (3, 2), (2, 3)])
def test_recovery_map_is_cptp_and_recovers_sigma(systems, rng, name, make, d_in, d_out, atol=1e-12):
    E = _random_channel(rng, d_in, d_out)
    sigma = systems.state(rng, d_in)
    R = make(E, sigma)
    assert R.shape == (d_in * d_in, d_out * d_out)
    assert np.max(np.abs(apply_superop(R, apply_superop(E, sigma)) - sigma)) < atol
    choi = _choi(R, d_out, d_in)
    assert np.linalg.eigvalsh(0.5 * (choi + choi.conj().T)).min() > -atol
    assert np.max(np.abs(np.eye(d_in).reshape(-1) @ R - np.eye(d_out).reshape(-1))) < atol


def test_petz_map_formula_and_composition(systems, rng, atol=1e-12):
    d = 3
    E1, E2 = _random_channel(rng, d, d), _random_channel(rng, d, d)
    sigma = systems.state(rng, d)
    # P.1 against an explicit operator formula via Kraus-free adjoint
    w = apply_superop(E1, sigma)
    x = systems.state(rng, d)
    wv, wu = np.linalg.eigh(w)
    wis = wu @ np.diag(wv ** -0.5) @ wu.conj().T
    sv, su = np.linalg.eigh(sigma)
    ss = su @ np.diag(sv ** 0.5) @ su.conj().T
    explicit = ss @ (E1.conj().T @ (wis @ x @ wis).reshape(-1)).reshape(d, d) @ ss
    assert np.max(np.abs(apply_superop(petz_map(E1, sigma), x) - explicit)) < atol
    # compositionality: P_{sigma, E2 o E1} = P_{sigma, E1} o P_{E1(sigma), E2}
    lhs = petz_map(E2 @ E1, sigma)
    rhs = petz_map(E1, sigma) @ petz_map(E2, w)
    assert np.max(np.abs(lhs - rhs)) < 1e-11


def test_twirl_kernel_equals_quadrature_over_beta0(systems, rng, atol=1e-9):
    d = 3
    E = _random_channel(rng, d, d)
    sigma = systems.state(rng, d)
    thetas = np.linspace(-25, 25, 1251)  # trapezoid on an analytic integrand: exponentially accurate
    w = twirl_density(thetas) * (thetas[1] - thetas[0])
    assert abs(w.sum() - 1) < 1e-9  # beta_0 is a probability density
    quad = sum(wi * rotated_petz_map(E, sigma, t) for wi, t in zip(w, thetas))
    assert np.max(np.abs(quad - twirled_petz_map(E, sigma))) < atol


def test_jrsww_inequality_for_one_shot_twirl(systems, rng, n_trials=20, slack=1e-10):
    for _ in range(n_trials):
        d = 3
        E = _random_channel(rng, d, d, n_kraus=2)
        sigma, rho = systems.state(rng, d), systems.state(rng, d, mix=0.05)
        er = apply_superop(E, rho)
        rec = apply_superop(twirled_petz_map(E, sigma), er)
        rec = 0.5 * (rec + rec.conj().T)
        lhs = relative_entropy(rho, sigma) - relative_entropy(er, apply_superop(E, sigma))
        rhs = -2 * np.log(fidelity(rho, rec))
        assert lhs >= rhs - slack, (lhs, rhs)


def test_qutip_super_channel_accepted(systems, rng, atol=1e-12):
    d = 2
    E = _random_channel(rng, d, d)
    sigma = systems.state(rng, d)
    q = qutip.Qobj(row_to_column_superop(E), dims=[[[d], [d]], [[d], [d]]], superrep="super")
    assert np.max(np.abs(petz_map(q, sigma) - petz_map(E, sigma))) < atol


def test_bad_inputs(systems, rng):
    E = _random_channel(rng, 2, 2)
    with pytest.raises(ValueError, match="rank-deficient"):
        petz_map(E, np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="dimension"):
        petz_map(E, systems.state(rng, 3))
    with pytest.raises(ValueError, match="finite"):
        rotated_petz_map(E, systems.state(rng, 2), np.inf)
    # a channel whose output E(sigma) is rank-deficient: the map is defined on its support only
    to_zero = sum(np.kron(k, k.conj()) for k in [np.array([[1, 0], [0, 0]]), np.array([[0, 1], [0, 0]])])
    with pytest.raises(ValueError, match="support of E"):
        petz_map(to_zero, systems.state(rng, 2))
