"""The one Definitions object: every stage, check, job, sensor and resource."""

from dagster import Definitions, in_process_executor

from assets.color_index import color_index
from assets.county_counts import county_counts
from assets.embeddings import embeddings
from assets.enriched_records import enriched_records
from assets.hourly_aggregates import hourly_aggregates
from assets.raw_photos import raw_photos
from assets.similarity_index import similarity_index
from assets.sources import pull_assets
from pipelines.automation import automation_sensor
from pipelines.environment import resources_for
from pipelines.jobs import all_hourly_job, ingest_job, pull_job, serving_job
from sensors.alerts import check_failure_alerts, run_failure_alerts
from sensors.inbox_sensor import inbox_sensor
from sensors.kafka_sensor import kafka_sensor
from sensors.pull_schedule import pull_schedule

defs = Definitions(
    assets=[*pull_assets, raw_photos, enriched_records, hourly_aggregates, color_index, embeddings, county_counts, similarity_index],
    jobs=[ingest_job, all_hourly_job, serving_job, pull_job],
    schedules=[pull_schedule],
    sensors=[inbox_sensor, kafka_sensor, automation_sensor, check_failure_alerts, run_failure_alerts],
    resources=resources_for(),
    # UI launches and backfills use the implicit asset job: one process per run, not per step
    # (steps share one Spark session and one GE import; ENVIRONMENT.md).
    executor=in_process_executor,
)
