"""color_index: the hour's ok photos in the colour-search index, exactly once each."""

import time

from dagster import AssetExecutionContext, BackfillPolicy, MaterializeResult, asset

from assets._checks import results, specs
from assets.enriched_records import enriched_records
from photoatlas.colorsearch import to_document
from photoatlas.lake import table_key
from photoatlas.quality import check_index_partition, combine
from pipelines.automation import every_hour_eagerly
from pipelines.partitions import hourly
from resources.color_index import ColorIndexResource
from resources.lake import LakeResource

CHECKS = {"every_ok_record_indexed_once": ("the hour's ok records are in the index exactly once, and nothing else of the hour", True)}


@asset(
    partitions_def=hourly,
    deps=[enriched_records],
    group_name="search",
    kinds={"elasticsearch"},
    backfill_policy=BackfillPolicy.single_run(),
    automation_condition=every_hour_eagerly,
    check_specs=specs("color_index", CHECKS),
)
def color_index(context: AssetExecutionContext, lake: LakeResource, colors: ColorIndexResource) -> MaterializeResult:
    """The hour's ok photos as colour-search documents (palette in CIELAB with shares, places, time, labels)."""
    started = time.monotonic()
    the_lake, index = lake.lake(), colors.index()
    index.ensure()
    outcomes, written = {}, 0
    for hour in context.partition_keys:
        records = [r for r in the_lake.read_table(table_key("records", hour)).to_pylist() if r["status"] == "ok"]
        written += index.replace_partition(hour, [to_document(r) for r in records])  # raises naming failed ids
        outcomes[hour] = check_index_partition(index, hour, [r["photo_id"] for r in records])
    return MaterializeResult(
        metadata={"hours": len(context.partition_keys), "documents": written, "index_total": index.count(),
                  "seconds": round(time.monotonic() - started, 3)},
        check_results=results(combine(outcomes), CHECKS),
    )
