"""Every Gaussian cost routine on n modes: sums of one-mode results on products, passive invariance on entangled ones.

Pure loss commutes with passive (orthogonal symplectic) unitaries O and every cost here is invariant under
Sigma -> O Sigma O^T, so a beam splitter acting on a product of squeezed states (an entangled reference, routed to
the SDP) must reproduce the sum of the one-mode closed forms.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.linalg import block_diag

from quantum_diffusion import io
from quantum_diffusion.gaussian import (
    attenuator,
    bayes_reverse,
    decoder_irreversibility,
    decoder_output,
    exact_reverse_cost,
    fidelity_squared,
    minimal_repair,
    noise_floor,
    repair_rate,
    reverse_cost_sdp,
    squeezed_thermal,
)
from quantum_diffusion.gaussian.multimode import beam_splitter


def passive(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random passive symplectic (xpxp) from a Haar-ish unitary U: a -> U a."""
    z = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    u, _ = np.linalg.qr(z)
    o = np.zeros((2 * n, 2 * n))
    o[0::2, 0::2], o[0::2, 1::2] = u.real, -u.imag
    o[1::2, 0::2], o[1::2, 1::2] = u.imag, u.real
    return o


MODES = [(1.5, 0.9, 0.2), (2.0, 0.3, 1.0), (1.2, 0.6, -0.4)]


def test_exact_reverse_cost_is_additive_on_products() -> None:
    blocks = [squeezed_thermal(*m) for m in MODES]
    total = sum(exact_reverse_cost(b) for b in blocks)
    assert exact_reverse_cost(block_diag(*blocks)) == pytest.approx(total, rel=1e-14)
    assert exact_reverse_cost(block_diag(*blocks), rate=2.5) == pytest.approx(2.5 * total, rel=1e-14)


def test_exact_reverse_cost_on_entangled_references_is_passively_invariant(rng) -> None:
    blocks = [squeezed_thermal(*m) for m in MODES[:2]]
    total = sum(exact_reverse_cost(b) for b in blocks)
    for o in (beam_splitter(np.pi / 5), passive(rng, 2)):
        gam = o @ block_diag(*blocks) @ o.T
        assert np.max(np.abs(gam[:2, 2:])) > 0.1  # correlated: the SDP path is taken
        assert exact_reverse_cost(gam) == pytest.approx(total, rel=1e-7)
    o3 = passive(rng, 3)
    gam3 = o3 @ block_diag(*[squeezed_thermal(*m) for m in MODES]) @ o3.T
    total3 = sum(exact_reverse_cost(squeezed_thermal(*m)) for m in MODES)
    res = reverse_cost_sdp(gam3)
    assert res.cost == pytest.approx(total3, rel=1e-7)
    assert res.lambda_min >= -1e-7 and res.residual < 1e-7


def test_decoder_irreversibility_and_noise_floor_are_additive_on_products() -> None:
    g1, g2 = squeezed_thermal(1.5, 0.9), squeezed_thermal(1.2, 0.7, 0.5)
    prod = block_diag(g1, g2)
    T = 0.3
    one = decoder_irreversibility(g1, T) + decoder_irreversibility(g2, T)
    assert decoder_irreversibility(prod, T) == pytest.approx(one, rel=1e-9)
    out = decoder_output(prod, T)
    assert np.allclose(out, block_diag(decoder_output(g1, T), decoder_output(g2, T)), atol=1e-9)
    res2, r1, r2 = noise_floor([prod], T), noise_floor([g1], T), noise_floor([g2], T)
    assert res2.neg2_log_f[0] == pytest.approx(r1.neg2_log_f[0] + r2.neg2_log_f[0], rel=1e-6)
    assert res2.nu_min == pytest.approx(min(r1.nu_min, r2.nu_min), rel=1e-12)
    assert repair_rate(prod) == pytest.approx(repair_rate(g1) + repair_rate(g2), rel=1e-12)


def test_decoder_irreversibility_sdp_path_on_an_entangled_reference() -> None:
    # Both modes violate CP along the whole interval (smooth integrand), so Gauss-Legendre + SDP is accurate.
    g1, g2 = squeezed_thermal(1.3, 1.0), squeezed_thermal(1.6, 1.1, 0.7)
    T = 0.2
    gam = beam_splitter(0.6) @ block_diag(g1, g2) @ beam_splitter(0.6).T
    expected = decoder_irreversibility(g1, T) + decoder_irreversibility(g2, T)
    assert decoder_irreversibility(gam, T, n_nodes=12) == pytest.approx(expected, rel=1e-6)
    assert repair_rate(gam) == pytest.approx(repair_rate(g1) + repair_rate(g2), rel=1e-6)


def test_n_mode_fidelity_of_decoder_output_uses_the_multimode_formula() -> None:
    g1, g2 = squeezed_thermal(1.5, 0.9), squeezed_thermal(1.2, 0.7, 0.5)
    f = fidelity_squared(block_diag(g1, g2), block_diag(decoder_output(g1, 0.1), decoder_output(g2, 0.1)))
    f1 = fidelity_squared(g1, decoder_output(g1, 0.1))
    f2 = fidelity_squared(g2, decoder_output(g2, 0.1))
    assert f == pytest.approx(f1 * f2, rel=1e-10)


def test_results_serialise_to_json() -> None:
    g = squeezed_thermal(1.5, 0.9)
    rep = minimal_repair(bayes_reverse(attenuator(), g).cp_matrix(), weight="bkm", gamma_ref=g)
    data = json.loads(json.dumps(io.to_jsonable(rep)))
    assert data["cost"] == pytest.approx(rep.cost) and np.allclose(data["delta_d"], rep.delta_d)
    rc = json.loads(json.dumps(io.to_jsonable(reverse_cost_sdp(g))))
    assert np.allclose(rc["generator"]["D"], reverse_cost_sdp(g).generator.D, atol=1e-8)
    nf = json.loads(json.dumps(io.to_jsonable(noise_floor([g], 0.1))))
    assert nf["T"] == 0.1


def test_states_module_does_not_import_cvxpy() -> None:
    code = "import sys, quantum_diffusion.gaussian.states, quantum_diffusion.gaussian; print('cvxpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
