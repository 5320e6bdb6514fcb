"""Sampling level: the reverse SDE with the exact score reproduces the lattice Petz backward evolution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from quantum_diffusion.classical_limit.lattice import PeriodicGrid, backward_evolve, heat_evolve
from quantum_diffusion.classical_limit.sde import GaussianMixture1D, kolmogorov_distance, lattice_cdf, reverse_sde

MIX = GaussianMixture1D([0.4, 0.6], [-1.5, 1.5], [0.5, 0.6])
NOISE = GaussianMixture1D([1.0], [0.0], [1.5])  # a "pure noise" start that is not the forward-evolved density
T, LENGTH = 1.0, 12.0
LEVELS = [(1000, 20, 20), (6000, 40, 60), (36000, 80, 180)]  # (samples, grid sites, SDE steps)


def test_score_and_its_derivative_match_finite_differences(eps=1e-5, rtol=1e-6):
    x = np.linspace(-4, 4, 17)
    fd = (np.log(MIX.pdf(x + eps)) - np.log(MIX.pdf(x - eps))) / (2 * eps)
    np.testing.assert_allclose(MIX.score(x), fd, rtol=rtol, atol=rtol)
    fd2 = (MIX.score(x + eps) - MIX.score(x - eps)) / (2 * eps)
    np.testing.assert_allclose(MIX.score_derivative(x), fd2, rtol=rtol, atol=rtol)


def test_diffused_mixture_solves_heat_equation(gamma=0.7, t=0.4, eps=1e-4, rtol=1e-6):
    x = np.linspace(-3, 3, 13)
    dt = (MIX.diffused(t + eps, gamma).pdf(x) - MIX.diffused(t - eps, gamma).pdf(x)) / (2 * eps)
    pt = MIX.diffused(t, gamma)
    d2 = (pt.pdf(x + eps) - 2 * pt.pdf(x) + pt.pdf(x - eps)) / eps**2
    np.testing.assert_allclose(dt, 0.5 * gamma * d2, rtol=1e-4, atol=rtol)


def test_cdf_is_integral_of_pdf(rtol=1e-10):
    for x in (-2.0, 0.3, 4.0):
        val, _ = quad(MIX.pdf, -np.inf, x, epsabs=1e-13)
        assert MIX.cdf(x) == pytest.approx(val, rel=rtol)


def test_samples_have_exact_moments(n=200_000, seed=5, nsig=5):
    xs = MIX.sample(n, seed=seed)
    mean = MIX.weights @ MIX.means
    var = MIX.weights @ (MIX.stds**2 + MIX.means**2) - mean**2
    assert abs(xs.mean() - mean) < nsig * np.sqrt(var / n)
    assert np.array_equal(xs, MIX.sample(n, seed=seed))  # seeded


def test_kolmogorov_distance_of_exact_samples_is_small(n=20000, seed=1):
    # calibrates the metric: samples from the lattice density's own continuum density, on a fine grid
    g = PeriodicGrid.centered(400, LENGTH)
    d = kolmogorov_distance(MIX.sample(n, seed=seed), MIX.pdf(g.x), g.x)
    assert d < 1.63 / np.sqrt(n) + 1e-3  # 99% KS quantile plus discretisation
    edges, cdf = lattice_cdf(MIX.pdf(g.x), g.x)
    np.testing.assert_allclose(cdf, MIX.cdf(edges), atol=1e-4)


def _distances(start: GaussianMixture1D, seed: int) -> tuple[list[float], float]:
    out = []
    for m, n, steps in LEVELS:
        g = PeriodicGrid.centered(n, LENGTH)
        p0 = MIX.pdf(g.x)
        q_T = heat_evolve(p0, g, 1.0, T) if start is MIX else start.pdf(g.x)
        _, q = backward_evolve(q_T, p0, g, 1.0, T)
        x_T = (MIX.diffused(T) if start is MIX else start).sample(m, seed=seed)
        x0 = reverse_sde(x_T, MIX, T=T, n_steps=steps, seed=seed + 1)
        out.append(kolmogorov_distance(x0, q[-1], g.x))
    wrong = kolmogorov_distance(x0, NOISE.pdf(g.x) if start is MIX else p0, g.x)
    return out, wrong


@pytest.mark.parametrize("seed", [0, 11])
def test_reverse_sde_from_forward_density_matches_lattice_petz(seed, final_tol=0.012):
    dist, wrong = _distances(MIX, seed)
    assert dist[0] > dist[1] > dist[2]
    assert dist[2] < final_tol
    assert wrong > 10 * dist[2]  # the metric sees the difference from a wrong target


@pytest.mark.parametrize("seed", [0, 11])
def test_reverse_sde_from_noise_matches_lattice_petz(seed, final_tol=0.015):
    # started from a density that is NOT p_T, neither side returns p_0: both solve the same backward PDE
    dist, wrong = _distances(NOISE, seed)
    assert dist[0] > dist[2]
    assert dist[2] < final_tol
    assert wrong > 4 * dist[2]


def test_validation():
    with pytest.raises(ValueError, match="standard deviations"):
        GaussianMixture1D([1.0], [0.0], [0.0])
    with pytest.raises(ValueError, match="t_end < T"):
        reverse_sde(np.zeros(3), MIX, T=1.0, t_end=1.0)
    with pytest.raises(ValueError, match="1-D"):
        reverse_sde(np.zeros((3, 2)), MIX)
    with pytest.raises(ValueError, match="n_steps"):
        reverse_sde(np.zeros(3), MIX, n_steps=0)
