"""Where per-photo work runs: in this process, or fanned out over a Spark session.

The same function (``records.enrich_rows``) runs in both places; Spark only decides where.
The lake object is shipped to executors (it pickles to its few settings; an S3 lake rebuilds
its client there) and they return records; the driver seals and writes them.
"""

import pyarrow as pa

from photoatlas.lake import Lake
from photoatlas.privacy import Cipher
from photoatlas.records import enrich_rows

ROWS_PER_TASK = 16  # small tasks: a retried task redoes little, and skewed photo sizes even out


def enrich_manifest(manifest: pa.Table, lake: Lake, k: int, spark=None, cipher: Cipher | None = None) -> list[dict]:
    """Records (sensitive fields in clear) for every manifest row, in manifest order.

    With ``cipher``, the source's exact coordinates are decrypted here on the driver and
    travel with the row, so places are looked up from the exact point (executors see the
    photo's own EXIF GPS in clear anyway); without it, the 2-decimal coarse point is used.
    """
    rows = manifest.to_pylist()
    if not rows:
        return []
    if cipher is not None:
        for row in rows:
            exact = cipher.decrypt_str(row.get("source_latlon_enc"))
            if exact:
                lat, lon = exact.split(",")
                row["_source_latlon"] = (float(lat), float(lon))
    if spark is None:
        return list(enrich_rows(rows, lake, k))
    slices = max(1, -(-len(rows) // ROWS_PER_TASK))
    return (
        spark.sparkContext.parallelize(rows, slices)
        .mapPartitions(lambda part: enrich_rows(part, lake, k))
        .collect()
    )


def aggregate_hours(hours: list[str], lake: Lake, spark=None) -> dict:
    """{hour: the hour's aggregates frame}, one task per hour (a backfill range fans out)."""
    from photoatlas.counts import aggregate_hour

    def one(hour: str):
        from photoatlas.lake import table_key

        return hour, aggregate_hour(lake.read_table(table_key("records", hour)))

    if spark is None or len(hours) <= 1:
        return dict(one(h) for h in hours)
    return dict(spark.sparkContext.parallelize(hours, len(hours)).map(one).collect())


def describe_photos(records: list[dict], lake: Lake, settings, spark=None) -> list[tuple]:
    """(photo_id, content fields, embeddings row table) per ok record, models loaded once per worker.

    ``records``: dicts with ``photo_id``; the photo is read from the lake and decoded at the
    model's size. A photo the models cannot read gets empty content and a warning, never a crash.
    """
    def run(part):
        from photoatlas.content.describe import get_content_models
        from photoatlas.content.images import decode_rgb
        from photoatlas.lake import object_key
        from photoatlas.similarity.table import embedding_rows

        models = get_content_models(settings)
        ids, images, failed = [], [], []
        for r in part:
            try:
                images.append(decode_rgb(lake.get(object_key(r["photo_id"]))))
                ids.append(r["photo_id"])
            except Exception as e:  # the record is ok, so this is rare: keep the row, say why
                failed.append((r["photo_id"], f"{type(e).__name__}: {e}"))
        out = []
        for start in range(0, len(ids), 32):
            chunk_ids, chunk = ids[start:start + 32], images[start:start + 32]
            batch = models.describe(chunk)
            table = embedding_rows(chunk_ids, chunk, models.embedder, batch.embeddings)
            for i, photo_id in enumerate(chunk_ids):
                out.append((photo_id, batch.records[i], table.slice(i, 1).to_pylist()[0], None))
        out.extend((photo_id, None, None, why) for photo_id, why in failed)
        return out

    if not records:
        return []
    if spark is None:
        return run(records)
    slices = max(1, -(-len(records) // ROWS_PER_TASK))
    return spark.sparkContext.parallelize(records, slices).mapPartitions(lambda part: run(list(part))).collect()
