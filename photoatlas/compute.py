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
