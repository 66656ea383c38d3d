"""Jobs over the partitioned stages."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from pipelines.partitions import hourly

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
