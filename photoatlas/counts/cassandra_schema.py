"""CQL for the Cassandra counts store: tables shaped by the queries, portable from Cassandra 2.1 to 5.

Only ``text``/``int``/``bigint`` columns, plain ``CREATE ... IF NOT EXISTS``; no counters
(not idempotent), collections, ``date``/``time``/``smallint``, JSON, GROUP BY or materialised
views. Column names avoid CQL keywords (``n`` is the count, ``hour`` the ingest partition).

Partition keys, and why:

- ``counts_by_period ((metric, geo_level, time_level, period, bucket), place, item)`` -
  "every county in 2024-05" reads ``buckets[level]`` partitions in parallel. Each (level,
  period) is split by ``crc32(place) % buckets[level]`` (``DEFAULT_BUCKETS``) so a partition
  stays in the tens of thousands of rows even for the big cases: ~1M populated geohash-5
  cells / 64, ~150k GeoNames cities / 16, and hue rows (40 bins) of ~4k admin1 regions or
  ~3.2k counties / 4.
- ``counts_by_place ((metric, geo_level, place), time_level, period, item)`` - "one place
  across months" is one slice of one partition (a few hundred rows per metric). It is also
  what an apply reads back to derive year/all from months, and the commit point of a key.
  Place ``'*'`` holds the level's total across places (``total()``), never a real place.
- ``counts_top ((geo_level, time_level, period, bucket), n DESC, place)`` - "top N places"
  reads the first N rows of each bucket and merges; the table is re-keyed (delete old count,
  insert new) only for the places whose count changed.
- ``counts_contrib_by_hour ((hour), ...)`` - one hour's contribution, read whole to find the
  keys an apply touches. ``counts_contrib_by_key ((metric, geo_level, period, place), item,
  hour)`` - every hour's contribution to one month key, read whole to recompute it exactly.
- ``counts_hours ((year), hour)`` - the ledger of applied hours with a digest of their rows.
- ``counts_meta (name)`` - layout settings (bucket counts) fixed when the keyspace is created.
"""

import re

TABLES = {
    "counts_hours": """(
        year text, hour text, digest text, n_rows bigint, photos bigint,
        PRIMARY KEY ((year), hour))""",
    "counts_contrib_by_hour": """(
        hour text, metric text, geo_level text, period text, place text, item text, n bigint, weight bigint,
        PRIMARY KEY ((hour), metric, geo_level, period, place, item))""",
    "counts_contrib_by_key": """(
        metric text, geo_level text, period text, place text, item text, hour text, n bigint, weight bigint,
        PRIMARY KEY ((metric, geo_level, period, place), item, hour))""",
    "counts_by_period": """(
        metric text, geo_level text, time_level text, period text, bucket int, place text, item text,
        n bigint, weight bigint,
        PRIMARY KEY ((metric, geo_level, time_level, period, bucket), place, item))""",
    "counts_by_place": """(
        metric text, geo_level text, place text, time_level text, period text, item text, n bigint, weight bigint,
        PRIMARY KEY ((metric, geo_level, place), time_level, period, item))""",
    "counts_top": """(
        geo_level text, time_level text, period text, bucket int, n bigint, place text,
        PRIMARY KEY ((geo_level, time_level, period, bucket), n, place))
        WITH CLUSTERING ORDER BY (n DESC, place ASC)""",
    "counts_meta": """(name text PRIMARY KEY, value text)""",
}

# Sized for the row counts in the module doc; fixed per keyspace once created (counts_meta).
DEFAULT_BUCKETS = {"country": 1, "admin1": 4, "county": 4, "city": 16, "geohash": 64}

