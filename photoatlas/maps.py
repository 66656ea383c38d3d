"""The county choropleth: counts per US county drawn on the same Census polygons the lookup uses."""

import io
from functools import lru_cache

import numpy as np

# Lower 48 plus a bounding box for AK/HI insets would be nicer; one Albers-free frame keeps it
# simple: longitudes -180..-60, with Alaska's Aleutians clipped at the antimeridian.
MAP_EXTENT = (-180.0, -62.0, 17.0, 72.0)
MAP_SIZE_IN = (10.0, 5.2)


@lru_cache(maxsize=1)
def county_shapes() -> tuple[list, list[str]]:
    """(matplotlib-ready exterior rings per county piece, FIPS per piece), loaded once."""
    import shapely

    from photoatlas.geo.build import unpack_geometries, unpack_strings
    from photoatlas.geo.data import load_arrays

    cache = load_arrays()
    pieces = unpack_geometries(cache["county_wkb"], cache["county_offsets"])
    fips = unpack_strings(cache["county_fips"])
    owner = cache["county_owner"]
    rings, piece_fips = [], []
    for geom, idx in zip(pieces, owner):
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon":
                continue  # a handful of degenerate slivers in the source topology
            rings.append(np.asarray(shapely.get_coordinates(poly.exterior)))
            piece_fips.append(fips[idx])
    return rings, piece_fips


def county_choropleth_png(counts: dict[str, int], title: str) -> bytes:
    """A PNG map: each county shaded by its count (log scale), counties without photos in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import LogNorm

    rings, piece_fips = county_shapes()
    values = np.array([counts.get(f, 0) for f in piece_fips], dtype=float)
    fig, ax = plt.subplots(figsize=MAP_SIZE_IN, dpi=100)
    empty = values == 0
    ax.add_collection(PolyCollection([r for r, e in zip(rings, empty) if e], facecolor="#e6e6e6", edgecolor="#ffffff", linewidth=0.1))
    if (~empty).any():
        top = max(values.max(), 2)
        coll = PolyCollection([r for r, e in zip(rings, empty) if not e], cmap="viridis", norm=LogNorm(1, top), edgecolor="#333333", linewidth=0.2)
        coll.set_array(values[~empty])
        ax.add_collection(coll)
        fig.colorbar(coll, ax=ax, shrink=0.6, label="photos")
    ax.set_xlim(MAP_EXTENT[0], MAP_EXTENT[1])
    ax.set_ylim(MAP_EXTENT[2], MAP_EXTENT[3])
    ax.set_aspect(1.3)
    ax.set_axis_off()
    ax.set_title(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
