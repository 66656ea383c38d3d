"""A two-level cell grid that answers most points without any geometry.

Each 1-degree cell holds an owner (the whole cell is inside one feature), EMPTY (no
feature within the snap margin: a miss needing no snap), MIXED (ask the polygons), or a
pointer to a block of finer cells holding the same three kinds of value. Built once
with the cache; a lookup is two array reads per point.
"""

import numpy as np
import shapely

from photoatlas.geo.sphere import KM_PER_DEGREE

EMPTY = -1
MIXED = -2
_FIRST_BLOCK = -3  # coarse value -3 - b points at fine block b
_MAX_LAT_FOR_MARGIN_DEG = 85.0


def _boxes(x0, y0, size, margin_km):
    """Cell boxes and the same boxes grown by margin_km (in degrees, per latitude)."""
    x1, y1 = x0 + size, y0 + size
    cos_lat = np.cos(np.radians(np.minimum(np.maximum(np.abs(y0), np.abs(y1)), _MAX_LAT_FOR_MARGIN_DEG)))
    m_lat = margin_km / KM_PER_DEGREE
    m_lon = m_lat / cos_lat
    return shapely.box(x0, y0, x1, y1), shapely.box(x0 - m_lon, y0 - m_lat, x1 + m_lon, y1 + m_lat)


def _classify(tree, owner, x0, y0, size, margin_km) -> np.ndarray:
    cells, grown = _boxes(x0, y0, size, margin_km)
    value = np.full(len(cells), EMPTY, dtype=np.int32)
    near, _ = tree.query(grown, predicate="intersects")
    value[near] = MIXED
    inside, piece = tree.query(cells, predicate="within")
    value[inside] = owner[piece]
    return value


def build_grid(pieces: np.ndarray, owner: np.ndarray, cells_per_degree: int, margin_km: float):
    """(coarse (180, 360) int32, fine (blocks, F, F) int16) for a layer of pieces."""
    tree = shapely.STRtree(pieces)
    owner = np.asarray(owner, dtype=np.int32)
    rows, cols = np.mgrid[0:180, 0:360]
    coarse = _classify(tree, owner, cols.ravel() - 180.0, rows.ravel() - 90.0, 1.0, margin_km)
    todo = np.flatnonzero(coarse == MIXED)
    f = cells_per_degree
    fr, fc = np.mgrid[0:f, 0:f]
    fine_x = (cols.ravel()[todo, None] - 180.0 + fc.ravel()[None, :] / f).ravel()
    fine_y = (rows.ravel()[todo, None] - 90.0 + fr.ravel()[None, :] / f).ravel()
    fine = _classify(tree, owner, fine_x, fine_y, 1.0 / f, margin_km).reshape(len(todo), f, f)
    blocks = []
    for cell, block in zip(todo, fine):
        first = block.flat[0]
        if (block == first).all() and first != MIXED:
            coarse[cell] = first  # uniform block: the coarse cell says it all
        else:
            coarse[cell] = _FIRST_BLOCK - len(blocks)
            blocks.append(block)
    fine_out = np.array(blocks, dtype=np.int16).reshape(-1, f, f)
    return coarse.reshape(180, 360), fine_out


class CellGrid:
    """Owner, EMPTY or MIXED for arrays of points, from a prebuilt two-level grid."""

    def __init__(self, coarse: np.ndarray, fine: np.ndarray):
        self.coarse = np.asarray(coarse, dtype=np.int32)
        self.fine = np.asarray(fine, dtype=np.int16)
        self.cells_per_degree = self.fine.shape[1] if self.fine.ndim == 3 and len(self.fine) else 1

    def classify(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        y = lat + 90.0
        x = lon + 180.0
        r = np.minimum(y.astype(np.intp), 179)
        c = np.minimum(x.astype(np.intp), 359)
        value = self.coarse[r, c]
        sub = np.flatnonzero(value <= _FIRST_BLOCK)
        if len(sub):
            f = self.cells_per_degree
            block = _FIRST_BLOCK - value[sub]
            fr = np.minimum(((y[sub] - r[sub]) * f).astype(np.intp), f - 1)
            fc = np.minimum(((x[sub] - c[sub]) * f).astype(np.intp), f - 1)
            value[sub] = self.fine[block, fr, fc]
        return value
