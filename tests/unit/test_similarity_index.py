"""The persisted index: incremental and idempotent partitions, shared hashes, compaction."""

import importlib.util

import numpy as np
import pyarrow as pa
import pytest

from photoatlas.imaging.hashes import to_int64
from photoatlas.similarity import SimilarityIndex, find_similar_features
from photoatlas.similarity.table import EMBEDDINGS_SCHEMA

MODEL = "efficientnet-lite0/test"


def _unit(rng, n):
    v = rng.standard_normal((n, 1280)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _table(ids, hashes, vectors=None, model=MODEL):
    n = len(ids)
    emb = (
        pa.FixedSizeListArray.from_arrays(pa.array(np.asarray(vectors, np.float32).ravel()), 1280)
        if vectors is not None
        else pa.nulls(n, EMBEDDINGS_SCHEMA.field("embedding").type)
    )
    return pa.Table.from_arrays(
        [
            pa.array(ids, pa.string()),
            pa.array([to_int64(h) for h in hashes], pa.int64()),
            pa.array([to_int64(h ^ 0x5555555555555555) for h in hashes], pa.int64()),
            emb,
            pa.nulls(n, EMBEDDINGS_SCHEMA.field("class_probs").type),
            pa.array([model if vectors is not None else None] * n, pa.string()),
        ],
        schema=EMBEDDINGS_SCHEMA,
    )


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_re_adding_a_partition_changes_nothing(tmp_path, rng):
    ix = SimilarityIndex(tmp_path / "ix")
    t = _table(["a", "b", "c"], [1, 2, 2**64 - 1], _unit(rng, 3))
    assert ix.add_partition("2024-05-01-10:00", t) is True
    before = sorted(p.name for p in (tmp_path / "ix").rglob("*"))
    manifest = (tmp_path / "ix" / "manifest.json").read_text()
    assert ix.add_partition("2024-05-01-10:00", t) is False
    assert ix.add_partition("2024-05-01-10:00", t.take([2, 0, 1])) is False  # row order is not content
    assert sorted(p.name for p in (tmp_path / "ix").rglob("*")) == before
    assert (tmp_path / "ix" / "manifest.json").read_text() == manifest
    assert len(SimilarityIndex(tmp_path / "ix")) == 3


def test_a_reader_sees_new_partitions_after_refresh(tmp_path, rng):
    writer, reader = SimilarityIndex(tmp_path / "ix"), SimilarityIndex(tmp_path / "ix")
    writer.add_partition("h1", _table(["a"], [1], _unit(rng, 1)))
    assert len(reader) == 1 and reader.refresh() is False
    writer.add_partition("h2", _table(["b"], [2], _unit(rng, 1)))
    assert len(reader) == 1  # a loaded index is a snapshot ...
    assert reader.refresh() is True and len(reader) == 2  # ... until refreshed


def test_re_materialised_partition_replaces_its_rows(tmp_path, rng):
    ix = SimilarityIndex(tmp_path / "ix")
    ix.add_partition("h1", _table(["a", "b"], [10, 20], _unit(rng, 2)))
    ix.add_partition("h2", _table(["c"], [30], _unit(rng, 1)))
    assert ix.add_partition("h1", _table(["a", "d"], [10, 40], _unit(rng, 2))) is True
    ix = SimilarityIndex(tmp_path / "ix")
    assert sorted(ix.photo_ids(range(len(ix)))) == ["a", "c", "d"]
    assert ix.remove_partition("h2") and sorted(ix.photo_ids(range(len(ix)))) == ["a", "d"]
    assert len(list((tmp_path / "ix" / "segments").iterdir())) == 1  # the replaced segments are gone


def test_identical_images_never_overwrite_each_other(tmp_path, rng):
    same = 0xDEADBEEF12345678
    ix = SimilarityIndex(tmp_path / "ix")
    vec = _unit(rng, 1)
    ix.add_partition("h1", _table(["p1", "p2"], [same, same], np.vstack([vec, vec])))
    ix.add_partition("h2", _table(["p3"], [same], vec))
    rows, dist = ix.hash_search(same, None, 0)
    assert sorted(ix.photo_ids(rows)) == ["p1", "p2", "p3"] and dist.tolist() == [0, 0, 0]
    found = find_similar_features(None, same, None, vec[0], ix, limit=10)
    assert sorted(c["photo_id"] for c in found["copies"]) == ["p1", "p2", "p3"]
    assert {c["verdict"] for c in found["copies"]} == {"copy"}


def test_exact_duplicate_is_reported_by_sha256(tmp_path, rng):
    vec = np.vstack([_unit(rng, 1)] * 2)  # the same picture saved twice with different bytes
    ix = SimilarityIndex(tmp_path / "ix")
    ix.add_partition("h1", _table(["f" * 64, "e" * 64], [5, 5], vec))
    found = find_similar_features("f" * 64, 5, None, vec[0], ix)
    assert found["exact"] == [{"photo_id": "f" * 64, "verdict": "exact"}]
    assert [c["photo_id"] for c in found["copies"]] == ["e" * 64]


def test_candidates_are_confirmed_by_embeddings(tmp_path, rng):
    v = _unit(rng, 3)
    query = v[0]
    near_same = query * 0.95 + v[1] * 0.05
    near_same /= np.linalg.norm(near_same)
    lookalike = 0.3 * query + np.sqrt(1 - 0.09) * (v[2] - (v[2] @ query) * query) / np.linalg.norm(
        v[2] - (v[2] @ query) * query
    )
    assert float(lookalike @ query) == pytest.approx(0.3, abs=1e-5)
    ix = SimilarityIndex(tmp_path / "ix")
    base = 0x0F0F0F0F0F0F0F0F
    hashes = [base ^ 0b111, base ^ 0b1011, ~base & (2**64 - 1)]
    ix.add_partition("h1", _table(["copy", "lookalike", "far"], hashes, np.vstack([near_same, lookalike, near_same])))
    found = find_similar_features(None, base, None, query, ix)
    verdicts = {c["photo_id"]: c["verdict"] for c in found["copies"]}
    assert verdicts == {"copy": "copy"}  # "lookalike" shares the hash but not the picture; "far" is 64 bits away
    assert {s["photo_id"] for s in found["similar"]} == {"lookalike", "far"}


@pytest.mark.parametrize(
    "distance, cosine, expected",
    [
        (0, 0.45, None),  # same hash, different picture (flat or synthetic images)
        (3, 0.55, "copy"),
        (10, 0.74, "near-miss"),
        (10, 0.80, "copy"),
        (20, 0.85, "near-miss"),
        (20, 0.92, "copy"),  # heavy overlay: far hash, same picture
        (30, 0.99, None),  # same subject, another photo
        (5, float("nan"), "copy"),  # no embedding: the hash alone, strictly
        (10, float("nan"), "near-miss"),
        (20, float("nan"), None),
    ],
)
def test_verdict_table(distance, cosine, expected):
    from photoatlas.similarity.verdict import verdict

    assert verdict(distance, cosine) == expected


def test_rows_without_embeddings_use_a_strict_hash_rule(tmp_path):
    ix = SimilarityIndex(tmp_path / "ix")
    ix.add_partition("h1", _table(["near", "mid"], [0b11, 0xFF], None))
    found = find_similar_features(None, 0, None, None, ix)
    assert [(c["photo_id"], c["verdict"]) for c in found["copies"]] == [("near", "copy"), ("mid", "near-miss")]


def test_compaction_keeps_every_answer(tmp_path, rng):
    ix = SimilarityIndex(tmp_path / "ix")
    hashes = rng.integers(0, 2**64, 60, dtype=np.uint64)
    vecs = _unit(rng, 60)
    for h in range(6):
        sl = slice(h * 10, h * 10 + 10)
        ix.add_partition(
            f"h{h}", _table([f"p{i}" for i in range(sl.start, sl.stop)], [int(x) for x in hashes[sl]], vecs[sl])
        )
    ix.add_partition("h2", _table(["p20", "p21"], [int(hashes[20]), int(hashes[21])], vecs[20:22]))  # leaves dead rows
    queries = [(int(hashes[i]), vecs[i]) for i in (0, 21, 55)]
    before = [find_similar_features(None, q, None, v, ix) for q, v in queries]
    ix.compact()
    assert len(list((tmp_path / "ix" / "segments").iterdir())) == 1
    ix = SimilarityIndex(tmp_path / "ix")
    assert len(ix) == 52
    assert [find_similar_features(None, q, None, v, ix) for q, v in queries] == before
    assert (
        ix.add_partition("h3", _table([f"p{i}" for i in range(30, 40)], [int(x) for x in hashes[30:40]], vecs[30:40]))
        is False
    )


def test_embeddings_of_another_model_are_refused(tmp_path, rng):
    ix = SimilarityIndex(tmp_path / "ix")
    ix.add_partition("h1", _table(["a"], [1], _unit(rng, 1)))
    with pytest.raises(ValueError, match="rebuild"):
        ix.add_partition("h2", _table(["b"], [2], _unit(rng, 1), model="other/1"))


@pytest.mark.skipif(importlib.util.find_spec("usearch") is None, reason="usearch not installed: pip install usearch")
def test_hnsw_vectors_agree_with_exact_search_and_persist(tmp_path, rng):
    vecs = _unit(rng, 300)
    t = _table([f"p{i:03d}" for i in range(300)], [int(x) for x in rng.integers(0, 2**64, 300, dtype=np.uint64)], vecs)
    exact = SimilarityIndex(tmp_path / "exact", vectors="exact")
    exact.add_partition("h1", t)
    hnsw = SimilarityIndex(tmp_path / "hnsw", vectors="hnsw")
    hnsw.add_partition("h1", t)
    assert (tmp_path / "hnsw" / "vectors.usearch").exists()
    reopened = SimilarityIndex(tmp_path / "hnsw", vectors="hnsw")
    for i in (0, 17, 299):
        q = vecs[i] + 0.05 * _unit(rng, 1)[0]
        q /= np.linalg.norm(q)
        want = exact.photo_ids(exact.neighbours(q, 3)[0])
        assert reopened.photo_ids(reopened.neighbours(q, 3)[0])[0] == want[0] == f"p{i:03d}"
    hnsw.remove_partition("h1")
    assert len(SimilarityIndex(tmp_path / "hnsw", vectors="hnsw").neighbours(vecs[0], 3)[0]) == 0
