"""Data-quality suites (great-expectations 1.x) for every stage, as plain functions.

Each ``check_*`` function takes the stage's data as a DataFrame and returns ``Outcome``s: a
name, pass/fail, and metadata a person can read (counts, the failing photo ids, thresholds).
The Dagster layer turns them into ``AssetCheckResult``s; nothing here knows about Dagster.
"""

import os
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no phoning home from a data pipeline

MAX_FAILING_IDS = 20
PHOTO_ID_REGEX = r"^[0-9a-f]{64}$"
SHARE_TOLERANCE = 1e-6
DEFAULT_MAX_QUARANTINE_RATE = 0.25

_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype()}
_lock = threading.Lock()
_batches: dict = {}


@dataclass
class Outcome:
    name: str
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def _batch_definition():
    with _lock:
        if "bd" not in _batches:
            import great_expectations as gx

            context = gx.get_context(mode="ephemeral")
            try:
                context.variables.progress_bars = {"globally": False, "metric_calculations": False}
            except Exception:  # older/newer GX without the setting: progress bars are cosmetic
                pass
            asset = context.data_sources.add_pandas("photoatlas").add_dataframe_asset("frame")
            _batches["bd"] = asset.add_batch_definition_whole_dataframe("whole")
        return _batches["bd"]


def run_suite(df: pd.DataFrame, expectations: list, id_column: str = "photo_id") -> list[dict]:
    """Validate ``df`` against GX expectations; one dict per expectation with the failing ids."""
    import great_expectations as gx

    batch_definition = _batch_definition()  # also makes the context GX needs for a suite
    suite = gx.ExpectationSuite(name="photoatlas")
    for e in expectations:
        suite.add_expectation(e)
    result_format = {"result_format": "COMPLETE"}
    if id_column in df.columns:
        result_format["unexpected_index_column_names"] = [id_column]
    batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
    report = batch.validate(suite, result_format=result_format)
    out = []
    for r in report.results:
        res = r.result or {}
        ids = [row.get(id_column) for row in (res.get("unexpected_index_list") or []) if isinstance(row, dict)]
        out.append(
            {
                "expectation": r.expectation_config.type,
                "column": r.expectation_config.kwargs.get("column"),
                "success": bool(r.success),
                "unexpected_count": res.get("unexpected_count"),
                "observed_value": _plain(res.get("observed_value")),
                "failing_ids": sorted({str(i) for i in ids if i is not None})[:MAX_FAILING_IDS],
            }
        )
    return out


def _plain(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def suite_outcome(name: str, description: str, df: pd.DataFrame, expectations: list, **extra) -> Outcome:
    results = run_suite(df, expectations)
    failed = [r for r in results if not r["success"]]
    return Outcome(
        name,
        passed=not failed,
        description=description,
        metadata={"rows": len(df), "expectations": len(results), "failed": failed, **extra},
    )


def schema_outcome(table: pa.Table, schema: pa.Schema, name: str = "schema") -> Outcome:
    import great_expectations.expectations as gxe

    df = pd.DataFrame({c: [] for c in table.column_names})
    outcome = suite_outcome(
        name,
        "columns are exactly the declared schema's, in order",
        df,
        [gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(schema.names))],
    )
    mismatched = [f.name for f in schema if f.name in table.column_names and table.schema.field(f.name).type != f.type]
    if mismatched:
        outcome.passed = False
    outcome.metadata["type_mismatches"] = mismatched
    return outcome


def check_manifest(manifest: pa.Table, errors: pa.Table, schema: pa.Schema) -> list[Outcome]:
    import great_expectations.expectations as gxe

    df = manifest.select(["photo_id", "source", "bytes", "format"]).to_pandas()
    return [
        schema_outcome(manifest, schema),
        suite_outcome(
            "manifest_rows_valid",
            "photo ids are unique sha256 hex; byte counts are non-negative; every row names its source",
            df,
            [
                gxe.ExpectColumnValuesToBeUnique(column="photo_id"),
                gxe.ExpectColumnValuesToMatchRegex(column="photo_id", regex=PHOTO_ID_REGEX),
                gxe.ExpectColumnValuesToBeBetween(column="bytes", min_value=0),
                gxe.ExpectColumnValuesToNotBeNull(column="source"),
            ],
        ),
        Outcome(
            "no_ingest_errors",
            errors.num_rows == 0,
            "every arrival of the hour could be read into the lake",
            {"ingest_errors": errors.num_rows, "examples": errors.slice(0, MAX_FAILING_IDS).to_pylist()},
        ),
    ]


