"""Markov-length fit recovers known decay lengths with honest error bars; the bypass path's CMI is exact and local."""

import numpy as np
import pytest

from quantum_diffusion.toric import (
    NoDecayError,
    NoInteriorPeakError,
    bypass_cmi,
    locate_peak,
    markov_length,
    toric_cmi_exact,
)
from quantum_diffusion.toric.bypass import bypass_region_entropy, bypass_tripartite_cmi
from quantum_diffusion.toric.exact import region_entropy
from quantum_diffusion.toric.lattice import vertex_edges


def test_fit_recovers_exact_exponential(rtol=1e-10):
    r = np.arange(1, 8)
    I = 0.7 * np.exp(-r / 1.7)
    I[0] = 5.0  # r = 1 is excluded by r_min = 2
    fit = markov_length(r, I, 0.01 * I)
    assert fit.xi == pytest.approx(1.7, rel=rtol) and fit.amplitude == pytest.approx(0.7, rel=rtol)
    assert min(fit.r_used) == 2
    # points at the numerical floor are not used
    I2 = np.append(I, [1e-13, 1e-13])
    fit2 = markov_length(np.arange(1, 10), I2, 0.01 * I2)
    assert max(fit2.r_used) == 7 and fit2.xi == pytest.approx(1.7, rel=rtol)


def test_fit_error_bars_have_correct_coverage(xi=2.5, n_rep=300):
    rng = np.random.default_rng(0)
    r = np.arange(2, 9)
    I = np.exp(-r / xi)
    err = 0.05 * I
    inside = 0
    for _ in range(n_rep):
        fit = markov_length(r, I + err * rng.standard_normal(r.size), err)
        inside += abs(fit.xi - xi) < fit.xi_err
    assert 0.6 < inside / n_rep < 0.76  # ~68 % within one standard error


def test_fit_edge_cases():
    with pytest.raises(NoDecayError):  # increasing data: no Markov length (issue 13 item 8)
        markov_length([2, 3, 4], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="at least 2 points"):
        markov_length([1, 2, 3], [0.3, 0.0, -0.1])
    with pytest.raises(ValueError, match="equal length"):
        markov_length([1, 2], [0.1])
    with pytest.raises(ValueError, match="cmi_err"):
        markov_length([2, 3], [0.1, 0.05], [-1.0, 0.1])


def test_locate_peak():
    p = np.linspace(0.0, 0.2, 9)
    assert locate_peak(p, 3.0 - 100 * (p - 0.107) ** 2) == pytest.approx(0.107, abs=1e-12)
    with pytest.raises(NoInteriorPeakError):  # monotone: the end of the grid is not a peak (issue 13 item 8)
        locate_peak(p, p)
    with pytest.raises(ValueError, match="increasing"):
        locate_peak(p[::-1], p)


def _bypass_brute_entropy(L, R, q):
    """H(Y_R) for y = delta(sigma), sigma_v ~ Bernoulli(q), by enumerating all 2^(L^2) sigma."""
    n = L * L
    stars = np.zeros((n, 2 * n), np.uint8)
    for v, es in enumerate(vertex_edges(L)):
        stars[v, es] = 1
    s = np.arange(2**n)[:, None]
    sig = ((s >> np.arange(n)[None, :]) & 1).astype(np.uint8)
    w = np.prod(np.where(sig == 1, q, 1 - q), axis=1)
    y = (sig @ stars[:, R]) % 2
    codes = y @ (1 << np.arange(len(R), dtype=np.int64))
    P = np.bincount(codes, weights=w)
    P = P[P > 0]
    return float(-np.sum(P * np.log(P)))


@pytest.mark.parametrize("L", [3, 4])
def test_bypass_entropy_formula_matches_enumeration(L, atol=1e-12):
    rng = np.random.default_rng(L)
    for q in (0.1, 0.35):
        for frac in (0.3, 0.7):
            R = np.nonzero(rng.random(2 * L * L) < frac)[0]
            assert bypass_region_entropy(L, R, q) == pytest.approx(_bypass_brute_entropy(L, R, q), abs=atol)


