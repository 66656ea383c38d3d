"""The Cassandra counts store against a real Cassandra 2.1 node (started once per session).

Every answer is compared with the DuckDB store and the pure reduction fed the same hours.
Run alone: ``python -m pytest -m integration tests/integration/test_counts_cassandra.py``.
"""

import itertools

import pandas as pd
import pytest
from cassandra import AuthenticationFailed
from cassandra.cluster import NoHostAvailable

from photoatlas.counts import (
    CUBE_COLUMNS,
    GEO_LEVELS,
    TIME_LEVELS,
    DuckDBCountsStore,
    aggregate_hour,
    reduce_aggregates,
    reduce_cube,
)
from photoatlas.counts.cassandra_store import CassandraCountsStore
from photoatlas.counts.keys import bucket_of
from photoatlas.counts.synthetic import make_records
from tests.servers import cassandra as cassandra_servers

PROTOCOL_VERSION = cassandra_servers.PROTOCOL_VERSION

pytestmark = pytest.mark.integration

HOURS = ["2024-05-01-10:00", "2024-05-01-11:00", "2025-01-03-07:00"]
_keyspaces = itertools.count()


def hour_aggs(seed: int, n: int = 30) -> dict[str, pd.DataFrame]:
    """Three hours of synthetic aggregates; 4 hue bins keep the row count (and the run) small."""
    return {h: aggregate_hour(make_records(n, h, seed * 10 + i, hist_bins=4)) for i, h in enumerate(HOURS)}


def connect(server, keyspace: str, **kw) -> CassandraCountsStore:
    user, password = server.credentials
    return CassandraCountsStore(
        [server.host],
        server.port,
        keyspace=keyspace,
        consistency=kw.pop("consistency", "LOCAL_QUORUM"),
        protocol_version=PROTOCOL_VERSION,
        username=user,
        password=password,
        **kw,
    )


# A small bucket layout keeps the per-bucket fan-out of every query cheap here; the default
# layout is exercised by the schema test.
SMALL_BUCKETS = {"country": 1, "admin1": 1, "county": 2, "city": 3, "geohash": 4}


@pytest.fixture
def cass(cassandra_server):
    # A fresh keyspace per test (dropping one costs seconds on 2.1; the session's data dir goes anyway).
    store = connect(cassandra_server, f"counts_test_{next(_keyspaces)}", buckets=SMALL_BUCKETS)
    store.ensure_schema()
    yield store
    store.close()


def duck(aggs: dict) -> DuckDBCountsStore:
    store = DuckDBCountsStore(threads=1)  # many tiny queries: a thread pool only adds hand-offs
    store.ensure_schema()
    reduce_cube(store, aggs)
    return store


def assert_tables_match(cass: CassandraCountsStore, ref: DuckDBCountsStore) -> pd.DataFrame:
    """Every totals table, scanned whole, holds exactly DuckDB's cube (each row in its place's bucket)."""
    snap = cass.snapshot()  # a scan of counts_by_place
    assert snap.equals(ref.snapshot())
    assert cass.hours() == ref.hours()
    columns = ["metric", "geo_level", "time_level", "period", "bucket", "place", "item", "count", "weight"]
    scan = f"SELECT metric, geo_level, time_level, period, bucket, place, item, n, weight FROM {cass.keyspace}.counts_by_period"
    rows = pd.DataFrame(list(cass.session.execute(scan)), columns=columns)
    assert all(b == bucket_of(p, cass.buckets[g]) for g, p, b in zip(rows["geo_level"], rows["place"], rows["bucket"]))
    by_period = rows.drop(columns="bucket").sort_values(CUBE_COLUMNS[:-2], ignore_index=True)
    assert by_period.astype({"count": "int64", "weight": "int64"}).equals(snap)
    top = cass.session.execute(f"SELECT geo_level, time_level, period, place, n FROM {cass.keyspace}.counts_top")
    photos = snap[snap["metric"] == "photos"][["geo_level", "time_level", "period", "place", "count"]]
    assert sorted(tuple(r) for r in top) == sorted(photos.itertuples(index=False, name=None))
    return snap


