"""Regions: the paper's geometry partitions the 27 x 27 crop; bad input raises."""

import numpy as np
import pytest

from classical.information.regions import PAPER_RADII, Regions, crop_paper, paper_regions, split_regions


@pytest.mark.parametrize("r", PAPER_RADII)
def test_paper_regions_partition_the_crop(r):
    reg = paper_regions(r)
    allidx = np.concatenate([reg.a, reg.b, reg.c])
    assert np.array_equal(np.sort(allidx), np.arange(27 * 27))
    assert reg.a.tolist() == [13 * 27 + 13]
    assert reg.b.size == (2 * r + 1) ** 2 - 1
    ii, jj = np.divmod(reg.b, 27)
    assert np.max(np.maximum(abs(ii - 13), abs(jj - 13))) == r
    ic, jc = np.divmod(reg.c, 27)
    assert np.min(np.maximum(abs(ic - 13), abs(jc - 13))) == r + 1


def test_balls_are_nested():
    for r in PAPER_RADII[:-1]:
        assert set(paper_regions(r).b) < set(paper_regions(r + 1).b)


@pytest.mark.parametrize("r", [0, 13, -1, 2.5])
def test_radius_out_of_range_raises(r):
    with pytest.raises(ValueError, match="r must be an integer in 1..12"):
        paper_regions(r)


def test_general_regions_validate():
    with pytest.raises(ValueError, match="disjoint"):
        Regions(a=[0], b=[0, 1], c=[], size=3)
    with pytest.raises(ValueError, match="outside"):
        Regions(a=[0], b=[5], c=[], size=3)
    with pytest.raises(ValueError, match="A must not be empty"):
        Regions(a=[], b=[1], c=[2], size=3)


def test_crop_and_split():
    imgs = np.arange(2 * 28 * 28, dtype=float).reshape(2, 1, 28, 28)
    x = crop_paper(imgs)
    assert x.shape == (2, 27, 27) and x[0, 0, 0] == imgs[0, 0, 1, 1]
    xa, xb, xc = split_regions(x, paper_regions(3))
    assert xa.shape == (2, 1) and xb.shape == (2, 48) and xc.shape == (2, 729 - 49)
    assert xa[0, 0] == imgs[0, 0, 14, 14]
    with pytest.raises(ValueError, match="shape"):
        crop_paper(np.zeros((2, 27, 27)))
    with pytest.raises(ValueError, match="entries per sample"):
        split_regions(np.zeros((2, 5)), paper_regions(3))
