"""The Cassandra store's write planning, without a server: totals, minimal writes, crash sweeps."""

from photoatlas.counts.cassandra_plan import new_totals, plan_writes, rollup, stale_rows, sweep_partitions
from photoatlas.counts.keys import ALL_PLACES, UNKNOWN


def bucket(level, place):
    return 0 if place < "m" else 1


def test_rollup_sums_months_into_years_and_all():
    totals = rollup(
        {
            ("2024-01", ""): (2, 0),
            ("2024-02", ""): (3, 0),
            ("2023-12", ""): (1, 0),
            (UNKNOWN, ""): (4, 0),
            ("2024-03", ""): (0, 0),
        }
    )
    assert totals[("year", "2024", "")] == (5, 0) and totals[("year", "2023", "")] == (1, 0)
    assert totals[("year", UNKNOWN, "")] == (4, 0) and totals[("all", "all", "")] == (10, 0)
    assert ("month", "2024-03", "") not in totals  # a zero month is no key


def test_new_totals_replace_touched_months_and_keep_the_rest():
    old = rollup({("2024-01", "007"): (2, 900), ("2024-02", "007"): (3, 100)})
    new = new_totals(old, {"2024-02", "2024-05"}, {"2024-02": [], "2024-05": [("007", 1, 50), ("007", 2, 25)]})
    assert new == rollup({("2024-01", "007"): (2, 900), ("2024-05", "007"): (3, 75)})


def test_plan_writes_only_what_changed_and_keeps_level_totals_out_of_serving_tables():
    olds = {
        ("photos", "county", "06037"): rollup({("2024-01", ""): (2, 0), ("2024-02", ""): (1, 0)}),
        ("photos", "county", ALL_PLACES): rollup({("2024-01", ""): (2, 0)}),
    }
    news = {
        ("photos", "county", "06037"): rollup({("2024-01", ""): (2, 0), ("2024-03", ""): (4, 0)}),
        ("photos", "county", ALL_PLACES): rollup({("2024-01", ""): (9, 0)}),
    }
    plan = plan_writes(olds, news, bucket, recovering=False)
    assert ("county", "month", "2024-02", 0, 1, "06037") in plan["top_del"]
    assert ("county", "month", "2024-03", 0, 4, "06037") in plan["top_put"]
    assert ("county", "all", "all", 0, 3, "06037") in plan["top_del"]
    assert ("county", "all", "all", 0, 6, "06037") in plan["top_put"]
    assert not any(r[2] == "2024-01" for r in plan["top_put"] + plan["period_put"])  # unchanged month untouched
    assert ("photos", "county", "month", "2024-02", 0, "06037", "") in plan["period_del"]
    assert ("photos", "county", "06037", "month", "2024-02", "") in plan["place_del"]
    assert all(
        ALL_PLACES not in row for name in ("top_del", "top_put", "period_del", "period_put") for row in plan[name]
    )
    assert ("photos", "county", ALL_PLACES, "all", "all", "", 9, 0) in plan["place_put"]


def test_recovery_rewrites_every_serving_row_and_sweeps_what_no_total_names():
    totals = {("photos", "county", "06037"): rollup({("2024-01", ""): (2, 0)})}
    plan = plan_writes(totals, totals, bucket, recovering=True)
    assert not plan["place_put"] and not plan["place_del"] and not plan["top_del"]
    assert len(plan["period_put"]) == 3 and len(plan["top_put"]) == 3  # month, year, all
    parts = sweep_partitions({("photos", "county", "06037"): {"2024-01", "2011-11"}}, bucket)
    assert ("photos", "county", "year", "2011", 0) in parts and ("photos", "county", "all", "all", 0) in parts
    period_rows = {("photos", "county", "month", "2011-11", 0): [("06037", "", 5, 0), ("06001", "", 1, 0)]}
    top_rows = {("county", "month", "2024-01", 0): [("06037", 7), ("06037", 2), ("06001", 1)]}
    stale_top, stale_period = stale_rows(totals, period_rows, top_rows)
    assert stale_period == [("photos", "county", "month", "2011-11", 0, "06037", "")]  # 06001 is not ours to judge
    assert stale_top == [("county", "month", "2024-01", 0, 7, "06037")]