def assert_same_answers(cass: CassandraCountsStore, ref: DuckDBCountsStore) -> None:
    """The tables match, and the query methods (bucket fan-out, LIMIT and merge, ordering,
    the unknown bucket) answer as DuckDB does on a sample of keys."""
    snap = assert_tables_match(cass, ref)
    for level in GEO_LEVELS:
        for period in ("all", "2024-05", "2024", "~unknown"):
            assert cass.by_period(level, period).equals(ref.by_period(level, period)), (level, period)
            assert cass.total(level, period) == ref.total(level, period)
            assert cass.top(level, period, 2).equals(ref.top(level, period, 2)), (level, period)
            everything = cass.top(level, period, 100, include_unknown=True)
            assert everything.equals(ref.top(level, period, 100, include_unknown=True)), (level, period)
    assert cass.by_period("county", "all", "hue").equals(ref.by_period("county", "all", "hue"))
    assert cass.total("admin1", "all", "label") == ref.total("admin1", "all", "label")
    sample = snap[["metric", "geo_level", "place"]].drop_duplicates().groupby("metric").head(4)
    for metric, level, place in sample.itertuples(index=False):
        for tl in TIME_LEVELS:
            got, want = cass.by_place(level, place, tl, metric), ref.by_place(level, place, tl, metric)
            assert got.equals(want), (metric, level, place, tl)


def test_schema_is_created_once_with_portable_types_and_spread_partitions(cassandra_server):
    cass = connect(cassandra_server, "counts_test_layout")  # the default bucket layout
    cass.ensure_schema()
    cass.ensure_schema()  # again: IF NOT EXISTS everywhere
    cass.cluster.refresh_schema_metadata()
    tables = cass.cluster.metadata.keyspaces[cass.keyspace].tables
    assert {
        "counts_by_period",
        "counts_by_place",
        "counts_top",
        "counts_contrib_by_hour",
        "counts_contrib_by_key",
        "counts_hours",
        "counts_meta",
    } <= set(tables)
    types = {col.cql_type for t in tables.values() for col in t.columns.values()}
    assert types <= {"text", "int", "bigint"}, types  # nothing 2.1 lacks, no counters

    def pk(table: str) -> list[str]:
        return [c.name for c in tables[table].partition_key]

    assert pk("counts_by_period") == ["metric", "geo_level", "time_level", "period", "bucket"]
    assert pk("counts_by_place") == ["metric", "geo_level", "place"]
    assert pk("counts_top") == ["geo_level", "time_level", "period", "bucket"]
    # Big levels really spread over several partitions.
    aggs = hour_aggs(1, n=60)
    reduce_cube(cass, aggs)
    rows = cass.session.execute(
        f"SELECT DISTINCT metric, geo_level, time_level, period, bucket FROM {cass.keyspace}.counts_by_period"
    )
    geohash_buckets = {r[4] for r in rows if r[1] == "geohash" and r[3] == "all"}
    assert len(geohash_buckets) > 1
    # The bucket layout is pinned at creation: a client configured differently reads the stored one.
    other = connect(cassandra_server, cass.keyspace, buckets={level: 1 for level in GEO_LEVELS})
    other.ensure_schema()
    assert other.buckets == cass.buckets and other.by_period("geohash", "all").equals(cass.by_period("geohash", "all"))
    other.close()
    cass.close()


def test_queries_agree_with_duckdb_and_the_pure_reduction(cass):
    aggs = hour_aggs(2)
    reduce_cube(cass, aggs)
    ref = duck(aggs)
    assert cass.snapshot().equals(reduce_aggregates(pd.concat(aggs.values())))
    assert_same_answers(cass, ref)
    n_ok = sum(
        int(
            a.loc[(a["metric"] == "photos") & (a["geo_level"] == "geohash") & (a["time_level"] == "all"), "count"].sum()
        )
        for a in aggs.values()
    )
    assert all(cass.total(level, "all") == n_ok for level in GEO_LEVELS)
    assert cass.hue_histogram("county", "06037", "all") == ref.hue_histogram("county", "06037", "all")


