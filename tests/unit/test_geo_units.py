"""Geo building blocks that need no fetched data: geohash, coordinate validity, packing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photoatlas.geo.build import pack_strings, unpack_strings
from photoatlas.geo.geohash import geohash_codes, geohash_encode
from photoatlas.geo.lookup import valid_coords
from photoatlas.geo.sphere import chord_to_km, haversine_km, unit_vectors

_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"


def reference_geohash(lat: float, lon: float, precision: int) -> str:
    """The textbook bisection encoder, one point at a time."""
    lat_lo, lat_hi, lon_lo, lon_hi = -90.0, 90.0, -180.0, 180.0
    bits, even, out = 0, True, []
    for i in range(precision * 5):
        if even:
            mid = (lon_lo + lon_hi) / 2
            bit = lon >= mid
            lon_lo, lon_hi = (mid, lon_hi) if bit else (lon_lo, mid)
        else:
            mid = (lat_lo + lat_hi) / 2
            bit = lat >= mid
            lat_lo, lat_hi = (mid, lat_hi) if bit else (lat_lo, mid)
        bits = bits * 2 + bit
        even = not even
        if i % 5 == 4:
            out.append(_BASE32[bits])
            bits = 0
    return "".join(out)


@pytest.mark.parametrize(
    "lat, lon, precision, expected",
    [
        (57.64911, 10.40744, 11, "u4pruydqqvj"),  # the Wikipedia example
        (42.6, -5.6, 5, "ezs42"),
        (48.8566, 2.3522, 5, "u09tv"),
        (-33.8568, 151.2153, 7, "r3gx2ux"),
        (37.8199, -122.4783, 6, "9q8zhu"),
        (-90.0, -180.0, 4, "0000"),
        (90.0, 180.0, 12, "zzzzzzzzzzzz"),
    ],
)
def test_geohash_golden_values(lat, lon, precision, expected):
    assert geohash_encode([lat], [lon], precision)[0] == expected
    assert reference_geohash(lat, lon, precision) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-90, 90, allow_nan=False),
    st.floats(-180, 180, allow_nan=False),
    st.integers(1, 12),
)
def test_geohash_matches_bisection_reference(lat, lon, precision):
    assert geohash_encode([lat], [lon], precision)[0] == reference_geohash(lat, lon, precision)


def test_geohash_is_vectorised_and_prefix_consistent():
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(-90, 90, 10_000), rng.uniform(-180, 180, 10_000)
    long_codes = geohash_encode(lat, lon, 9)
    short_codes = geohash_encode(lat, lon, 4)
    assert all(a.startswith(b) for a, b in zip(long_codes, short_codes))
    assert geohash_codes(lat, lon).dtype == np.uint64


def test_geohash_rejects_bad_precision():
    with pytest.raises(ValueError):
        geohash_encode([0.0], [0.0], 13)


def test_valid_coords_rejects_missing_fixes():
    lat = np.array([0.0, 1e-7, np.nan, 91.0, -90.5, 45.0, 45.0, np.inf, 0.0, 0.01, 51.5])
    lon = np.array([0.0, -1e-7, 10.0, 0.0, 0.0, 180.5, np.nan, 1.0, 0.01, 0.0, -0.12])
    expected = [False, False, False, False, False, False, False, False, True, True, True]
    assert valid_coords(lat, lon).tolist() == expected


def test_great_circle_helpers_agree():
    lat1, lon1, lat2, lon2 = 48.8566, 2.3522, 51.5074, -0.1278  # Paris - London
    km = haversine_km(lat1, lon1, lat2, lon2)
    assert km == pytest.approx(343.5, abs=1.0)
    chord = np.linalg.norm(unit_vectors([lat1], [lon1]) - unit_vectors([lat2], [lon2]))
    assert chord_to_km(chord) == pytest.approx(km, rel=1e-9)


def test_string_packing_round_trips_none_and_unicode():
    values = ["Île-de-France", None, "Kraków", "", "a, b"]
    assert unpack_strings(pack_strings(values)) == ["Île-de-France", None, "Kraków", None, "a, b"]
