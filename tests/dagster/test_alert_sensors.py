"""The alert sensors over a real (ephemeral) instance: tiny test-local assets, real runs, real events."""

import json
import socket

import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    DagsterInstance,
    Definitions,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    asset,
    build_sensor_context,
    materialize,
)

from photoatlas.alerts import LogChannel, Outbox
from resources.alerts import AlertsResource
from sensors.alerts import check_failure_alerts, run_failure_alerts

pytestmark = pytest.mark.dagster
HOUR = "2026-06-01-10:00"
UI = "http://dagster.test:3000"
MISSING_IDS = ["a" * 64, "b" * 64]


@asset(
    partitions_def=StaticPartitionsDefinition([HOUR, "2026-06-01-11:00"]),
    check_specs=[
        AssetCheckSpec("rows_conserved", asset="tiny_records", blocking=True),
        AssetCheckSpec("quarantine_rate", asset="tiny_records"),
        AssetCheckSpec("schema", asset="tiny_records"),
    ],
)
def tiny_records(context) -> MaterializeResult:
    """Two failing checks (one blocking ERROR, one WARN) and one passing."""
    return MaterializeResult(check_results=[
        AssetCheckResult(check_name="rows_conserved", passed=False, severity=AssetCheckSeverity.ERROR,
                         metadata={"manifest_rows": 12, "records": 10, "missing_ids": MetadataValue.json(MISSING_IDS),
                                   "protects": "ok + quarantined == manifest rows"}),
        AssetCheckResult(check_name="quarantine_rate", passed=False, severity=AssetCheckSeverity.WARN,
                         metadata={"rate": 0.5, "max_rate": 0.25}),
        AssetCheckResult(check_name="schema", passed=True),
    ])


@asset
def exploding():
    raise ValueError("the lake is on fire")


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tick(sensor, instance, alerts, cursor=None):
    return sensor(build_sensor_context(instance=instance, cursor=cursor, resources={"alerts": alerts}))


def test_a_failed_check_gives_one_alert_per_check_and_never_a_second(instance, tmp_path):
    run = materialize([tiny_records], partition_key=HOUR, instance=instance, raise_on_error=False)
    alerts = AlertsResource(alerts_dir=str(tmp_path), ui_base_url=UI)
    log = LogChannel(tmp_path)

    first = tick(check_failure_alerts, instance, alerts)
    sent = {a["check"]: a for a in log.read()}
    assert sorted(sent) == ["quarantine_rate", "rows_conserved"]  # the passing check sends nothing
    error = sent["rows_conserved"]
    assert (error["asset"], error["partition"], error["severity"], error["kind"]) == ("tiny_records", HOUR, "ERROR", "check_failed")
    assert error["run_url"] == f"{UI}/runs/{run.run_id}" and error["run_id"] == run.run_id
    assert error["details"]["missing_ids"] == MISSING_IDS and error["details"]["manifest_rows"] == 12
    assert error["description"] == "ok + quarantined == manifest rows" and "protects" not in error["details"]
    assert sent["quarantine_rate"]["severity"] == "WARN" and sent["quarantine_rate"]["details"] == {"rate": 0.5, "max_rate": 0.25}
    assert "2 new alert(s); 2 delivered via log" in first.skip_reason.skip_message
    assert json.loads(first.cursor)["after_storage_id"] > 0

    again = tick(check_failure_alerts, instance, alerts, cursor=first.cursor)
    assert "no new check evaluations" in again.skip_reason.skip_message and "nothing sent" in again.skip_reason.skip_message
    assert again.cursor == first.cursor

    lost_cursor = tick(check_failure_alerts, instance, alerts, cursor=None)  # re-reads the same events
    assert "already alerted" in lost_cursor.skip_reason.skip_message
    assert len(log.read()) == 2

    rerun = materialize([tiny_records], partition_key=HOUR, instance=instance, raise_on_error=False)
    tick(check_failure_alerts, instance, alerts, cursor=first.cursor)
    assert len(log.read()) == 4 and {a["run_id"] for a in log.read()[2:]} == {rerun.run_id}


