"""raw_photos: the hour's arrivals, stored content-addressed, and the hour's manifest."""

import time

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets._checks import results, specs
from photoatlas.ingest import ingest, inbox_arrivals
from photoatlas.lake import table_key
from photoatlas.quality import check_manifest
from photoatlas.schema import MANIFEST_SCHEMA
from pipelines.partitions import hourly
from resources.inbox import InboxResource
from resources.lake import LakeResource
from resources.secrets import CipherResource

CHECKS = {
    "schema": ("the manifest has exactly the declared columns and types", True),
    "manifest_rows_valid": ("unique sha256 photo ids, non-negative sizes, a source on every row", True),
    "no_ingest_errors": ("every arrival could be read (unreadable ones are listed)", False),
}


@asset(
    partitions_def=hourly,
    group_name="ingest",
    kinds={"python", "parquet"},
    check_specs=specs("raw_photos", CHECKS),
)
def raw_photos(context: AssetExecutionContext, lake: LakeResource, inbox: InboxResource, cipher: CipherResource) -> MaterializeResult:
    """Photos that arrived in the inbox this hour: bytes in the lake by sha256, plus the hour's manifest."""
    started = time.monotonic()
    partition = context.partition_key
    files = inbox.files_for_hour(partition)
    the_lake = lake.lake()
    result = ingest(the_lake, partition, inbox_arrivals(files), cipher.cipher())
    context.log.info("ingested %s: %s", partition, result.summary())
    return MaterializeResult(
        metadata={
            **result.summary(),
            "arrivals": len(files),
            "manifest": MetadataValue.path(the_lake.uri(table_key("manifest", partition))),
            "seconds": round(time.monotonic() - started, 3),
        },
        check_results=results(check_manifest(result.manifest, result.errors, MANIFEST_SCHEMA), CHECKS),
    )
