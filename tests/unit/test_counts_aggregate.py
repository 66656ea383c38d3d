"""aggregate_hour: the hour's geo x time counts, hue sums and label counts from enriched records."""

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from photoatlas.counts import AGGREGATE_SCHEMA, GEO_LEVELS, REGION_LEVELS, TIME_LEVELS, UNKNOWN, aggregate_hour
from photoatlas.counts.cube import month_contributions
from photoatlas.counts.keys import fixed_point, place_keys
from photoatlas.counts.synthetic import make_records

HOUR = "2024-05-01-10:00"
UTC = dt.UTC


def records(rows: list[dict], **extra) -> pa.Table:
    """A small record table: ``rows`` give status, captured_at, place_* and color_hist."""
    cols = ["status", "captured_at", "place_country", "place_admin1", "place_county", "place_city", "place_geohash"]
    data = {"photo_id": [f"p{i}" for i in range(len(rows))], "partition": [HOUR] * len(rows)}
    data.update({c: [r.get(c) for r in rows] for c in cols})
    table = pa.table(data).set_column(3, "captured_at", pa.array(data["captured_at"], pa.timestamp("us", tz="UTC")))
    table = table.append_column("color_hist", pa.array([r.get("color_hist") for r in rows], pa.list_(pa.float32())))
    for name, arr in extra.items():
        table = table.append_column(name, arr)
    return table


GOLDEN = [
    {
        "status": "ok",
        "captured_at": dt.datetime(2024, 5, 3, tzinfo=UTC),
        "place_country": "US",
        "place_admin1": "US-IL",
        "place_county": "17167",
        "place_city": "Springfield",
        "place_geohash": "dp0rg",
        "color_hist": [0.5, 0.5, 0.0],
    },
    {
        "status": "ok",
        "captured_at": dt.datetime(2024, 5, 31, 23, 59, tzinfo=UTC),
        "place_country": "US",
        "place_admin1": "US-MA",
        "place_county": "25013",
        "place_city": "Springfield",
        "place_geohash": "drkmq",
        "color_hist": [0.25, 0.0, 0.75],
    },
    {
        "status": "ok",
        "captured_at": dt.datetime(2023, 12, 31, 23, 0, tzinfo=UTC),
        "place_country": "US",
        "place_admin1": "US-IL",
        "place_county": "17167",
        "place_city": "Springfield",
        "place_geohash": "dp0rg",
    },
    {"status": "ok", "captured_at": None},  # no place, no time: the unknown buckets
    {
        "status": "quarantined",
        "captured_at": dt.datetime(2024, 5, 3, tzinfo=UTC),
        "place_country": "US",
        "place_admin1": "US-IL",
        "color_hist": [1.0, 0.0, 0.0],
    },
]


def count(agg: pd.DataFrame, metric="photos", **key) -> int:
    rows = agg[agg["metric"] == metric]
    for k, v in key.items():
        rows = rows[rows[k] == v]
    return int(rows["count"].sum())


