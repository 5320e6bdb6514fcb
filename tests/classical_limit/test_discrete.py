"""Discrete variables (theory note P.34-P.35): Petz backward generators of jump processes are Bayes reversals."""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from quantum_diffusion.classical_limit.discrete import (
    coherence_leakage,
    diagonal_block,
    jump_operators,
    master_generator,
    reverse_generator,
    reverse_rates,
)
from quantum_diffusion.conventions import row_to_column_superop
from quantum_diffusion.petz import Lindbladian, petz_generator

KINDS = [("petz", 0.0), ("rotated", 0.7), ("rotated", -2.3), ("rotated", 3.0), ("twirled", 0.0)]


def random_problem(d: int, seed: int, *, sparse: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.0, 2.0, (d, d))
    if sparse:
        w[rng.uniform(size=(d, d)) < 0.3] = 0.0  # some forbidden jumps, as in real chains
    np.fill_diagonal(w, 0.0)
    p = rng.uniform(0.05, 1.0, d)
    return w, p / p.sum()


def test_reverse_rates_index_convention_by_hand():
    # forward jump 0 -> 1 at rate 2; reference p = (3/4, 1/4): the reverse jump 1 -> 0 has rate 2 * p0 / p1 = 6
    rev = reverse_rates([[0.0, 2.0], [0.0, 0.0]], [0.75, 0.25])
    assert rev[1, 0] == pytest.approx(6.0, rel=1e-15)
    assert rev[0, 1] == 0.0


@pytest.mark.parametrize("seed", [0, 1])
def test_detailed_balance_is_self_reverse(seed, atol=1e-12):
    # Rates in detailed balance with p (w_ab p_a = w_ba p_b) are their own Bayes reversal.
    rng = np.random.default_rng(seed)
    d = 5
    p = rng.uniform(0.1, 1, d)
    p /= p.sum()
    sym = rng.uniform(0, 1, (d, d))
    sym = sym + sym.T
    np.fill_diagonal(sym, 0)
    w = sym / p[:, None]  # w_ab p_a = sym_ab, symmetric
    np.testing.assert_allclose(reverse_rates(w, p), w, atol=atol * w.max())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reverse_generator_undoes_forward_on_reference(seed, atol=1e-12):
    # P.14 classically: B(p) = -L(p); also columns of both generators sum to zero (probability conserved)
    w, p = random_problem(6, seed)
    G, Gr = master_generator(w), reverse_generator(w, p)
    np.testing.assert_allclose(Gr @ p, -(G @ p), atol=atol)
    np.testing.assert_allclose(G.sum(axis=0), 0, atol=atol)
    np.testing.assert_allclose(Gr.sum(axis=0), 0, atol=atol)


def test_reverse_generator_is_bayes_limit(seed=3):
    # Bayes rule R(x|y) = T(y|x) p(x) / q(y) for T = exp(dt G) equals id + dt * G_rev + O(dt^2): slope 1
    w, p = random_problem(4, seed, sparse=False)
    G, Gr = master_generator(w), reverse_generator(w, p)
    dts = np.array([1e-2, 1e-3, 1e-4])
    errs = []
    for dt in dts:
        T = expm(dt * G)  # T[y, x] = T(y|x)
        q = T @ p
        bayes = T.T * p[:, None] / q[None, :]  # bayes[x, y] = R(x|y)
        errs.append(np.max(np.abs((bayes - np.eye(4)) / dt - Gr)))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert slope == pytest.approx(1.0, abs=0.05)


def test_jump_operator_embedding_form():
    w = np.array([[0.0, 2.0, 0.0], [0.5, 0.0, 0.0], [0.0, 3.0, 0.0]])
    ops = jump_operators(w)
    assert len(ops) == 3  # one per non-zero rate
    expected = {(0, 1): 2.0, (1, 0): 0.5, (2, 1): 3.0}
    for op, ((a, b), rate) in zip(ops, expected.items()):
        e_a, e_b = np.eye(3)[a], np.eye(3)[b]
        np.testing.assert_allclose(op, np.sqrt(rate) * np.outer(e_b, e_a))


@pytest.mark.parametrize("d,seed", [(2, 0), (3, 1), (5, 2)])
def test_forward_lindbladian_is_master_equation(d, seed, atol=1e-13):
    w, _ = random_problem(d, seed)
    ops = jump_operators(w)
    S = Lindbladian(np.zeros((d, d)), ops).superop()
    np.testing.assert_allclose(diagonal_block(S), master_generator(w), atol=atol)
    assert coherence_leakage(S) <= atol
    # independent construction with qutip (column stacking converted to row-major)
    Sq = qutip.liouvillian(qutip.qzero(d), [qutip.Qobj(o) for o in ops]).full()
    np.testing.assert_allclose(row_to_column_superop(Sq), S, atol=atol)


