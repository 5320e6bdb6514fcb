"""Global U-Net: the paper configuration's size, output shape, and input validation."""

import pytest
import torch

from classical.models import UNet, build_model


def test_paper_size_matches_reimplementation_in_spec():
    # theory note §1c: "My re-implementation has 11.26 M" parameters (width 64, emb 512, 32 position channels)
    n = sum(p.numel() for p in UNet(64, 512).parameters())
    assert abs(n - 11.26e6) / 11.26e6 < 0.005


def test_output_shape_and_time_dependence():
    torch.manual_seed(0)
    m = build_model({"kind": "global", "width": 8, "emb": 16})
    x = torch.randn(3, 1, 28, 28)
    y0, y1 = m(x, torch.full((3,), 0.1)), m(x, torch.full((3,), 0.9))
    assert y0.shape == x.shape
    assert (y0 - y1).abs().max() > 1e-4  # FiLM really conditions on t


def test_bad_inputs():
    m = UNet(8, 16)
    with pytest.raises(ValueError, match="28x28"):
        m(torch.zeros(1, 1, 27, 27), torch.zeros(1))
    with pytest.raises(ValueError, match="channel"):
        m(torch.zeros(1, 2, 28, 28), torch.zeros(1))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m(torch.zeros(2, 1, 28, 28), torch.tensor([0.5, -0.5]))
    with pytest.raises(ValueError, match="kind"):
        build_model({"kind": "vit"})