def test_golden_counts_for_a_known_hour():
    agg = aggregate_hour(records(GOLDEN))
    assert count(agg, geo_level="country", place="US", period="2024-05") == 2
    assert count(agg, geo_level="country", place="US", period="2024") == 2
    assert count(agg, geo_level="country", place="US", period="2023-12") == 1
    assert count(agg, geo_level="country", place="US", period="all") == 3
    assert count(agg, geo_level="country", place=UNKNOWN, period="all") == 1
    assert count(agg, geo_level="county", place=UNKNOWN, period=UNKNOWN, time_level="month") == 1
    assert count(agg, geo_level="county", place=UNKNOWN, period=UNKNOWN, time_level="year") == 1
    # Two Springfields stay apart; the hour-boundary photo (23:59 on May 31) stays in May.
    assert count(agg, geo_level="city", place="US-IL/Springfield", period="all") == 2
    assert count(agg, geo_level="city", place="US-MA/Springfield", period="2024-05") == 1
    assert count(agg, geo_level="admin1", place="US-IL", period="2024-05") == 1  # the quarantined one is not here
    hue = agg[(agg["metric"] == "hue") & (agg["geo_level"] == "country") & (agg["period"] == "all")]
    assert dict(zip(hue["item"], hue["weight"])) == {"000": 750_000, "001": 500_000, "002": 750_000}
    assert dict(zip(hue["item"], hue["count"])) == {"000": 2, "001": 1, "002": 1}
    assert not (agg["metric"] == "label").any()  # no labels column, no label rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_level_conserves_the_ok_records(seed):
    table = make_records(300, HOUR, seed)
    n_ok = int(pa.compute.sum(pa.compute.equal(table["status"], "ok")).as_py())
    agg = aggregate_hour(table)
    photos = agg[agg["metric"] == "photos"]
    sums = photos.groupby(["geo_level", "time_level"])["count"].sum()
    assert len(sums) == len(GEO_LEVELS) * len(TIME_LEVELS)
    assert (sums == n_ok).all(), sums
    assert set(photos.loc[photos["time_level"] == "all", "period"]) == {"all"}
    assert (agg["count"] > 0).all() and (agg["weight"] >= 0).all()
    assert not agg.duplicated(["metric", "geo_level", "place", "time_level", "period", "item"]).any()
    assert set(agg.loc[agg["metric"] != "photos", "geo_level"]) == set(REGION_LEVELS)


def test_periods_have_the_right_shape_and_years_sum_their_months():
    agg = aggregate_hour(make_records(200, HOUR, 5, months=("1999-12", "2000-01", "2024-02")))
    photos = agg[agg["metric"] == "photos"]
    shapes = {"month": r"^(\d{4}-\d{2}|~unknown)$", "year": r"^(\d{4}|~unknown)$", "all": r"^all$"}
    for level, pattern in shapes.items():
        assert photos.loc[photos["time_level"] == level, "period"].str.match(pattern).all()
    assert set(photos.loc[photos["time_level"] == "year", "period"]) == {"1999", "2000", "2024", UNKNOWN}
    assert month_contributions(HOUR, agg) is not None  # raises if year/all rows disagree with the months


def test_quarantined_records_do_not_count():
    table = make_records(200, HOUR, 3, quarantined=0.3)
    base = aggregate_hour(table)
    # Scrambling everything about the quarantined records changes nothing.
    is_q = pa.compute.equal(table["status"], "quarantined").to_numpy(zero_copy_only=False)
    shuffled = table.set_column(
        table.schema.get_field_index("place_country"),
        "place_country",
        pa.array(np.where(is_q, "ZZ", table["place_country"].to_numpy(zero_copy_only=False)).tolist()),
    )
    assert aggregate_hour(shuffled).equals(base)
    assert not (base["place"] == "ZZ").any()
    # Quarantining one more ok record lowers every level's total by exactly one.
    first_ok = int(np.flatnonzero(~is_q)[0])
    status = table["status"].to_pylist()
    status[first_ok] = "quarantined"
    fewer = aggregate_hour(table.set_column(table.schema.get_field_index("status"), "status", pa.array(status)))

    def totals(agg):
        return agg[agg["metric"] == "photos"].groupby(["geo_level", "time_level"])["count"].sum()

    assert ((totals(base) - totals(fewer)) == 1).all()


def test_nothing_ok_gives_an_empty_table_with_the_schema():
    agg = aggregate_hour(records([{"status": "quarantined"}, {"status": None}]))
    assert agg.empty and list(agg.columns) == AGGREGATE_SCHEMA.names


def test_output_fits_the_arrow_schema_and_pandas_input_matches_arrow_input():
    table = make_records(120, HOUR, 4)
    agg = aggregate_hour(table)
    assert pa.Table.from_pandas(agg, schema=AGGREGATE_SCHEMA, preserve_index=False).num_rows == len(agg)
    assert aggregate_hour(table.to_pandas()).equals(agg)


