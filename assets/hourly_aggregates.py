"""hourly_aggregates: the hour's counts for every geo level × time level, hue and label counts."""

import time

import pyarrow as pa
from dagster import AssetExecutionContext, BackfillPolicy, MaterializeResult, MetadataValue, asset
from dagster_pyspark import LazyPySparkResource

from assets._checks import results, specs
from assets.enriched_records import enriched_records
from photoatlas.compute import aggregate_hours
from photoatlas.counts import AGGREGATE_SCHEMA
from photoatlas.lake import table_key
from photoatlas.quality import check_aggregates, combine
from pipelines.automation import every_hour_eagerly
from pipelines.partitions import hourly
from resources.lake import LakeResource

CHECKS = {
    "counts_conserved": ("per geo × time level, counts sum to the hour's ok records (unknown place included)", True),
    "counts_valid": ("no negative counts; valid ISO, admin1 and FIPS codes", True),
}


@asset(
    partitions_def=hourly,
    deps=[enriched_records],
    group_name="places",
    kinds={"spark", "parquet"},
    backfill_policy=BackfillPolicy.single_run(),  # a range: one Spark task per hour, one run
    automation_condition=every_hour_eagerly,
    check_specs=specs("hourly_aggregates", CHECKS),
)
def hourly_aggregates(context: AssetExecutionContext, lake: LakeResource, spark: LazyPySparkResource) -> MaterializeResult:
    """The hour's photo counts at 5 geographic × 3 temporal levels, plus hue histograms and label counts per region."""
    started = time.monotonic()
    hours = context.partition_keys
    the_lake = lake.lake()
    frames = aggregate_hours(hours, the_lake, spark=spark.spark_session if len(hours) > 1 else None)
    outcomes, rows, ok_total = {}, 0, 0
    for hour in hours:
        frame = frames[hour]
        the_lake.write_table(table_key("aggregates", hour), pa.Table.from_pandas(frame, schema=AGGREGATE_SCHEMA, preserve_index=False))
        ok = the_lake.read_table(table_key("records", hour)).column("status").to_pylist().count("ok")
        outcomes[hour] = check_aggregates(frame, ok)
        rows += len(frame)
        ok_total += ok
    counties = {p for f in frames.values() for p in f.loc[(f["metric"] == "photos") & (f["geo_level"] == "county"), "place"]}
    return MaterializeResult(
        metadata={
            "hours": len(hours),
            "rows": rows,
            "ok_records": ok_total,
            "counties": len(counties - {"~unknown"}),
            "aggregates_table": MetadataValue.path(the_lake.uri(table_key("aggregates", hours[0]))),
            "seconds": round(time.monotonic() - started, 3),
        },
        check_results=results(combine(outcomes), CHECKS),
    )
