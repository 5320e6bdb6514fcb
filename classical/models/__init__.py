"""Denoising networks: the global U-Net and the (strictly) local U-Nets; all predict the velocity.

Every model is called as ``model(x, t)`` with ``x`` of shape (B, 1, H, W) and ``t`` of shape (B,) in [0, 1]
(t = 0 data, t = 1 noise; see :mod:`classical.path`) and returns the velocity, shape (B, 1, H, W).
"""

from .factory import build_model, model_spec
from .local_unet import LOCAL_KERNEL_RADII, LocalUNet, receptive_radius
from .unet import UNet, sinusoidal_embedding

__all__ = [
    "UNet",
    "LocalUNet",
    "LOCAL_KERNEL_RADII",
    "receptive_radius",
    "build_model",
    "model_spec",
    "sinusoidal_embedding",
]
