"""The Elasticsearch colour index against a real ES-API server (noida-db) on loopback."""

import uuid

import pytest

from photoatlas.colorsearch import BulkIndexError, ColorIndex, ColorQuery, EmbeddedColorIndex, to_document
from photoatlas.colorsearch.elastic import ElasticColorIndex
from photoatlas.colorsearch.synthetic import random_records

pytestmark = pytest.mark.integration

HOUR_A, HOUR_B = "2024-05-01-12:00", "2024-05-01-13:00"


@pytest.fixture(scope="module")
def docs():
    return ([to_document(r) for r in random_records(180, seed=21, partition=HOUR_A)]
            + [to_document(r) for r in random_records(120, seed=22, partition=HOUR_B)])


@pytest.fixture(scope="module")
def loaded(elasticsearch_server, docs, tmp_path_factory):  # noqa: F811
    """One ES index and one embedded index holding the same documents, for read-only tests."""
    es = ElasticColorIndex(elasticsearch_server.client(), alias=f"colors-{uuid.uuid4().hex[:8]}")
    es.ensure()
    es.upsert(docs)
    embedded = EmbeddedColorIndex(tmp_path_factory.mktemp("embedded"))
    embedded.ensure()
    embedded.upsert(docs)
    return es, embedded


@pytest.fixture
def fresh(elasticsearch_server):  # noqa: F811
    """An empty ES colour index of its own, for tests that write."""
    index = ElasticColorIndex(elasticsearch_server.client(), alias=f"colors-{uuid.uuid4().hex[:8]}")
    index.ensure()
    return index


def test_mapping_is_applied_behind_the_alias(loaded):
    es, _ = loaded
    assert isinstance(es, ColorIndex)
    assert es.current_index() == f"{es.alias}-v1"
    mapping = es.es.indices.get_mapping(index=es.alias)[es.current_index()]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["palette"]["type"] == "nested"
    assert mapping["properties"]["palette"]["properties"]["coverage"]["type"] == "float"
    es.ensure()  # idempotent
    assert es.current_index() == f"{es.alias}-v1"


def test_count_and_ids_per_partition(loaded, docs):
    es, _ = loaded
    assert es.count() == 300 and es.count(HOUR_A) == 180 and es.count("1999-01-01-00:00") == 0
    assert es.ids(HOUR_B) == {d["photo_id"] for d in docs if d["partition"] == HOUR_B}


QUERIES = [
    ColorQuery.of("orange"),
    ColorQuery.of("teal"),
    ColorQuery.of("grey"),
    ColorQuery.of("#3050a0", min_share=0.2),
    ColorQuery.of("pink", "grey"),
    ColorQuery.of("olive", "#404040", min_share={"olive": 0.1}),
    ColorQuery.of("white", place={"country": "US"}, sources=("flickr", "inbox")),
    ColorQuery.of("#e0c0a0", labels=("dog",), captured_from="2024-01-01T00:00:00Z"),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "+".join(c.text for c in q.colors))
def test_elasticsearch_and_embedded_agree_on_the_top_10(loaded, query):
    es, embedded = loaded
    from_es, from_embedded = es.search(query, 10), embedded.search(query, 10)
    assert from_es, "every test query should match something"
    assert [(h.photo_id, h.score) for h in from_es] == [(h.photo_id, h.score) for h in from_embedded]
    assert from_es[0].matches == from_embedded[0].matches


def test_bulk_with_partial_failures_names_the_ids(fresh, docs):
    bad = [dict(docs[0], photo_id="bad-date", captured_at="not a date"),
           dict(docs[1], photo_id="bad-colour", palette=[dict(docs[1]["palette"][0], l="light")])]
    with pytest.raises(BulkIndexError) as err:
        fresh.upsert(docs[2:12] + bad)
    assert set(err.value.failed) == {"bad-date", "bad-colour"}
    assert "bad-date" in str(err.value) and err.value.written == 10
    assert fresh.count() == 10


def test_reindexing_a_partition_is_idempotent_and_exact(fresh, docs):
    hour_a = [d for d in docs if d["partition"] == HOUR_A]
    fresh.replace_partition(HOUR_A, hour_a)
    fresh.replace_partition(HOUR_A, hour_a)
    fresh.upsert(hour_a[:20])
    assert fresh.count() == len(hour_a) == len(fresh.ids(HOUR_A))
    fresh.replace_partition(HOUR_A, hour_a[:100])
    assert fresh.ids(HOUR_A) == {d["photo_id"] for d in hour_a[:100]}
    assert fresh.delete_partition(HOUR_A) == 100 and fresh.count() == 0


def test_replace_partition_keeps_the_last_good_version_of_a_failing_document(fresh, docs):
    hour_a = [d for d in docs if d["partition"] == HOUR_A]
    fresh.replace_partition(HOUR_A, hour_a[:60])
    broken = dict(hour_a[0], captured_at="not a date")
    with pytest.raises(BulkIndexError) as err:
        fresh.replace_partition(HOUR_A, [broken] + hour_a[1:30])
    assert set(err.value.failed) == {hour_a[0]["photo_id"]}
    assert fresh.ids(HOUR_A) == {d["photo_id"] for d in hour_a[:30]}


def test_alias_switch_keeps_documents_and_moves_writes(fresh, docs):
    fresh.upsert(docs[:40])
    before = fresh.search(ColorQuery.of("orange"), 5)
    assert fresh.reindex_to(2) == f"{fresh.alias}-v2"
    assert fresh.current_index() == f"{fresh.alias}-v2" and fresh.count() == 40
    assert fresh.search(ColorQuery.of("orange"), 5) == before
    fresh.upsert(docs[40:45])
    assert fresh.es.count(index=f"{fresh.alias}-v2")["count"] == 45
    assert fresh.es.count(index=f"{fresh.alias}-v1")["count"] == 40  # the old index stays until dropped
