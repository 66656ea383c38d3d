"""raw_photos → enriched_records through real Dagster materialisations on the local defaults."""

import subprocess
import sys

import pyarrow as pa
import pytest
from dagster import DagsterInstance, build_sensor_context, materialize

from assets.enriched_records import enriched_records
from assets.raw_photos import raw_photos
from photoatlas.lake import LocalLake, table_key, thumbnail_key
from tests.dagster.conftest import HOUR, drop

pytestmark = pytest.mark.dagster
ENCRYPTED_COLUMNS = ["owner_enc", "owner_id_enc", "exif_serials_enc", "exif_raw_enc", "gps_enc"]


def _run(resources, instance, hour=HOUR):
    return materialize([raw_photos, enriched_records], partition_key=hour, resources=resources, instance=instance)


def test_sample_hour_end_to_end(home, resources, sample_dir):
    root, files = sample_dir
    drop(root, home.inbox)
    with DagsterInstance.ephemeral() as instance:
        result = _run(resources, instance)
        assert result.success
        checks = {(e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks and all(checks.values()), checks

    lake = LocalLake(str(home.lake))
    records = lake.read_table(table_key("records", HOUR)).to_pylist()
    manifest = lake.read_table(table_key("manifest", HOUR))
    duplicates = lake.read_table(table_key("duplicates", HOUR)).to_pylist()
    by_name = {r["source_id"].split("/")[-1]: r for r in records}

    expected = {f.name: f.expect for f in files}
    assert len(records) == manifest.num_rows == sum(1 for e in expected.values() if e != "duplicate")
    for name, expect in expected.items():
        if expect == "duplicate":
            assert name in {d["source_id"].split("/")[-1] for d in duplicates}
        else:
            assert by_name[name]["status"] == expect, (name, by_name[name].get("quarantine_reason"), by_name[name].get("quarantine_detail"))
    reasons = {by_name[n]["quarantine_reason"] for n in ("empty.jpg", "notes.jpg", "page.html", "bomb.png", "truncated.jpg")}
    assert "decompression_bomb" in reasons and None not in reasons

    ok = [r for r in records if r["status"] == "ok"]
    for r in ok:
        assert lake.exists(thumbnail_key(r["photo_id"]))
        assert abs(sum(c["share"] for c in r["palette"]) - 1) < 1e-6
    china = by_name["china.jpg"]
    assert china["location_source"] == "source" and china["lat_coarse"] == 37.8
    assert (china["place_country"], china["place_admin1"], china["place_county"]) == ("US", "US-CA", "06075")
    assert by_name["chelsea.jpg"]["place_county"] == "36061"  # Manhattan
    assert china["time_source"] == "source"


def test_rerunning_an_hour_changes_nothing(home, resources, sample_dir):
    root, _ = sample_dir
    drop(root, home.inbox, names={"china.jpg", "chelsea.jpg", "empty.jpg", "r_canon.jpg"})
    lake = LocalLake(str(home.lake))
    with DagsterInstance.ephemeral() as instance:
        assert _run(resources, instance).success
        first = lake.read_table(table_key("records", HOUR)).drop(ENCRYPTED_COLUMNS)
        thumbs = {k: lake.get(k) for k in lake.list("thumbs/")}
        assert _run(resources, instance).success
    second = lake.read_table(table_key("records", HOUR)).drop(ENCRYPTED_COLUMNS)
    assert first.equals(second)
    assert thumbs == {k: lake.get(k) for k in lake.list("thumbs/")}


def test_an_empty_hour_materialises_empty_tables(home, resources):
    with DagsterInstance.ephemeral() as instance:
        result = _run(resources, instance, hour="2026-06-01-03:00")
    assert result.success
    assert LocalLake(str(home.lake)).read_table(table_key("records", "2026-06-01-03:00")).num_rows == 0


def test_inbox_sensor_requests_each_changed_hour_once(home, resources, sample_dir):
    from sensors.inbox_sensor import inbox_sensor

    root, _ = sample_dir
    drop(root, home.inbox, names={"china.jpg"})
    drop(root, home.inbox, hour="2026-06-01-12:00", names={"flower.jpg"})
    with DagsterInstance.ephemeral() as instance:
        ctx = build_sensor_context(instance=instance, resources={"inbox": resources["inbox"]})
        first = inbox_sensor(ctx)
        assert sorted(r.partition_key for r in first.run_requests) == [HOUR, "2026-06-01-12:00"]
        assert len({r.run_key for r in first.run_requests}) == 2
        again = inbox_sensor(build_sensor_context(instance=instance, cursor=first.cursor, resources={"inbox": resources["inbox"]}))
        assert not again.run_requests and "no new files" in again.skip_reason.skip_message


def test_definitions_validate(home):
    done = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-m", "pipelines.definitions"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_backfilled_range_runs_in_one_run_and_equals_hour_by_hour(home, resources, sample_dir):
    from assets.hourly_aggregates import hourly_aggregates

    root, _ = sample_dir
    hours = ["2026-06-01-10:00", "2026-06-01-11:00", "2026-06-01-12:00"]
    for hour, names in zip(hours, ({"china.jpg", "empty.jpg"}, {"chelsea.jpg"}, {"flower.jpg", "coffee.jpg"})):
        drop(root, home.inbox, hour, names=names)
    stages = [raw_photos, enriched_records, hourly_aggregates]
    lake = LocalLake(str(home.lake))
    with DagsterInstance.ephemeral() as instance:
        ranged = materialize(stages, resources=resources, instance=instance, tags={
            "dagster/asset_partition_range_start": hours[0], "dagster/asset_partition_range_end": hours[-1]})
        assert ranged.success
        failed = {e.check_name: e.metadata for e in ranged.get_asset_check_evaluations() if not e.passed}
        assert list(failed) == ["quarantine_rate"]  # WARN: 1 of the first hour's 2 photos is empty
        assert failed["quarantine_rate"]["failing_partitions"].value == [hours[0]]
        records = {h: lake.read_table(table_key("records", h)).drop(ENCRYPTED_COLUMNS) for h in hours}
        aggregates = {h: lake.read_table(table_key("aggregates", h)) for h in hours}
        assert [records[h].num_rows for h in hours] == [2, 1, 2]
        for hour in hours:
            assert materialize(stages, partition_key=hour, resources=resources, instance=instance).success
            assert lake.read_table(table_key("records", hour)).drop(ENCRYPTED_COLUMNS).equals(records[hour])
            assert lake.read_table(table_key("aggregates", hour)).equals(aggregates[hour])
