"""quantum-diffusion: diffusion models through the lens of open quantum systems.

Subpackages (import the one you need; nothing heavy is imported here):

* :mod:`quantum_diffusion.gaussian` -- Gaussian channels in HHW conventions, the score-lift CP threshold,
  minimal-repair SDP, noise floor, exact reverse cost.
* :mod:`quantum_diffusion.petz` -- continuous-time Petz / rotated / twirled recovery as backward Lindbladians.
* :mod:`quantum_diffusion.info` -- entropies, fidelities, quantum CMI (nats).
* :mod:`quantum_diffusion.classical_limit` -- the decoherence limit: Petz backward dynamics -> classical reverse
  diffusion.
* :mod:`quantum_diffusion.toric` -- toric-code CMI and Markov length along the bit-flip path.
* :mod:`quantum_diffusion.sweep` -- resumable parameter sweeps on any ``concurrent.futures.Executor``.
* :mod:`quantum_diffusion.conventions` -- every convention, in one place.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
