"""The incremental cube in the embedded DuckDB store: idempotent, correcting, order-free, conserving."""

import random

import pandas as pd
import pytest

from photoatlas.counts import GEO_LEVELS, UNKNOWN, DuckDBCountsStore, aggregate_hour, reduce_aggregates, reduce_cube
from photoatlas.counts.synthetic import make_records

HOURS = ["2024-05-01-10:00", "2024-05-01-11:00", "2024-05-02-00:00"]


def hour_aggs(seed: int, n: int = 120) -> dict[str, pd.DataFrame]:
    return {h: aggregate_hour(make_records(n, h, seed * 10 + i)) for i, h in enumerate(HOURS)}


@pytest.fixture
def store():
    with DuckDBCountsStore() as s:
        s.ensure_schema()
        s.ensure_schema()  # twice: creation is idempotent
        yield s


def expected(aggs: dict) -> pd.DataFrame:
    return reduce_aggregates(pd.concat(aggs.values(), ignore_index=True))


def test_applying_the_same_hour_twice_changes_nothing(store):
    aggs = hour_aggs(1)
    reduce_cube(store, aggs)
    before = store.snapshot()
    assert store.apply_hour(HOURS[0], aggs[HOURS[0]])["unchanged"]
    assert store.snapshot().equals(before)
    assert not store.apply_hour(HOURS[0], aggs[HOURS[0]], force=True)["unchanged"]  # recomputed, same result
    assert store.snapshot().equals(before)
    assert before.equals(expected(aggs))
    assert store.hours() == HOURS


def test_rerunning_an_hour_with_changed_data_corrects_the_totals(store):
    aggs = hour_aggs(2)
    reduce_cube(store, aggs)
    changed = aggregate_hour(make_records(60, HOURS[1], 999, months=("2019-07",)))
    store.apply_hour(HOURS[1], changed)
    final = {**aggs, HOURS[1]: changed}
    assert store.snapshot().equals(expected(final))
    # Keys only the old data had are gone, not left at zero.
    gone = (
        set(aggs[HOURS[1]]["period"])
        - set(aggs[HOURS[0]]["period"])
        - set(aggs[HOURS[2]]["period"])
        - set(changed["period"])
    )
    assert not set(store.snapshot()["period"]) & gone
    assert (store.snapshot()["count"] > 0).all()


def test_incremental_in_any_order_equals_reduction_from_scratch(tmp_path):
    aggs = hour_aggs(3)
    first = {h: aggregate_hour(make_records(90, h, 500 + i)) for i, h in enumerate(HOURS)}
    rng = random.Random(7)
    with DuckDBCountsStore(tmp_path / "inc.duckdb") as inc:
        inc.ensure_schema()
        steps = [(h, first[h]) for h in HOURS] + [(h, aggs[h]) for h in HOURS] + [(HOURS[0], aggs[HOURS[0]])]
        rng.shuffle(steps)
        for h, rows in steps:
            inc.apply_hour(h, rows)
        for h in HOURS:  # the last word for each hour is the final data
            inc.apply_hour(h, aggs[h])
        incremental = inc.snapshot()
    with DuckDBCountsStore(tmp_path / "scratch.duckdb") as scratch:
        scratch.ensure_schema()
        reduce_cube(scratch, pd.concat(aggs.values()), full=True)
        assert scratch.snapshot().equals(incremental)
    assert incremental.equals(expected(aggs))
    with DuckDBCountsStore(tmp_path / "inc.duckdb") as reopened:  # it persisted
        assert reopened.snapshot().equals(incremental) and reopened.hours() == HOURS


def test_full_reduction_removes_hours_no_longer_in_the_input(store):
    aggs = hour_aggs(4)
    reduce_cube(store, aggs)
    kept = {h: aggs[h] for h in HOURS[:2]}
    summary = reduce_cube(store, kept, full=True)
    assert summary["hours_removed"] == [HOURS[2]]
    assert store.hours() == HOURS[:2]
    assert store.snapshot().equals(expected(kept))
    # An hour listed without rows (all quarantined) empties its contribution.
    reduce_cube(store, {}, partitions=[HOURS[0]])
    assert store.snapshot().equals(expected({HOURS[1]: aggs[HOURS[1]]}))
    assert HOURS[0] in store.hours()
    for h in store.hours():
        store.remove_hour(h)
    assert store.snapshot().empty and store.hours() == []


def test_a_rejected_hour_leaves_the_store_untouched(store):
    aggs = hour_aggs(5)
    reduce_cube(store, aggs)
    before = store.snapshot()
    bad = aggs[HOURS[0]].copy()
    bad.loc[bad.index[0], "count"] += 5  # month no longer sums to year/all
    with pytest.raises(ValueError):
        store.apply_hour(HOURS[0], bad)
    assert store.snapshot().equals(before)


def test_queries_answer_from_the_cube(store):
    aggs = hour_aggs(6, n=200)
    reduce_cube(store, aggs)
    cube = expected(aggs)
    n_ok = sum(
        int(
            a.loc[(a["metric"] == "photos") & (a["geo_level"] == "country") & (a["time_level"] == "all"), "count"].sum()
        )
        for a in aggs.values()
    )
    for level in GEO_LEVELS:  # conservation survives the reduction, unknown bucket included
        assert store.total(level, "all") == n_ok
        months = cube[(cube["metric"] == "photos") & (cube["geo_level"] == level) & (cube["time_level"] == "month")]
        assert sum(store.total(level, p) for p in months["period"].unique()) == n_ok
    county = store.by_period("county", "2024-05")
    want = cube[(cube["metric"] == "photos") & (cube["geo_level"] == "county") & (cube["period"] == "2024-05")]
    assert dict(zip(county["place"], county["count"])) == dict(zip(want["place"], want["count"]))
    assert list(county.columns) == ["place", "item", "count", "weight"] and county["place"].is_monotonic_increasing
    la = store.by_place("county", "06037", "month")
    assert la["period"].is_monotonic_increasing and (la["count"] > 0).all()
    assert la["count"].sum() == store.by_place("county", "06037", "all")["count"].sum()
    top = store.top("city", "all", 3)
    allc = store.by_period("city", "all")
    allc = allc[allc["place"] != UNKNOWN].sort_values(["count", "place"], ascending=[False, True])
    assert top["place"].tolist() == allc["place"].head(3).tolist()
    assert UNKNOWN in store.top("country", "all", 100, include_unknown=True)["place"].tolist()
    assert UNKNOWN not in store.top("country", "all", 100)["place"].tolist()
    hue = store.hue_histogram("country", "US", "all")
    assert hue and all(w > 0 for w in hue.values())
    labels = store.by_period("admin1", "2024", metric="label")
    assert set(labels["item"]) <= {"dog", "cat", "beach", "car", "tree"} and not labels.empty
    with pytest.raises(ValueError):
        store.by_period("planet", "all")
    with pytest.raises(ValueError):
        store.by_period("country", "May 2024")


def test_a_store_nobody_wrote_reads_as_empty(tmp_path):
    """`photoatlas counts` before any county_counts run: empty answers, not a missing-file error."""
    store = DuckDBCountsStore(tmp_path / "not-yet" / "counts.duckdb")
    try:
        assert len(store.top("county", "all", 10)) == 0
        assert store.total("county", "all") == 0
    finally:
        store.close()
