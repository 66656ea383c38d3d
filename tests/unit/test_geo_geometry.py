"""TopoJSON decoding, antimeridian repair, subdivision, the cell grid and the coastal snap,
on small synthetic shapes (no fetched data needed)."""

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from photoatlas.geo.build import build_world, unpack_strings
from photoatlas.geo.grid import EMPTY, MIXED, CellGrid, build_grid
from photoatlas.geo.polygons import PolygonLayer, subdivide
from photoatlas.geo.topojson import decode_arcs, geometry_polygons, repaired_polygon


def quantized(points, scale=(0.001, 0.001), translate=(-180.0, -90.0)):
    """Delta-encode absolute lon/lat points the way TopoJSON stores arcs."""
    q = np.round((np.asarray(points) - translate) / scale).astype(int)
    return np.vstack([q[:1], np.diff(q, axis=0)]).tolist()


def test_decode_arcs_undoes_delta_and_quantization():
    pts = [(10.0, 20.0), (11.5, 20.0), (11.5, 21.25), (10.0, 20.0)]
    topo = {"transform": {"scale": [0.001, 0.001], "translate": [-180.0, -90.0]}, "arcs": [quantized(pts)]}
    np.testing.assert_allclose(decode_arcs(topo)[0], pts, atol=1e-9)


def test_reversed_arc_index_builds_the_same_ring():
    a = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]
    b = [(1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    topo = {
        "transform": {"scale": [0.001, 0.001], "translate": [-180.0, -90.0]},
        "arcs": [quantized(a), quantized(b[::-1])],
    }
    arcs = decode_arcs(topo)
    (poly,) = geometry_polygons({"type": "Polygon", "arcs": [[0, ~1]]}, arcs)
    assert poly.area == pytest.approx(1.0)


def test_ring_stitched_across_the_antimeridian_is_cut_into_two_halves():
    # An island from 179E to 179W, stored the way world-atlas stitches it.
    ring = np.array([(179.0, -17.0), (-179.0, -17.0), (-179.0, -16.0), (179.0, -16.0), (179.0, -17.0)])
    poly = repaired_polygon([ring])
    assert poly.bounds[0] == pytest.approx(-180.0) and poly.bounds[2] == pytest.approx(180.0)
    assert poly.area == pytest.approx(2.0)  # not the 358-degree-wide band a planar ring would be
    assert shapely.contains_xy(poly, [179.5, -179.5], [-16.5, -16.5]).all()
    assert not shapely.contains_xy(poly, 0.0, -16.5)


def test_ring_around_the_south_pole_is_closed_along_the_pole():
    lon = np.linspace(-180, 180, 37)[:-1]
    ring = np.column_stack([lon, np.full_like(lon, -70.0)])
    ring = np.vstack([ring, ring[:1]])
    poly = repaired_polygon([ring])
    assert shapely.contains_xy(poly, [0.0, 179.9, -179.9, 90.0], [-80.0, -85.0, -85.0, -89.0]).all()
    assert not shapely.contains_xy(poly, 0.0, -60.0)


def test_collapsed_rings_are_dropped():
    assert repaired_polygon([np.array([(0.0, 0.0), (1.0, 1.0), (0.0, 0.0)])]) is None


def test_subdivide_bounds_vertices_and_keeps_area():
    circle = shapely.Point(0, 0).buffer(10, quad_segs=256)
    pieces = subdivide(circle, max_vertices=64, step=0.125)
    assert len(pieces) > 1
    assert max(shapely.get_num_coordinates(p) for p in pieces) <= 64
    assert sum(p.area for p in pieces) == pytest.approx(circle.area, rel=1e-9)


def test_grid_classifies_inside_outside_and_border_cells():
    square = box(10.0, 10.0, 12.0, 12.0)
    pieces = np.array(subdivide(square, step=0.25))
    coarse, fine = build_grid(pieces, np.zeros(len(pieces), dtype=np.int32), 4, margin_km=5.0)
    grid = CellGrid(coarse, fine)
    lat = np.array([11.0, 10.01, 50.0, 9.99])
    lon = np.array([11.0, 11.0, 50.0, 11.0])
    assert grid.classify(lat, lon).tolist() == [0, 0, EMPTY, MIXED]


def test_snap_finds_the_nearest_polygon_within_the_limit():
    layer = PolygonLayer(np.array([box(0, 0, 1, 1), box(2, 0, 3, 1)]), np.array([7, 8]))
    x = np.array([1.02, 1.98, 1.5])
    y = np.array([0.5, 0.5, 5.0])
    owner, km = layer.nearest(x, y, max_km=5.0)
    assert owner.tolist() == [7, 8, -1]
    assert km[0] == pytest.approx(0.02 * 111.19, rel=0.01)
    assert layer.contains(np.array([0.5, 2.5, 1.5]), np.array([0.5, 0.5, 0.5])).tolist() == [7, 8, -1]


def test_features_without_iso_id_get_sensible_codes():
    square = [(20.0, 42.0), (21.0, 42.0), (21.0, 43.0), (20.0, 43.0), (20.0, 42.0)]
    cocos = [(96.8, -12.2), (96.9, -12.2), (96.9, -12.1), (96.8, -12.1), (96.8, -12.2)]
    christmas = [(105.6, -10.5), (105.7, -10.5), (105.7, -10.4), (105.6, -10.4), (105.6, -10.5)]
    topo = {
        "transform": {"scale": [0.001, 0.001], "translate": [-180.0, -90.0]},
        "arcs": [quantized(square), quantized(cocos), quantized(christmas)],
        "objects": {
            "countries": {
                "geometries": [
                    {"type": "Polygon", "arcs": [[0]], "properties": {"name": "Kosovo"}},
                    {"type": "MultiPolygon", "arcs": [[[1]], [[2]]], "properties": {"name": "Indian Ocean Ter."}},
                ]
            }
        },
    }
    out = build_world(topo, {})
    assert unpack_strings(out["world_codes"]) == ["XK", "CC", "CX"]


def test_polygon_hole_is_not_inside():
    shell = np.array([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)], dtype=float)
    hole = np.array([(1, 1), (3, 1), (3, 3), (1, 3), (1, 1)], dtype=float)
    poly = repaired_polygon([shell, hole])
    assert isinstance(poly, Polygon)
    assert not shapely.contains_xy(poly, 2.0, 2.0)
    assert shapely.contains_xy(poly, 0.5, 0.5)