def check_records(records: pa.Table, manifest_ids: list[str], schema: pa.Schema,
                  max_quarantine_rate: float = DEFAULT_MAX_QUARANTINE_RATE) -> list[Outcome]:
    import great_expectations.expectations as gxe

    columns = ["photo_id", "status", "quarantine_reason", "width", "height", "phash", "dhash", "ahash"]
    df = records.select(columns).to_pandas(types_mapper=_NULLABLE.get)  # ints stay ints beside nulls
    shares = records.column("palette").to_pylist()
    df["palette_share_sum"] = [sum(c["share"] for c in p) if p else None for p in shares]
    df["palette_colors"] = [len(p) if p else 0 for p in shares]
    ok = df[df["status"] == "ok"].copy()
    quarantined = df[df["status"] == "quarantined"]

    record_ids, expected = set(df["photo_id"]), set(manifest_ids)
    missing, extra = sorted(expected - record_ids), sorted(record_ids - expected)
    rate = len(quarantined) / len(df) if len(df) else 0.0
    reasons = quarantined["quarantine_reason"].value_counts().to_dict()
    values = suite_outcome(
        "record_values_valid",
        "unique ids; status ok|quarantined; a reason on every quarantined row",
        df,
        [
            gxe.ExpectColumnValuesToBeUnique(column="photo_id"),
            gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["ok", "quarantined"]),
        ],
    )
    without_reason = sorted(quarantined.loc[quarantined["quarantine_reason"].isna(), "photo_id"])
    values.metadata["quarantined_without_reason"] = without_reason[:MAX_FAILING_IDS]
    values.passed = values.passed and not without_reason
    return [
        schema_outcome(records, schema),
        values,
        Outcome(
            "one_record_per_manifest_row",
            not missing and not extra and len(df) == len(manifest_ids),
            "ok + quarantined records == manifest rows, same photo ids",
            {"records": len(df), "manifest_rows": len(manifest_ids), "missing_ids": missing[:MAX_FAILING_IDS],
             "unexpected_ids": extra[:MAX_FAILING_IDS], "ok": len(ok), "quarantined": len(quarantined)},
        ),
        suite_outcome(
            "ok_records_complete",
            f"ok records: sizes 1..1e6 px, 1+ palette colours with shares summing to 1 ± {SHARE_TOLERANCE}, all three 64-bit hashes present",
            ok,
            [
                gxe.ExpectColumnValuesToBeBetween(column="width", min_value=1, max_value=1_000_000),
                gxe.ExpectColumnValuesToBeBetween(column="height", min_value=1, max_value=1_000_000),
                gxe.ExpectColumnValuesToBeBetween(column="palette_colors", min_value=1),
                gxe.ExpectColumnValuesToBeBetween(column="palette_share_sum", min_value=1 - SHARE_TOLERANCE, max_value=1 + SHARE_TOLERANCE),
                gxe.ExpectColumnValuesToNotBeNull(column="phash"),
                gxe.ExpectColumnValuesToNotBeNull(column="dhash"),
                gxe.ExpectColumnValuesToNotBeNull(column="ahash"),
            ] if not ok.empty else [gxe.ExpectTableRowCountToBeBetween(min_value=0)],
            hash_storage="int64 bit pattern of the unsigned 64-bit hash (column types enforced by the schema check)",
        ),
        Outcome(
            "quarantine_rate",
            rate <= max_quarantine_rate,
            f"share of quarantined records stays at or under {max_quarantine_rate:.0%}",
            {"quarantine_rate": round(rate, 4), "threshold": max_quarantine_rate, "by_reason": {str(k): int(v) for k, v in reasons.items()},
             "quarantined_ids": sorted(quarantined["photo_id"])[:MAX_FAILING_IDS]},
        ),
    ]


PLACE_CODE_REGEX = {"country": r"^(?:[A-Z]{2}|~unknown)$", "county": r"^(?:[0-9]{5}|~unknown)$", "admin1": r"^(?:US-[A-Z]{2}|[A-Z]{2}:.+|~unknown)$"}


def check_aggregates(aggregates: pd.DataFrame, ok_records: int) -> list[Outcome]:
    """Counts are conserved per (geo level × time level), non-negative, with valid codes."""
    import great_expectations.expectations as gxe

    photos = aggregates[aggregates["metric"] == "photos"]
    sums = photos.groupby(["geo_level", "time_level"])["count"].sum().to_dict()
    broken = {f"{g}/{t}": int(n) for (g, t), n in sums.items() if n != ok_records}
    missing_levels = [] if ok_records == 0 else sorted(
        f"{g}/{t}" for g in ("country", "admin1", "county", "city", "geohash") for t in ("month", "year", "all") if (g, t) not in sums
    )
    df = aggregates.assign(photo_id=aggregates["geo_level"] + ":" + aggregates["place"])
    codes = []
    for level, regex in PLACE_CODE_REGEX.items():
        part = df[df["geo_level"] == level]
        if not part.empty:
            codes.append(suite_outcome(f"{level}_codes", "", part, [gxe.ExpectColumnValuesToMatchRegex(column="place", regex=regex)]))
    invalid = [f for c in codes for f in c.metadata["failed"]]
    valid = suite_outcome(
        "counts_valid",
        "no negative counts or weights; ISO alpha-2 countries, 'US-XX' / 'CC:name' admin1, 5-digit FIPS counties",
        df,
        [gxe.ExpectColumnValuesToBeBetween(column="count", min_value=0), gxe.ExpectColumnValuesToBeBetween(column="weight", min_value=0)],
        invalid_codes=invalid,
    )
    valid.passed = valid.passed and not invalid
    return [
        Outcome(
            "counts_conserved",
            not broken and not missing_levels,
            "for every geo × time level, counts (with the unknown-place bucket) sum to the hour's ok records",
            {"ok_records": ok_records, "levels_off": broken, "levels_missing": missing_levels},
        ),
        valid,
    ]