def test_reapply_is_idempotent_and_changed_hours_are_corrected(cass):
    aggs = hour_aggs(3)
    reduce_cube(cass, aggs)
    before = cass.snapshot()
    again = cass.apply_hour(HOURS[0], aggs[HOURS[0]])
    assert again["unchanged"] and cass.snapshot().equals(before)
    changed = {
        **aggs,
        HOURS[0]: aggregate_hour(make_records(40, HOURS[0], 777, months=("2024-05", "2016-02"), hist_bins=4)),
    }
    summary = reduce_cube(cass, changed)
    assert summary["hours_unchanged"] == 2
    assert_same_answers(cass, duck(changed))
    kept = {h: changed[h] for h in HOURS[1:]}
    assert reduce_cube(cass, kept, full=True)["hours_removed"] == [HOURS[0]]
    assert cass.snapshot().equals(reduce_aggregates(pd.concat(kept.values()))) and cass.hours() == HOURS[1:]
    # Drift (a lost update, a hand edit) in every totals table is repaired by a forced reduction.
    ks = cass.keyspace
    cass.session.execute(
        f"UPDATE {ks}.counts_by_place SET n = 999 WHERE metric = 'photos' AND geo_level = 'country' "
        "AND place = 'US' AND time_level = 'all' AND period = 'all' AND item = ''"
    )
    cass.session.execute(
        f"INSERT INTO {ks}.counts_by_period (metric, geo_level, time_level, period, bucket, place, item, n, "
        "weight) VALUES ('photos', 'country', 'all', 'all', 0, 'US', '', 999, 0)"
    )
    cass.session.execute(
        f"INSERT INTO {ks}.counts_top (geo_level, time_level, period, bucket, n, place) "
        "VALUES ('country', 'all', 'all', 0, 999, 'US')"
    )
    assert cass.top("country", "all", 1)["count"].tolist() == [999]
    assert not cass.apply_hour(HOURS[1], kept[HOURS[1]], force=True)["unchanged"]  # an hour with US photos
    assert_tables_match(cass, duck(kept))


def test_a_crashed_apply_is_healed_by_rerunning_the_hour(cass, monkeypatch):
    aggs = hour_aggs(4)
    reduce_cube(cass, aggs)
    crashing = aggregate_hour(make_records(50, HOURS[1], 4242, months=("2024-05", "2011-11"), hist_bins=4))
    real_run = CassandraCountsStore._run

    def crash_before_commit(self, name, params):
        if name == "place_put":
            raise ConnectionError("simulated crash after the top and by_period writes")
        return real_run(self, name, params)

    monkeypatch.setattr(CassandraCountsStore, "_run", crash_before_commit)
    with pytest.raises(ConnectionError):
        cass.apply_hour(HOURS[1], crashing)
    monkeypatch.setattr(CassandraCountsStore, "_run", real_run)
    assert HOURS[1] not in cass.hours()  # the ledger shows the hour as not applied
    # Re-run with yet other data: contributions, totals and the top index all converge.
    final = {**aggs, HOURS[1]: aggregate_hour(make_records(30, HOURS[1], 31337, months=("2024-05",), hist_bins=4))}
    cass.apply_hour(HOURS[1], final[HOURS[1]])
    assert_same_answers(cass, duck(final))  # incl. no stale counts_top / counts_by_period rows


def test_consistency_and_credentials_are_honoured(cassandra_server):
    store = connect(cassandra_server, "counts_test_cl", consistency="one")
    profile = store.cluster.profile_manager.default
    assert profile.consistency_level == 1  # ConsistencyLevel.ONE
    store.close()
    with pytest.raises(KeyError):
        connect(cassandra_server, "counts_test_cl", consistency="SOMETIMES")
    with pytest.raises(NoHostAvailable) as err:
        CassandraCountsStore(
            [cassandra_server.host],
            cassandra_server.port,
            keyspace="counts_test_cl",
            protocol_version=PROTOCOL_VERSION,
            username="cassandra",
            password="wrong",
        )
    assert any(isinstance(e, AuthenticationFailed) for e in err.value.errors.values())
