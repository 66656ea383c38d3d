"""Offline five-level place lookup: country, admin1, county, city, geohash.

Fetch the data once per machine with `python -m photoatlas.geo.data`, then
`get_lookup().lookup(lat, lon)`. Names are imported lazily, so importing the package
stays cheap and `python -m photoatlas.geo.data` runs its module only once.
"""

import importlib

_EXPORTS = {
    "FETCH_COMMAND": "photoatlas.geo.data",
    "GeoDataMissing": "photoatlas.geo.data",
    "ensure_geodata": "photoatlas.geo.data",
    "geohash_encode": "photoatlas.geo.geohash",
    "LEVELS": "photoatlas.geo.lookup",
    "GeoLookup": "photoatlas.geo.lookup",
    "get_lookup": "photoatlas.geo.lookup",
    "valid_coords": "photoatlas.geo.lookup",
}

__all__ = [
    "FETCH_COMMAND",
    "LEVELS",
    "GeoDataMissing",
    "GeoLookup",
    "ensure_geodata",
    "geohash_encode",
    "get_lookup",
    "valid_coords",
]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'photoatlas.geo' has no attribute {name!r}")
