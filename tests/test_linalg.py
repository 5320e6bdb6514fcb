"""linalg: Kraus <-> row-major superoperator round trips (checked against qutip), powers and Hermitian parts."""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from quantum_diffusion.conventions import row_to_column_superop
from quantum_diffusion.linalg import hermitian_part, kraus_from_superop, psd_power, superop_from_kraus


def _random_kraus(rng, n, d_out, d_in):
    k = rng.normal(size=(n, d_out, d_in)) + 1j * rng.normal(size=(n, d_out, d_in))
    s = sum(a.conj().T @ a for a in k)
    w, v = np.linalg.eigh(s)
    return k @ ((v / np.sqrt(w)) @ v.conj().T)  # trace preserving: sum K^dag K = 1


@pytest.mark.parametrize("n,d_out,d_in", [(1, 2, 2), (3, 3, 3), (2, 2, 4)])
def test_superop_from_kraus_acts_as_the_channel(rng, n, d_out, d_in, atol=1e-12):
    k = _random_kraus(rng, n, d_out, d_in)
    x = rng.normal(size=(d_in, d_in)) + 1j * rng.normal(size=(d_in, d_in))
    s = superop_from_kraus(k)
    assert s.shape == (d_out**2, d_in**2)
    assert np.max(np.abs((s @ x.reshape(-1)).reshape(d_out, d_out) - sum(a @ x @ a.conj().T for a in k))) < atol


def test_superop_from_kraus_matches_qutip_column_stacking(rng, atol=1e-12):
    k = _random_kraus(rng, 3, 3, 3)
    ours = row_to_column_superop(superop_from_kraus(k))
    theirs = qutip.kraus_to_super([qutip.Qobj(a) for a in k]).full()
    assert np.max(np.abs(ours - theirs)) < atol


@pytest.mark.parametrize("n,d_out,d_in", [(1, 2, 2), (4, 3, 3), (2, 2, 4)])
def test_kraus_round_trip(rng, n, d_out, d_in, atol=1e-11):
    s = superop_from_kraus(_random_kraus(rng, n, d_out, d_in))
    k = kraus_from_superop(s)
    assert len(k) <= max(n, 1) and all(a.shape == (d_out, d_in) for a in k)
    assert np.max(np.abs(superop_from_kraus(np.array(k)) - s)) < atol


def test_kraus_from_superop_rejects_non_cp_and_bad_shapes():
    transpose = np.zeros((4, 4))
    for i in range(2):
        for j in range(2):
            transpose[i * 2 + j, j * 2 + i] = 1.0  # X -> X^T: positive, not completely positive
    with pytest.raises(ValueError, match="not completely positive"):
        kraus_from_superop(transpose)
    with pytest.raises(ValueError, match="shape"):
        kraus_from_superop(np.zeros((3, 4)))


def test_psd_power_and_hermitian_part(rng, atol=1e-12):
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    h = hermitian_part(a)
    assert np.max(np.abs(h - h.conj().T)) == 0.0
    s = a @ a.conj().T
    half = psd_power(s, 0.5)
    assert np.max(np.abs(half @ half - s)) < atol * np.max(np.abs(s)) * 10
    assert np.max(np.abs(psd_power(s, -0.5) @ half - np.eye(4))) < 1e-10
