"""Hourly pulls from the configured batch sources (Flickr, Unsplash, video); Kafka has its own sensor."""

from dagster import AssetKey, DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from pipelines.jobs import pull_job
from resources.sources import SourcesResource

STREAMED = ("kafka",)  # pulled by sensors/kafka_sensor.py when its topic has a backlog, not on the hour


@schedule(job=pull_job, cron_schedule="5 * * * *", execution_timezone="UTC", default_status=DefaultScheduleStatus.RUNNING)
def pull_schedule(context: ScheduleEvaluationContext, sources: SourcesResource):
    """Five past every hour: one run pulling every configured batch source (the inbox sensor ingests what lands)."""
    names = [name for name in sources.configured() if name not in STREAMED]
    if not names:
        return SkipReason("no hourly pull source is configured (PHOTOATLAS_FLICKR_QUERY, PHOTOATLAS_UNSPLASH_DATASET, "
                          "PHOTOATLAS_VIDEO_FEEDS); Kafka is pulled by kafka_sensor")
    return RunRequest(
        run_key=f"pull:{context.scheduled_execution_time:%Y-%m-%dT%H}",
        asset_selection=[AssetKey(f"{name}_pull") for name in names],
    )
