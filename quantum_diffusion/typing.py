"""Type aliases of the public API: what each kind of input may be, and the ``Literal`` choices of every option.

Each kind of input is converted and validated by one function at the public boundary (see the area modules);
these aliases only document what those converters accept.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from numpy.typing import ArrayLike

__all__ = [
    "OperatorLike",
    "ChannelLike",
    "CovarianceLike",
    "SeedLike",
    "PetzKind",
    "Picture",
    "GaussianPetzKind",
    "RepairWeight",
    "Orientation",
    "TwirlMethod",
    "ToricGeometry",
    "ToricLoops",
    "ToricMethod",
]

#: A square matrix: ``numpy`` array, nested list, or ``qutip.Qobj`` operator.
OperatorLike: TypeAlias = "ArrayLike | Any"
#: A channel: row-major superoperator array, qutip ``super`` ``Qobj``, a ``Lindbladian`` (its generator), or a
#: list of Kraus operators, where the function says so.
ChannelLike: TypeAlias = "ArrayLike | Any"
#: A Gaussian covariance matrix in HHW units (vacuum = identity), xpxp order, shape ``(2n, 2n)``.
CovarianceLike: TypeAlias = ArrayLike
#: A seed for ``numpy.random.default_rng``: ``None``, an int, a ``SeedSequence`` or a ``Generator``.
SeedLike: TypeAlias = "int | Any | None"

#: Backward generator family (Petz side): plain Petz, rotated by an angle, or twirled over the angle.
PetzKind: TypeAlias = Literal["petz", "rotated", "twirled"]
#: Integration picture for the Petz flow.
Picture: TypeAlias = Literal["schrodinger", "heisenberg"]

# --- Gaussian area (quantum_diffusion.gaussian) ---
#: Gaussian Petz backward generator family (the twirled one-shot map is not Gaussian; generators only).
GaussianPetzKind: TypeAlias = Literal["petz", "rotated", "twirled"]
#: Weight of the minimal-repair objective (or an explicit matrix where the function says so).
RepairWeight: TypeAlias = Literal["bkm", "sld", "identity"]
#: Orientation of a reverse generator: forward-oriented (integrate with dt < 0) or reverse time.
Orientation: TypeAlias = Literal["forward", "reverse"]

# --- petz area
#: Evaluation of the twirled jump kernel (P.22): the exact O(J d^4) kernel, the theta quadrature (O(Q J d^3)), the
#: certified low-rank (Nystroem) factorisation (O(r J d^3), r ~ Q/2), both with kernel error <= 1e-8, or the
#: faster for the given d, J and spectral width.
TwirlMethod: TypeAlias = Literal["auto", "exact", "quadrature", "lowrank"]

# --- classical CMI (classical.information, issue 11) ---
#: Estimator of (conditional) mutual information.
MIMethod: TypeAlias = Literal["mine", "nwj", "infonce", "smile", "predictive"]
#: Honest (held-out, repeats averaged) or the seed paper's MINE protocol.
EstimatorMode: TypeAlias = Literal["honest", "paper"]
#: Critic network of the critic-based estimators.
CriticKind: TypeAlias = Literal["mlp", "paper_cnn"]
#: Fixed part of the amortised predictive density: none, or the exact linear-Gaussian conditional of the data
#: covariance (the network then models the standardised residual).
GridBaseline: TypeAlias = Literal["linear", "none"]
#: extra inputs of the amortised predictive grid (``classical.information.grid.predictive_cmi_grid``)
GridFeatures: TypeAlias = Literal["none", "mixture"]
#: k-means of :func:`classical.information.references.fit_mixture`.
KMeansBackend: TypeAlias = Literal["scipy", "blas"]
__all__ += ["MIMethod", "EstimatorMode", "CriticKind", "GridBaseline", "GridFeatures", "KMeansBackend"]

# --- toric code (quantum_diffusion.toric) ---
#: Which region C is: the rest of the torus, or a square ring of width r_C (Sang-Hsieh).
ToricGeometry: TypeAlias = Literal["torus", "square"]
#: Data set: topologically trivial closed loops ([HLZG]) or all closed loops (4 homology sectors).
ToricLoops: TypeAlias = Literal["trivial", "all"]
#: CMI estimator of ``toric.toric_cmi``.
ToricMethod: TypeAlias = Literal["exact", "mc", "stratified", "cv", "stratified_cv", "crossed"]

# --- classical ideal denoisers / training (classical.train, classical.ideal; issue 12) ---
#: What a trained net outputs: the flow-matching velocity, or the noise z (the authors' local nets).
Prediction: TypeAlias = Literal["velocity", "noise"]
#: Training-time distribution of t: logit-normal (global nets), or the authors' local-net curriculum.
TimeSampling: TypeAlias = Literal["logit-normal", "curriculum"]
