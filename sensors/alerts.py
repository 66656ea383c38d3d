"""Alert on failed asset checks and failed runs: open-source Dagster sends nothing by itself.

Two small state machines over the instance's event log. Each tick reads the events after its
cursor (a storage id), turns the failures into ``Alert``s, writes them to the durable outbox,
delivers whatever is pending, and moves the cursor. A re-read event is harmless: the outbox
ignores an alert whose dedupe key (run + asset + partition + check) it already holds.
"""

import json
import time

from dagster import (
    DagsterEventType,
    DefaultSensorStatus,
    EventRecordsFilter,
    RunStatusChangeRecordsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from photoatlas.alerts import Alert, DeliveryReport, check_failure_alert, run_failure_alert
from resources.alerts import AlertsResource

MAX_EVENTS_PER_TICK = 200  # a backlog is worked off 200 events a tick, not all at once
FIRST_TICK_LOOKBACK_S = 24 * 3600  # a new sensor alerts on the last day's failures, not on all history
MAX_FAILED_STEPS_PER_ALERT = 10
PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")  # single-run backfills
RUN_TAGS_IN_ALERT = ("dagster/failure_reason", "dagster/backfill", "dagster/sensor_name", "dagster/schedule_name")


def _next_records(context: SensorEvaluationContext, event_type: DagsterEventType) -> list:
    """This tick's events of one type, oldest first: those after the cursor, or on a first tick the last day's."""
    after = json.loads(context.cursor)["after_storage_id"] if context.cursor else None
    since = None if after is not None else time.time() - FIRST_TICK_LOOKBACK_S
    if event_type == DagsterEventType.RUN_FAILURE:  # a run status change: the instance has its own query for those
        query = RunStatusChangeRecordsFilter(event_type, after_storage_id=after, after_timestamp=since)
        return list(context.instance.fetch_run_status_changes(query, limit=MAX_EVENTS_PER_TICK, ascending=True).records)
    query = EventRecordsFilter(event_type, after_cursor=after, after_timestamp=since)
    return list(context.instance.get_event_records(query, limit=MAX_EVENTS_PER_TICK, ascending=True))


def _cursor(records, previous: str | None) -> str | None:
    return json.dumps({"after_storage_id": records[-1].storage_id}) if records else previous


def _partition(tags: dict) -> str | None:
    """The run's partition, or its range ("start...end") when one run backfilled many."""
    if tags.get(PARTITION_TAG):
        return tags[PARTITION_TAG]
    start, end = (tags.get(t) for t in RANGE_TAGS)
    return f"{start}...{end}" if start and end else None


def _metadata(metadata: dict) -> dict:
    """Dagster metadata values → plain values (JSON lists stay lists, numbers stay numbers)."""
    return {k: getattr(v, "value", v) for k, v in (metadata or {}).items()}


def _error_text(error) -> str:
    """An error and its causes, outermost first, e.g. 'step failed | caused by: ValueError: kaput'."""
    parts = []
    if error is None:
        return "no error recorded"
    while error is not None and len(parts) < 5:
        parts.append(error.message.strip())
        error = error.cause
    return " | caused by: ".join(parts)


def _finish(context: SensorEvaluationContext, alerts: AlertsResource, built: list[Alert], records, what: str) -> SensorResult:
    new, report = alerts.send(built)
    cursor = _cursor(records, context.cursor)
    if report.failed:
        context.log.warning("%d alert(s) not delivered via %s: %s", report.failed, alerts.channel, report.last_error)
    if report.dead:
        context.log.error("%d alert(s) set aside after repeated permanent failures; see %s", report.dead, alerts.directory())
    return SensorResult(cursor=cursor, skip_reason=SkipReason(_describe(len(records), built, new, report, alerts.channel, what)))


def _describe(seen: int, built: list[Alert], new: int, report: DeliveryReport, channel: str, what: str) -> str:
    parts = []
    if not seen:
        parts.append(f"no new {what} since the last tick")
    elif not built:
        parts.append(f"{seen} new {what}, none failed")
    elif not new:
        parts.append(f"{len(built)} failure(s) already alerted (same run, asset, partition and check)")
    else:
        parts.append(f"{new} new alert(s)")
    if seen >= MAX_EVENTS_PER_TICK:
        parts.append(f"more {what} wait for the next tick")
    if report.delivered:
        parts.append(f"{report.delivered} delivered via {channel}")
    if report.pending:
        parts.append(f"{report.pending} waiting in the outbox ({report.last_error or 'next tick'})")
    if report.dead:
        parts.append(f"{report.dead} set aside as undeliverable")
    if not report.delivered:
        parts.append("nothing sent")
    return "; ".join(parts)


@sensor(minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def check_failure_alerts(context: SensorEvaluationContext, alerts: AlertsResource):
    """A failed asset check (ERROR or WARN) → one alert naming the asset, partition, check and run."""
    records = _next_records(context, DagsterEventType.ASSET_CHECK_EVALUATION)
    runs = {}
    built = []
    for record in records:
        entry = record.event_log_entry
        evaluation = entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        if entry.run_id not in runs:
            runs[entry.run_id] = context.instance.get_run_by_id(entry.run_id)
        run = runs[entry.run_id]
        metadata = _metadata(evaluation.metadata)  # "protects" (assets/_checks.py) becomes the description
        built.append(check_failure_alert(
            run_id=entry.run_id,
            asset=evaluation.asset_key.to_user_string(),
            check=evaluation.check_name,
            severity=evaluation.severity.value,
            partition=evaluation.partition or (_partition(run.tags) if run else None),
            job=entry.job_name,
            description=evaluation.description or metadata.pop("protects", None),
            metadata=metadata,
            occurred_at=entry.timestamp,
            ui_base_url=alerts.ui_base_url,
        ))
    return _finish(context, alerts, built, records, "check evaluations")


@sensor(minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def run_failure_alerts(context: SensorEvaluationContext, alerts: AlertsResource):
    """A failed run (any job, any code location of this instance) → one alert with its failed steps and errors."""
    records = _next_records(context, DagsterEventType.RUN_FAILURE)
    built = []
    for record in records:
        entry = record.event_log_entry
        run = context.instance.get_run_by_id(entry.run_id)
        tags = dict(run.tags) if run else {}
        steps = context.instance.get_records_for_run(
            entry.run_id, of_type=DagsterEventType.STEP_FAILURE, limit=MAX_FAILED_STEPS_PER_ALERT
        ).records
        failed_steps = {
            s.event_log_entry.dagster_event.step_key: _error_text(s.event_log_entry.dagster_event.event_specific_data.error)
            for s in steps
        }
        built.append(run_failure_alert(
            run_id=entry.run_id,
            job=run.job_name if run else entry.job_name or "?",
            partition=_partition(tags),
            message=entry.dagster_event.message or entry.user_message,
            failed_steps=failed_steps,
            tags={k: tags[k] for k in RUN_TAGS_IN_ALERT if k in tags},
            occurred_at=entry.timestamp,
            ui_base_url=alerts.ui_base_url,
        ))
    return _finish(context, alerts, built, records, "failed runs")