def check_cube(store, expected_ok_total: int, levels=("country", "admin1", "county", "city", "geohash")) -> list[Outcome]:
    """The cube's all-time total at every level equals the ok records of every hour reduced."""
    totals = {level: int(store.total(level, "all")) for level in levels}
    off = {level: n for level, n in totals.items() if n != expected_ok_total}
    negatives = {}
    for level in levels:
        frame = store.by_period(level, "all")
        bad = frame[frame["count"] < 0]
        if not bad.empty:
            negatives[level] = bad["place"].head(MAX_FAILING_IDS).tolist()
    return [
        Outcome("cube_conserved", not off, "all-time totals at every level equal the ok records of all hours",
                {"expected": expected_ok_total, "totals": totals, "levels_off": off}),
        Outcome("cube_non_negative", not negatives, "no place has a negative count", {"negative_places": negatives}),
    ]


def combine(by_partition: dict[str, list[Outcome]]) -> list[Outcome]:
    """One outcome per check over several partitions (a backfill range run in one go).

    A single partition keeps its own metadata; several report which partitions failed and
    the first failure's details.
    """
    if len(by_partition) == 1:
        partition, outcomes = next(iter(by_partition.items()))
        for o in outcomes:
            o.metadata.setdefault("partition", partition)
        return outcomes
    merged: dict[str, Outcome] = {}
    for partition, outcomes in sorted(by_partition.items()):
        for o in outcomes:
            m = merged.setdefault(o.name, Outcome(o.name, True, o.description, {"partitions": 0, "failing_partitions": []}))
            m.metadata["partitions"] += 1
            if not o.passed:
                m.passed = False
                m.metadata["failing_partitions"].append(partition)
                m.metadata.setdefault("first_failure", {"partition": partition, **o.metadata})
    return list(merged.values())


def check_embeddings(embeddings: pa.Table, ok_ids: list[str], dim: int, norm_tolerance: float = 1e-3) -> list[Outcome]:
    """One embedding per ok record; the right dimension; unit length; no NaN."""
    ids = embeddings.column("photo_id").to_pylist()
    missing, extra = sorted(set(ok_ids) - set(ids)), sorted(set(ids) - set(ok_ids))
    vectors = embeddings.column("embedding").to_pylist()
    bad_dim, bad_norm, nan = [], [], []
    for photo_id, v in zip(ids, vectors):
        if v is None:
            continue
        arr = np.asarray(v, dtype=np.float64)
        if arr.shape != (dim,):
            bad_dim.append(photo_id)
        elif np.isnan(arr).any():
            nan.append(photo_id)
        elif abs(np.linalg.norm(arr) - 1) > norm_tolerance:
            bad_norm.append(photo_id)
    return [
        Outcome("one_embedding_per_ok_record", not missing and not extra and len(ids) == len(set(ids)),
                "every ok record of the hour has exactly one embedding row",
                {"rows": len(ids), "ok_records": len(ok_ids), "missing_ids": missing[:MAX_FAILING_IDS], "unexpected_ids": extra[:MAX_FAILING_IDS]}),
        Outcome("embeddings_valid", not (bad_dim or bad_norm or nan),
                f"{dim}-d, unit length within {norm_tolerance}, no NaN",
                {"wrong_dimension": bad_dim[:MAX_FAILING_IDS], "not_unit_length": bad_norm[:MAX_FAILING_IDS], "nan": nan[:MAX_FAILING_IDS],
                 "without_embedding": sum(v is None for v in vectors)}),
    ]


def check_index_partition(index, partition: str, ok_ids: list[str]) -> list[Outcome]:
    """Every ok record of the hour is in the index exactly once, and nothing else of the hour is."""
    indexed = index.ids(partition)
    count = index.count(partition)
    missing, extra = sorted(set(ok_ids) - indexed), sorted(indexed - set(ok_ids))
    return [Outcome(
        "every_ok_record_indexed_once",
        not missing and not extra and count == len(set(ok_ids)),
        "the hour's ok records are in the index exactly once, and nothing else of the hour",
        {"ok_records": len(ok_ids), "indexed": count, "missing_ids": missing[:MAX_FAILING_IDS], "unexpected_ids": extra[:MAX_FAILING_IDS]},
    )]