def test_bypass_at_half_is_the_data_distribution(atol=1e-12):
    # star flips with q = 1/2 give uniform trivial loops: the same entropies as the noiseless data (label method)
    L = 4
    rng = np.random.default_rng(1)
    for _ in range(3):
        R = np.nonzero(rng.random(2 * L * L) < 0.5)[0]
        assert bypass_region_entropy(L, R, 0.5) == pytest.approx(region_entropy(L, R, 0.0), abs=atol)


def test_bypass_cmi_is_short_ranged_while_diffusion_is_not(atol=1e-12):
    # along the whole bypass path (flips from all-zero, then star flips) I(A:C|B) = 0 for every r, while the
    # bit-flip diffusion path at the same geometry has CMI of order 0.1-0.3
    for q in (0.02, 0.11, 0.3, 0.5):
        for segment in ("flips", "stars"):
            assert bypass_cmi(4, q, 1, geometry="torus", segment=segment) == pytest.approx(0.0, abs=atol)
            assert bypass_cmi(10, q, 2, geometry="square", r_C=2, segment=segment) == pytest.approx(0.0, abs=atol)
    assert toric_cmi_exact(4, 0.11, 1, geometry="torus") > 0.2


def test_bypass_general_tripartition_nonzero_and_bad_input():
    L = 3
    rng = np.random.default_rng(0)
    lab = rng.integers(0, 4, 2 * L * L)
    A, B, C = (np.nonzero(lab == k)[0] for k in range(3))
    assert bypass_tripartite_cmi(L, 0.2, A, B, C) > 1e-3  # the formula is not trivially zero
    with pytest.raises(ValueError, match="segment"):
        bypass_region_entropy(L, A, 0.2, "reset")
    with pytest.raises(ValueError, match="q must lie in"):
        bypass_region_entropy(L, A, 0.7)


def test_markov_length_flat_or_noisy_data_is_no_decay():
    # issue 13 item 8: flat data gave xi = 1.9e15, increasing data xi = inf with NaN error
    r = np.arange(2, 8)
    with pytest.raises(NoDecayError, match="no exponential decay"):
        markov_length(r, np.full(r.size, 0.01))
    with pytest.raises(NoDecayError):
        markov_length(r, np.full(r.size, 0.01), np.full(r.size, 1e-3))
    with pytest.raises(NoDecayError):  # a decrease smaller than two standard errors is not a decay
        markov_length(r, 0.01 * np.exp(-r / 50.0), np.full(r.size, 2e-3))


def test_markov_scan_reports_rows_without_a_fit():
    from quantum_diffusion.markov import markov_scan

    r = np.arange(2, 7)
    cmi = np.array([np.exp(-r / 1.5), np.full(r.size, 0.2)])
    scan = markov_scan([0.05, 0.11], r, cmi, 0.01 * cmi)
    assert scan.xi[0] == pytest.approx(1.5, rel=1e-10) and scan.reason[0] == ""
    assert np.isnan(scan.xi[1]) and "no exponential decay" in scan.reason[1]


def test_peak_with_error_covers_the_true_peak():
    from quantum_diffusion.markov import peak_with_error

    p = np.linspace(0.05, 0.2, 7)
    rng = np.random.default_rng(3)
    inside = 0
    for _ in range(16):
        err = np.full(p.size, 0.05)
        xi = 3.0 - 100 * (p - 0.107) ** 2 + err * rng.standard_normal(p.size)
        est = peak_with_error(p, xi, err, n_boot=100, seed=rng)
        inside += abs(est.p_peak - 0.107) < 2 * est.p_peak_err
    assert inside >= 12  # ~95 % expected within 2 bootstrap standard errors (vertex of a parabola: mild bias)
    with pytest.raises(NoInteriorPeakError):
        peak_with_error(p, p, np.full(p.size, 0.01))
