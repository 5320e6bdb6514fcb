"""Receptive field of the local U-Nets: exact for the strict variant, leaking for the authors' variant."""

import pytest
import torch

from classical.models import LOCAL_KERNEL_RADII, LocalUNet, receptive_radius

SIZE = 31  # the centre pixel (15, 15) sees a 25x25 ball for R = 12 without touching the border
C = SIZE // 2


def _input_gradient(model, seed=0, batch=2):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 1, SIZE, SIZE, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.full((batch,), 0.4, dtype=torch.float64)
    model(x, t)[:, 0, C, C].sum().backward()
    return x.grad.abs().sum(dim=(0, 1))


def _chebyshev():
    i = torch.arange(SIZE)
    return torch.maximum((i[:, None] - C).abs(), (i[None, :] - C).abs())


@pytest.mark.parametrize("pos_bias", [False, True])
@pytest.mark.parametrize("R", [1, 2, 3, 4, 6, 9, 12])
def test_strict_receptive_field_is_exactly_R(R, pos_bias):
    torch.manual_seed(R)
    model = LocalUNet(R, base=2, emb=8, strict=True, pos_bias=pos_bias).double()
    grad, dist = _input_gradient(model), _chebyshev()
    assert model.radius == R == receptive_radius(R)
    assert torch.all(grad[dist > R] == 0.0), "output depends on pixels outside the R-ball"
    assert torch.all(grad[dist == R] > 0.0), "some pixel on the boundary of the R-ball has no influence"


def test_authors_variant_leaks_beyond_its_conv_radius():
    """Negative control: GroupNorm couples every pixel (theory note §1f.1)."""
    torch.manual_seed(0)
    R = 3
    model = LocalUNet(R, base=8, emb=8, strict=False).double()
    grad, dist = _input_gradient(model), _chebyshev()
    assert receptive_radius(R, strict=False) == 5
    assert torch.all(grad[dist > 5] > 0.0)


def test_kernel_table_reproduces_nominal_radius():
    for R, (r0, ks) in LOCAL_KERNEL_RADII.items():
        assert r0 + 2 * sum(ks) == R


def test_bad_inputs():
    with pytest.raises(ValueError, match="R must"):
        LocalUNet(13)
    m = LocalUNet(2, base=2, emb=4)
    with pytest.raises(ValueError, match="shape"):
        m(torch.zeros(1, 28, 28), torch.zeros(1))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m(torch.zeros(1, 1, 8, 8), torch.tensor([1.2]))