def test_a_failed_run_gives_one_alert_with_its_step_error(instance, tmp_path):
    run = materialize([exploding], instance=instance, raise_on_error=False)
    assert not run.success
    alerts = AlertsResource(alerts_dir=str(tmp_path), ui_base_url=UI)

    first = tick(run_failure_alerts, instance, alerts)
    [alert] = LogChannel(tmp_path).read()
    assert (alert["kind"], alert["severity"], alert["run_id"]) == ("run_failed", "ERROR", run.run_id)
    assert alert["run_url"] == f"{UI}/runs/{run.run_id}"
    assert "ValueError: the lake is on fire" in alert["details"]["failed_steps"]["exploding"]
    assert alert["details"]["tags"]["dagster/failure_reason"] == "STEP_FAILURE"
    assert "1 new alert(s)" in first.skip_reason.skip_message

    again = tick(run_failure_alerts, instance, alerts, cursor=first.cursor)
    assert "no new failed runs" in again.skip_reason.skip_message
    tick(run_failure_alerts, instance, alerts, cursor=None)
    assert len(LogChannel(tmp_path).read()) == 1


def test_a_blocking_check_failure_names_the_partition_in_the_run_alert(instance, tmp_path):
    materialize([tiny_records], partition_key=HOUR, instance=instance, raise_on_error=False)
    tick(run_failure_alerts, instance, AlertsResource(alerts_dir=str(tmp_path)))
    [alert] = LogChannel(tmp_path).read()
    assert alert["partition"] == HOUR and "rows_conserved" in alert["details"]["failed_steps"]["tiny_records"]


def test_a_channel_down_keeps_the_alert_and_the_next_tick_delivers_it(instance, tmp_path):
    materialize([exploding], instance=instance, raise_on_error=False)
    down = AlertsResource(alerts_dir=str(tmp_path), channel="webhook", webhook_url=f"http://127.0.0.1:{closed_port()}/hook",
                          max_attempts=2, backoff_s=0, timeout_s=2)
    first = tick(run_failure_alerts, instance, down)
    assert "1 waiting in the outbox" in first.skip_reason.skip_message and "nothing sent" in first.skip_reason.skip_message
    assert len(Outbox(tmp_path).pending()) == 1 and json.loads(first.cursor)["after_storage_id"] > 0

    up = AlertsResource(alerts_dir=str(tmp_path))  # the channel is back (here: the local log)
    second = tick(run_failure_alerts, instance, up, cursor=first.cursor)
    assert "no new failed runs since the last tick; 1 delivered via log" in second.skip_reason.skip_message
    assert len(LogChannel(tmp_path).read()) == 1 and Outbox(tmp_path).pending() == []


def test_the_sensors_load_in_definitions_running_by_default(tmp_path):
    defs = Definitions(
        assets=[tiny_records, exploding], sensors=[check_failure_alerts, run_failure_alerts],
        resources={"alerts": AlertsResource(alerts_dir=str(tmp_path))},
    )
    Definitions.validate_loadable(defs)
    for name in ("check_failure_alerts", "run_failure_alerts"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status.value == "RUNNING" and sensor.minimum_interval_seconds == 30


def test_both_sensors_read_a_persistent_sqlite_instance(tmp_path):
    """The file-backed instance shards its event log per run; both queries must still see every run."""
    (tmp_path / "dagster").mkdir()
    with DagsterInstance.local_temp(str(tmp_path / "dagster")) as instance:
        checked = materialize([tiny_records], partition_key=HOUR, instance=instance, raise_on_error=False)
        exploded = materialize([exploding], instance=instance, raise_on_error=False)
        alerts = AlertsResource(alerts_dir=str(tmp_path / "alerts"))
        tick(check_failure_alerts, instance, alerts)
        tick(run_failure_alerts, instance, alerts)
    sent = sorted((a["kind"], a["run_id"], a["check"] or "") for a in LogChannel(tmp_path / "alerts").read())
    assert sent == sorted([
        ("check_failed", checked.run_id, "rows_conserved"), ("check_failed", checked.run_id, "quarantine_rate"),
        ("run_failed", checked.run_id, ""), ("run_failed", exploded.run_id, ""),
    ])


def test_a_backlog_is_worked_off_a_few_events_a_tick(instance, tmp_path, monkeypatch):
    import sensors.alerts

    monkeypatch.setattr(sensors.alerts, "MAX_EVENTS_PER_TICK", 1)
    materialize([tiny_records], partition_key=HOUR, instance=instance, raise_on_error=False)
    alerts = AlertsResource(alerts_dir=str(tmp_path))
    cursor, messages = None, []
    for _ in range(4):
        result = tick(check_failure_alerts, instance, alerts, cursor=cursor)
        cursor, messages = result.cursor, messages + [result.skip_reason.skip_message]
    assert [a["check"] for a in LogChannel(tmp_path).read()] == ["rows_conserved", "quarantine_rate"]
    assert "more check evaluations wait for the next tick" in messages[0]
    assert messages[2].startswith("1 new check evaluations, none failed")  # the passing "schema" check
    assert messages[3].startswith("no new check evaluations")
