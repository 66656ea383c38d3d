"""Jobs over the partitioned stages."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from pipelines.partitions import hourly
from resources.sources import SOURCES

# One hour from the inbox through enrichment. In-process: the steps share one Spark session
# instead of each re-importing GE and starting a JVM (see ENVIRONMENT.md).
ingest_job = define_asset_job(
    "ingest_job",
    selection=AssetSelection.assets("raw_photos", "enriched_records"),
    partitions_def=hourly,
    executor_def=in_process_executor,
    description="Ingest one hour of inbox arrivals and enrich them.",
    tags={"photoatlas/pool": "spark"},  # the production run queue limits concurrent Spark runs by this tag
)

# Every hourly stage for an hour (or a backfilled range of hours), in dependency order.
all_hourly_job = define_asset_job(
    "all_hourly_job",
    selection=AssetSelection.assets("raw_photos", "enriched_records", "hourly_aggregates", "color_index", "embeddings"),
    partitions_def=hourly,
    executor_def=in_process_executor,
    description="Every hourly stage for the chosen hours: what backfills and the demo run.",
    tags={"photoatlas/pool": "spark"},
)

# The cube over every hour (not partitioned): runs after hours land, or alone to rebuild.
serving_job = define_asset_job(
    "serving_job",
    selection=AssetSelection.assets("county_counts", "similarity_index"),
    executor_def=in_process_executor,
    description="Bring the non-partitioned serving views up to date: the geo × time cube and the similarity index.",
)

# Every pull source; the hourly schedule narrows each run to the configured ones.
pull_job = define_asset_job(
    "pull_job",
    selection=AssetSelection.assets(*[f"{name}_pull" for name in SOURCES]),
    description="Pull new photos from the pull sources into the inbox.",
)