STATEMENTS = {
    "ledger_get": "SELECT digest FROM {ks}.counts_hours WHERE year = ? AND hour = ?",
    "ledger_put": "INSERT INTO {ks}.counts_hours (year, hour, digest, n_rows, photos) VALUES (?, ?, ?, ?, ?)",
    "ledger_del": "DELETE FROM {ks}.counts_hours WHERE year = ? AND hour = ?",
    "ledger_years": "SELECT DISTINCT year FROM {ks}.counts_hours",
    "ledger_list": "SELECT hour, digest FROM {ks}.counts_hours WHERE year = ?",
    "hour_get": "SELECT metric, geo_level, period, place, item, n, weight FROM {ks}.counts_contrib_by_hour WHERE hour = ?",
    "hour_put": """INSERT INTO {ks}.counts_contrib_by_hour (hour, metric, geo_level, period, place, item, n, weight)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
    "hour_del_row": """DELETE FROM {ks}.counts_contrib_by_hour
                       WHERE hour = ? AND metric = ? AND geo_level = ? AND period = ? AND place = ? AND item = ?""",
    "hour_del": "DELETE FROM {ks}.counts_contrib_by_hour WHERE hour = ?",
    "key_get": """SELECT item, n, weight FROM {ks}.counts_contrib_by_key
                  WHERE metric = ? AND geo_level = ? AND period = ? AND place = ?""",
    "key_put": """INSERT INTO {ks}.counts_contrib_by_key (metric, geo_level, period, place, item, hour, n, weight)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
    "key_del": """DELETE FROM {ks}.counts_contrib_by_key
                  WHERE metric = ? AND geo_level = ? AND period = ? AND place = ? AND item = ? AND hour = ?""",
    "place_get": "SELECT time_level, period, item, n, weight FROM {ks}.counts_by_place WHERE metric = ? AND geo_level = ? AND place = ?",
    "place_slice": """SELECT period, item, n, weight FROM {ks}.counts_by_place
                      WHERE metric = ? AND geo_level = ? AND place = ? AND time_level = ?""",
    "place_cell": """SELECT n FROM {ks}.counts_by_place
                     WHERE metric = ? AND geo_level = ? AND place = ? AND time_level = ? AND period = ? AND item = ?""",
    "place_put": """INSERT INTO {ks}.counts_by_place (metric, geo_level, place, time_level, period, item, n, weight)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
    "place_del": """DELETE FROM {ks}.counts_by_place
                    WHERE metric = ? AND geo_level = ? AND place = ? AND time_level = ? AND period = ? AND item = ?""",
    "place_scan": "SELECT metric, geo_level, time_level, period, place, item, n, weight FROM {ks}.counts_by_place",
    "period_get": """SELECT place, item, n, weight FROM {ks}.counts_by_period
                     WHERE metric = ? AND geo_level = ? AND time_level = ? AND period = ? AND bucket = ?""",
    "period_put": """INSERT INTO {ks}.counts_by_period (metric, geo_level, time_level, period, bucket, place, item, n, weight)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
    "period_del": """DELETE FROM {ks}.counts_by_period
                     WHERE metric = ? AND geo_level = ? AND time_level = ? AND period = ? AND bucket = ? AND place = ? AND item = ?""",
    "top_get": "SELECT place, n FROM {ks}.counts_top WHERE geo_level = ? AND time_level = ? AND period = ? AND bucket = ? LIMIT ?",
    "top_put": "INSERT INTO {ks}.counts_top (geo_level, time_level, period, bucket, n, place) VALUES (?, ?, ?, ?, ?, ?)",
    "top_del": "DELETE FROM {ks}.counts_top WHERE geo_level = ? AND time_level = ? AND period = ? AND bucket = ? AND n = ? AND place = ?",
    "meta_get": "SELECT value FROM {ks}.counts_meta WHERE name = ?",
    "meta_put": "INSERT INTO {ks}.counts_meta (name, value) VALUES (?, ?)",
}

# Writes sharing a partition go out as small unlogged batches (one round trip, applied
# atomically per partition); the number is how many leading bind values form the partition key.
PARTITION_KEY_ARITY = {
    "hour_put": 1,
    "hour_del_row": 1,
    "key_put": 4,
    "key_del": 4,
    "period_put": 5,
    "period_del": 5,
    "place_put": 3,
    "place_del": 3,
    "top_put": 4,
    "top_del": 4,
}
BATCH_ROWS = 50  # ~5 KB per batch: under the batch size warn/fail thresholds of 2.1 through 5

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")


def check_keyspace(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a valid keyspace name: {name!r}")
    return name


def create_keyspace(keyspace: str, replication: dict) -> str:
    options = ", ".join(f"'{k}': '{v}'" for k, v in replication.items())
    return f"CREATE KEYSPACE IF NOT EXISTS {check_keyspace(keyspace)} WITH replication = {{{options}}}"


def create_tables(keyspace: str) -> list[str]:
    return [f"CREATE TABLE IF NOT EXISTS {check_keyspace(keyspace)}.{name} {body}" for name, body in TABLES.items()]
