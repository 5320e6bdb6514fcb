"""TMSV/Choi witness: agrees with is_cp on random channels; Schur complement independent of s."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from quantum_diffusion.gaussian import (
    GaussianChannel,
    attenuator,
    bayes_reverse,
    squeezed_thermal,
    tmsv_schur_complement,
    tmsv_witness,
)

floats = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(x=st.lists(floats, min_size=4, max_size=4), a=st.lists(floats, min_size=4, max_size=4),
       shift=st.floats(min_value=-1.0, max_value=2.0), s=st.sampled_from([0.3, 1.0, 2.0]))
def test_witness_agrees_with_is_cp(x: list[float], a: list[float], shift: float, s: float) -> None:
    xm = np.array(x).reshape(2, 2)
    am = np.array(a).reshape(2, 2)
    y = am @ am.T + shift * np.eye(2)
    ch = GaussianChannel(xm, y)
    lam_cp = np.linalg.eigvalsh(ch.cp_matrix())[0]
    assume(abs(lam_cp) > 1e-3)  # stay off the boundary, where both tests are decided by round-off
    assert (tmsv_witness(ch, s) >= -1e-10) == ch.is_cp()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(x=st.lists(floats, min_size=4, max_size=4), a=st.lists(floats, min_size=4, max_size=4))
def test_schur_complement_is_cp_matrix_for_every_s(x: list[float], a: list[float]) -> None:
    ch = GaussianChannel(np.array(x).reshape(2, 2), np.array(a).reshape(2, 2) @ np.array(a).reshape(2, 2).T)
    for s in (0.3, 1.0, 2.0):
        assert np.allclose(tmsv_schur_complement(ch, s), ch.cp_matrix(), atol=1e-9)


def test_small_dt_witness_recovers_generator_spectrum(nu: float = 1.5, r: float = 0.9) -> None:
    """lambda_min(Schur) / dt -> lambda_min(M_Bayes) with an O(dt) error (measured slope ~ 1)."""
    gen = bayes_reverse(attenuator(), squeezed_thermal(nu, r))
    lam = np.linalg.eigvalsh(gen.cp_matrix())[0]
    assert lam < 0
    dts = np.array([1e-2, 5e-3, 2.5e-3])
    errs = []
    for dt in dts:
        # X = exp(dt K^T), Y = dt D: the TMSV output becomes unphysical
        ch = GaussianChannel(gen.channel(dt).X, dt * gen.D)
        assert tmsv_witness(ch, 1.0) < 0
        errs.append(abs(np.linalg.eigvalsh(tmsv_schur_complement(ch, 1.0))[0] / dt - lam))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert 0.8 < slope < 1.2


def test_witness_input_errors() -> None:
    with pytest.raises(ValueError, match="s must be"):
        tmsv_witness(GaussianChannel(np.eye(2), np.zeros((2, 2))), 0.0)
    with pytest.raises(ValueError, match="one-mode"):
        tmsv_witness(GaussianChannel(np.eye(4), np.zeros((4, 4))), 1.0)
    with pytest.raises(TypeError):
        tmsv_witness(np.eye(2), 1.0)  # type: ignore[arg-type]
