"""Watch the inbox; request the ingest of every hour whose files changed."""

import json

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from photoatlas.inbox import plan
from pipelines.jobs import ingest_job
from pipelines.partitions import hourly
from resources.inbox import InboxResource

MAX_RUNS_PER_TICK = 6  # a first tick over a months-long backlog queues 6 hours, then 6 more...


@sensor(job=ingest_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def inbox_sensor(context: SensorEvaluationContext, inbox: InboxResource):
    """New or changed files in the inbox → one ingest run per changed arrival hour."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    valid = set(hourly.get_partition_keys(dynamic_partitions_store=context.instance))
    p = plan(inbox.files(), cursor, valid.__contains__, MAX_RUNS_PER_TICK)
    if p.out_of_range:
        context.log.warning(
            "%d hour(s) with files outside the partition range (first %s); set PHOTOATLAS_START earlier to ingest them",
            len(p.out_of_range), p.out_of_range[0],
        )
    if not p.requests:
        why = f"no new files in {inbox.path}" if not p.out_of_range else f"only files outside the partition range ({len(p.out_of_range)} hours)"
        return SensorResult(skip_reason=SkipReason(why), cursor=json.dumps(p.cursor, sort_keys=True))
    if p.waiting:
        context.log.info("%d more changed hour(s) wait for the next ticks", p.waiting)
    return SensorResult(
        run_requests=[RunRequest(run_key=f"inbox:{hour}:{fp}", partition_key=hour) for hour, fp in p.requests],
        cursor=json.dumps(p.cursor, sort_keys=True),
    )
