"""Forward Lindbladian: superoperator against qutip's liouvillian, evolution against mesolve."""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from quantum_diffusion.conventions import row_to_column_superop
from quantum_diffusion.petz import Lindbladian


@pytest.mark.parametrize("d", [2, 3, 4])
def test_superop_matches_qutip_liouvillian(systems, rng, d, atol=1e-12):
    L = systems.lindbladian(rng, d)
    ours = row_to_column_superop(L.superop())
    ref = qutip.liouvillian(qutip.Qobj(L.H), [qutip.Qobj(j) for j in L.jumps]).full()
    assert np.max(np.abs(ours - ref)) < atol
    assert np.max(np.abs(L.to_qutip().full() - ours)) < atol


def test_apply_and_adjoint_consistent_with_superop(systems, rng, atol=1e-12):
    L = systems.lindbladian(rng, 3)
    x = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    y = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    assert np.max(np.abs(L.apply(x).reshape(-1) - L.superop() @ x.reshape(-1))) < atol
    # Hilbert-Schmidt adjoint: tr(Y^dag L(X)) = tr(L^dag(Y)^dag X)
    lhs = np.vdot(y, L.apply(x))
    rhs = np.vdot(L.adjoint_apply(y), x)
    assert abs(lhs - rhs) < atol


def test_evolve_expm_matches_mesolve(systems, rng, atol=1e-7):
    L = systems.lindbladian(rng, 3)
    rho = systems.state(rng, 3)
    ts = [0.3, 1.0]
    ex = L.evolve(rho, ts, method="expm")
    me = L.evolve(qutip.Qobj(rho), ts, method="mesolve")
    assert np.max(np.abs(ex - me)) < atol
    assert abs(np.trace(ex[-1]) - 1) < 1e-12


def test_accepts_qobj_and_decay_analytic(atol=1e-10):
    # amplitude damping at rate g: excited population decays as exp(-g t)
    g, t = 0.7, 1.3
    L = Lindbladian(qutip.sigmaz(), [np.sqrt(g) * qutip.destroy(2)])
    rho = L.evolve(np.diag([0.0, 1.0]), t)  # qutip destroy(2) lowers |1> -> |0>
    assert abs(rho[1, 1].real - np.exp(-g * t)) < atol


def test_bad_input():
    with pytest.raises(ValueError, match="Hermitian"):
        Lindbladian(np.array([[0, 1], [0, 0]]), [])
    with pytest.raises(ValueError, match="shape"):
        Lindbladian(np.eye(2), [np.eye(3)])
    with pytest.raises(ValueError, match="NaN"):
        Lindbladian(np.array([[np.nan, 0], [0, 1]]), [])
    with pytest.raises(ValueError, match="times"):
        Lindbladian(np.eye(2), []).evolve(np.eye(2) / 2, -1.0)
