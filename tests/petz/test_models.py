"""Model systems: TFIM ring against a qutip construction; Gibbs state properties."""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from quantum_diffusion.petz.models import gibbs_state, tfim_ring_hamiltonian


def _qutip_tfim(n, J, h):
    ops = []
    for i in range(n):
        zz = [qutip.qeye(2)] * n
        zz[i], zz[(i + 1) % n] = qutip.sigmaz(), qutip.sigmaz()
        x = [qutip.qeye(2)] * n
        x[i] = qutip.sigmax()
        ops.append(-J * qutip.tensor(zz) - h * qutip.tensor(x))
    return sum(ops[1:], ops[0]).full()


@pytest.mark.parametrize("n", [3, 4])
def test_tfim_matches_qutip(n, atol=1e-12):
    assert np.max(np.abs(tfim_ring_hamiltonian(n, 0.7, 1.3).toarray() - _qutip_tfim(n, 0.7, 1.3))) < atol


def test_gibbs_state_limits(atol=1e-10):
    h = tfim_ring_hamiltonian(3, 0.5, 2.0).toarray()  # paramagnetic: unique, gapped ground state
    g0 = gibbs_state(h, 0.0)
    assert np.max(np.abs(g0 - np.eye(8) / 8)) < atol
    g = gibbs_state(h, 2.0)
    assert abs(np.trace(g) - 1) < atol and np.max(np.abs(g @ h - h @ g)) < atol
    w, v = np.linalg.eigh(h)
    assert abs(np.real(v[:, 0].conj() @ gibbs_state(h, 60.0) @ v[:, 0]) - 1) < 1e-6  # ground state at low T
    with pytest.raises(ValueError, match="beta"):
        gibbs_state(h, -1.0)
