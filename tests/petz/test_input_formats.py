"""One input path per concept: every public Petz / info / classical_limit function that takes states or channels
gives the same result (1e-12) for every accepted input format.

States and operators: ndarray, nested list, qutip ``Qobj``. Channels: row-major ndarray, nested list, qutip super
``Qobj`` (column stacking), qutip Choi ``Qobj``, list of Kraus ndarrays, list of Kraus ``Qobj``.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from quantum_diffusion import info
from quantum_diffusion.classical_limit import coherence_leakage, diagonal_block
from quantum_diffusion.conventions import row_to_column_superop
from quantum_diffusion.linalg import kraus_from_superop
from quantum_diffusion.petz import (
    apply_local_recovery_map,
    local_petz_generator,
    local_recovery_map,
    petz_generator,
    petz_map,
    recover,
    recovery_map,
    reference_path,
    rotated_petz_map,
    solve_recovery,
    twirled_petz_map,
)
from quantum_diffusion.petz.generators import petz_generator_direct_superop
from quantum_diffusion.petz.maps import apply_superop

STATE_FORMATS = ["ndarray", "list", "qobj"]
CHANNEL_FORMATS = ["ndarray", "list", "qobj_super", "qobj_choi", "kraus_ndarray", "kraus_qobj"]


def as_format(x: np.ndarray, fmt: str):
    if fmt == "ndarray":
        return np.array(x)
    if fmt == "list":
        return np.array(x).tolist()
    return qutip.Qobj(x)


def channel_as_format(s: np.ndarray, fmt: str):
    d = int(round(np.sqrt(s.shape[0])))
    if fmt == "ndarray":
        return np.array(s)
    if fmt == "list":
        return s.tolist()
    q = qutip.Qobj(row_to_column_superop(s), dims=[[[d], [d]], [[d], [d]]], superrep="super")
    if fmt == "qobj_super":
        return q
    if fmt == "qobj_choi":
        return qutip.to_choi(q)
    kraus = kraus_from_superop(s)
    return kraus if fmt == "kraus_ndarray" else [qutip.Qobj(k) for k in kraus]


def close(a, b, atol=1e-12):
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) < atol


@pytest.fixture
def problem(systems, rng):
    L = systems.lindbladian(rng, 2)
    return {"L": L, "ch": L.channel(0.4), "sigma2": systems.state(rng, 2), "sigma4": systems.state(rng, 4),
            "rho4": systems.state(rng, 4), "rho2": systems.state(rng, 2)}


@pytest.mark.parametrize("fmt", CHANNEL_FORMATS)
@pytest.mark.parametrize("kind,theta", [("petz", 0.0), ("rotated", 0.4), ("twirled", 0.0)])
def test_recovery_maps_accept_every_channel_format(problem, fmt, kind, theta):
    ch, sigma = problem["ch"], problem["sigma2"]
    ref = recovery_map(ch, sigma, kind=kind, theta=theta)
    assert close(recovery_map(channel_as_format(ch, fmt), as_format(sigma, "qobj"), kind=kind, theta=theta), ref)
    one = {"petz": lambda c: petz_map(c, sigma), "rotated": lambda c: rotated_petz_map(c, sigma, theta),
           "twirled": lambda c: twirled_petz_map(c, sigma)}[kind]
    assert close(one(channel_as_format(ch, fmt)), ref)


@pytest.mark.parametrize("cfmt", CHANNEL_FORMATS)
@pytest.mark.parametrize("sfmt", STATE_FORMATS)
def test_local_maps_accept_every_format(problem, cfmt, sfmt):
    ch, sigma, x = problem["ch"], problem["sigma4"], problem["rho4"]
    args = ([2, 2], [1], [0, 1])
    for kind in ("petz", "twirled"):
        ref = local_recovery_map(ch, sigma, *args, kind=kind)
        assert close(local_recovery_map(channel_as_format(ch, cfmt), as_format(sigma, sfmt), *args, kind=kind), ref)
        ref_x = apply_local_recovery_map(ch, sigma, *args, x, kind=kind)
        got = apply_local_recovery_map(channel_as_format(ch, cfmt), as_format(sigma, sfmt), *args,
                                       as_format(x, sfmt), kind=kind)
        assert close(got, ref_x)


@pytest.mark.parametrize("cfmt", CHANNEL_FORMATS)
@pytest.mark.parametrize("sfmt", STATE_FORMATS)
def test_apply_superop_accepts_every_format(problem, cfmt, sfmt):
    ch, x = problem["ch"], problem["rho2"]
    assert close(apply_superop(channel_as_format(ch, cfmt), as_format(x, sfmt)), apply_superop(ch, x))


@pytest.mark.parametrize("sfmt", STATE_FORMATS)
def test_generators_accept_every_state_format(problem, sfmt):
    L, sigma, sigma4, x4 = problem["L"], problem["sigma2"], problem["sigma4"], problem["rho4"]
    for kind, theta in (("petz", 0.0), ("rotated", 0.4), ("twirled", 0.0)):
        ref = petz_generator(L, sigma, kind=kind, theta=theta)
        got = petz_generator(L, as_format(sigma, sfmt), kind=kind, theta=theta)
        assert close(got.superop(), ref.superop())
        assert close(got.apply(as_format(problem["rho2"], sfmt)), ref.apply(problem["rho2"]))
        loc = local_petz_generator(L, as_format(sigma4, sfmt), [2, 2], [0], [0, 1], kind=kind, theta=theta)
        ref_loc = local_petz_generator(L, sigma4, [2, 2], [0], [0, 1], kind=kind, theta=theta)
        assert close(loc.apply(as_format(x4, sfmt)), ref_loc.apply(x4))
    assert close(petz_generator_direct_superop(L, as_format(sigma, sfmt)), petz_generator_direct_superop(L, sigma))
    assert close(L.apply(as_format(sigma, sfmt)), L.apply(sigma))
    assert close(L.evolve(as_format(sigma, sfmt), 0.2), L.evolve(sigma, 0.2))


@pytest.mark.parametrize("sfmt", STATE_FORMATS)
def test_flows_accept_every_state_format(problem, sfmt):
    L, sigma, rho = problem["L"], problem["sigma2"], problem["rho2"]
    for picture in ("schrodinger", "heisenberg"):
        ref = recover(L, rho, sigma, 0.3, picture=picture)
        assert close(recover(L, as_format(rho, sfmt), as_format(sigma, sfmt), 0.3, picture=picture), ref)
        assert close(solve_recovery(L, as_format(rho, sfmt), as_format(sigma, sfmt), 0.3, picture=picture).state,
                     ref)
    path = reference_path(L, as_format(sigma, sfmt), 0.3)
    assert close(path(0.2), reference_path(L, sigma, 0.3)(0.2))
    loc = recover(L, problem["rho4"], problem["sigma4"], 0.3, local_radius=0, dims=[2, 2], region=[0])
    got = recover(L, as_format(problem["rho4"], sfmt), as_format(problem["sigma4"], sfmt), 0.3, local_radius=0,
                  dims=[2, 2], region=[0])
    assert close(got, loc)


@pytest.mark.parametrize("sfmt", STATE_FORMATS)
def test_info_functions_accept_every_state_format(problem, sfmt):
    r, s = problem["rho4"], problem["sigma4"]
    f = lambda x: as_format(x, sfmt)  # noqa: E731
    for fn in (info.trace_distance, info.fidelity, info.relative_entropy):
        assert abs(fn(f(r), f(s)) - fn(r, s)) < 1e-12
    assert abs(info.entropy(f(r)) - info.entropy(r)) < 1e-12
    assert close(info.partial_trace(f(r), [2, 2], [1]), info.partial_trace(r, [2, 2], [1]))
    assert abs(info.quantum_cmi(f(r), [2, 2], 0, [], 1) - info.quantum_cmi(r, [2, 2], 0, [], 1)) < 1e-12
    assert abs(info.mutual_information(f(r), [2, 2], 0, 1) - info.mutual_information(r, [2, 2], 0, 1)) < 1e-12


@pytest.mark.parametrize("cfmt", CHANNEL_FORMATS)
def test_classical_limit_superop_functions_accept_every_format(problem, cfmt):
    ch = problem["ch"]
    assert close(diagonal_block(channel_as_format(ch, cfmt)), diagonal_block(ch))
    assert abs(coherence_leakage(channel_as_format(ch, cfmt)) - coherence_leakage(ch)) < 1e-12


def test_classical_limit_accepts_a_lindbladian_and_its_qutip_liouvillian(problem):
    L = problem["L"]
    assert close(diagonal_block(L), diagonal_block(L.superop()))
    assert close(diagonal_block(L.to_qutip()), diagonal_block(L.superop()))
    assert abs(coherence_leakage(L.to_qutip()) - coherence_leakage(L.superop())) < 1e-12


def test_nonsquare_kraus_channel_accepted(rng, systems):
    """A channel from dimension 4 to 2 (partial trace) as Kraus operators: the Petz map of tr_B."""
    sigma = systems.state(rng, 4)
    kraus = [np.kron(np.eye(2), np.array([[1.0, 0.0]])), np.kron(np.eye(2), np.array([[0.0, 1.0]]))]
    pm = petz_map(kraus, sigma)
    omega = info.partial_trace(sigma, [2, 2], [0])
    assert close((pm @ omega.reshape(-1)).reshape(4, 4), sigma, atol=1e-10)  # P(E(sigma)) = sigma
