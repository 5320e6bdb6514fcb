"""quantum-diffusion."""
