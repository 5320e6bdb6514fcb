"""Exact entropies: brute force = label decomposition; limits p = 0 and p = 1/2; the theory note's table."""

import numpy as np
import pytest

from quantum_diffusion.toric import cmi_exact, flip_probability, toric_cmi_exact
from quantum_diffusion.toric.exact import label_matrix, region_entropy, vertex_components


def _random_tripartition(L, rng):
    while True:
        lab = rng.integers(0, 4, 2 * L * L)  # label 3 = traced out
        A, B, C = (np.nonzero(lab == k)[0] for k in range(3))
        if A.size and C.size:
            return A, B, C


@pytest.mark.parametrize("L,loops,n_tri", [(2, "trivial", 4), (2, "all", 4), (3, "trivial", 2), (3, "all", 1)])
def test_brute_force_equals_label_decomposition(L, loops, n_tri, atol=1e-12):
    rng = np.random.default_rng(100 + L)
    for p in (0.07, 0.23):
        for _ in range(n_tri):
            A, B, C = _random_tripartition(L, rng)
            for R in (A, np.concatenate([A, B]), np.concatenate([B, C])):
                assert region_entropy(L, R, p, loops, "brute") == pytest.approx(
                    region_entropy(L, R, p, loops, "label"), abs=atol
                )
            assert cmi_exact(L, p, A, B, C, loops, "brute") == pytest.approx(
                cmi_exact(L, p, A, B, C, loops, "label"), abs=atol
            )


@pytest.mark.parametrize("L", [3, 4, 5])
def test_restricted_loop_count_is_vertices_minus_components(L):
    # S61: log2 N_R = |V_R| - c_R for the trivial-loop data set, for random (also wrapping) edge sets
    rng = np.random.default_rng(L)
    for frac in (0.2, 0.5, 0.9):
        R = np.nonzero(rng.random(2 * L * L) < frac)[0]
        nv, c = vertex_components(L, R)
        assert label_matrix(L, R, "trivial")[1] == nv - c


@pytest.mark.parametrize("loops", ["trivial", "all"])
def test_cmi_vanishes_at_p0_and_half(loops, atol=1e-12):
    assert toric_cmi_exact(4, 0.0, 1, geometry="torus", loops=loops) == pytest.approx(0.0, abs=atol)
    assert toric_cmi_exact(4, 0.5, 1, geometry="torus", loops=loops) == pytest.approx(0.0, abs=atol)
    # square geometry at p = 0 (label space is deterministic): zero independently of L
    assert toric_cmi_exact(6, 0.0, 1, geometry="square", r_C=1, loops=loops) == pytest.approx(0.0, abs=atol)
    assert toric_cmi_exact(7, 0.0, 1, geometry="square", r_C=1, loops=loops) == pytest.approx(0.0, abs=atol)


def test_cmi_is_positive_and_all_loops_smaller_on_small_torus():
    for p in (0.05, 0.11, 0.2):
        triv = toric_cmi_exact(4, p, 1, geometry="torus", loops="trivial")
        allv = toric_cmi_exact(4, p, 1, geometry="torus", loops="all")
        assert triv > allv > 0


def test_note_table_values_as_cross_check(tol=5e-5):
    # theory note section 5 (4 significant digits); the Monte Carlo test checks these by a second method
    note = {"trivial": (0.3304, 0.2914, 0.0531), "all": (0.1477, 0.0739, 0.0048)}
    for loops, vals in note.items():
        got = [toric_cmi_exact(4, p, 1, geometry="torus", loops=loops) for p in (0.05, 0.11, 0.2)]
        np.testing.assert_allclose(got, vals, atol=tol)


def test_flip_probability_is_the_channel_entry(atol=1e-15):
    from scipy.linalg import expm

    G = np.array([[-1.0, 1.0], [1.0, -1.0]])
    for t in (0.0, 0.01, 0.122, 1.0, 7.0):
        assert flip_probability(t) == pytest.approx(expm(t * G)[0, 1], abs=atol)
    np.testing.assert_allclose(flip_probability(np.array([0.0, 50.0])), [0.0, 0.5])
    with pytest.raises(ValueError, match="t must be finite"):
        flip_probability(-0.1)
    with pytest.raises(ValueError, match="t must be finite"):
        flip_probability(np.nan)


@pytest.mark.parametrize("p", [-0.01, 0.51, np.nan])
def test_bad_p(p):
    with pytest.raises(ValueError, match="p must lie in"):
        toric_cmi_exact(4, p, 1)


def test_bad_options():
    with pytest.raises(ValueError, match="loops must be one of"):
        toric_cmi_exact(4, 0.1, 1, loops="some")
    with pytest.raises(ValueError, match="method must be"):
        toric_cmi_exact(4, 0.1, 1, method="magic")
    with pytest.raises(ValueError, match="only L <= 3"):
        toric_cmi_exact(4, 0.1, 1, method="brute")
    with pytest.raises(ValueError, match="needs L >= 2r"):
        toric_cmi_exact(4, 0.1, 2)


@pytest.mark.slow
def test_note_values_L5_and_square(tol=5e-5):
    got = [toric_cmi_exact(5, p, 1, geometry="torus", loops="all") for p in (0.05, 0.11, 0.2)]
    np.testing.assert_allclose(got, (0.2310, 0.1012, 0.0047), atol=tol)
    got = [toric_cmi_exact(6, p, 1, geometry="square", r_C=1) for p in (0.05, 0.11, 0.2)]
    np.testing.assert_allclose(got, (0.2000, 0.0758, 0.0039), atol=tol)


def test_docstring_examples_run():
    import doctest

    import quantum_diffusion.toric.exact as mod

    assert doctest.testmod(mod).failed == 0
