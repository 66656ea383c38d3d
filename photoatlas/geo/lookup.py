"""Five-level place lookup (country, admin1, county, city, geohash), fully offline.

Precedence, per point:
1. Missing coordinates (see valid_coords) give None at every level.
2. Inside a US county polygon (Census): county, state ('US-CA') and country (US, or PR/VI/
   GU/AS/MP for the territories) come from the county, whatever Natural Earth says there.
3. Else inside a Natural Earth country: that country. A US point outside every county
   (coastal generalisation, lakes) takes the nearest county within SNAP_KM if any.
4. Else (sea, a pier, a harbour) the nearest county or country within SNAP_KM; a county
   loses only to a nearer foreign country. Beyond SNAP_KM the country is None.
City is the nearest GeoNames place that best matches the point (same county, else same
state, else same country) among the CITY_CANDIDATES nearest places, else the nearest place
at all; city_km is its great-circle distance, so callers can ignore far-away "cities" of
points at sea. admin1 outside the US is that place's GeoNames admin1 prefixed by its
country ('FR:Ile-de-France', ASCII as in the GeoNames table), None where GeoNames has none
or the country is unknown. City names repeat (Springfield): key cities by (admin1, city).
"""

import threading

import numpy as np
from scipy.spatial import cKDTree

from photoatlas.geo.build import unpack_geometries, unpack_strings
from photoatlas.geo.data import geodata_dir, load_arrays
from photoatlas.geo.geohash import MAX_PRECISION, codes_to_strings, geohash_codes
from photoatlas.geo.grid import MIXED, CellGrid
from photoatlas.geo.polygons import PolygonLayer
from photoatlas.geo.sphere import chord_to_km, unit_vectors

LEVELS = ("country", "admin1", "county", "city", "geohash")
SNAP_KM = 5.0
CITY_CANDIDATES = 16
DEFAULT_GEOHASH_PRECISION = 5
NULL_ISLAND_DEG = 1e-6  # (0, 0) is an unset GPS fix, not the Gulf of Guinea
US_FAMILY = ("US", "PR", "VI", "GU", "AS", "MP")


