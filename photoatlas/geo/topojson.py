"""Decode TopoJSON polygons into shapely geometries cut at the antimeridian.

world-atlas and us-atlas store quantized, delta-encoded arcs, and their rings are
stitched across the antimeridian (Russia, Fiji, Kiribati, the Aleutians) or run around
the South Pole (Antarctica). Planar point-in-polygon needs every ring inside
[-180, 180]: we unwrap each ring's longitudes, close pole-encircling rings along the
pole, and fold the parts beyond +-180 back onto the map.
"""

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import Polygon, box

WORLD_BOX = box(-180.0, -90.0, 180.0, 90.0)


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """Absolute lon/lat coordinates of every arc (undoes delta encoding and quantization)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        xy = np.asarray(arc, dtype=np.float64)
        if transform:
            xy = np.cumsum(xy, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(xy)
    return arcs


def ring_coords(arc_ids: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    """Concatenate a ring's arcs (a negative index ~i means arc i reversed)."""
    parts = []
    for k, i in enumerate(arc_ids):
        xy = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(xy if k == 0 else xy[1:])
    return np.concatenate(parts)


def _unwrap(xy: np.ndarray) -> tuple[np.ndarray, float]:
    """Make longitudes continuous; return the ring and its net longitude winding (0 or +-360)."""
    lon = xy[:, 0]
    step = np.diff(lon)
    shift = np.concatenate([[0.0], -360.0 * np.cumsum(np.round(step / 360.0))])
    out = xy.copy()
    out[:, 0] = lon + shift
    return out, out[-1, 0] - out[0, 0]


def _close_around_pole(xy: np.ndarray) -> np.ndarray:
    pole = -90.0 if xy[:, 1].mean() < 0 else 90.0
    return np.vstack([xy, [[xy[-1, 0], pole], [xy[0, 0], pole]], xy[:1]])


def repaired_polygon(rings: list[np.ndarray]):
    """A polygon (shell + holes) as a valid geometry folded into [-180, 180].

    Rings that quantization collapsed below 4 points are dropped (None for the shell).
    """
    if len(rings[0]) < 4:
        return None
    shell, winding = _unwrap(rings[0])
    if abs(winding) > 180.0:
        shell = _close_around_pole(shell)
    centre = 0.5 * (shell[:, 0].min() + shell[:, 0].max())
    holes = []
    for hole in (r for r in rings[1:] if len(r) >= 4):
        hole, _ = _unwrap(hole)
        hole[:, 0] += 360.0 * np.round((centre - hole[:, 0].mean()) / 360.0)
        holes.append(hole)
    poly = Polygon(shell, holes)
    if not poly.is_valid:
        poly = shapely.make_valid(poly)
    xmin, _, xmax, _ = poly.bounds
    if xmin >= -180.0 and xmax <= 180.0:
        return poly
    pieces = [shapely.intersection(shapely.affinity.translate(poly, xoff=k * 360.0), WORLD_BOX) for k in (-1, 0, 1)]
    return shapely.union_all([p for p in pieces if not p.is_empty])


def geometry_polygons(geometry: dict, arcs: list[np.ndarray]) -> list:
    """The repaired polygons of one TopoJSON Polygon / MultiPolygon object."""
    kind = geometry.get("type")
    if kind == "Polygon":
        polys = [geometry["arcs"]]
    elif kind == "MultiPolygon":
        polys = geometry["arcs"]
    else:
        return []
    out = (repaired_polygon([ring_coords(r, arcs) for r in rings]) for rings in polys)
    return [p for p in out if p is not None and not p.is_empty]
