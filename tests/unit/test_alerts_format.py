"""The alert itself: dedupe keys, run links, and the subject / text / JSON renderings."""

import json

import pytest

from photoatlas.alerts import Alert, check_failure_alert, json_safe, run_failure_alert, run_url, subject, text

RUN = "5a0c3e1e-7d4f-4a5e-9a51-0d7c1f6b2c11"
HOUR = "2026-06-01-10:00"


def failed_check(**overrides) -> Alert:
    fields = dict(
        run_id=RUN, asset="enriched_records", check="one_record_per_manifest_row", severity="ERROR", partition=HOUR,
        job="ingest_job", description="ok + quarantined == manifest rows", ui_base_url="http://dagster.internal:3000/",
        metadata={"manifest_rows": 12, "records": 10, "missing_ids": ["a" * 64, "b" * 64], "max_rate": 0.25},
        occurred_at=1_780_000_000.0,
    )
    return check_failure_alert(**{**fields, **overrides})


def test_run_link_joins_the_configured_ui_without_double_slashes():
    assert run_url("http://dagster.internal:3000/", RUN) == f"http://dagster.internal:3000/runs/{RUN}"
    assert run_url("", RUN) == f"http://127.0.0.1:3000/runs/{RUN}"
    assert failed_check().run_url == f"http://dagster.internal:3000/runs/{RUN}"


def test_dedupe_key_names_run_asset_partition_and_check():
    a = failed_check()
    assert a.dedupe_key == failed_check(metadata={"other": 1}, occurred_at=5.0).dedupe_key  # same failure, seen again
    different = [failed_check(run_id="other-run"), failed_check(partition="2026-06-01-11:00"),
                 failed_check(check="quarantine_rate"), failed_check(asset="raw_photos")]
    assert len({a.dedupe_key, *(d.dedupe_key for d in different)}) == 5
    run_failed = run_failure_alert(run_id=RUN, job="ingest_job", ui_base_url="", message="boom", partition=HOUR)
    assert run_failed.dedupe_key != a.dedupe_key


def test_dedupe_key_is_unambiguous_when_names_contain_separators():
    assert failed_check(asset="a:b", check="c").dedupe_key != failed_check(asset="a", check="b:c").dedupe_key


def test_subject_carries_severity_check_asset_and_partition():
    assert subject(failed_check()) == f"[PhotoAtlas ERROR] check one_record_per_manifest_row failed on enriched_records [{HOUR}]"
    assert subject(failed_check(severity="WARN", partition=None)).startswith("[PhotoAtlas WARN] check")
    assert "[" not in subject(failed_check(partition=None)).split("] ", 1)[1]


def test_text_names_everything_a_person_needs():
    body = text(failed_check())
    for needle in ("enriched_records", HOUR, "one_record_per_manifest_row", "ERROR", "ingest_job", RUN,
                   "manifest_rows: 12", "records: 10", "a" * 64, "max_rate: 0.25",
                   f"open the run: http://dagster.internal:3000/runs/{RUN}", "2026-05-28 20:26:40 UTC"):
        assert needle in body, needle


def test_text_shortens_long_failing_id_lists_but_json_keeps_them_all():
    ids = [f"{i:064x}" for i in range(50)]
    alert = failed_check(metadata={"failing_ids": ids})
    body = text(alert)
    assert "… and 30 more" in body and ids[19] in body and ids[20] not in body
    assert alert.to_json()["details"]["failing_ids"] == ids


def test_json_round_trips_and_is_plain_json():
    alert = failed_check()
    data = json.loads(json.dumps(alert.to_json()))
    assert data["dedupe_key"] == alert.dedupe_key and data["severity"] == "ERROR" and data["partition"] == HOUR
    assert data["run_url"].endswith(f"/runs/{RUN}")
    assert Alert.from_json(data) == alert


def test_json_safe_makes_metadata_serialisable():
    class Odd:
        def __str__(self):
            return "odd"

    assert json_safe({"n": float("nan"), "s": {7}, "o": Odd(), 3: (1, 2.5)}) == {"n": "nan", "s": [7], "o": "odd", "3": [1, 2.5]}


def test_run_failure_alert_carries_steps_errors_and_tags():
    alert = run_failure_alert(
        run_id=RUN, job="ingest_job", ui_base_url="http://x", partition=HOUR,
        message='Execution of run for "ingest_job" failed. Steps failed: [\'enriched_records\'].',
        failed_steps={"enriched_records": "ValueError: kaput"}, tags={"dagster/failure_reason": "STEP_FAILURE"},
    )
    assert (alert.kind, alert.severity, alert.asset, alert.check) == ("run_failed", "ERROR", None, None)
    assert subject(alert) == f"[PhotoAtlas ERROR] run of ingest_job [{HOUR}] failed"
    body = text(alert)
    assert "ValueError: kaput" in body and "STEP_FAILURE" in body and f"http://x/runs/{RUN}" in body


def test_unknown_severity_or_kind_is_refused():
    with pytest.raises(ValueError):
        failed_check(severity="INFO")
    with pytest.raises(ValueError):
        Alert(kind="whatever", severity="ERROR", run_id=RUN, summary="s", run_url="u")
