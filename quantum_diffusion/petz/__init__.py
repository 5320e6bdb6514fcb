"""Continuous-time Petz, rotated-Petz and twirled-Petz recovery as backward Lindbladians.

Modules: :mod:`.lindbladian` (forward GKSL generators), :mod:`.maps` (one-shot recovery maps),
:mod:`.generators` (backward Lindbladians), :mod:`.local` (local generators on a neighbourhood),
:mod:`.integrate` (the denoising flow). Conventions: see quantum_diffusion.conventions.
"""

from .generators import BackwardLindbladian, petz_generator
from .integrate import recover, reference_path
from .lindbladian import Lindbladian
from .local import LocalGenerator, local_petz_generator, local_recovery_map
from .maps import petz_map, rotated_petz_map, twirled_petz_map

__all__ = [
    "Lindbladian",
    "BackwardLindbladian",
    "petz_generator",
    "petz_map",
    "rotated_petz_map",
    "twirled_petz_map",
    "recover",
    "reference_path",
    "LocalGenerator",
    "local_petz_generator",
    "local_recovery_map",
]