def valid_coords(lat, lon) -> np.ndarray:
    """True where lat/lon is a usable fix: finite, in range, and not (0, 0)."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
        null_island = (np.abs(lat) <= NULL_ISLAND_DEG) & (np.abs(lon) <= NULL_ISLAND_DEG)
    return ok & ~null_island


def _table(values) -> np.ndarray:
    """Object array of values plus a trailing None, so index -1 reads None."""
    out = np.empty(len(values) + 1, dtype=object)
    out[:-1] = list(values)
    return out


class GeoLookup:
    """Offline reverse geocoder; build once (GeoLookup.load / get_lookup), call many times."""

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        snap_km: float = SNAP_KM,
        geohash_precision: int = DEFAULT_GEOHASH_PRECISION,
    ):
        margin_km = float(arrays["grid_margin_km"])
        if not 0 <= snap_km <= margin_km:
            raise ValueError(f"snap_km must be within 0..{margin_km} (the cached grid's margin)")
        self.snap_km = snap_km
        self.geohash_precision = geohash_precision
        self.world = PolygonLayer(
            unpack_geometries(arrays["world_wkb"], arrays["world_offsets"]), arrays["world_owner"]
        )
        self.counties = PolygonLayer(
            unpack_geometries(arrays["county_wkb"], arrays["county_offsets"]), arrays["county_owner"]
        )
        self._world_grid = CellGrid(arrays["world_grid_coarse"], arrays["world_grid_fine"])
        self._county_grid = CellGrid(arrays["county_grid_coarse"], arrays["county_grid_fine"])

        world_codes = unpack_strings(arrays["world_codes"])
        county_country = unpack_strings(arrays["county_country"])
        county_admin1 = unpack_strings(arrays["county_admin1"])
        city_cc = unpack_strings(arrays["city_cc"])
        city_admin1 = unpack_strings(arrays["city_admin1"])
        countries = sorted({c for c in world_codes + county_country + city_cc if c})
        self._country_table = _table(countries)
        country_id = {c: i for i, c in enumerate(countries)}
        self._world_country = np.array([country_id.get(c, -1) for c in world_codes], dtype=np.int32)
        self._world_us_family = np.array([c in US_FAMILY for c in world_codes] + [False])
        self._county_country = np.array([country_id[c] for c in county_country], dtype=np.int32)
        self._city_cc = np.array([country_id.get(c, -1) for c in city_cc], dtype=np.int32)
        admin1 = sorted(set(county_admin1) | {a for a in city_admin1 if a})
        admin1_id = {a: i for i, a in enumerate(admin1)}
        self._admin1_table = _table(admin1)
        self._county_admin1 = np.array([admin1_id[a] for a in county_admin1], dtype=np.int32)
        self._city_admin1 = np.array([admin1_id.get(a, -1) for a in city_admin1], dtype=np.int32)
        self._fips_table = _table(unpack_strings(arrays["county_fips"]))
        self._county_name_table = _table(unpack_strings(arrays["county_name"]))
        self._city_table = _table(unpack_strings(arrays["city_name"]))
        self._city_tree = cKDTree(unit_vectors(arrays["city_lat"], arrays["city_lon"]))
        self._city_county = self._county_of_places(arrays["city_lat"], arrays["city_lon"], city_cc)

    @classmethod
    def load(cls, data_dir=None, **options) -> "GeoLookup":
        """Read the fetched cache (GeoDataMissing if absent) and build the indexes."""
        return cls(load_arrays(data_dir), **options)

    def _places(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """County index and country index (-1: none) for valid points."""
        n = len(lat)
        # The grids answer most points; polygons only where a cell is MIXED.
        county = self._county_grid.classify(lat, lon)
        county_near = county == MIXED
        idx = np.flatnonzero(county_near)
        county[idx] = self.counties.contains(lon[idx], lat[idx])
        county[county < 0] = -1

        world = np.full(n, -1, dtype=np.int32)
        world_near = np.zeros(n, dtype=bool)
        rest = np.flatnonzero(county < 0)
        world[rest] = self._world_grid.classify(lat[rest], lon[rest])
        world_near[rest] = world[rest] == MIXED
        idx = np.flatnonzero(world_near)
        world[idx] = self.world.contains(lon[idx], lat[idx])
        world[world < 0] = -1

        miss_all = (county < 0) & (world < 0)
        sel = np.flatnonzero(county_near & (county < 0) & (self._world_us_family[world] | miss_all))
        c_owner, c_km = self.counties.nearest(lon[sel], lat[sel], self.snap_km)
        sel_w = np.flatnonzero(miss_all & world_near)
        w_owner, w_km = self.world.nearest(lon[sel_w], lat[sel_w], self.snap_km)
        # Off the coast, a snapped county wins unless a foreign country is nearer.
        foreign_km = np.full(n, np.inf)
        foreign_km[sel_w] = np.where(self._world_us_family[w_owner], np.inf, w_km)
        take = (c_owner >= 0) & (c_km <= foreign_km[sel])
        county[sel[take]] = c_owner[take]
        world[sel_w] = np.where(county[sel_w] >= 0, -1, w_owner)

        country = np.where(
            county >= 0, self._county_country[county], np.where(world >= 0, self._world_country[world], -1)
        )
        return county, country.astype(np.int32)

    def _county_of_places(self, lat, lon, cc) -> np.ndarray:
        """County index of each GeoNames place in the US family (-1 elsewhere or none)."""
        out = np.full(len(lat), -1, dtype=np.int32)
        us = np.flatnonzero(np.isin(np.asarray(cc, dtype=object), US_FAMILY))
        inside = self.counties.contains(lon[us], lat[us])
        miss = np.flatnonzero(inside < 0)
        inside[miss] = self.counties.nearest(lon[us][miss], lat[us][miss], self.snap_km)[0]
        out[us] = inside
        return out

    def _tier(self, city, county, admin1, country) -> np.ndarray:
        """How well places match points: 3 same county, 2 same state, 1 same country, 0 none."""
        same_country = (country >= 0) & (self._city_cc[city] == country)
        same_state = (admin1 >= 0) & (self._city_admin1[city] == admin1)
        same_county = (county >= 0) & (self._city_county[city] == county)
        return np.maximum(same_country * 1, np.maximum(same_state * 2, same_county * 3))

    def _cities(self, lat, lon, county, country) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest best-matching place, its distance in km, and whether its country matches."""
        q = unit_vectors(lat, lon)
        chord, city = self._city_tree.query(q)
        admin1 = np.where(county >= 0, self._county_admin1[county], -1)
        tier = self._tier(city, county, admin1, country)
        best_possible = np.where(county >= 0, 3, np.where(country >= 0, 1, 0))
        redo = np.flatnonzero(tier < best_possible)
        if len(redo):
            k = min(CITY_CANDIDATES, self._city_tree.n)
            chord_k, city_k = self._city_tree.query(q[redo], k=k)
            tier_k = self._tier(city_k, county[redo, None], admin1[redo, None], country[redo, None])
            # Best tier first, nearest within the tier (candidates come sorted by distance).
            pick = np.argmax(tier_k * (k + 1) - np.arange(k), axis=1)
            rows = np.arange(len(redo))
            city[redo] = city_k[rows, pick]
            chord[redo] = chord_k[rows, pick]
            tier[redo] = tier_k[rows, pick]
        return city, chord_to_km(chord), tier >= 1

    def lookup(self, lat, lon, geohash_precision: int | None = None) -> dict[str, np.ndarray]:
        """Place levels for arrays of coordinates; None (NaN for city_km) where missing."""
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        if lat.shape != lon.shape or lat.ndim != 1:
            raise ValueError(f"lat and lon must be 1-D arrays of one length, got {lat.shape} and {lon.shape}")
        precision = geohash_precision or self.geohash_precision
        if not 1 <= precision <= MAX_PRECISION:
            raise ValueError(f"geohash precision must be 1..{MAX_PRECISION}, got {precision}")

        valid = np.flatnonzero(valid_coords(lat, lon))
        codes = geohash_codes(lat[valid], lon[valid])
        order = np.argsort(codes)  # Z-order: neighbours in space are neighbours in memory
        where = valid[order]
        la, lo, codes = lat[where], lon[where], codes[order]

        county, country = self._places(la, lo)
        city, km, matched = self._cities(la, lo, county, country)
        admin1 = np.where(
            county >= 0, self._county_admin1[county], np.where(matched & (country >= 0), self._city_admin1[city], -1)
        )
        cells = codes >> np.uint64(5 * (MAX_PRECISION - precision))
        new_cell = np.concatenate([[True], cells[1:] != cells[:-1]]) if len(cells) else np.zeros(0, bool)
        cell_idx = np.cumsum(new_cell) - 1
        geohash_table = _table(
            codes_to_strings(cells[new_cell] << np.uint64(5 * (MAX_PRECISION - precision)), precision).tolist()
        )

        def scatter(values, fill=-1):
            full = np.full(len(lat), fill, dtype=np.asarray(values).dtype)
            full[where] = values
            return full

        county_full = scatter(county)
        return {
            "country": self._country_table[scatter(country)],
            "admin1": self._admin1_table[scatter(admin1)],
            "county": self._fips_table[county_full],
            "county_name": self._county_name_table[county_full],
            "city": self._city_table[scatter(city)],
            "city_km": scatter(km, np.nan),
            "geohash": geohash_table[scatter(cell_idx)],
        }


_lock = threading.Lock()
_cache: dict[str, GeoLookup] = {}


def get_lookup(data_dir=None) -> GeoLookup:
    """The process-wide GeoLookup for a cache folder (loaded on first use)."""
    key = str(geodata_dir(data_dir).resolve())
    with _lock:
        if key not in _cache:
            _cache[key] = GeoLookup.load(data_dir)
        return _cache[key]
