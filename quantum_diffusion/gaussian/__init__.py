"""Gaussian channels in HHW conventions: the score-lift CP obstruction, its minimal repair and reverse costs.

Conventions: see :mod:`quantum_diffusion.conventions` (HHW covariances, xpxp, vacuum = identity).
"""

from .channels import GaussianChannel, GaussianGenerator, attenuator
from .comparison import PetzComparison, PetzComparisonGrid, compare_petz_bayes, petz_comparison_grid
from .multimode import TwoModeResult, two_mode_angle_scan, two_mode_example, two_mode_reference
from .noise_floor import (
    NoiseFloorResult,
    decoder_irreversibility,
    decoder_irreversibility_curve,
    decoder_output,
    noise_floor,
    noise_floor_curve,
    repair_rate,
    repaired_diffusion,
)
from .petz import gaussian_petz_map, petz_backward_generator, petz_backward_mean_rhs
from .repair import (
    RepairProblem,
    RepairResult,
    RepairSolverError,
    minimal_repair,
    minimal_repair_closed_form,
    repair_cost_map,
    repair_weight,
)
from .reverse_cost import ReverseCostResult, exact_reverse_cost, optimal_reverse_generator, reverse_cost_sdp
from .score_lift import bayes_min_eig_grid, bayes_reverse, cp_violation, theorem1_eigenvalues
from .states import (
    bkm_fisher,
    c_geom,
    check_covariance,
    entropy,
    fidelity_squared,
    fidelity_squared_one_mode,
    sld_fisher,
    squeezed_thermal,
    symplectic_eigenvalues,
    symplectic_form,
    thermal,
    tmsv,
    williamson,
)
from .witness import tmsv_output, tmsv_schur_complement, tmsv_witness

__all__ = [
    "PetzComparison",
    "PetzComparisonGrid",
    "compare_petz_bayes",
    "petz_comparison_grid",
    "GaussianChannel",
    "GaussianGenerator",
    "attenuator",
    "TwoModeResult",
    "two_mode_angle_scan",
    "two_mode_example",
    "two_mode_reference",
    "NoiseFloorResult",
    "decoder_irreversibility",
    "decoder_irreversibility_curve",
    "decoder_output",
    "noise_floor",
    "noise_floor_curve",
    "repair_rate",
    "repaired_diffusion",
    "RepairProblem",
    "RepairResult",
    "RepairSolverError",
    "minimal_repair",
    "minimal_repair_closed_form",
    "repair_cost_map",
    "repair_weight",
    "gaussian_petz_map",
    "petz_backward_generator",
    "petz_backward_mean_rhs",
    "ReverseCostResult",
    "exact_reverse_cost",
    "optimal_reverse_generator",
    "reverse_cost_sdp",
    "bayes_min_eig_grid",
    "bayes_reverse",
    "cp_violation",
    "theorem1_eigenvalues",
    "bkm_fisher",
    "c_geom",
    "check_covariance",
    "symplectic_form",
    "entropy",
    "fidelity_squared",
    "fidelity_squared_one_mode",
    "sld_fisher",
    "squeezed_thermal",
    "symplectic_eigenvalues",
    "thermal",
    "tmsv",
    "williamson",
    "tmsv_output",
    "tmsv_schur_complement",
    "tmsv_witness",
]
