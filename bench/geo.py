"""Benchmark the offline five-level place lookup on one core.

    python bench/geo.py [--quick] [--points N] [--cpu K] [--seed S]

Measures GeoLookup load time, five-level lookups per second on N points (default 1 M;
--quick: 200 k) that are mostly near GeoNames places (populated land, coasts) with some
open sea and some missing fixes, and the county/country accuracy on the golden
landmarks (photoatlas/geo/landmarks.py, the table the tests use). The reference, timed
in the same run on a sample, is the straightforward per-point loop: numpy bounding-box
filter + shapely `contains` per candidate polygon, brute-force nearest place, geohash
string per point. Ends with one RESULT line.
"""

import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
for _var in _THREAD_VARS:  # before numpy is imported: one core, one thread
    os.environ[_var] = "1"

import argparse
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from photoatlas.geo.build import unpack_geometries, unpack_strings
from photoatlas.geo.data import load_arrays
from photoatlas.geo.geohash import geohash_encode
from photoatlas.geo.landmarks import LANDMARKS
from photoatlas.geo.lookup import GeoLookup, valid_coords
from photoatlas.geo.sphere import haversine_km

NEAR_PLACE_SHARE = 0.85
SEA_SHARE = 0.10  # uniform over the globe: mostly ocean, some wilderness
JITTER_KM = 5.0


