"""Lattice incidences and region builders: closed loops are closed, regions have the stated shapes, bad input fails."""

import numpy as np
import pytest

from quantum_diffusion.toric import _gf2
from quantum_diffusion.toric.exact import data_generators, vertex_components
from quantum_diffusion.toric.lattice import (
    edge_vertices,
    homology_representatives,
    plaquette_edges,
    plaquette_parities,
    vertex_edges,
)
from quantum_diffusion.toric.regions import block_edges, check_tripartition, tripartition


@pytest.mark.parametrize("L", [2, 3, 5])
def test_stars_and_homology_loops_are_closed(L):
    stars = np.zeros((L * L, 2 * L * L), np.uint8)
    for v, es in enumerate(vertex_edges(L)):
        stars[v, es] = 1
    assert not plaquette_parities(stars, L).any()
    assert not plaquette_parities(homology_representatives(L), L).any()
    # every edge's endpoints are the vertices whose star contains it
    ev = edge_vertices(L)
    for e in range(2 * L * L):
        assert set(np.nonzero(stars[:, e])[0]) == set(ev[e])


@pytest.mark.parametrize("L", [2, 3, 4])
def test_code_space_dimensions(L):
    # |C_0| = 2^(L^2 - 1), |C| = 2^(L^2 + 1), and C_0 = ker of the plaquette map restricted to coboundaries
    assert _gf2.rank(data_generators(L, "trivial")) == L * L - 1
    assert _gf2.rank(data_generators(L, "all")) == L * L + 1
    P = np.zeros((L * L, 2 * L * L), np.uint8)
    for p, es in enumerate(plaquette_edges(L)):
        P[p, es] = 1
    assert _gf2.nullspace(P).shape[0] == L * L + 1


def test_plaquette_boundary_convention():
    L = 4
    # plaquette (1, 2): h(1,2), h(2,2), v(1,2), v(1,3)
    assert plaquette_edges(L)[1 * L + 2].tolist() == [2 * 6, 2 * 10, 2 * 6 + 1, 2 * 7 + 1]


@pytest.mark.parametrize("geometry,L,r,r_C", [("torus", 6, 2, None), ("square", 8, 1, 2), ("square", 9, 2, 1)])
def test_region_sizes(geometry, L, r, r_C):
    tri = tripartition(L, r, geometry, r_C)
    n = 1 + 2 * r
    assert tri.A.size == 4 and np.isin(tri.A, plaquette_edges(L)[tri.center[0] * L + tri.center[1]]).all()
    assert tri.A.size + tri.B.size == 2 * n * (n + 1)
    if geometry == "torus":
        assert tri.A.size + tri.B.size + tri.C.size == 2 * L * L
    else:
        m = n + 2 * tri.r_C
        assert tri.A.size + tri.B.size + tri.C.size == 2 * m * (m + 1)
    # AB is a connected planar block whose vertices are those of B (A adds no vertex)
    assert vertex_components(L, np.concatenate([tri.A, tri.B])) == vertex_components(L, tri.B)
    assert vertex_components(L, tri.B)[0] == (n + 1) ** 2


def test_block_wraps_consistently():
    # the block centred at a corner plaquette wraps around the torus but has the same size
    L = 6
    assert block_edges(L, (0, 0), 1).size == block_edges(L, (3, 3), 1).size == 24


@pytest.mark.parametrize(
    "kwargs,msg",
    [
        (dict(L=5, r=2, geometry="torus"), "needs L >= 2r \\+ 2"),
        (dict(L=7, r=2, geometry="square", r_C=1), "needs L >= 2r \\+ 2r_C \\+ 2"),
        (dict(L=6, r=1, geometry="torus", r_C=1), "r_C is only meaningful"),
        (dict(L=6, r=0, geometry="torus"), "r must be >= 1"),
        (dict(L=6, r=1.5, geometry="torus"), "r must be an integer"),
        (dict(L=6, r=1, geometry="disk"), "geometry must be one of"),
        (dict(L=1, r=1, geometry="torus"), "L must be >= 2"),
    ],
)
def test_bad_regions(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        tripartition(**kwargs)


def test_bad_tripartitions():
    with pytest.raises(ValueError, match="overlap"):
        check_tripartition(3, [0, 1], [1, 2], [3])
    with pytest.raises(ValueError, match="outside"):
        check_tripartition(3, [0], [1], [18])
    with pytest.raises(ValueError, match="more than once"):
        check_tripartition(3, [0, 0], [1], [2])
    with pytest.raises(ValueError, match="non-empty"):
        check_tripartition(3, [], [1], [2])
    with pytest.raises(ValueError, match="integer"):
        check_tripartition(3, [0.5], [1], [2])
