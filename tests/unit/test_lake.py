import threading

import pyarrow as pa
import pytest

from photoatlas.lake import KeyNotFound, LocalLake, lake_from_spec, lake_from_url, table_key


def test_put_get_list_delete(tmp_path):
    lake = LocalLake(str(tmp_path))
    lake.put("a/b/c.bin", b"123")
    lake.put("a/d.bin", b"4")
    assert lake.get("a/b/c.bin") == b"123"
    assert lake.list("a/") == ["a/b/c.bin", "a/d.bin"]
    assert lake.list("a/b") == ["a/b/c.bin"]
    lake.delete("a/d.bin")
    assert not lake.exists("a/d.bin")
    with pytest.raises(KeyNotFound):
        lake.get("a/d.bin")


def test_put_if_absent_has_exactly_one_winner(tmp_path):
    lake = LocalLake(str(tmp_path))
    wins = []
    threads = [threading.Thread(target=lambda i=i: wins.append(lake.put_if_absent("k", str(i).encode()))) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_keys_cannot_escape_the_root(tmp_path):
    lake = LocalLake(str(tmp_path / "lake"))
    for bad in ("../x", "/etc/passwd", "a/../../x"):
        with pytest.raises(ValueError):
            lake.put(bad, b"")


def test_tables_round_trip_and_replace_whole(tmp_path):
    lake = LocalLake(str(tmp_path))
    key = table_key("records", "2026-01-01-10:00")
    assert ":" not in key
    lake.write_table(key, pa.table({"x": [1, 2]}))
    lake.write_table(key, pa.table({"x": [3]}))
    assert lake.read_table(key).column("x").to_pylist() == [3]


def test_spec_and_url_round_trip(tmp_path):
    lake = lake_from_url(str(tmp_path))
    assert lake_from_spec(lake.spec()) == lake
    s3 = lake_from_url("s3://bucket/some/prefix", endpoint_url="http://127.0.0.1:1")
    assert s3.spec()["bucket"] == "bucket" and s3.spec()["prefix"] == "some/prefix"
    assert lake_from_spec(s3.spec()).uri("x") == "s3://bucket/some/prefix/x"
