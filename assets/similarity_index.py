"""similarity_index: copy detection over perceptual hashes and neighbours over embeddings."""

import time

from dagster import AssetExecutionContext, AutomationCondition, MaterializeResult, asset

from assets._checks import results, specs
from assets._incremental import CURSOR_KEY, changed_partitions
from assets.embeddings import embeddings
from photoatlas.lake import table_key, table_partitions
from photoatlas.quality import Outcome
from photoatlas.similarity.table import EMBEDDINGS_SCHEMA
from resources.content import SimilarityIndexResource
from resources.lake import LakeResource

CHECKS = {"index_size_matches": ("the index holds exactly the rows of every embeddings partition", True)}


@asset(
    deps=[embeddings],
    group_name="content",
    kinds={"numpy"},
    automation_condition=AutomationCondition.eager(),
    check_specs=specs("similarity_index", CHECKS),
)
def similarity_index(context: AssetExecutionContext, lake: LakeResource, similarity: SimilarityIndexResource) -> MaterializeResult:
    """The copy-detection hash tables (with mirrors) and the embedding index behind `photoatlas similar`."""
    started = time.monotonic()
    the_lake, index = lake.lake(), similarity.index()
    changed, newest = changed_partitions(context, "embeddings")
    available = table_partitions(the_lake, "embeddings")
    todo = available if changed is None else [p for p in changed if p in set(available)]
    added = sum(index.add_partition(p, the_lake.read_table(table_key("embeddings", p), EMBEDDINGS_SCHEMA)) for p in todo)
    if changed is None:  # a full pass also drops partitions whose files are gone
        for stale in set(index.partitions) - set(available):
            index.remove_partition(stale)
    index.refresh()
    expected = sum(the_lake.read_table(table_key("embeddings", p)).num_rows for p in index.partitions)
    outcome = Outcome("index_size_matches", len(index) == expected, CHECKS["index_size_matches"][0],
                      {"index_rows": len(index), "embedding_rows": expected, "partitions": len(index.partitions)})
    return MaterializeResult(
        metadata={
            CURSOR_KEY: newest,
            "mode": "full" if changed is None else "incremental",
            "partitions_added_or_replaced": int(added),
            "partitions_checked": len(todo),
            "photos": len(index),
            "model": index.model or "none",
            "seconds": round(time.monotonic() - started, 3),
        },
        check_results=results([outcome], CHECKS),
    )