def make_points(n: int, city_lat, city_lon, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    kind = rng.random(n)
    pick = rng.integers(0, len(city_lat), n)
    sigma = JITTER_KM / 111.2
    lat = city_lat[pick] + rng.normal(0, sigma, n)
    lon = city_lon[pick] + rng.normal(0, sigma, n) / np.maximum(np.cos(np.radians(lat)), 0.1)
    sea = (kind >= NEAR_PLACE_SHARE) & (kind < NEAR_PLACE_SHARE + SEA_SHARE)
    lat[sea] = np.degrees(np.arcsin(rng.uniform(-1, 1, sea.sum())))
    lon[sea] = rng.uniform(-180, 180, sea.sum())
    missing = np.flatnonzero(kind >= NEAR_PLACE_SHARE + SEA_SHARE)
    lat[missing[0::3]], lon[missing[0::3]] = np.nan, np.nan
    lat[missing[1::3]], lon[missing[1::3]] = 0.0, 0.0
    lat[missing[2::3]] = 95.0
    lon = (lon + 180.0) % 360.0 - 180.0
    return lat, lon


class NaiveLookup:
    """The per-point reference: what one writes first, before vectorising.

    Same cached pieces, decoded on its own (unprepared), no grid, no tree, no snap.
    """

    def __init__(self, arrays: dict):
        self.world = unpack_geometries(arrays["world_wkb"], arrays["world_offsets"])
        self.world_owner = arrays["world_owner"]
        self.world_codes = unpack_strings(arrays["world_codes"])
        self.counties = unpack_geometries(arrays["county_wkb"], arrays["county_offsets"])
        self.county_owner = arrays["county_owner"]
        self.county_country = unpack_strings(arrays["county_country"])
        self.world_bounds = shapely.bounds(self.world)
        self.county_bounds = shapely.bounds(self.counties)
        self.city_lat = arrays["city_lat"]
        self.city_lon = arrays["city_lon"]

    @staticmethod
    def _find(pieces, owner, bounds, x, y) -> int:
        box_hit = (bounds[:, 0] <= x) & (x <= bounds[:, 2]) & (bounds[:, 1] <= y) & (y <= bounds[:, 3])
        cand = np.flatnonzero(box_hit)
        point = shapely.Point(x, y)
        for i in cand:
            if pieces[i].contains(point):
                return int(owner[i])
        return -1

    def lookup_one(self, lat: float, lon: float) -> tuple:
        """(country or None, county index or -1, nearest place index, geohash)."""
        if not valid_coords(lat, lon):
            return None, -1, -1, None
        county = self._find(self.counties, self.county_owner, self.county_bounds, lon, lat)
        if county >= 0:
            country = self.county_country[county]
        else:
            world = self._find(self.world, self.world_owner, self.world_bounds, lon, lat)
            country = self.world_codes[world] if world >= 0 else None
        city = int(np.argmin(haversine_km(lat, lon, self.city_lat, self.city_lon)))
        return country, county, city, geohash_encode([lat], [lon], 5)[0]


def landmark_accuracy(geo: GeoLookup) -> tuple[float, float, list[str]]:
    lat = np.array([m.lat for m in LANDMARKS])
    lon = np.array([m.lon for m in LANDMARKS])
    got = geo.lookup(lat, lon)
    county_ok = np.array([got["county"][i] == m.county for i, m in enumerate(LANDMARKS)])
    country_ok = np.array([got["country"][i] == m.country for i, m in enumerate(LANDMARKS)])
    misses = [
        f"{m.name}: got {got['country'][i]}/{got['county'][i]}, want {m.country}/{m.county}"
        for i, m in enumerate(LANDMARKS)
        if not (county_ok[i] and country_ok[i])
    ]
    return county_ok.mean(), country_ok.mean(), misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200k points, small reference sample")
    parser.add_argument("--points", type=int, help="points to look up (default 1M, --quick 200k)")
    parser.add_argument("--cpu", type=int, default=None, help="core to pin to (default: the last allowed)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    n = args.points or (200_000 if args.quick else 1_000_000)
    naive_n = 200 if args.quick else 1000
    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})

    started = time.perf_counter()
    arrays = load_arrays(args.data_dir)
    geo = GeoLookup(arrays)
    load_s = time.perf_counter() - started

    lat, lon = make_points(n, arrays["city_lat"], arrays["city_lon"], args.seed)
    geo.lookup(lat[:20_000], lon[:20_000])  # warm caches (prepared polygons, page faults)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = geo.lookup(lat, lon)
    wall_s, cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
    # Per core = per CPU-second of this one-thread process; wall time also counts the
    # other processes sharing the core, so both are shown.
    rate, wall_rate = n / cpu_s, n / wall_s

    naive = NaiveLookup(arrays)
    sample = np.random.default_rng(args.seed + 1).choice(n, naive_n, replace=False)
    cpu0 = time.process_time()
    naive_out = [naive.lookup_one(lat[i], lon[i]) for i in sample]
    naive_rate = naive_n / (time.process_time() - cpu0)
    # The reference has no coastal snap: compare where it found a polygon or a missing fix.
    compared = [
        (got, ref[0])
        for got, ref, i in zip(result["country"][sample], naive_out, sample)
        if ref[0] is not None or not valid_coords(lat[i], lon[i])
    ]
    agree = np.mean([a == b for a, b in compared])

    county_acc, country_acc, misses = landmark_accuracy(geo)
    with_country = np.mean([c is not None for c in result["country"]])
    with_county = np.mean([c is not None for c in result["county"]])
    print(f"device: 1 core (cpu {cpu}), numpy {np.__version__}, shapely {shapely.__version__}")
    print(f"load: {load_s:.2f} s")
    print(
        f"points: {n:,} ({valid_coords(lat, lon).mean():.1%} valid, {with_country:.1%} with a country, "
        f"{with_county:.1%} in a US county)"
    )
    print(
        f"vectorised: {cpu_s:.2f} s CPU, {wall_s:.2f} s wall -> {rate:,.0f} five-level lookups/s/core "
        f"({wall_rate:,.0f}/s by wall clock)"
    )
    print(
        f"naive per-point reference: {naive_n} points -> {naive_rate:,.0f} lookups/s/core "
        f"(country agreement {agree:.1%} where it finds a polygon)"
    )
    print(f"landmarks: {len(LANDMARKS)}, county accuracy {county_acc:.1%}, country accuracy {country_acc:.1%}")
    for miss in misses:
        print(f"  MISS {miss}")
    print(
        f"RESULT lookups_per_s={rate:.0f} county_acc={county_acc:.3f} country_acc={country_acc:.3f} "
        f"speedup_vs_naive={rate / naive_rate:.0f} wall_lookups_per_s={wall_rate:.0f} load_s={load_s:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
