"""enriched_records: one record per manifest row — palette, hashes, EXIF, places, thumbnail, status."""

import time
from collections import Counter, defaultdict

import pyarrow as pa
from dagster import AssetExecutionContext, BackfillPolicy, MaterializeResult, MetadataValue, asset
from dagster_pyspark import LazyPySparkResource

from assets._checks import results, specs
from assets.raw_photos import raw_photos
from photoatlas.compute import enrich_manifest
from photoatlas.lake import table_key
from photoatlas.quality import check_records, combine
from photoatlas.records import seal
from photoatlas.render import hour_palette_markdown
from photoatlas.schema import MANIFEST_SCHEMA, RECORD_SCHEMA
from pipelines.automation import every_hour_eagerly
from pipelines.partitions import hourly
from resources.lake import LakeResource
from resources.secrets import CipherResource
from resources.settings import EnrichmentSettings

CHECKS = {
    "schema": ("records have exactly the declared columns and types", True),
    "one_record_per_manifest_row": ("ok + quarantined == manifest rows: nothing lost, nothing invented", True),
    "record_values_valid": ("unique photo ids, a known status, a reason on every quarantined row", True),
    "ok_records_complete": ("sizes in range, palette shares sum to 1, 64-bit hashes present", True),
    "quarantine_rate": ("a human should look when many photos of an hour are quarantined", False),
}


@asset(
    partitions_def=hourly,
    deps=[raw_photos],
    group_name="enrich",
    kinds={"spark", "parquet"},
    # A backfilled range runs as one Spark job over all its hours: one session, one fan-out.
    backfill_policy=BackfillPolicy.single_run(),
    automation_condition=every_hour_eagerly,
    check_specs=specs("enriched_records", CHECKS),
)
def enriched_records(
    context: AssetExecutionContext,
    lake: LakeResource,
    cipher: CipherResource,
    spark: LazyPySparkResource,
    settings: EnrichmentSettings,
) -> MaterializeResult:
    """One record per photo of the hour: size, palette, hashes, typed EXIF, places, thumbnail, ok/quarantined."""
    started = time.monotonic()
    hours = context.partition_keys
    the_lake = lake.lake()
    keys = cipher.cipher()
    manifests = {h: the_lake.read_table(table_key("manifest", h), MANIFEST_SCHEMA) for h in hours}
    combined = pa.concat_tables(manifests.values())
    session = spark.spark_session if combined.num_rows else None
    by_hour = defaultdict(list)
    for record in enrich_manifest(combined, the_lake, settings.palette_k, spark=session, cipher=keys):
        by_hour[record["partition"]].append(record)

    outcomes, status, reasons, palettes = {}, Counter(), Counter(), []
    for hour in hours:
        records = seal(by_hour[hour], keys)
        the_lake.write_table(table_key("records", hour), records)
        ids = manifests[hour].column("photo_id").to_pylist()
        outcomes[hour] = check_records(records, ids, RECORD_SCHEMA, settings.max_quarantine_rate)
        status.update(records.column("status").to_pylist())
        reasons.update(r for r in records.column("quarantine_reason").to_pylist() if r)
        palettes.extend(records.column("palette").to_pylist())
    return MaterializeResult(
        metadata={
            "hours": len(hours),
            "records": sum(status.values()),
            "ok": status.get("ok", 0),
            "quarantined": status.get("quarantined", 0),
            "quarantined_by_reason": MetadataValue.json(dict(sorted(reasons.items()))),
            "records_table": MetadataValue.path(the_lake.uri(table_key("records", hours[0]))),
            "palettes": MetadataValue.md(hour_palette_markdown(palettes)),
            "seconds": round(time.monotonic() - started, 3),
        },
        check_results=results(combine(outcomes), CHECKS),
    )
