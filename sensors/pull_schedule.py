"""Hourly pulls from the configured sources (Flickr, Unsplash, video, Kafka)."""

from dagster import AssetKey, DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from pipelines.jobs import pull_job
from resources.sources import SourcesResource


@schedule(job=pull_job, cron_schedule="5 * * * *", execution_timezone="UTC", default_status=DefaultScheduleStatus.RUNNING)
def pull_schedule(context: ScheduleEvaluationContext, sources: SourcesResource):
    """Five past every hour: one run pulling every configured source (the inbox sensor ingests what lands)."""
    names = sources.configured()
    if not names:
        return SkipReason("no pull source is configured (PHOTOATLAS_FLICKR_QUERY, PHOTOATLAS_UNSPLASH_DATASET, PHOTOATLAS_VIDEO_FEEDS, PHOTOATLAS_KAFKA_*)")
    return RunRequest(
        run_key=f"pull:{context.scheduled_execution_time:%Y-%m-%dT%H}",
        asset_selection=[AssetKey(f"{name}_pull") for name in names],
    )
