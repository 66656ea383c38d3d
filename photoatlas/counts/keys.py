"""The cube's key space: geographic and temporal levels, place keys, periods, buckets.

Everything here is a plain function of a record's fields, so Spark, pandas and the stores
derive identical keys.
"""

import zlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

GEO_LEVELS = ("country", "admin1", "county", "city", "geohash")
REGION_LEVELS = ("country", "admin1", "county")  # levels that also get hue and label sums
TIME_LEVELS = ("month", "year", "all")
METRICS = ("photos", "hue", "label")

UNKNOWN = "~unknown"  # place or period not known; '~' sorts last and is no ISO/FIPS/geohash character
ALL_PERIOD = "all"
ALL_PLACES = "*"  # reserved: a store's own per-level rollup, never a real place
WEIGHT_SCALE = 1_000_000  # weights are fixed-point integers in millionths, so sums are exact

# Record field behind each geographic level.
PLACE_FIELDS = {
    "country": "place_country",
    "admin1": "place_admin1",
    "county": "place_county",
    "city": "place_city",
    "geohash": "place_geohash",
}


def _clean(values: pd.Series) -> pd.Series:
    """Stripped strings (pandas ``string`` dtype) with null, empty and reserved values as NA."""
    s = values.astype("string").str.strip()
    reserved = (s == "") | (s == ALL_PLACES) | s.str.startswith("~")
    return s.mask(reserved.fillna(True))


def place_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """One column per geographic level: the place key of each record, ``UNKNOWN`` when absent.

    Follows ``photoatlas.geo.lookup``: admin1 is already unique worldwide (``'US-CA'``,
    ``'FR:Ile-de-France'``) and is kept as given; city names repeat (Springfield), so a city
    is keyed by its admin1 (or, without one, its country): ``'US-IL/Springfield'``,
    ``'SG/Singapore'``, ``'/Atlantis'`` with neither. Country (ISO alpha-2, upper case),
    county (5-digit FIPS) and geohash (lower case) are unique on their own.
    """
    missing = pd.Series(pd.NA, index=frame.index, dtype="string")
    raw = {level: _clean(frame[field]) if field in frame else missing for level, field in PLACE_FIELDS.items()}
    country = raw["country"].str.upper()
    county = raw["county"].where(~raw["county"].str.fullmatch(r"\d{1,4}").fillna(False), raw["county"].str.zfill(5))
    keys = pd.DataFrame(index=frame.index)
    keys["country"] = country.fillna(UNKNOWN)
    keys["admin1"] = raw["admin1"].fillna(UNKNOWN)
    keys["county"] = county.fillna(UNKNOWN)
    keys["city"] = (raw["admin1"].fillna(country).fillna("") + "/" + raw["city"]).fillna(UNKNOWN)
    keys["geohash"] = raw["geohash"].str.lower().fillna(UNKNOWN)
    return keys.astype(object)


def period_keys(captured_at) -> pd.DataFrame:
    """One column per time level: ``'YYYY-MM'``, ``'YYYY'`` (UTC) and ``'all'``; ``UNKNOWN`` without a time.

    Takes a pyarrow timestamp array (any unit, so years before 1677 survive) or a pandas Series.
    """
    if isinstance(captured_at, pd.Series):
        if not pd.api.types.is_datetime64_any_dtype(captured_at):
            captured_at = pd.to_datetime(captured_at, utc=True, errors="coerce", format="mixed")
        captured_at = pa.Array.from_pandas(captured_at)
    if isinstance(captured_at, pa.ChunkedArray):
        captured_at = captured_at.combine_chunks()
    if pa.types.is_timestamp(captured_at.type) and captured_at.type.tz not in (None, "UTC", "+00:00"):
        captured_at = captured_at.cast(pa.timestamp(captured_at.type.unit, tz="UTC"))
    known = captured_at.is_valid().to_numpy(zero_copy_only=False)
    year = pc.year(captured_at).fill_null(0).to_numpy().astype(np.int64)
    month = pc.month(captured_at).fill_null(0).to_numpy().astype(np.int64)
    year_s = pd.Series(year).astype(str).str.zfill(4)
    periods = pd.DataFrame()
    periods["month"] = (year_s + "-" + pd.Series(month).astype(str).str.zfill(2)).where(known, UNKNOWN)
    periods["year"] = year_s.where(known, UNKNOWN)
    periods["all"] = ALL_PERIOD
    return periods


def time_level_of(period: str) -> str:
    """The time level a period string belongs to (``UNKNOWN`` is read as month; year holds the same)."""
    if period == ALL_PERIOD:
        return "all"
    if period == UNKNOWN or (len(period) == 7 and period[4] == "-"):
        return "month"
    if len(period) == 4 and period.isdigit():
        return "year"
    raise ValueError(f"not a period: {period!r} (want 'YYYY-MM', 'YYYY', 'all' or {UNKNOWN!r})")


def year_of_month(period: str) -> str:
    return UNKNOWN if period == UNKNOWN else period[:4]


def check_level(level: str) -> str:
    if level not in GEO_LEVELS:
        raise ValueError(f"unknown geographic level {level!r}; expected one of {GEO_LEVELS}")
    return level


def bucket_of(place: str, n_buckets: int) -> int:
    """Stable bucket of a place (CRC-32 of its UTF-8 bytes; Spark's ``crc32`` gives the same)."""
    return zlib.crc32(place.encode("utf-8")) % n_buckets if n_buckets > 1 else 0


def fixed_point(values: np.ndarray) -> np.ndarray:
    """Non-negative floats to int64 millionths: ``floor(v * 1e6 + 0.5)``; NaN, inf and negatives give 0.

    Spark: ``floor(greatest(cast(v AS double), 0D) * 1000000D + 0.5D)`` with NaN replaced by 0.
    """
    v = np.asarray(values, dtype=np.float64)
    v = np.where(np.isfinite(v) & (v > 0), v, 0.0)
    return np.floor(v * WEIGHT_SCALE + 0.5).astype(np.int64)
