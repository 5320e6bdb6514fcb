"""Classical bridge: MNIST flow matching with global and strictly local U-Nets, and the hybrid sampler.

Modules: :mod:`classical.data` (verified MNIST), :mod:`classical.path` (linear path, velocity/noise/clean/score
conversions and their link to the reverse Fokker-Planck / Petz dynamics), :mod:`classical.models` (global and
local U-Nets), :mod:`classical.train` (flow matching, checkpoints, DDP), :mod:`classical.sampling` (Euler and
hybrid samplers), :mod:`classical.quality` (classifier FID, FLOPs), :mod:`classical.pipeline` (recovery and
hybrid computations; figures in :mod:`quantum_diffusion.demo.mnist`), :mod:`classical.information` (MI/CMI
estimators ``estimate_mi``/``estimate_cmi``, exact references, the CMI heat map), :mod:`classical.ideal`
(training-free posterior-mean denoisers: global, local, equivariant local), :mod:`classical.locality` (recovery
three ways, the locality-CMI inequality, hybrid comparison), :mod:`classical.ideal_pipeline` (the timed study).
Command line: ``python -m classical --help``.
"""

__all__ = ["data", "path", "models", "train", "sampling", "quality", "pipeline", "information", "ideal",
           "locality", "ideal_pipeline"]
