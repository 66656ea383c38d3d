"""The quality suites must catch what they claim to protect against."""

import pyarrow as pa
import pytest

from photoatlas.quality import check_manifest, check_records
from photoatlas.schema import MANIFEST_SCHEMA, RECORD_SCHEMA

ID = "a" * 64
ID2 = "b" * 64


def _record(photo_id=ID, status="ok", reason=None, shares=(0.5, 0.5), **extra):
    base = {
        "photo_id": photo_id, "partition": "p", "status": status, "quarantine_reason": reason,
        "width": 10, "height": 10, "phash": -1, "dhash": 0, "ahash": 1,
        "palette": [{"l": 50.0, "a": 0.0, "b": 0.0, "hex": "#777777", "share": s} for s in shares] if status == "ok" else [],
    }
    if status != "ok":
        base.update(width=None, height=None, phash=None, dhash=None, ahash=None)
    base.update(extra)
    return base


def _outcomes(rows, manifest_ids, **kw):
    table = pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)
    return {o.name: o for o in check_records(table, manifest_ids, RECORD_SCHEMA, **kw)}


def test_good_records_pass():
    outcomes = _outcomes([_record(), _record(ID2, "quarantined", "empty_file")], [ID, ID2], max_quarantine_rate=0.5)
    assert all(o.passed for o in outcomes.values()), {k: o.metadata for k, o in outcomes.items() if not o.passed}


def test_lost_and_invented_records_fail_with_their_ids():
    o = _outcomes([_record(ID2)], [ID])["one_record_per_manifest_row"]
    assert not o.passed and o.metadata["missing_ids"] == [ID] and o.metadata["unexpected_ids"] == [ID2]


def test_duplicate_ids_and_missing_reasons_fail():
    outcomes = _outcomes([_record(), _record(), _record(ID2, "quarantined", None)], [ID, ID, ID2])
    values = outcomes["record_values_valid"]
    assert not values.passed
    assert values.metadata["quarantined_without_reason"] == [ID2]
    assert values.metadata["failed"][0]["failing_ids"] == [ID]


@pytest.mark.parametrize("shares", [(0.5, 0.4), (0.7, 0.3000011)])
def test_palette_shares_must_sum_to_one(shares):
    o = _outcomes([_record(shares=shares)], [ID])["ok_records_complete"]
    assert not o.passed and o.metadata["failed"][0]["failing_ids"] == [ID]


def test_missing_hash_on_an_ok_record_fails():
    assert not _outcomes([_record(dhash=None)], [ID])["ok_records_complete"].passed


def test_quarantine_rate_warns_over_threshold():
    rows = [_record(), _record(ID2, "quarantined", "corrupt")]
    o = _outcomes(rows, [ID, ID2], max_quarantine_rate=0.25)["quarantine_rate"]
    assert not o.passed and o.metadata["by_reason"] == {"corrupt": 1} and o.metadata["quarantine_rate"] == 0.5


def test_schema_drift_fails():
    table = pa.Table.from_pylist([_record()], schema=RECORD_SCHEMA)
    drifted = table.set_column(table.schema.get_field_index("phash"), "phash", table.column("phash").cast(pa.float64()))
    o = {x.name: x for x in check_records(drifted, [ID], RECORD_SCHEMA)}["schema"]
    assert not o.passed and o.metadata["type_mismatches"] == ["phash"]


def test_manifest_checks():
    errors = pa.table({"partition": ["p"], "source": ["inbox"], "source_id": ["x.jpg"], "reason": ["unreadable"]})
    good = pa.Table.from_pylist([{"photo_id": ID, "source": "inbox", "bytes": 3}], schema=MANIFEST_SCHEMA)
    bad = pa.Table.from_pylist([{"photo_id": "XYZ", "source": None, "bytes": -1}], schema=MANIFEST_SCHEMA)
    ok = {o.name: o for o in check_manifest(good, errors.slice(0, 0), MANIFEST_SCHEMA)}
    assert all(o.passed for o in ok.values())
    failed = {o.name: o for o in check_manifest(bad, errors, MANIFEST_SCHEMA)}
    assert not failed["manifest_rows_valid"].passed and not failed["no_ingest_errors"].passed
    assert {f["expectation"] for f in failed["manifest_rows_valid"].metadata["failed"]} == {
        "expect_column_values_to_match_regex", "expect_column_values_to_be_between", "expect_column_values_to_not_be_null"}
