"""Index documents from enriched records, and the Elasticsearch mapping and queries built from them."""

from datetime import datetime, timezone

import pandas as pd
import pytest

from photoatlas.colorsearch import ColorQuery, DocumentError, to_document
from photoatlas.colorsearch.documents import PLACE_FIELDS
from photoatlas.colorsearch.elastic_query import MAPPING, candidate_query, filter_clauses

RECORD = {
    "photo_id": "ab" * 32,
    "partition": "2024-05-01-12:00",
    "status": "ok",
    "source": "inbox",
    "licence": "cc-by",
    "tags": ["beach"],
    "captured_at": datetime(2024, 5, 1, 11, 59, 30, 123456, tzinfo=timezone.utc),
    "palette": [
        {"l": 50.0, "a": 0.0, "b": 0.0, "hex": "#777777", "share": 0.2},
        {"l": 65.0, "a": 40.0, "b": 60.0, "hex": "#e08a3c", "share": 0.7},
        {"l": 100.0000000001, "a": 0.0, "b": 0.0, "hex": "#ffffff", "share": 0.1},
    ],
    "color_hist": [0.1] * 8,
}


def test_document_tolerates_records_without_place_or_labels():
    doc = to_document(RECORD)
    assert all(doc[name] is None for name in PLACE_FIELDS) and doc["labels"] == []
    assert doc["photo_id"] == RECORD["photo_id"] and doc["tags"] == ["beach"]


def test_document_palette_is_sorted_by_share_with_derived_fields():
    palette = to_document(RECORD)["palette"]
    assert [c["hex"] for c in palette] == ["#e08a3c", "#777777", "#ffffff"]
    assert palette[0]["chroma"] == pytest.approx(72.11, abs=0.01)
    assert 0 <= palette[0]["hue"] < 360 and palette[2]["l"] == 100.0
    assert all(c["share"] <= c["coverage"] <= 1 for c in palette)


def test_document_keeps_place_and_labels_when_present():
    record = dict(RECORD, place_country="US", place_county="06075", place_geohash="9q8yy",
                  labels=[{"label": "dog", "score": 0.91}, ("cat", 0.2)])
    doc = to_document(record)
    assert doc["place_country"] == "US" and doc["place_geohash"] == "9q8yy"
    assert doc["labels"] == [{"label": "dog", "score": 0.91}, {"label": "cat", "score": 0.2}]


@pytest.mark.parametrize("captured", [
    datetime(2024, 5, 1, 11, 59, 30, 123456, tzinfo=timezone.utc),
    pd.Timestamp("2024-05-01T11:59:30.123456Z"),
    "2024-05-01T11:59:30.123456Z",
])
def test_capture_time_becomes_epoch_milliseconds(captured):
    assert to_document(dict(RECORD, captured_at=captured))["captured_at"] == 1714564770123
    assert to_document(dict(RECORD, captured_at=None))["captured_at"] is None
    assert to_document(dict(RECORD, captured_at=pd.NaT))["captured_at"] is None


def test_quarantined_and_broken_records_are_refused_with_the_photo_id():
    with pytest.raises(DocumentError, match="only ok records"):
        to_document(dict(RECORD, status="quarantined"))
    with pytest.raises(DocumentError, match=RECORD["photo_id"]):
        to_document(dict(RECORD, palette=[{"l": 50, "a": 300, "b": 0, "share": 1.0}]))
    with pytest.raises(DocumentError, match="non-finite"):
        to_document(dict(RECORD, palette=[{"l": float("nan"), "a": 0, "b": 0, "share": 1.0}]))
    with pytest.raises(DocumentError, match="photo_id"):
        to_document({"partition": "x"})


def test_mapping_is_strict_with_nested_palette_and_labels():
    assert MAPPING["dynamic"] == "strict"
    assert MAPPING["properties"]["palette"]["type"] == "nested"
    assert MAPPING["properties"]["labels"]["type"] == "nested"
    assert set(to_document(RECORD)) | {"index_run"} == set(MAPPING["properties"])


def test_candidate_query_has_one_nested_clause_per_colour_and_the_filters():
    query = ColorQuery.of("orange", "teal", min_share={"orange": 0.25}, place={"country": "US", "geohash": "9q"},
                          labels=("dog",), licences=("cc0",))
    body = candidate_query(query, 0.0)["bool"]["filter"]
    nested = [c for c in body if c.get("nested", {}).get("path") == "palette"]
    assert len(nested) == 2
    orange = nested[0]["nested"]["query"]["bool"]["filter"]
    assert {"range": {"palette.coverage": {"gte": 0.25 - 1e-6}}} in orange
    assert {"prefix": {"place_geohash": "9q"}} in body and {"term": {"place_country": "US"}} in body
    assert len(filter_clauses(query.filters)) == 4


def test_candidate_threshold_rises_with_tau():
    body = candidate_query(ColorQuery.of("orange"), 0.6)["bool"]["filter"][0]
    assert {"range": {"palette.coverage": {"gte": 0.6 - 1e-6}}} in body["nested"]["query"]["bool"]["filter"]


def test_a_red_query_wraps_the_hue_range_through_zero():
    body = candidate_query(ColorQuery.of("#ff0033"), 0.0)["bool"]["filter"][0]
    clauses = body["nested"]["query"]["bool"]["filter"]
    assert any("should" in c.get("bool", {}) for c in clauses)
