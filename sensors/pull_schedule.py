"""Hourly pulls from the configured sources (Flickr, Unsplash, video, Kafka)."""

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from resources.sources import SOURCES, SourcesResource

pull_job = define_asset_job(
    "pull_job",
    selection=AssetSelection.assets(*[f"{name}_pull" for name in SOURCES]),
    description="Pull new photos from the pull sources into the inbox.",
)


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
