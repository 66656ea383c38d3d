"""The S3 lake against a real S3-protocol server on loopback."""

import threading
import uuid

import pyarrow as pa
import pytest

from photoatlas.lake import KeyNotFound, lake_from_spec, table_key
from photoatlas.s3lake import S3Lake

pytestmark = pytest.mark.integration


@pytest.fixture
def lake(s3_env):
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    s3_env.client().create_bucket(Bucket=bucket)
    return S3Lake(bucket=bucket, prefix="photoatlas", endpoint_url=s3_env.endpoint, region="us-east-1")


def test_bytes_and_tables_round_trip(lake):
    lake.put("objects/ab/abc", b"\x00\x01photo")
    assert lake.get("objects/ab/abc") == b"\x00\x01photo"
    assert lake.exists("objects/ab/abc") and not lake.exists("objects/ab/nope")
    key = table_key("records", "2026-01-01-10:00")
    lake.write_table(key, pa.table({"x": [1, 2, 3]}))
    lake.write_table(key, pa.table({"x": [4]}))
    assert lake.read_table(key).column("x").to_pylist() == [4]
    assert lake.list("tables/") == [key]
    assert lake.uri(key).startswith(f"s3://{lake.bucket}/photoatlas/tables/")
    with pytest.raises(KeyNotFound):
        lake.get("missing")
    lake.delete(key)
    assert lake.list("tables/") == []


def test_put_if_absent_keeps_the_first_write(lake):
    assert lake.put_if_absent("objects/first.json", b"1")
    assert not lake.put_if_absent("objects/first.json", b"2")
    assert lake.get("objects/first.json") == b"1"


def test_listing_pages_past_1000_keys(lake):
    keys = [f"many/{i:05d}" for i in range(1100)]
    threads = [threading.Thread(target=lambda chunk=keys[i::8]: [lake.put(k, b"") for k in chunk]) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert lake.list("many/") == keys


def test_lake_survives_pickling_to_executors(lake):
    import pickle

    lake.put("k", b"v")
    clone = pickle.loads(pickle.dumps(lake))
    assert clone.get("k") == b"v"
    assert lake_from_spec(lake.spec()).get("k") == b"v"
