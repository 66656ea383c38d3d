"""hourly_aggregates: the hour's counts for every geo level × time level, hue and label counts."""

import time

import pyarrow as pa
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets._checks import results, specs
from assets.enriched_records import enriched_records
from photoatlas.compute import aggregate_hours
from photoatlas.counts import AGGREGATE_SCHEMA
from photoatlas.lake import table_key
from photoatlas.quality import check_aggregates
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
    kinds={"pandas", "parquet"},
    automation_condition=every_hour_eagerly,
    check_specs=specs("hourly_aggregates", CHECKS),
)
def hourly_aggregates(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    """The hour's photo counts at 5 geographic × 3 temporal levels, plus hue histograms and label counts per region."""
    started = time.monotonic()
    partition = context.partition_key
    the_lake = lake.lake()
    frame = aggregate_hours([partition], the_lake)[partition]
    the_lake.write_table(table_key("aggregates", partition), pa.Table.from_pandas(frame, schema=AGGREGATE_SCHEMA, preserve_index=False))
    ok = sum(1 for s in the_lake.read_table(table_key("records", partition)).column("status").to_pylist() if s == "ok")
    photos = frame[frame["metric"] == "photos"]
    counties = photos[(photos["geo_level"] == "county") & (photos["time_level"] == "all")]
    return MaterializeResult(
        metadata={
            "rows": len(frame),
            "ok_records": ok,
            "counties": int((counties["place"] != "~unknown").sum()),
            "unknown_place": int(counties.loc[counties["place"] == "~unknown", "count"].sum()),
            "aggregates_table": MetadataValue.path(the_lake.uri(table_key("aggregates", partition))),
            "seconds": round(time.monotonic() - started, 3),
        },
        check_results=results(check_aggregates(frame, ok), CHECKS),
    )
