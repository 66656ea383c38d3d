"""One hour's pre-reduced counts: the ``hourly_aggregates`` table, computed from enriched records.

The table is long ("tidy"): one row per key, every metric in the same columns, so Spark can
produce it with one ``groupBy`` per (metric, geo level, time level) and a ``unionByName``.

Columns (``AGGREGATE_SCHEMA``):

- ``partition``  the ingest hour, ``'YYYY-MM-DD-HH:00'`` (from the records).
- ``metric``     ``photos`` | ``hue`` | ``label``.
- ``geo_level``  ``country`` | ``admin1`` | ``county`` | ``city`` | ``geohash`` (hue and label:
  the first three only). ``place`` is the key from :func:`keys.place_keys`, ``'~unknown'``
  when the record has no place at that level.
- ``time_level`` ``month`` | ``year`` | ``all``; ``period`` is ``'YYYY-MM'`` | ``'YYYY'`` |
  ``'all'`` of ``captured_at`` in UTC, ``'~unknown'`` without a capture time.
- ``item``       ``''`` for photos; for hue the ``color_hist`` bin as 3 digits (``'007'``; the
  layout of ``photoatlas.imaging.palette``: 36 hue bins, then 4 neutrals, all kept); the
  label text for label.
- ``count``      photos: ok records with that key. hue: records with a non-zero share in the
  bin. label: records carrying the label (once per record).
- ``weight``     fixed-point millionths (``keys.fixed_point``), summed per key: hue: the
  records' ``color_hist`` values in the bin; label: each record's best score for the label
  (1.0 when labels carry no score); photos: 0.

Only ``status == 'ok'`` records count. Rows with ``count == 0`` are never written. For every
(partition, geo_level, time_level) the photos counts sum to the hour's ok records.

Spark equivalent (same semantics): derive the place and period columns with the same rules,
``stack`` the 5 x 3 (place, period) pairs, ``groupBy(partition, geo_level, place, time_level,
period).count()``; hue: ``posexplode(color_hist)``, ``fixed_point`` the value, keep > 0,
``groupBy(... , bin).agg(count, sum)``; label: ``explode(labels)``, max score per (photo,
label), then the same ``groupBy``.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from photoatlas.counts.keys import (
    GEO_LEVELS,
    PLACE_FIELDS,
    REGION_LEVELS,
    TIME_LEVELS,
    fixed_point,
    period_keys,
    place_keys,
)

AGGREGATE_SCHEMA = pa.schema(
    [
        pa.field("partition", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("geo_level", pa.string(), nullable=False),
        pa.field("place", pa.string(), nullable=False),
        pa.field("time_level", pa.string(), nullable=False),
        pa.field("period", pa.string(), nullable=False),
        pa.field("item", pa.string(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
        pa.field("weight", pa.int64(), nullable=False),
    ]
)
KEY_COLUMNS = ["partition", "metric", "geo_level", "place", "time_level", "period", "item"]
AGGREGATE_COLUMNS = AGGREGATE_SCHEMA.names
_SCALAR_FIELDS = ["partition", "status", "captured_at", *PLACE_FIELDS.values()]
_LABEL_NAME_FIELDS = ("label", "name", "class")
_LABEL_SCORE_FIELDS = ("score", "confidence", "probability", "p")


def empty_aggregates() -> pd.DataFrame:
    return AGGREGATE_SCHEMA.empty_table().to_pandas()


def aggregate_hour(records: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """The hour's counts for every geo x time key, hue sums and label counts, as ``AGGREGATE_SCHEMA`` rows."""
    table = records if isinstance(records, pa.Table) else pa.Table.from_pandas(records, preserve_index=False)
    for needed in ("partition", "status", "captured_at"):
        if needed not in table.column_names:
            raise ValueError(f"records lack the {needed!r} column")
    ok = table.filter(pc.fill_null(pc.equal(table["status"], "ok"), False))
    if ok.num_rows == 0:
        return empty_aggregates()
    if ok["partition"].null_count:
        raise ValueError(f"{ok['partition'].null_count} ok records have no partition")
    scalars = ok.select([f for f in _SCALAR_FIELDS if f in ok.column_names and f != "captured_at"]).to_pandas()
    keys = pd.concat([scalars[["partition"]], place_keys(scalars), period_keys(ok["captured_at"])], axis=1)
    # Every key column as (integer code per record, distinct values), so grouping is integer work.
    codes = {name: pd.factorize(keys[name].to_numpy(), sort=True) for name in ("partition", *GEO_LEVELS, *TIME_LEVELS)}
    everyone = np.arange(ok.num_rows)
    parts = [
        _group(
            codes,
            "photos",
            GEO_LEVELS,
            everyone,
            np.zeros(len(everyone), np.int64),
            np.array([""], object),
            np.zeros(len(everyone), np.int64),
        )
    ]
    if "color_hist" in ok.column_names:
        rows, bins, weight = _hue_items(ok["color_hist"])
        bin_values = np.array([f"{b:03d}" for b in range(int(bins.max(initial=-1)) + 1)], object)
        parts.append(_group(codes, "hue", REGION_LEVELS, rows, bins, bin_values, weight))
    if "labels" in ok.column_names:
        rows, labels, weight = _label_items(ok["labels"])
        label_codes, label_values = pd.factorize(labels, sort=True)
        parts.append(
            _group(
                codes, "label", REGION_LEVELS, rows, label_codes.astype(np.int64), label_values.astype(object), weight
            )
        )
    out = pd.concat([p for p in parts if not p.empty] or [empty_aggregates()], ignore_index=True)
    return out.sort_values(KEY_COLUMNS, ignore_index=True)[AGGREGATE_COLUMNS].astype(
        {"count": "int64", "weight": "int64"}
    )


