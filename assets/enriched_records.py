"""enriched_records: one record per manifest row — palette, hashes, EXIF, thumbnail, status."""

import time
from collections import Counter

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset
from dagster_pyspark import LazyPySparkResource

from assets._checks import results, specs
from assets.raw_photos import raw_photos
from photoatlas.compute import enrich_manifest
from photoatlas.lake import table_key
from photoatlas.quality import check_records
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
    """One record per photo of the hour: size, palette, hashes, typed EXIF, thumbnail, ok/quarantined."""
    started = time.monotonic()
    partition = context.partition_key
    the_lake = lake.lake()
    manifest = the_lake.read_table(table_key("manifest", partition), MANIFEST_SCHEMA)
    session = spark.spark_session if manifest.num_rows else None
    keys = cipher.cipher()
    records = seal(enrich_manifest(manifest, the_lake, settings.palette_k, spark=session, cipher=keys), keys)
    the_lake.write_table(table_key("records", partition), records)

    status = Counter(records.column("status").to_pylist())
    reasons = Counter(r for r in records.column("quarantine_reason").to_pylist() if r)
    outcomes = check_records(records, manifest.column("photo_id").to_pylist(), RECORD_SCHEMA, settings.max_quarantine_rate)
    return MaterializeResult(
        metadata={
            "records": records.num_rows,
            "ok": status.get("ok", 0),
            "quarantined": status.get("quarantined", 0),
            "quarantined_by_reason": MetadataValue.json(dict(sorted(reasons.items()))),
            "records_table": MetadataValue.path(the_lake.uri(table_key("records", partition))),
            "palettes": MetadataValue.md(hour_palette_markdown(records.column("palette").to_pylist())),
            "seconds": round(time.monotonic() - started, 3),
        },
        check_results=results(outcomes, CHECKS),
    )
