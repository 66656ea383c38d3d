"""embeddings: the hour's image embeddings, copy hashes, labels, concepts, objects and faces."""

import time
from collections import Counter

import pyarrow as pa
from dagster import AssetExecutionContext, BackfillPolicy, MaterializeResult, MetadataValue, asset
from dagster_pyspark import LazyPySparkResource

from assets._checks import results, specs
from assets.enriched_records import enriched_records
from photoatlas.compute import describe_photos
from photoatlas.content.describe import CONTENT_FIELDS
from photoatlas.lake import table_key
from photoatlas.quality import check_embeddings, combine
from photoatlas.similarity.table import EMBEDDING_DIM, EMBEDDINGS_SCHEMA
from pipelines.automation import every_hour_eagerly
from pipelines.partitions import hourly
from resources.content import ContentModelsResource
from resources.lake import LakeResource

CONTENT_SCHEMA = pa.schema([("photo_id", pa.string()), ("partition", pa.string()), *CONTENT_FIELDS, ("content_error", pa.string())])
CHECKS = {
    "one_embedding_per_ok_record": ("every ok record has exactly one embedding row", True),
    "embeddings_valid": (f"{EMBEDDING_DIM}-d, unit length, no NaN", True),
}


@asset(
    partitions_def=hourly,
    deps=[enriched_records],
    group_name="content",
    kinds={"spark", "onnx", "parquet"},
    backfill_policy=BackfillPolicy.single_run(),
    automation_condition=every_hour_eagerly,
    check_specs=specs("embeddings", CHECKS),
)
def embeddings(context: AssetExecutionContext, lake: LakeResource, spark: LazyPySparkResource, content: ContentModelsResource) -> MaterializeResult:
    """Per ok photo: a unit-length EfficientNet-Lite0 embedding, copy hashes (incl. mirror), labels, concepts, faces, objects."""
    started = time.monotonic()
    the_lake, settings = lake.lake(), content.settings()
    hours = context.partition_keys
    ok = {h: [r for r in the_lake.read_table(table_key("records", h)).select(["photo_id", "status"]).to_pylist() if r["status"] == "ok"] for h in hours}
    wanted = [{"photo_id": r["photo_id"], "partition": h} for h, rows in ok.items() for r in rows]
    total = len(wanted)
    session = spark.spark_session if total > 1 else None
    described = {photo_id: (fields, row, error) for photo_id, fields, row, error in describe_photos(wanted, the_lake, settings, spark=session)}
    outcomes, concepts, faces, errors = {}, Counter(), 0, 0
    model = None
    for hour in hours:
        emb_rows, content_rows = [], []
        for r in ok[hour]:
            fields, row, error = described[r["photo_id"]]
            if row is not None:
                emb_rows.append(row)
                model = model or row.get("embedding_model")
            content_rows.append({"photo_id": r["photo_id"], "partition": hour, **(fields or {}), "content_error": error})
            errors += error is not None
            faces += (fields or {}).get("face_count") or 0
            for c in (fields or {}).get("concepts") or []:
                if c["score"] >= 0.5:
                    concepts[c["name"]] += 1
        table = pa.Table.from_pylist(emb_rows, schema=EMBEDDINGS_SCHEMA)
        the_lake.write_table(table_key("embeddings", hour), table)
        the_lake.write_table(table_key("content", hour), pa.Table.from_pylist(content_rows, schema=CONTENT_SCHEMA))
        outcomes[hour] = check_embeddings(table, [r["photo_id"] for r in ok[hour]], EMBEDDING_DIM)
    seconds = time.monotonic() - started
    return MaterializeResult(
        metadata={
            "hours": len(hours),
            "photos": total,
            "model": model or "off",
            "faces": faces,
            "photos_per_concept_at_0.5": MetadataValue.json(dict(concepts.most_common(20))),
            "unreadable_for_models": errors,
            "photos_per_s": round(total / seconds, 2) if seconds else 0.0,
            "seconds": round(seconds, 3),
        },
        check_results=results(combine(outcomes), CHECKS),
    )
