"""Property-based fuzzing of the public toric-code entry points (issue 13).

Random valid inputs give finite outputs with a physical property (0 <= p(t) < 1/2, regions disjoint and of the
documented sizes, CMI >= -tolerance and exact = mc within 6 sigma, xi > 0, the peak inside its bracket); random
invalid inputs (NaN, inf, wrong shapes, out-of-range values, wrong types) raise ValueError/TypeError whose message
names the argument.

Examples per function (fast default suite / ``slow`` twin):

=================================================  ========  =========
function(s)                                        fast      slow
=================================================  ========  =========
flip_probability                                   150       10,000
square_regions, torus_regions, tripartition        150       10,000
markov_length                                      150       10,000
locate_peak                                        150       10,000
toric_cmi (method="exact", L <= 4; bad inputs)     30        300
toric_cmi (method="mc", n_samples <= 20)           10        100
collapse_fit (tiny synthetic data, n_boot <= 2)    5         30
=================================================  ========  =========
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantum_diffusion.toric import (
    NoDecayError,
    NoInteriorPeakError,
    flip_probability,
    locate_peak,
    markov_length,
    square_regions,
    toric_cmi,
    torus_regions,
    tripartition,
)
from quantum_diffusion.toric.scaling import collapse_fit

ERRORS = (ValueError, TypeError)
FAST = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
_special = st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -1e300, 1e-300, 0.0, -1.0, 0.5])
_real = st.one_of(st.floats(allow_nan=True, allow_infinity=True), _special)
_garbage = st.one_of(st.none(), st.text(max_size=3), st.just([1.0, 2.0]), st.just(np.ones((2, 3))), st.just(1j))
_int = st.one_of(st.integers(-2, 8), st.floats(-2, 8), _garbage)


def _raises_naming(fn, names, *args, **kwargs):
    """Call ``fn``; return ``(True, out)`` on success, ``(False, None)`` after an error naming one of ``names``."""
    try:
        with np.errstate(all="ignore"):
            return True, fn(*args, **kwargs)
    except ERRORS as err:
        msg = str(err)
        assert any(n in msg for n in names), f"{fn.__name__}: message {msg!r} names none of {names}"
        return False, None


# ---------------------------------------------------------------- flip probability
def _flip_case(t):
    ok, p = _raises_naming(flip_probability, ("t",), t)
    arr = np.asarray(t, dtype=float) if not isinstance(t, (str, type(None))) else None
    if not ok:
        assert arr is None or not (np.all(np.isfinite(arr)) and np.all(arr >= 0))
        return
    p = np.asarray(p)
    assert np.all(np.isfinite(p)) and np.all(p >= 0) and np.all(p <= 0.5)
    # p < 1/2 strictly whenever e^{-2t} is representable; p(t) = (1 - e^{-2t}) / 2 and 1 - 2p = e^{-2t}
    assert np.allclose(1 - 2 * p, np.exp(-2 * arr), rtol=1e-12, atol=1e-16)
    assert np.all((p < 0.5) | (arr > 18))


_t = st.one_of(st.floats(0, 50), _real, st.lists(st.floats(0, 10), min_size=1, max_size=5).map(np.array),
               st.lists(_real, min_size=1, max_size=3).map(np.array))


@given(t=_t)
@settings(max_examples=150, **FAST)
def test_flip_probability_fuzz(t):
    _flip_case(t)


# ---------------------------------------------------------------- regions
def _regions_case(L, r, r_C, geometry):
    names = ("L", "r", "r_C", "geometry")
    for fn, args in ((torus_regions, (L, r)), (square_regions, (r,)), (tripartition, (L, r, geometry, r_C))):
        kw = {"r_C": r_C} if fn is square_regions else {}
        ok, reg = _raises_naming(fn, names, *args, **kw)
        if not ok:
            continue
        A, B, C = reg.A, reg.B, reg.C
        n_edges = 2 * reg.L * reg.L
        assert len(A) == 4 and len(np.intersect1d(A, B)) == len(np.intersect1d(B, C)) == len(np.intersect1d(A, C)) == 0
        assert all(np.all((x >= 0) & (x < n_edges)) for x in (A, B, C))
        # A plus B is the (1 + 2r)^2 plaquette block: 2 (1+2r)^2 + 2 (1+2r) edges
        w = 1 + 2 * reg.r
        assert len(A) + len(B) == 2 * w * w + 2 * w
        if reg.geometry == "torus":
            assert len(A) + len(B) + len(C) == n_edges


@given(L=_int, r=_int, r_C=st.one_of(st.none(), _int), geometry=st.one_of(st.sampled_from(["torus", "square"]),
                                                                            st.text(max_size=4)))
@settings(max_examples=150, **FAST)
def test_regions_fuzz(L, r, r_C, geometry):
    _regions_case(L, r, r_C, geometry)


# ---------------------------------------------------------------- markov length and peak
def _markov_case(r, cmi, err, r_min):
    ok, fit = _raises_naming(markov_length, ("r", "cmi", "cmi_err", "r_min", "floor"), r, cmi, err, r_min=r_min)
    if not ok:
        return
    assert np.isfinite(fit.xi) and fit.xi > 0
    # xi_err is nan (documented marker: no error estimate) only for an unweighted fit through exactly 2 points
    assert np.isfinite(fit.xi_err) or (err is None and len(fit.r_used) == 2)
    assert fit.xi_err >= 0 or np.isnan(fit.xi_err)
    assert np.isfinite(fit.amplitude) and fit.amplitude > 0


@st.composite
def decays(draw):
    n = draw(st.integers(0, 7))
    r = np.arange(1, n + 1, dtype=float)
    xi = draw(st.floats(0.05, 20.0))
    cmi = draw(st.floats(1e-6, 10.0)) * np.exp(-r / xi)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    cmi = cmi * np.exp(draw(st.floats(0, 0.3)) * rng.normal(size=n))
    err = draw(st.sampled_from([None, "rel", "zero", "neg"]))
    err = None if err is None else {"rel": 0.05 * cmi, "zero": 0 * cmi, "neg": -cmi}[err]
    bad = draw(st.sampled_from(["none", "none", "none", "nan", "shape", "increase", "garbage"]))
    if bad == "nan" and n:
        cmi[draw(st.integers(0, n - 1))] = draw(_special)
    elif bad == "shape":
        r = r[:-1]
    elif bad == "increase":
        cmi = cmi[::-1].copy()
    elif bad == "garbage":
        cmi = draw(_garbage)
    return r, cmi, err, draw(st.sampled_from([1, 2, 2, 3, 0]))


@given(args=decays())
@settings(max_examples=150, **FAST)
def test_markov_length_fuzz(args):
    try:
        _markov_case(*args)
    except NoDecayError as err:  # a ValueError subclass: still must name what failed
        assert "cmi" in str(err) or "decay" in str(err)


def _peak_case(p, xi):
    try:
        ok, x = _raises_naming(locate_peak, ("p", "xi"), p, xi)
    except NoInteriorPeakError as err:
        assert "peak" in str(err)
        return
    if ok:
        p = np.asarray(p, float)
        xi = np.asarray(xi, float)
        k = int(np.argmax(np.where(np.isfinite(xi), xi, -np.inf)))  # non-finite xi count as missing (documented)
        assert np.isfinite(x) and p[k - 1] <= x <= p[k + 1]


@st.composite
def peaks(draw):
    n = draw(st.integers(1, 9))
    p = np.sort(draw(st.lists(st.floats(0.0, 0.5), min_size=n, max_size=n, unique=True))).astype(float)
    pc, width = draw(st.floats(0.0, 0.5)), draw(st.floats(0.01, 1.0))
    xi = 1.0 / (1e-3 + ((p - pc) / width) ** 2)
    bad = draw(st.sampled_from(["none", "none", "nan", "shape", "unsorted", "garbage"]))
    if bad == "nan":
        xi[draw(st.integers(0, n - 1))] = draw(_special)
    elif bad == "shape":
        xi = xi[:-1]
    elif bad == "unsorted":
        p = p[::-1].copy()
    elif bad == "garbage":
        xi = draw(_garbage)
    return p, xi


@given(args=peaks())
@settings(max_examples=150, **FAST)
def test_locate_peak_fuzz(args):
    _peak_case(*args)


# ---------------------------------------------------------------- toric_cmi
def _cmi_case(L, r, p, loops, method):
    ok, reg = _raises_naming(torus_regions, ("L", "r"), L, r)
    if not ok:
        reg = L  # not a Tripartition: must raise TypeError naming regions
    ok, res = _raises_naming(toric_cmi, ("regions", "p", "loops", "method", "n_samples"), reg, p, loops=loops,
                             method=method, n_samples=20, seed=0)
    if not ok:
        return
    assert np.isfinite(res.cmi) and np.isfinite(res.stderr)
    assert res.cmi >= -1e-12 - 6 * res.stderr
    assert res.cmi <= np.log(2) * len(reg.A) + 1e-9  # I(A:C|B) <= H(A) <= |A| ln 2
    if method == "mc":
        exact = toric_cmi(reg, p, loops=loops, method="exact").cmi
        assert abs(res.cmi - exact) <= 6 * res.stderr + 1e-9


_p = st.one_of(st.floats(0.0, 0.5), _real, _garbage)
_loops = st.one_of(st.sampled_from(["trivial", "all"]), st.text(max_size=3))


@given(L=st.integers(3, 4), r=st.integers(0, 2), p=_p, loops=_loops,
       method=st.one_of(st.just("exact"), st.text(max_size=3)))
@settings(max_examples=30, **FAST)
def test_toric_cmi_exact_fuzz(L, r, p, loops, method):
    _cmi_case(L, r, p, loops, method)


@given(p=st.floats(0.01, 0.5), loops=st.sampled_from(["trivial", "all"]))
@settings(max_examples=10, **FAST)
def test_toric_cmi_mc_fuzz(p, loops):
    _cmi_case(4, 1, p, loops, "mc")


# ---------------------------------------------------------------- collapse fit
def _collapse_case(seed, bad):
    rng = np.random.default_rng(seed)
    p = np.repeat(np.linspace(0.05, 0.2, 5), 3)
    r = np.tile([2.0, 3.0, 4.0], 5)
    cmi = r ** -1.0 * np.exp(-((p - 0.11) * r ** (1 / 1.5)) ** 2) * np.exp(0.01 * rng.normal(size=p.size))
    err = 0.01 * cmi
    if bad == "nan":
        cmi[int(rng.integers(p.size))] = np.nan
    elif bad == "shape":
        err = err[:-1]
    elif bad == "neg":
        err[0] = -1.0
    elif bad == "few":
        p, r, cmi, err = p[:3], r[:3], cmi[:3], err[:3]
    ok, fit = _raises_naming(collapse_fit, ("p", "r", "cmi", "cmi_err", "points", "degree"), p, r, cmi, err,
                             degree=2, n_boot=2, seed=seed)
    if ok:
        assert np.isfinite(fit.p_c) and np.isfinite(fit.nu)
    else:
        assert bad != "none"


@given(seed=st.integers(0, 2**16), bad=st.sampled_from(["none", "nan", "shape", "neg", "few"]))
@settings(max_examples=5, **FAST)
def test_collapse_fit_fuzz(seed, bad):
    _collapse_case(seed, bad)


# ---------------------------------------------------------------- slow twins
SLOW = dict(max_examples=10_000, **FAST)


@pytest.mark.slow
@given(t=_t)
@settings(**SLOW)
def test_flip_probability_fuzz_10k(t):
    _flip_case(t)


@pytest.mark.slow
@given(L=_int, r=_int, r_C=st.one_of(st.none(), _int), geometry=st.one_of(st.sampled_from(["torus", "square"]),
                                                                            st.text(max_size=4)))
@settings(**SLOW)
def test_regions_fuzz_10k(L, r, r_C, geometry):
    _regions_case(L, r, r_C, geometry)


@pytest.mark.slow
@given(args=decays())
@settings(**SLOW)
def test_markov_length_fuzz_10k(args):
    try:
        _markov_case(*args)
    except NoDecayError as err:
        assert "cmi" in str(err) or "decay" in str(err)


@pytest.mark.slow
@given(args=peaks())
@settings(**SLOW)
def test_locate_peak_fuzz_10k(args):
    _peak_case(*args)


@pytest.mark.slow
@given(L=st.integers(3, 4), r=st.integers(0, 2), p=_p, loops=_loops,
       method=st.one_of(st.just("exact"), st.text(max_size=3)))
@settings(max_examples=300, **FAST)
def test_toric_cmi_exact_fuzz_slow(L, r, p, loops, method):
    _cmi_case(L, r, p, loops, method)


@pytest.mark.slow
@given(p=st.floats(0.01, 0.5), loops=st.sampled_from(["trivial", "all"]))
@settings(max_examples=100, **FAST)
def test_toric_cmi_mc_fuzz_slow(p, loops):
    _cmi_case(4, 1, p, loops, "mc")


@pytest.mark.slow
@given(seed=st.integers(0, 2**16), bad=st.sampled_from(["none", "nan", "shape", "neg", "few"]))
@settings(max_examples=30, **FAST)
def test_collapse_fit_fuzz_slow(seed, bad):
    _collapse_case(seed, bad)


def test_non_numeric_inputs_raise_naming_the_argument():
    # regression (fuzz, issue 13): these raised numpy's "could not convert string to float" naming nothing
    with pytest.raises(TypeError, match="xi"):
        locate_peak([0.1, 0.2, 0.3], "")
    with pytest.raises(TypeError, match="cmi"):
        markov_length([1, 2, 3], ["a", "b", "c"])
    with pytest.raises(TypeError, match="p must"):
        toric_cmi(torus_regions(4, 1), "")


def test_degenerate_markov_and_peak_inputs_raise():
    # regression (fuzz, issue 13): an overflowing amplitude came back as inf; near-coincident p gave a "peak"
    # outside the bracketing points (polyfit on an ill-conditioned Vandermonde matrix)
    with pytest.raises(ValueError, match="cmi"):
        markov_length([1.0, 2.0], [1e300, 0.135335283], r_min=1)
    with pytest.raises(ValueError, match="p points"):
        locate_peak([0.0, 2.220446049250313e-16, 0.5], [15.7480315, 15.7480316, 15.7480315])
    with pytest.raises(ValueError, match="p and xi"):
        locate_peak([0.0, 2.02223242e-244, 3.71690487e-087], [1e3, 1e300, 1e3])