def test_hue_sums_are_the_records_fixed_point_histograms():
    table = make_records(150, HOUR, 6, hist_bins=8)
    ok = table.filter(pa.compute.equal(table["status"], "ok"))
    expected = np.zeros(8, dtype=np.int64)
    for hist in ok["color_hist"].to_pylist():
        if hist:
            expected += fixed_point(np.array(hist, dtype=np.float32))
    agg = aggregate_hour(table)
    for level in REGION_LEVELS:
        hue = agg[(agg["metric"] == "hue") & (agg["geo_level"] == level) & (agg["time_level"] == "all")]
        got = hue.groupby("item")["weight"].sum()
        assert [int(got.get(f"{b:03d}", 0)) for b in range(8)] == expected.tolist()


def test_labels_count_each_record_once_with_its_best_score():
    labels = pa.array(
        [
            [{"label": "dog", "score": 0.9}, {"label": "dog", "score": 0.4}, {"label": "cat", "score": 0.25}],
            [{"label": "dog", "score": 0.5}],
            None,
            [],
            None,
        ],
        pa.list_(pa.struct([("label", pa.string()), ("score", pa.float32())])),
    )
    agg = aggregate_hour(records(GOLDEN, labels=labels))
    lab = agg[
        (agg["metric"] == "label") & (agg["geo_level"] == "country") & (agg["place"] == "US") & (agg["period"] == "all")
    ]
    assert dict(zip(lab["item"], lab["count"])) == {"cat": 1, "dog": 2}
    assert dict(zip(lab["item"], lab["weight"])) == {"cat": 250_000, "dog": int(fixed_point(np.float32(0.9))) + 500_000}
    plain = aggregate_hour(records(GOLDEN, labels=pa.array([["dog", "dog"], ["cat"], None, None, ["dog"]])))
    lab = plain[(plain["metric"] == "label") & (plain["geo_level"] == "country") & (plain["period"] == "all")]
    assert dict(zip(lab["item"], lab["count"])) == {"cat": 1, "dog": 1}  # the quarantined dog is not counted
    assert set(lab["weight"]) == {1_000_000}


def test_place_keys_key_cities_by_region_and_bucket_junk_as_unknown():
    frame = pd.DataFrame(
        {
            "place_country": ["us", "FR", None, "", "DE", "SG"],
            "place_admin1": ["US-IL", None, "NL:Limburg", "x", "*", None],
            "place_county": ["17167", None, "6037", None, "~oops", None],
            "place_city": ["Springfield", "Paris", None, "Atlantis", " ", "Singapore"],
            "place_geohash": ["DP0RG", None, None, None, "u33db", "w21z7"],
        }
    )
    keys = place_keys(frame)
    assert keys.loc[0].tolist() == ["US", "US-IL", "17167", "US-IL/Springfield", "dp0rg"]
    assert keys.loc[1].tolist() == ["FR", UNKNOWN, UNKNOWN, "FR/Paris", UNKNOWN]
    assert keys.loc[2, "admin1"] == "NL:Limburg" and keys.loc[2, "county"] == "06037"
    assert keys.loc[3].tolist() == [UNKNOWN, "x", UNKNOWN, "x/Atlantis", UNKNOWN]
    assert keys.loc[4].tolist() == ["DE", UNKNOWN, UNKNOWN, UNKNOWN, "u33db"]
    assert keys.loc[5, "city"] == "SG/Singapore"


def test_month_contributions_rejects_tampered_or_foreign_rows():
    agg = aggregate_hour(make_records(80, HOUR, 7))
    tampered = agg.copy()
    idx = tampered.index[(tampered["time_level"] == "year") & (tampered["metric"] == "photos")][0]
    tampered.loc[idx, "count"] += 1
    with pytest.raises(ValueError, match="year/all"):
        month_contributions(HOUR, tampered)
    with pytest.raises(ValueError, match="other hours"):
        month_contributions("2024-05-01-11:00", agg)
    negative = agg.copy()
    negative.loc[negative.index[0], "count"] = -1
    with pytest.raises(ValueError, match="non-positive"):
        month_contributions(HOUR, negative)
