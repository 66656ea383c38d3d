"""Point-in-polygon over a layer of features, with a coastal snap for near misses.

Features are cut into small pieces (at most MAX_PIECE_VERTICES vertices) so that
bounding boxes are tight, each containment test is cheap and a nearest-polygon distance
never walks a whole continent's coastline.
"""

import itertools
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import box

from photoatlas.geo.sphere import KM_PER_DEGREE, haversine_km

MAX_PIECE_VERTICES = 128
# |lat| bands for the snap search: a degree of longitude shrinks with cos(lat), so the
# search radius in degrees grows towards the poles.
_SNAP_BAND_EDGES_DEG = (0.0, 30.0, 45.0, 55.0, 62.0, 68.0, 74.0, 80.0, 90.01)
_MAX_BAND_LAT_DEG = 86.0


def _cut(lo: float, hi: float, step: float | None) -> float:
    """Midpoint of [lo, hi], snapped to a multiple of step when that stays inside."""
    mid = 0.5 * (lo + hi)
    if step:
        snapped = round(mid / step) * step
        if lo < snapped < hi:
            return snapped
    return mid


def subdivide(polygon, max_vertices: int = MAX_PIECE_VERTICES, step: float | None = None) -> list:
    """Split a polygon by halving its bounding box until each piece is small.

    With a step, cuts fall on multiples of it where possible, so a grid cell of that
    size inside the polygon lies inside one piece (see grid.py).
    """
    if shapely.get_num_coordinates(polygon) <= max_vertices:
        return [polygon]
    x0, y0, x1, y1 = polygon.bounds
    if x1 - x0 >= y1 - y0:
        mid = _cut(x0, x1, step)
        halves = (box(x0, y0, mid, y1), box(mid, y0, x1, y1))
    else:
        mid = _cut(y0, y1, step)
        halves = (box(x0, y0, x1, mid), box(x0, mid, x1, y1))
    pieces = []
    for half in halves:
        for part in polygon_parts(shapely.intersection(polygon, half)):
            pieces.extend(subdivide(part, max_vertices, step))
    return pieces


def polygon_parts(geom) -> list:
    """The non-empty polygons inside any geometry (drops lines and points)."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon" and part.area > 0:
            out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(polygon_parts(part))
    return out


@dataclass
class PolygonLayer:
    """Pieces of polygons, each tagged with the index of the feature it belongs to."""

    pieces: np.ndarray
    owner: np.ndarray
    tree: shapely.STRtree = field(init=False, repr=False)

    def __post_init__(self):
        self.owner = np.asarray(self.owner, dtype=np.int32)
        shapely.prepare(self.pieces)
        self.tree = shapely.STRtree(self.pieces)

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Owner feature of each point (x = lon, y = lat); -1 where in none."""
        out = np.full(len(x), -1, dtype=np.int32)
        if len(x) == 0:
            return out
        pt_idx, piece_idx = self.tree.query(shapely.points(x, y))
        hit = shapely.contains_xy(self.pieces[piece_idx], x[pt_idx], y[pt_idx])
        out[pt_idx[hit]] = self.owner[piece_idx[hit]]
        return out

    def nearest(self, x: np.ndarray, y: np.ndarray, max_km: float) -> tuple[np.ndarray, np.ndarray]:
        """Owner of the nearest piece within max_km of each point, and its distance in km.

        Needs shapely >= 2.1 (the STRtree 'dwithin' predicate).
        """
        owner = np.full(len(x), -1, dtype=np.int32)
        km = np.full(len(x), np.inf)
        if len(x) == 0 or max_km <= 0:
            return owner, km
        points = shapely.points(x, y)
        abs_lat = np.abs(y)
        for lo, hi in itertools.pairwise(_SNAP_BAND_EDGES_DEG):
            sel = np.flatnonzero((abs_lat >= lo) & (abs_lat < hi))
            if len(sel) == 0:
                continue
            cos_lat = np.cos(np.radians(min(hi, _MAX_BAND_LAT_DEG)))
            max_deg = max_km / KM_PER_DEGREE / cos_lat
            pt_idx, piece_idx = self.tree.query(points[sel], predicate="dwithin", distance=max_deg)
            if len(pt_idx) == 0:
                continue
            lines = shapely.shortest_line(points[sel][pt_idx], self.pieces[piece_idx])
            ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
            dist = haversine_km(ends[:, 0, 1], ends[:, 0, 0], ends[:, 1, 1], ends[:, 1, 0])
            # Every piece within the band's radius is a candidate: keep the nearest in km.
            order = np.lexsort((dist, pt_idx))
            pt_idx, piece_idx, dist = pt_idx[order], piece_idx[order], dist[order]
            first = np.concatenate([[True], pt_idx[1:] != pt_idx[:-1]])
            keep = first & (dist <= max_km)
            target = sel[pt_idx[keep]]
            owner[target] = self.owner[piece_idx[keep]]
            km[target] = dist[keep]
        return owner, km
