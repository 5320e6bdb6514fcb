"""Continuous-time Petz, rotated-Petz and twirled-Petz recovery as backward Lindbladians.

Modules: :mod:`.lindbladian` (forward GKSL generators), :mod:`.spectral` (reference spectrum, twirl kernels),
:mod:`.maps` (one-shot recovery maps),
:mod:`.generators` (backward Lindbladians), :mod:`.local` (local generators on a neighbourhood),
:mod:`.integrate` (the denoising flow). Conventions: see quantum_diffusion.conventions.
"""

from .generators import BackwardLindbladian, petz_generator
from .integrate import RecoverySolution, ReferencePath, recover, reference_path, solve_recovery
from .lindbladian import Lindbladian
from .local import LocalGenerator, apply_local_recovery_map, local_petz_generator, local_recovery_map
from .maps import petz_map, recovery_map, rotated_petz_map, twirled_petz_map

__all__ = [
    "Lindbladian",
    "BackwardLindbladian",
    "petz_generator",
    "recovery_map",
    "petz_map",
    "rotated_petz_map",
    "twirled_petz_map",
    "recover",
    "solve_recovery",
    "RecoverySolution",
    "reference_path",
    "ReferencePath",
    "LocalGenerator",
    "local_petz_generator",
    "local_recovery_map",
    "apply_local_recovery_map",
]
