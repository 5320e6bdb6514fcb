r"""Symbolic (sympy) proofs of the continuum decoherence limit, theory note ``petz.md`` (P.26)-(P.31).

Operators on :math:`L^2(\mathbb R)` are represented by their action on a generic test function
:math:`\psi(x)`: the momentum :math:`\hat p\psi=-i\psi'`, a multiplication operator :math:`g(\hat x)\psi=g\psi`.
A diagonal ("fully decohered") state with density :math:`f(x)` is the multiplication operator :math:`f`.
Each identity ":math:`\mathcal X(f)` is the multiplication operator :math:`m(x)`" is proven by showing
that :math:`\mathcal X(f)[\psi]-m\,\psi` simplifies to exactly 0 for *generic* sympy functions
:math:`f, p, \psi` (no test function is assumed), with :math:`\gamma>0` and the rotation angle
:math:`\theta` real and symbolic.  The score is :math:`s=p'/p`.

The backward jump operators are *derived*, not assumed: :math:`L_b^\theta=\sigma^{a}L^\dagger\sigma^{-a}`
with :math:`a=(1+i\theta)/2` (P.18) is computed by composing the multiplication operators
:math:`p^{\pm a}` with :math:`\hat p`.  The Hamiltonians (P.27), (P.31) are the note's closed forms (their
derivation goes through the kernel of (P.12), which has no finite-dimensional symbolic analogue); the
sum is checked independently against the direct Bayes form (P.7)/(P.8),
:math:`\mathcal B(f)=p\,\mathcal L^\dagger(f/p)-f\,\mathcal L(p)/p` with :math:`\mathcal L=\tfrac\gamma2\partial_x^2`.

Every public function returns the residual expression(s); they are zero after :func:`sympy.simplify`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sympy as sp

__all__ = [
    "symbols",
    "residual_forward_heat",
    "residual_backward_jump",
    "residual_dissipator",
    "residual_hamiltonian",
    "residual_total",
    "residual_rotated",
    "residual_twirled",
    "twirl_density",
    "twirl_moments",
    "all_residuals",
]

Op = Callable[[sp.Expr], sp.Expr]

x = sp.Symbol("x", real=True)
gamma = sp.Symbol("gamma", positive=True)
theta = sp.Symbol("theta", real=True)
_f = sp.Function("f", real=True)(x)
_p = sp.Function("p", positive=True)(x)
_psi = sp.Function("psi")(x)


def symbols() -> dict[str, sp.Expr]:
    """Return the symbols: ``x``, ``gamma`` (>0), ``theta`` (real), densities ``f(x)``, ``p(x)`` (>0), ``psi(x)``."""
    return {"x": x, "gamma": gamma, "theta": theta, "f": _f, "p": _p, "psi": _psi}


def _score() -> sp.Expr:
    return sp.diff(_p, x) / _p


def _P(g: sp.Expr) -> sp.Expr:
    r"""Momentum :math:`\hat p=-i\partial_x`."""
    return -sp.I * sp.diff(g, x)


def _mul(m: sp.Expr) -> Op:
    return lambda g: m * g


def _add(*ops: Op) -> Op:
    return lambda g: sp.Add(*[o(g) for o in ops])


def _scale(c: sp.Expr, op: Op) -> Op:
    return lambda g: c * op(g)


def _compose(*ops: Op) -> Op:
    """``_compose(A, B)(g) = A(B(g))``."""

    def run(g: sp.Expr) -> sp.Expr:
        for o in reversed(ops):
            g = o(g)
        return g

    return run


def _dissipator(L: Op, Ldag: Op, F: Op) -> Op:
    r""":math:`\mathcal D[L](F)=LFL^\dagger-\tfrac12(L^\dagger LF+FL^\dagger L)` as an operator."""
    return _add(
        _compose(L, F, Ldag),
        _scale(-sp.Rational(1, 2), _compose(Ldag, L, F)),
        _scale(-sp.Rational(1, 2), _compose(F, Ldag, L)),
    )


def _commutator(A: Op, B: Op) -> Op:
    return _add(_compose(A, B), _scale(-1, _compose(B, A)))


def _residual_of(op: Op, multiplier: sp.Expr) -> sp.Expr:
    """``op[psi] - multiplier * psi``, simplified."""
    return sp.simplify(sp.expand(op(_psi) - multiplier * _psi))


def _conj_rotation(a: sp.Expr) -> Op:
    r""":math:`\sigma^{a}\hat p\,\sigma^{-a}` computed by composition (``a`` symbolic, complex)."""
    return _compose(_mul(_p**a), _P, _mul(_p ** (-a)))


def residual_forward_heat() -> sp.Expr:
    r"""(P.26): :math:`\mathcal D[\sqrt\gamma\hat p](f)-\tfrac\gamma2 f''` (as an operator on :math:`\psi`)."""
    L = _scale(sp.sqrt(gamma), _P)
    return _residual_of(_dissipator(L, L, _mul(_f)), gamma / 2 * sp.diff(_f, x, 2))


def residual_backward_jump() -> sp.Expr:
    r"""(P.18) -> (P.31): residual of the derived backward jump against the closed form.

    .. math::

        \sigma^{a}(\sqrt\gamma\hat p)^\dagger\sigma^{-a}-\sqrt\gamma\big(\hat p+\tfrac{i-\theta}{2}s\big),
        \qquad a=\tfrac{1+i\theta}2 .
    """
    a = (1 + sp.I * theta) / 2
    derived = _scale(sp.sqrt(gamma), _conj_rotation(a))
    claimed = _add(_scale(sp.sqrt(gamma), _P), _mul(sp.sqrt(gamma) * (sp.I - theta) / 2 * _score()))
    return sp.simplify(sp.expand(derived(_psi) - claimed(_psi)))


def _backward_jump(th: sp.Expr) -> tuple[Op, Op]:
    r"""Derive :math:`L_b^\theta=\sigma^{a}L^\dagger\sigma^{-a}` and its adjoint.

    The adjoint is :math:`\sigma^{-\bar a}L\sigma^{\bar a}`.
    """
    a = (1 + sp.I * th) / 2
    ab = (1 - sp.I * th) / 2
    lb = _scale(sp.sqrt(gamma), _compose(_mul(_p**a), _P, _mul(_p ** (-a))))
    lbd = _scale(sp.sqrt(gamma), _compose(_mul(_p ** (-ab)), _P, _mul(_p**ab)))
    return lb, lbd


def _h_petz() -> Op:
    r""":math:`H_b=\tfrac\gamma4\{s,\hat p\}` (P.27)."""
    s = _score()
    return _scale(gamma / 4, _add(_compose(_mul(s), _P), _compose(_P, _mul(s))))


_ZERO = sp.Integer(0)


def _p28(th: sp.Expr = _ZERO) -> Op:
    lb, lbd = _backward_jump(th)
    return _dissipator(lb, lbd, _mul(_f))


def residual_dissipator() -> sp.Expr:
    r"""(P.28): :math:`\mathcal D[L_b](f)-\gamma(\tfrac12f''-\tfrac12sf'-s'f)` with :math:`L_b` derived from (P.11)."""
    s = _score()
    m = gamma * (sp.diff(_f, x, 2) / 2 - s * sp.diff(_f, x) / 2 - sp.diff(s, x) * _f)
    return _residual_of(_p28(), m)


def residual_hamiltonian() -> sp.Expr:
    r"""(P.29): :math:`-i[H_b,f]+\tfrac\gamma2 s f'`."""
    op = _scale(-sp.I, _commutator(_h_petz(), _mul(_f)))
    return _residual_of(op, -gamma / 2 * _score() * sp.diff(_f, x))


def _reverse_fp() -> sp.Expr:
    return gamma / 2 * sp.diff(_f, x, 2) - gamma * sp.diff(_f * _score(), x)


def residual_total() -> tuple[sp.Expr, sp.Expr]:
    r"""Return the residuals of (P.30), Hamiltonian and Bayes forms.

    (i) :math:`-i[H_b,f]+\mathcal D[L_b](f)-\mathcal B_{\rm FP}(f)` and (ii) the Bayes form
    :math:`p\,\mathcal L^\dagger(f/p)-f\,\mathcal L(p)/p-\mathcal B_{\rm FP}(f)` (P.7),
    with :math:`\mathcal B_{\rm FP}(f)=\tfrac\gamma2f''-\gamma(fs)'`.

    Examples
    --------
    >>> residual_total()
    (0, 0)
    """
    op = _add(_scale(-sp.I, _commutator(_h_petz(), _mul(_f))), _p28())
    lap = lambda g: gamma / 2 * sp.diff(g, x, 2)
    bayes = _p * lap(_f / _p) - _f * lap(_p) / _p
    return _residual_of(op, _reverse_fp()), sp.simplify(bayes - _reverse_fp())


def _h_rotated(th: sp.Expr) -> Op:
    r""":math:`H_b^\theta=\tfrac\gamma4\{s,\hat p\}+\tfrac{\gamma\theta}4s'` (P.31)."""
    return _add(_h_petz(), _mul(gamma * th / 4 * sp.diff(_score(), x)))


def residual_rotated() -> tuple[sp.Expr, sp.Expr]:
    r"""Return the residuals of (P.31) for symbolic :math:`\theta`.

    :math:`\mathcal D[L_b^\theta](f)-\text{(P.28)}` and
    :math:`-i[H_b^\theta,f]+\mathcal D[L_b^\theta](f)-\text{(P.30)}`.
    """
    s = _score()
    m28 = gamma * (sp.diff(_f, x, 2) / 2 - s * sp.diff(_f, x) / 2 - sp.diff(s, x) * _f)
    diss = _p28(theta)
    tot = _add(_scale(-sp.I, _commutator(_h_rotated(theta), _mul(_f))), diss)
    return _residual_of(diss, m28), _residual_of(tot, _reverse_fp())


def twirl_density() -> sp.Expr:
    r""":math:`\beta_0(\theta)=\tfrac\pi2\,(\cosh\pi\theta+1)^{-1}` (P.3)."""
    return sp.pi / 2 / (sp.cosh(sp.pi * theta) + 1)


@lru_cache(maxsize=1)
def twirl_moments() -> tuple[sp.Expr, sp.Expr]:
    r"""Return the twirl density's moments :math:`\int\beta_0\,d\theta` and :math:`\int\theta\beta_0\,d\theta`.

    The first moment is obtained from parity: :math:`\beta_0(-\theta)-\beta_0(\theta)` simplifies to 0 and
    :math:`\theta\beta_0` is absolutely integrable (:math:`\beta_0\sim\pi e^{-\pi|\theta|}`), so the odd integrand
    integrates to 0.  (sympy's direct improper integral gives the same 0 but costs ~5 s.)
    """
    b0 = twirl_density()
    norm = sp.integrate(b0, (theta, -sp.oo, sp.oo))
    parity = sp.simplify(b0.subs(theta, -theta) - b0)
    decay = sp.limit(theta**3 * b0, theta, sp.oo)  # theta * beta0 = o(theta^-2): absolutely integrable
    if parity != 0 or decay != 0:
        raise ArithmeticError(f"beta0 is not even and fast-decaying: parity {parity}, decay {decay}")
    return norm, sp.Integer(0)


def residual_twirled() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    r"""Twirled map (P.20), (P.31): the twirl average of the rotated generator on diagonal states.

    Returns the residuals of (i) :math:`\int\beta_0=1`, (ii) :math:`\int\theta\beta_0=0` (so the twirl
    average of :math:`H_b^\theta` is :math:`H^{\rm tw}=\tfrac\gamma4\{s,\hat p\}`), (iii)
    :math:`\partial_\theta\,\mathcal D[L_b^\theta](f)` (the dissipator is :math:`\theta`-independent, so its
    :math:`\beta_0`-average is itself) and (iv) :math:`\int\beta_0\,\mathcal D[L_b^\theta](f)\,d\theta
    -i[H^{\rm tw},f]-\text{(P.30)}`, using (i)-(iii).
    """
    norm, first = twirl_moments()
    diss_theta = _p28(theta)(_psi)
    dtheta = sp.simplify(sp.expand(sp.diff(diss_theta, theta)))
    # with (iii) the average of D[L^theta](f) is norm * D[L^0](f); H^tw = average of H^theta = H_b + first*...
    avg_diss = _scale(norm, _p28())
    h_tw = _add(_h_petz(), _mul(gamma * first / 4 * sp.diff(_score(), x)))
    tot = _add(_scale(-sp.I, _commutator(h_tw, _mul(_f))), avg_diss)
    return sp.simplify(norm - 1), sp.simplify(first), dtheta, _residual_of(tot, _reverse_fp())


def all_residuals() -> dict[str, sp.Expr]:
    """Every residual of this module by equation label (each is exactly 0 when the theory note holds)."""
    t30 = residual_total()
    r31 = residual_rotated()
    tw = residual_twirled()
    return {
        "P.26 forward heat": residual_forward_heat(),
        "P.31 backward jump (derived from P.18)": residual_backward_jump(),
        "P.28 dissipator": residual_dissipator(),
        "P.29 Hamiltonian": residual_hamiltonian(),
        "P.30 sum": t30[0],
        "P.30 = Bayes form P.7": t30[1],
        "P.31 rotated dissipator": r31[0],
        "P.31 rotated total": r31[1],
        "P.31 twirl normalisation": tw[0],
        "P.31 twirl first moment": tw[1],
        "P.31 twirled d/dtheta dissipator": tw[2],
        "P.31 twirled total": tw[3],
    }