def _group(
    codes: dict,
    metric: str,
    geo_levels,
    rows: np.ndarray,
    items: np.ndarray,
    item_values: np.ndarray,
    weights: np.ndarray,
) -> pd.DataFrame:
    """Count rows and sum weights per (partition, place, period, item) for each (geo, time) level pair.

    ``rows`` index records (a record may appear once per item); ``items`` are codes into
    ``item_values``. Sorting one int64 key per row and reducing runs keeps sums exact.
    """
    if len(rows) == 0:
        return empty_aggregates()
    part_codes, part_values = codes["partition"]
    frames = []
    for g in geo_levels:
        for t in TIME_LEVELS:
            (g_codes, g_values), (t_codes, t_values) = codes[g], codes[t]
            dims = (len(part_values), len(g_values), len(t_values), len(item_values))
            key = np.ravel_multi_index((part_codes[rows], g_codes[rows], t_codes[rows], items), dims)
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
            p_i, g_i, t_i, i_i = np.unravel_index(sorted_key[starts], dims)
            frames.append(
                pd.DataFrame(
                    {
                        "partition": part_values[p_i],
                        "metric": metric,
                        "geo_level": g,
                        "place": g_values[g_i],
                        "time_level": t,
                        "period": t_values[t_i],
                        "item": item_values[i_i],
                        "count": np.diff(np.r_[starts, len(sorted_key)]).astype(np.int64),
                        "weight": np.add.reduceat(weights[order].astype(np.int64), starts),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _flatten(lists: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """(parent row, position in list, value) for every element of a list column."""
    arr = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy().astype(np.int64)
    rows = np.repeat(np.arange(len(arr), dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(len(rows), dtype=np.int64) - np.repeat(starts, lengths)
    return rows, positions, pc.list_flatten(arr)


def _hue_items(hist) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(record row, bin, fixed-point share) for every non-zero histogram bin."""
    rows, positions, values = _flatten(hist)
    weight = fixed_point(pc.fill_null(values.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False))
    keep = weight > 0
    return rows[keep], positions[keep], weight[keep]


def _label_items(labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(record row, label, best fixed-point score) once per distinct label of a record."""
    rows, _, values = _flatten(labels)
    if pa.types.is_struct(values.type):
        names = {f.name for f in values.type}
        name_field = next((f for f in _LABEL_NAME_FIELDS if f in names), None)
        if name_field is None:
            raise ValueError(f"labels struct has no name field (one of {_LABEL_NAME_FIELDS}): {values.type}")
        score_field = next((f for f in _LABEL_SCORE_FIELDS if f in names), None)
        text = pc.struct_field(values, name_field)
        score = (
            pc.struct_field(values, score_field).cast(pa.float64()) if score_field else pa.array(np.ones(len(values)))
        )
    else:
        text, score = values, pa.array(np.ones(len(values)))
    items = pd.DataFrame(
        {
            "row": rows,
            "item": text.cast(pa.string()).to_numpy(zero_copy_only=False),
            "weight": fixed_point(pc.fill_null(score, 0.0).to_numpy(zero_copy_only=False)),
        }
    )
    items = items[items["item"].notna() & (items["item"] != "")]
    best = items.groupby(["row", "item"], sort=False, as_index=False)["weight"].max()
    return best["row"].to_numpy(np.int64), best["item"].to_numpy(object), best["weight"].to_numpy(np.int64)
