"""Build a model from a small JSON-serialisable spec (stored in every checkpoint)."""

from __future__ import annotations

from typing import Any

from torch import nn

from .local_unet import LocalUNet
from .unet import UNet

__all__ = ["build_model", "model_spec"]


def model_spec(kind: str, **kwargs: Any) -> dict[str, Any]:
    """Return ``{"kind": kind, **kwargs}`` after checking ``kind`` (``"global"`` or ``"local"``).

    Raises
    ------
    ValueError
        Unknown kind.
    """
    if kind not in ("global", "local"):
        raise ValueError(f"model kind must be 'global' or 'local', got {kind!r}")
    return {"kind": kind, **kwargs}


def build_model(spec: dict[str, Any]) -> nn.Module:
    """Instantiate :class:`UNet` (``kind="global"``) or :class:`LocalUNet` (``kind="local"``) from ``spec``.

    Raises
    ------
    ValueError
        Unknown kind or bad parameters (raised by the model).
    """
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind == "global":
        return UNet(**spec)
    if kind == "local":
        return LocalUNet(**spec)
    raise ValueError(f"model kind must be 'global' or 'local', got {kind!r}")
