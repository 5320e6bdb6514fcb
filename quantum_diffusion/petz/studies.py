r"""Numerical studies of the Petz area (computations only; figures are in the application layer).

* :func:`convergence_experiment`: :math:`\|(\mathrm{Map}_{dt}-\mathrm{id})/dt-\mathcal B\|/\|\mathcal B\|` against
  ``dt`` for the Petz, rotated and twirled maps (random qubit, qutrit and two-qubit systems): slope 1.
* :func:`local_recovery_experiment`: a Gibbs state of a transverse-field Ising ring, a channel on site 0,
  recovery error of the local twirled denoiser (one-shot map and continuous flow) against the radius next
  to :math:`\sqrt{I(A{:}C|B)}` (P.25).

Each returns a frozen dataclass (``dataclasses.asdict`` gives the JSON-ready numbers); the figures live in
:mod:`quantum_diffusion.demo.petz`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg as sla

from .._threads import small_blas
from ..info import quantum_cmi, trace_distance
from .generators import petz_generator
from .integrate import recover
from .lindbladian import Lindbladian
from .local import (
    apply_local_recovery_map,
    apply_on_subsystems,
    local_recovery_map,
    ring_neighbourhood,
)
from .maps import petz_map, rotated_petz_map, twirled_petz_map
from .models import amplitude_damping, depolarizing, gibbs_state, tfim_ring_hamiltonian

__all__ = [
    "random_system",
    "MapConvergence",
    "convergence_experiment",
    "LocalRecoveryResult",
    "local_recovery_experiment",
]


@dataclass(frozen=True)
class MapConvergence:
    """Result of :func:`convergence_experiment`.

    Attributes
    ----------
    dts : list of float
        Time steps, largest first.
    theta : float
        Rotation angle of the rotated map.
    dims : list of int
        Hilbert-space dimensions of the random systems.
    errors : dict
        ``errors[kind][str(d)]``: relative errors, one per time step (kinds ``petz``, ``rotated``, ``twirled``).
    slopes : dict
        ``slopes[kind][str(d)]``: log-log slope of the error against ``dt`` over ``dt <= 1e-2`` (1 expected).
    """

    dts: list[float]
    theta: float
    dims: list[int]
    errors: dict[str, dict[str, list[float]]]
    slopes: dict[str, dict[str, float]]


@dataclass(frozen=True)
class LocalRecoveryResult:
    r"""Result of :func:`local_recovery_experiment` (trace distances to the clean Gibbs state; CMIs in nats).

    Attributes
    ----------
    n, beta, J, h, noise, gamma, t
        The ring, its Gibbs state and the one-site noise (see :func:`local_recovery_experiment`).
    td_noisy : float
        Trace distance of the noisy state (no recovery).
    radii, flow_radii, cmi_radii : list of int
        Radii of the one-shot map, of the continuous flow and of the CMI bound.
    sqrt_cmi, sqrt_cmi_drop : list of float
        :math:`\sqrt{I_\sigma(A{:}C|B)}` and :math:`\sqrt{I_\sigma - I_{\mathcal E(\sigma)}}` per ``cmi_radii``.
    td_one_shot, td_flow : list of float
        Recovery errors per ``radii`` and per ``flow_radii``.
    seconds_one_shot, seconds_flow : list of float
        Wall time per radius.
    seconds_total : float
        Wall time of the whole study.
    """

    n: int
    beta: float
    J: float
    h: float
    noise: str
    gamma: float
    t: float
    td_noisy: float
    radii: list[int]
    flow_radii: list[int]
    cmi_radii: list[int]
    sqrt_cmi: list[float]
    sqrt_cmi_drop: list[float]
    td_one_shot: list[float]
    td_flow: list[float]
    seconds_one_shot: list[float]
    seconds_flow: list[float]
    seconds_total: float


def random_system(d: int, rng: np.random.Generator, n_jumps: int = 2) -> tuple[Lindbladian, np.ndarray]:
    """Random forward Lindbladian (H scale 0.5, jump scale 0.3) and full-rank reference (30% maximally mixed)."""
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    jumps = [0.3 * (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))) for _ in range(n_jumps)]
    lind = Lindbladian(0.25 * (a + a.conj().T), jumps)
    w = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    s = w @ w.conj().T
    return lind, 0.7 * s / np.trace(s).real + 0.3 * np.eye(d) / d


def convergence_experiment(dims: Sequence[int] = (2, 3, 4), *, dts: Sequence[float] | None = None,
                           theta: float = 0.7, seed: int | np.random.Generator = 0) -> MapConvergence:
    r"""Relative error of :math:`(\mathrm{Map}_{dt}-\mathrm{id})/dt` against the generator, per kind and dim.

    Parameters
    ----------
    dims : sequence of int
        Hilbert-space dimensions; one random system (:func:`random_system`) each.
    dts : sequence of float, optional
        Time steps (default: 9 from 1e-1 down to 1e-5).
    theta : float
        Rotation angle of the rotated map.
    seed : int or Generator
        Seed of the random systems.

    Returns
    -------
    MapConvergence
        Errors per kind, dimension and time step, and the log-log slopes over ``dt <= 1e-2``.
    """
    rng = np.random.default_rng(seed)
    dts = np.logspace(-1, -5, 9) if dts is None else np.asarray(dts, dtype=float)
    makers = {
        "petz": lambda e, s: petz_map(e, s),
        "rotated": lambda e, s: rotated_petz_map(e, s, theta),
        "twirled": lambda e, s: twirled_petz_map(e, s),
    }
    errors: dict[str, dict[str, list[float]]] = {k: {} for k in makers}
    slopes: dict[str, dict[str, float]] = {k: {} for k in makers}
    with small_blas():
        for d in dims:
            lind, sigma = random_system(int(d), rng)
            s = lind.superop()
            channels = [sla.expm(dt * s) for dt in dts]
            for kind, make in makers.items():
                b = petz_generator(lind, sigma, kind, theta if kind == "rotated" else 0.0).superop()
                err = [float(np.linalg.norm((make(e, sigma) - np.eye(d * d)) / dt - b) / np.linalg.norm(b))
                       for e, dt in zip(channels, dts)]
                errors[kind][str(d)] = err
                fit = dts <= 1e-2
                slopes[kind][str(d)] = float(np.polyfit(np.log10(dts[fit]), np.log10(np.array(err)[fit]), 1)[0])
    return MapConvergence(dts=dts.tolist(), theta=float(theta), dims=[int(d) for d in dims], errors=errors,
                          slopes=slopes)


def local_recovery_experiment(
    n: int = 6, *, beta: float = 1.0, J: float = 1.0, h: float = 1.0,
    noise: Literal["amplitude_damping", "depolarizing"] = "amplitude_damping",
    gamma: float = 1.0, t: float = 1.0, radii: Sequence[int] = (0, 1, 2), flow_radii: Sequence[int] = (0, 1),
    cmi_radii: Sequence[int] | None = None, rtol: float = 1e-7, atol: float = 1e-9,
    progress: Callable[[str], None] | None = None,
) -> LocalRecoveryResult:
    r"""Local twirled recovery on a TFIM ring: error vs radius next to :math:`\sqrt{I(A{:}C|B)}`.

    ``A`` = site 0, ``B`` = the other sites within ring distance ``r``, ``C`` = the rest. The noise
    :math:`e^{t\mathcal L_A}` (amplitude damping or depolarising at rate ``gamma``) acts on ``A``.
    Errors are trace distances to the clean Gibbs state after the one-shot local twirled map (exact kernel
    P.5 on ``AB``, identity on ``C``), and after the continuous local twirled flow (``recover`` with
    ``local_radius``) for ``flow_radii``.
    ``progress``, if given, is called with one line of text at the start of each stage (CMI, each radius).

    Raises
    ------
    ValueError
        Unknown ``noise`` or invalid ring parameters.
    """
    models = {"amplitude_damping": amplitude_damping, "depolarizing": depolarizing}
    if noise not in models:
        raise ValueError(f"noise must be one of {list(models)}, got {noise!r}")
    dims = [2] * n
    t0 = time.perf_counter()
    sigma = gibbs_state(tfim_ring_hamiltonian(n, J, h), beta)
    lind_a = models[noise](gamma)
    ch = lind_a.channel(t)
    noisy = apply_on_subsystems(ch, sigma, dims, [0])
    cmi_radii = list(range(0, (n - 1) // 2 + 1)) if cmi_radii is None else list(cmi_radii)
    out: dict[str, object] = {"n": n, "beta": beta, "J": J, "h": h, "noise": noise, "gamma": gamma, "t": t,
                           "td_noisy": trace_distance(noisy, sigma), "radii": list(radii),
                           "flow_radii": list(flow_radii), "cmi_radii": cmi_radii}
    sqrt_cmi, sqrt_cmi_drop = [], []
    say = progress or (lambda message: None)
    with small_blas():
        say(f"CMI of the Gibbs state at radii {cmi_radii}")
        for r in cmi_radii:
            nb = ring_neighbourhood([0], r, n)
            b = [s for s in nb if s != 0]
            c = [s for s in range(n) if s not in nb]
            if not c:
                sqrt_cmi.append(0.0)
                sqrt_cmi_drop.append(0.0)
                continue
            i0 = quantum_cmi(sigma, dims, [0], b, c)
            i1 = quantum_cmi(noisy, dims, [0], b, c)
            sqrt_cmi.append(float(np.sqrt(max(i0, 0.0))))
            sqrt_cmi_drop.append(float(np.sqrt(max(i0 - i1, 0.0))))
        td_one, td_flow, sec_one, sec_flow = [], [], [], []
        for r in radii:
            say(f"one-shot local twirled map, r={r}")
            ta = time.perf_counter()
            nb = ring_neighbourhood([0], r, n)
            if 2 ** len(nb) <= 32:  # explicit (d_AB^2 x d_AB^2) map
                rec = apply_on_subsystems(local_recovery_map(ch, sigma, dims, [0], nb, "twirled"), noisy, dims, nb)
            else:  # matrix-free kernel: O(d_AB^3) memory instead of O(d_AB^4)
                rec = apply_local_recovery_map(ch, sigma, dims, [0], nb, noisy, "twirled")
            td_one.append(trace_distance(0.5 * (rec + rec.conj().T), sigma, validate=False))
            sec_one.append(time.perf_counter() - ta)
        for r in flow_radii:
            say(f"continuous local twirled flow, r={r}")
            ta = time.perf_counter()
            rec = recover(lind_a, noisy, sigma, t, "twirled", local_radius=r, dims=dims, region=[0],
                          rtol=rtol, atol=atol)
            td_flow.append(trace_distance(rec, sigma, validate=False))
            sec_flow.append(time.perf_counter() - ta)
    return LocalRecoveryResult(**out, sqrt_cmi=sqrt_cmi, sqrt_cmi_drop=sqrt_cmi_drop, td_one_shot=td_one,
                               td_flow=td_flow, seconds_one_shot=sec_one, seconds_flow=sec_flow,
                               seconds_total=time.perf_counter() - t0)
