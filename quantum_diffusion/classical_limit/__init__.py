r"""The decoherence limit: Petz backward dynamics of diagonal states is classical score-based reverse diffusion.

Modules (theory note ``petz.md`` sections 3, 8, 9; conventions: see quantum_diffusion.conventions):

* :mod:`.discrete` - classical master equations, Bayes-reversed rates (P.35) and their embedding as
  jump operators :math:`\sqrt{w_{a\to b}}|b\rangle\langle a|`; diagonal-block / leakage diagnostics.
* :mod:`.lattice` - periodic grid, the sound two-one-sided-momenta discretisation (P.32), forward heat
  equation, backward reverse Fokker-Planck (P.33), lattice Petz denoising flow; the central-difference
  momentum as a negative control.
* :mod:`.convergence` - O(h^2) grid-refinement study of the package's quantum generators.
* :mod:`.symbolic` - sympy proofs of (P.26)-(P.31) (residuals that simplify to 0).
* :mod:`.sde` - Euler-Maruyama reverse SDE with the exact score of a diffused Gaussian mixture.
* :mod:`.studies` - the computations behind the demo figures (recovery, SDE levels, quantum check).
"""

from .convergence import ConvergenceResult, convergence_study, fit_slope, smooth_test_problem
from .discrete import (
    coherence_leakage,
    diagonal_block,
    jump_operators,
    master_generator,
    reverse_generator,
    reverse_rates,
)
from .lattice import (
    PeriodicGrid,
    apply_heat,
    apply_reverse_fp,
    backward_evolve,
    central_jumps,
    heat_evolve,
    heat_generator,
    heat_rates,
    reverse_fp_generator,
    sound_jumps,
)
from .sde import GaussianMixture1D, kolmogorov_distance, reverse_sde

__all__ = [
    "reverse_rates",
    "master_generator",
    "reverse_generator",
    "jump_operators",
    "diagonal_block",
    "coherence_leakage",
    "PeriodicGrid",
    "sound_jumps",
    "central_jumps",
    "heat_rates",
    "heat_generator",
    "reverse_fp_generator",
    "apply_heat",
    "apply_reverse_fp",
    "heat_evolve",
    "backward_evolve",
    "ConvergenceResult",
    "convergence_study",
    "fit_slope",
    "smooth_test_problem",
    "GaussianMixture1D",
    "reverse_sde",
    "kolmogorov_distance",
]
