"""embeddings → similarity_index: the planted copy is found, concepts score, re-runs change nothing."""

import hashlib
import json

import pytest
from dagster import DagsterInstance, materialize

from assets.embeddings import embeddings
from assets.enriched_records import enriched_records
from assets.raw_photos import raw_photos
from assets.similarity_index import similarity_index
from photoatlas.lake import LocalLake, table_key
from photoatlas.similarity.search import find_similar
from tests.dagster.conftest import drop

pytestmark = pytest.mark.dagster
HOUR = "2026-06-01-10:00"
NAMES = {"chelsea.jpg", "coffee.jpg", "china.jpg", "astronaut.jpg", "empty.jpg"}


def test_embeddings_feed_copy_detection_and_concepts(home, resources, sample_dir, capsys):
    root, _ = sample_dir
    drop(root, home.inbox, HOUR, names=NAMES)
    with DagsterInstance.ephemeral() as instance:
        result = materialize([raw_photos, enriched_records, embeddings], partition_key=HOUR, resources=resources, instance=instance)
        assert result.success
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations() if e.asset_key.path[-1] == "embeddings"}
        assert checks == {"one_embedding_per_ok_record": True, "embeddings_valid": True}
        first = materialize([similarity_index], resources=resources, instance=instance)
        assert first.success and all(e.passed for e in first.get_asset_check_evaluations())
        again = materialize([similarity_index], resources=resources, instance=instance)
        meta = again.asset_materializations_for_node("similarity_index")[0].metadata
        assert meta["mode"].value == "incremental" and meta["partitions_added_or_replaced"].value == 0

    lake = LocalLake(str(home.lake))
    assert lake.read_table(table_key("embeddings", HOUR)).num_rows == 4  # the empty file is quarantined
    content = {r["photo_id"]: r for r in lake.read_table(table_key("content", HOUR)).to_pylist()}
    chelsea_id = hashlib.sha256((root / "chelsea.jpg").read_bytes()).hexdigest()
    cat = next(c["score"] for c in content[chelsea_id]["concepts"] if c["name"] == "cat")
    assert cat > 0.5
    assert content[hashlib.sha256((root / "astronaut.jpg").read_bytes()).hexdigest()]["face_count"] >= 1

    index = resources["similarity"].index()
    assert len(index) == 4
    found = find_similar((root / "copy_of_chelsea_small.jpg").read_bytes(), index)
    assert found["exact"] == []
    assert found["copies"][0]["photo_id"] == chelsea_id and found["copies"][0]["verdict"] == "copy"
    assert find_similar((root / "chelsea.jpg").read_bytes(), index)["exact"][0]["photo_id"] == chelsea_id

    from pipelines.cli import main

    assert main(["labels", "--concept", "cat", "--min-score", "0.5", "--json"]) == 0
    assert [h["photo_id"] for h in json.loads(capsys.readouterr().out)] == [chelsea_id]
    assert main(["labels", "--concept", "unicorn"]) == 2 and "unknown concept" in capsys.readouterr().err
    assert main(["similar", str(root / "copy_of_chelsea_small.jpg")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["exact duplicates: none", "copies:"] and lines[2].split()[:2] == [chelsea_id[:16], "copy"]
    assert main(["similar", str(root / "copy_of_chelsea_small.jpg"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["copies"][0]["photo_id"] == chelsea_id
