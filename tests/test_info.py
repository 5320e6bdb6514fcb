"""Information quantities (nats): against qutip and analytic values."""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from quantum_diffusion.info import (
    entropy,
    fidelity,
    mutual_information,
    partial_trace,
    quantum_cmi,
    relative_entropy,
    trace_distance,
)


@pytest.fixture
def states():
    return qutip.rand_dm(6, seed=11), qutip.rand_dm(6, seed=12)


def test_against_qutip(states, atol=1e-10):
    r, s = states
    assert abs(trace_distance(r, s) - qutip.tracedist(r, s)) < atol
    assert abs(fidelity(r, s) - qutip.fidelity(r, s)) < atol  # qutip's fidelity is the root fidelity too
    assert abs(entropy(r) - qutip.entropy_vn(r)) < atol  # natural log by default
    assert abs(relative_entropy(r, s) - qutip.entropy_relative(r, s)) < 1e-8


def test_analytic_values(atol=1e-12):
    d = 4
    assert abs(entropy(np.eye(d) / d) - np.log(d)) < atol
    pure = np.zeros((d, d))
    pure[0, 0] = 1
    assert abs(entropy(pure)) < atol
    assert abs(fidelity(pure, np.eye(d) / d) - 0.5) < atol  # ||sqrt(P) sqrt(I/4)||_1 = 1/2
    assert abs(trace_distance(pure, np.eye(d) / d) - 0.75) < atol
    assert relative_entropy(np.eye(d) / d, pure) == np.inf
    assert abs(relative_entropy(pure, np.eye(d) / d) - np.log(d)) < atol


def test_fuchs_van_de_graaf(states):
    r, s = states
    f, td = fidelity(r, s), trace_distance(r, s)
    assert 1 - f <= td <= np.sqrt(1 - f**2)


def test_cmi_identities(atol=1e-10):
    # product state: zero CMI; GHZ state: I(A:C|B) = ln 2 ; classical Markov chain A-B-C: zero CMI
    a, b, c = (qutip.rand_dm(2, seed=k).full() for k in (1, 2, 3))
    prod = np.kron(np.kron(a, b), c)
    assert abs(quantum_cmi(prod, [2, 2, 2], 0, 1, 2)) < atol
    ghz = np.zeros(8)
    ghz[[0, 7]] = 1 / np.sqrt(2)
    assert abs(quantum_cmi(np.outer(ghz, ghz), [2, 2, 2], "A", "B", "C", names="ABC") - np.log(2)) < atol
    assert abs(mutual_information(np.outer(ghz, ghz), [2, 2, 2], 0, 2) - np.log(2)) < atol
    rng = np.random.default_rng(0)
    pa = rng.dirichlet(np.ones(2))
    tab = rng.dirichlet(np.ones(2), size=2)  # p(b|a)
    tbc = rng.dirichlet(np.ones(2), size=2)  # p(c|b)
    p = np.einsum("a,ab,bc->abc", pa, tab, tbc).reshape(-1)
    assert abs(quantum_cmi(np.diag(p), [2, 2, 2], 0, 1, 2)) < atol
    # strong subadditivity on a random state
    assert quantum_cmi(qutip.rand_dm([2, 3, 2], seed=5), [2, 3, 2], 0, 1, 2) >= -atol


def test_partial_trace_against_qutip(atol=1e-12):
    r = qutip.rand_dm([2, 3, 2], seed=7)
    for keep in ([0], [1, 2], [0, 2]):
        assert np.max(np.abs(partial_trace(r, [2, 3, 2], keep) - r.ptrace(keep).full())) < atol


def test_bad_input():
    with pytest.raises(ValueError, match="normalised"):
        entropy(np.eye(2))
    with pytest.raises(ValueError, match="dimension mismatch"):
        trace_distance(np.eye(2) / 2, np.eye(3) / 3)
    with pytest.raises(ValueError, match="disjoint"):
        quantum_cmi(np.eye(8) / 8, [2, 2, 2], 0, 0, 2)
    with pytest.raises(ValueError, match="unknown subsystem"):
        quantum_cmi(np.eye(8) / 8, [2, 2, 2], "A", "B", "Z", names="ABC")
    with pytest.raises(ValueError, match="dims"):
        partial_trace(np.eye(8) / 8, [2, 2], [0])


def test_importing_the_light_modules_loads_neither_sympy_nor_matplotlib():
    """Issue 10: importing classical_limit (incl. .discrete), petz and info must not load sympy or matplotlib."""
    import subprocess
    import sys

    code = ("import sys, quantum_diffusion.classical_limit.discrete, quantum_diffusion.classical_limit, "
            "quantum_diffusion.petz, quantum_diffusion.info, quantum_diffusion.subsystems; "
            "print('sympy' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
