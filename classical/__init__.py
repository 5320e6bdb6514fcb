"""Classical bridge: MNIST flow matching with global and strictly local U-Nets, and the hybrid sampler.

Modules: :mod:`classical.data` (verified MNIST), :mod:`classical.path` (linear path, velocity/noise/clean/score
conversions and their link to the reverse Fokker-Planck / Petz dynamics), :mod:`classical.models` (global and
local U-Nets), :mod:`classical.train` (flow matching, checkpoints, DDP), :mod:`classical.sampling` (Euler and
hybrid samplers), :mod:`classical.quality` (classifier FID, FLOPs), :mod:`classical.pipeline` (recovery and
hybrid computations; figures in :mod:`quantum_diffusion.demo.mnist`).  Command line: ``python -m classical --help``.
"""

__all__ = ["data", "path", "models", "train", "sampling", "quality", "pipeline"]
