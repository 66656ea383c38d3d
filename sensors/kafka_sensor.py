"""Watch the Kafka topic's backlog; request one kafka_pull run per backlog, never two at once."""

import json

from dagster import (
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from assets.sources import last_cursor
from photoatlas.sources.kafka_backlog import BROKER_TIMEOUT_S, BrokerUnavailable, plan_pull
from pipelines.jobs import pull_job
from resources.sources import SourcesResource

KAFKA_PULL = AssetKey("kafka_pull")
CONSUMER_TAG = "photoatlas/consumer"  # "kafka:<group>" on every run this sensor requests
REQUEST_TAG = "photoatlas/kafka_request"  # the run key, to find the run a request became
ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
          DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
DONE = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


@sensor(job=pull_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def kafka_sensor(context: SensorEvaluationContext, sources: SourcesResource):
    """Messages behind the group's committed offsets → one kafka_pull run (which commits after landing)."""
    if "kafka" not in sources.configured():
        return SkipReason("Kafka is not configured (PHOTOATLAS_KAFKA_BOOTSTRAP and PHOTOATLAS_KAFKA_TOPIC)")
    running = _active_pull(context, sources.kafka_group)
    if running is not None:
        return SkipReason(f"a kafka_pull run is still running ({running.run_id}, {running.status.value}): "
                          "one consumer per group at a time")
    pull_cursor = last_cursor(context.instance, KAFKA_PULL)  # offsets ahead of a lost commit, retries
    try:
        with sources.build("kafka") as source:
            positions = source.positions(pull_cursor, timeout_s=BROKER_TIMEOUT_S)
    except BrokerUnavailable as e:
        context.log.warning("Kafka backlog unknown, the broker did not answer: %s", e)
        return SkipReason(f"the Kafka broker did not answer ({e}); trying again next tick")
    last = json.loads(context.cursor) if context.cursor else {}
    plan = plan_pull(sources.kafka_group, positions, pull_cursor.get("retry"), last,
                     _finished(context, last.get("run_key")))
    cursor = json.dumps(plan.cursor, sort_keys=True)
    if plan.run_key is None:
        return SensorResult(skip_reason=SkipReason(plan.reason), cursor=cursor)
    context.log.info("requesting %s: %s", plan.run_key, plan.reason)
    tags = {CONSUMER_TAG: f"kafka:{sources.kafka_group}", REQUEST_TAG: plan.run_key,
            "photoatlas/kafka_lag": str(plan.lag)}
    return SensorResult(run_requests=[RunRequest(run_key=plan.run_key, asset_selection=[KAFKA_PULL], tags=tags)],
                        cursor=cursor)


def _active_pull(context: SensorEvaluationContext, group: str):
    """A queued or running run that reads the group: ours (by tag), or any run selecting kafka_pull."""
    for run in context.instance.get_runs(filters=RunsFilter(statuses=ACTIVE), limit=500):
        selection = run.asset_selection
        if (run.tags.get(CONSUMER_TAG) == f"kafka:{group}" or (selection is not None and KAFKA_PULL in selection)
                or (selection is None and run.job_name == pull_job.name)):
            return run
    return None


def _finished(context: SensorEvaluationContext, run_key: str | None) -> bool:
    if not run_key:
        return False
    runs = context.instance.get_runs(filters=RunsFilter(tags={REQUEST_TAG: run_key}), limit=1)
    return bool(runs) and runs[0].status in DONE
