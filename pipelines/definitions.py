"""The one Definitions object: every stage, check, job, sensor and resource."""

from dagster import Definitions

from assets.enriched_records import enriched_records
from assets.raw_photos import raw_photos
from pipelines.environment import resources_for
from pipelines.jobs import ingest_job
from sensors.alerts import check_failure_alerts, run_failure_alerts
from sensors.inbox_sensor import inbox_sensor

defs = Definitions(
    assets=[raw_photos, enriched_records],
    jobs=[ingest_job],
    sensors=[inbox_sensor, check_failure_alerts, run_failure_alerts],
    resources=resources_for(),
)
