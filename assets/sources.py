"""One pull asset per source: fetch what is new since the cursor and land it in the inbox.

The cursor lives in the asset's own materialisation metadata, so a restart resumes where the
last successful pull stopped; it moves (and Kafka offsets are committed) only after the batch
is on disk. The inbox sensor then ingests the landed photos like any other arrival.
"""

import json
import time
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DagsterInstance,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets._checks import results, specs
from photoatlas.landing import land
from photoatlas.quality import Outcome
from photoatlas.sources.base import collect
from resources.inbox import InboxResource
from resources.sources import SOURCES, SourcesResource

CURSOR_KEY = "cursor"


def last_cursor(instance: DagsterInstance, key: AssetKey) -> dict:
    """The cursor a pull asset stored with its last materialisation ({} before the first)."""
    event = instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return {}
    value = event.asset_materialization.metadata.get(CURSOR_KEY)
    return value.value if value is not None else {}


def pull_asset(name: str) -> AssetsDefinition:
    checks = {"no_fetch_failures": (f"every item {name} listed was fetched (failures are listed with reasons)", False)}

    @asset(
        name=f"{name}_pull",
        group_name="sources",
        kinds={"python"},
        check_specs=specs(f"{name}_pull", checks),
        description=f"Photos pulled from {name} since the last run, landed in the inbox (the cursor is in this asset's metadata).",
    )
    def _pull(context: AssetExecutionContext, sources: SourcesResource, inbox: InboxResource) -> MaterializeResult:
        started = time.monotonic()
        cursor = last_cursor(context.instance, context.asset_key)
        if name not in sources.configured():
            context.log.warning("%s is not configured; nothing pulled (see README, Sources)", name)
            skipped = Outcome("no_fetch_failures", True, "not configured: nothing fetched", {"configured": False})
            return MaterializeResult(metadata={"configured": False, CURSOR_KEY: MetadataValue.json(cursor)},
                                     check_results=results([skipped], checks))
        with sources.build(name) as source:
            batch = collect(source, cursor, limit=sources.batch_limit)
            counts = land(batch.arrivals, batch.failures, Path(inbox.path), name)
            source.commit(batch.cursor)
        context.log.info("%s: %s", name, batch.counts())
        return MaterializeResult(
            metadata={
                "configured": True,
                **counts,
                "failures_by_code": MetadataValue.json(batch.counts()["failures_by_code"]),
                "retry_pending": batch.counts()["retry_pending"],
                CURSOR_KEY: MetadataValue.json(json.loads(json.dumps(batch.cursor, default=str))),
                "seconds": round(time.monotonic() - started, 3),
            },
            check_results=results([Outcome(
                "no_fetch_failures", not batch.failures, checks["no_fetch_failures"][0],
                {"failures": len(batch.failures), "examples": [f.row("-") for f in batch.failures[:20]], "retry_pending": batch.counts()["retry_pending"]},
            )], checks),
        )

    return _pull


pull_assets = [pull_asset(name) for name in SOURCES]
