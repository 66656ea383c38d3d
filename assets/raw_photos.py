"""raw_photos: the hour's arrivals, stored content-addressed, and the hour's manifest."""

import time
from collections import Counter
from pathlib import Path

from dagster import AssetExecutionContext, BackfillPolicy, MaterializeResult, MetadataValue, asset

from assets._checks import results, specs
from assets.sources import pull_assets
from photoatlas.ingest import ingest, inbox_arrivals
from photoatlas.landing import failures_by_hour
from photoatlas.lake import table_key
from photoatlas.quality import check_manifest, combine
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
    deps=[*pull_assets],  # lineage: what the pull sources land in the inbox is ingested here
    group_name="ingest",
    kinds={"python", "parquet"},
    backfill_policy=BackfillPolicy.single_run(),  # a range re-ingests its hours in one run, one inbox scan
    check_specs=specs("raw_photos", CHECKS),
)
def raw_photos(context: AssetExecutionContext, lake: LakeResource, inbox: InboxResource, cipher: CipherResource) -> MaterializeResult:
    """Photos that arrived in the inbox this hour: bytes in the lake by sha256, plus the hour's manifest."""
    started = time.monotonic()
    the_lake, keys = lake.lake(), cipher.cipher()
    by_hour = inbox.files_by_hour()
    failed = failures_by_hour(Path(inbox.path))
    outcomes, totals, arrivals = {}, Counter(), 0
    for hour in context.partition_keys:
        files = by_hour.get(hour, [])
        result = ingest(the_lake, hour, inbox_arrivals(files), keys, failures=failed.get(hour, []))
        context.log.info("ingested %s: %s", hour, result.summary())
        outcomes[hour] = check_manifest(result.manifest, result.errors, MANIFEST_SCHEMA)
        totals.update({k: v for k, v in result.summary().items() if isinstance(v, int)})
        arrivals += len(files)
    return MaterializeResult(
        metadata={
            "hours": len(context.partition_keys),
            **dict(totals),
            "arrivals": arrivals,
            "manifest": MetadataValue.path(the_lake.uri(table_key("manifest", context.partition_keys[0]))),
            "seconds": round(time.monotonic() - started, 3),
        },
        check_results=results(combine(outcomes), CHECKS),
    )
