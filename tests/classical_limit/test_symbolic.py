"""Sympy proofs of the continuum decoherence limit (P.26-P.31): every residual simplifies to exactly 0."""

from __future__ import annotations

import pytest
import sympy as sp

from quantum_diffusion.classical_limit import symbolic as S


@pytest.mark.parametrize(
    "fn",
    [S.residual_forward_heat, S.residual_backward_jump, S.residual_dissipator, S.residual_hamiltonian,
     S.residual_total, S.residual_rotated],
)
def test_residual_is_exactly_zero(fn):
    res = fn()
    for r in res if isinstance(res, tuple) else (res,):
        assert sp.simplify(r) == 0


def test_twirled_residuals_are_exactly_zero():
    norm, first, dtheta, total = S.residual_twirled()
    assert norm == 0 and first == 0 and dtheta == 0 and total == 0


def test_residuals_depend_on_theta_symbolically():
    # the rotated statement is proven for a symbolic theta, not for a number
    sym = S.symbols()
    assert sym["theta"].is_real and sym["gamma"].is_positive


def test_wrong_claims_leave_nonzero_residuals():
    # negative controls: the proof machinery detects a wrong coefficient and a missing Hamiltonian
    sym = S.symbols()
    f, x, g = sym["f"], sym["x"], sym["gamma"]
    s = sp.diff(sym["p"], x) / sym["p"]
    wrong28 = g * (sp.diff(f, x, 2) / 2 - s * sp.diff(f, x) / 2 - s.diff(x) * f / 2)
    assert S._residual_of(S._p28(), wrong28) != 0
    # the dissipator alone is not the reverse Fokker-Planck operator (its trace is not conserved)
    assert S._residual_of(S._p28(), S._reverse_fp()) != 0
    # a forward jump used directly as a backward jump gives the heat equation, not the score equation
    L = S._scale(sp.sqrt(g), S._P)
    assert S._residual_of(S._dissipator(L, L, S._mul(f)), S._reverse_fp()) != 0


def test_all_residuals_dictionary_lists_every_equation():
    res = S.all_residuals()
    assert {"P.26 forward heat", "P.29 Hamiltonian", "P.31 twirled total"} <= set(res)
    assert all(sp.simplify(v) == 0 for v in res.values())