@pytest.mark.parametrize("kind,theta", KINDS)
@pytest.mark.parametrize("d,seed", [(2, 0), (3, 1), (5, 2)])
def test_backward_generators_equal_reverse_master_equation(kind, theta, d, seed, rtol=1e-12):
    w, p = random_problem(d, seed)
    L = Lindbladian(np.zeros((d, d)), jump_operators(w))
    B = petz_generator(L, np.diag(p), kind=kind, theta=theta)
    S = B.superop()
    Gr = reverse_generator(w, p)
    scale = np.max(np.abs(Gr))
    np.testing.assert_allclose(diagonal_block(S), Gr, atol=rtol * scale)
    assert coherence_leakage(S) <= rtol * scale
    # matrix-free action on a random diagonal state: diagonal in, diagonal out, = reverse chain
    q = np.random.default_rng(seed + 10).dirichlet(np.ones(d))
    out = B.apply(np.diag(q))
    np.testing.assert_allclose(out, np.diag(Gr @ q), atol=rtol * scale)


@pytest.mark.parametrize("kind,theta", [("petz", 0.0), ("rotated", 1.1), ("twirled", 0.0)])
def test_degenerate_reference_still_exact(kind, theta, rtol=1e-12):
    # repeated eigenvalues of sigma: the eigenbasis is not unique, the classical limit must not care
    w, _ = random_problem(4, 7)
    p = np.array([0.3, 0.3, 0.2, 0.2])
    B = petz_generator(Lindbladian(np.zeros((4, 4)), jump_operators(w)), np.diag(p), kind=kind, theta=theta)
    Gr = reverse_generator(w, p)
    np.testing.assert_allclose(diagonal_block(B.superop()), Gr, atol=rtol * np.abs(Gr).max())
    assert coherence_leakage(B.superop()) <= rtol * np.abs(Gr).max()


def test_wrong_index_convention_is_detected(seed=4):
    # negative control: the transposed convention w_ab p_b / p_a is NOT the Petz generator's diagonal
    w, p = random_problem(4, seed, sparse=False)
    wrong = master_generator((w * p[None, :] / p[:, None]).T)
    B = petz_generator(Lindbladian(np.zeros((4, 4)), jump_operators(w)), np.diag(p))
    assert np.max(np.abs(diagonal_block(B.superop()) - wrong)) > 0.1


def test_coherent_hamiltonian_breaks_zero_leakage(seed=5):
    # the diagonal statement needs H diagonal: a transverse H makes the forward generator leak
    w, _ = random_problem(3, seed)
    H = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=complex)
    assert coherence_leakage(Lindbladian(H, jump_operators(w)).superop()) > 0.5


@pytest.mark.parametrize(
    "rates,p,match",
    [
        ([[0.0, -1.0], [1.0, 0.0]], [0.5, 0.5], "non-negative"),
        ([[1.0, 1.0], [1.0, 0.0]], [0.5, 0.5], "zero diagonal"),
        ([[0.0, 1.0], [1.0, 0.0]], [1.0, 0.0], "strictly positive"),
        ([[0.0, 1.0], [1.0, 0.0]], [0.2, 0.3, 0.5], "length 2"),
        ([[0.0, np.nan], [1.0, 0.0]], [0.5, 0.5], "NaN"),
        ([[0.0, 1.0, 0.0]], [0.5, 0.5], "square"),
    ],
)
def test_bad_input_raises(rates, p, match):
    with pytest.raises(ValueError, match=match):
        reverse_rates(rates, p)


def test_diagonal_block_rejects_non_superoperator():
    with pytest.raises(ValueError, match="d\\^2"):
        diagonal_block(np.zeros((5, 5)))


def test_diagonal_block_accepts_qutip_superoperator(seed=6, atol=1e-13):
    # diagonal indices are invariant under the row-major <-> column-stacking permutation
    w, _ = random_problem(4, seed)
    Lq = qutip.liouvillian(qutip.qzero(4), [qutip.Qobj(o) for o in jump_operators(w)])
    np.testing.assert_allclose(diagonal_block(Lq), master_generator(w), atol=atol)
    assert coherence_leakage(Lq) <= atol


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    d=st.integers(2, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_reversal_properties(d, seed):
    rtol = 1e-10
    # reversal w.r.t. the same p is an involution; B(p) = -L(p); probability is conserved
    w, p = random_problem(d, seed)
    np.testing.assert_allclose(reverse_rates(reverse_rates(w, p), p), w, rtol=rtol, atol=rtol)
    G, Gr = master_generator(w), reverse_generator(w, p)
    np.testing.assert_allclose(Gr @ p, -(G @ p), atol=rtol * (1 + np.abs(G).max()))
    np.testing.assert_allclose(Gr.sum(axis=0), 0, atol=rtol * (1 + np.abs(Gr).max()))
