"""The ingest-hour partitions every stage shares (UTC)."""

import os

from dagster import HourlyPartitionsDefinition

# The first hour the UI offers; set PHOTOATLAS_START (YYYY-MM-DD-HH:00) to reach older inboxes.
START = os.environ.get("PHOTOATLAS_START", "2026-01-01-00:00")

# end_offset=1: the current, still-open hour is a valid partition, so photos arriving now are
# ingested now (re-running that hour later picks up late arrivals idempotently).
hourly = HourlyPartitionsDefinition(start_date=START, timezone="UTC", end_offset=1)
