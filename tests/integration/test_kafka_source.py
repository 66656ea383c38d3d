"""The Kafka source against a real Kafka-protocol broker (Tansu) on loopback, images from a local CDN."""

import json
import uuid
from datetime import datetime, timezone

import pytest

from photoatlas.sources import collect
from photoatlas.sources.http import HttpClient, HttpPolicy
from photoatlas.sources.kafka import KafkaSource
from tests.servers.http_fakes import FakeTime, Reply, jpeg

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)
FAST = HttpPolicy(connect_timeout_s=2, read_timeout_s=1, total_timeout_s=5, max_attempts=2)


@pytest.fixture
def topic(kafka):
    name = f"photos-{uuid.uuid4().hex[:8]}"
    kafka.create_topic(name, partitions=2)
    return name


def source(kafka, topic, group="atlas", **kw) -> KafkaSource:
    return KafkaSource(kafka.bootstrap, topic, f"{group}-{topic}", http=HttpClient(FAST, sleep=FakeTime().sleep),
                       clock=lambda: NOW, max_wait_s=15, **kw)


def ref(cdn, i, **extra) -> str:
    return json.dumps({"id": f"k{i}", "url": cdn.url(f"/photo-k{i}?w=32"), **extra})


def test_good_and_bad_messages_then_a_restart_takes_nothing_twice(kafka, topic, cdn):
    kafka.produce(topic, [
        ref(cdn, 1, meta={"title": "Quay", "tags": ["harbour", "boats"], "lat": 48.38, "lon": -4.49}),
        "this is not json",
        json.dumps({"id": "k3", "title": "no url"}),
        ref(cdn, 4, licence="CC BY 4.0"),
        b"\xff\xfe not utf-8",
        json.dumps(["a", "list"]),
        json.dumps({"url": cdn.url("/photo-anon")}),
    ], partition=0)
    with source(kafka, topic) as src:
        batch = collect(src, {})
        src.commit(batch.cursor)  # after hand-over
    assert [a.source_id for a in batch.arrivals] == ["k1", "k4"]
    codes = sorted((f.code, f.source_id) for f in batch.failures)
    assert codes == [("missing_id", f"{topic}/0@6"), ("missing_url", "k3"), ("not_json", f"{topic}/0@1"),
                     ("not_json", f"{topic}/0@4"), ("not_json_object", f"{topic}/0@5")]
    assert "not UTF-8" in next(f.reason for f in batch.failures if f.source_id.endswith("@4"))
    a = batch.arrivals[0]
    assert a.meta["title"] == "Quay" and a.meta["tags"] == ["harbour", "boats"] and a.meta["lat"] == 48.38
    assert a.meta["kafka_ref"] == f"{topic}/0@0" and a.read()[:3] == b"\xff\xd8\xff"
    assert batch.arrivals[1].meta["licence"] == "CC BY 4.0"
    assert batch.cursor["offsets"] == {f"{topic}:0": 7}

    kafka.produce(topic, [ref(cdn, 8)], partition=1)
    with source(kafka, topic) as src:  # a restart: only the committed offsets are known
        again = collect(src, {})
        src.commit(again.cursor)
    assert [a.source_id for a in again.arrivals] == ["k8"] and again.failures == []


def test_without_a_commit_the_messages_come_again(kafka, topic, cdn):
    kafka.produce(topic, [ref(cdn, i) for i in range(3)], partition=0)
    with source(kafka, topic) as src:
        first = collect(src, {})
    with source(kafka, topic) as src:  # the run died before hand-over: nothing was committed
        second = collect(src, {})
    assert [a.source_id for a in first.arrivals] == [a.source_id for a in second.arrivals] == ["k0", "k1", "k2"]
    assert [a.read() for a in first.arrivals] == [a.read() for a in second.arrivals], "same bytes: deduplicated by hash"


def test_a_cursor_ahead_of_the_committed_offsets_wins(kafka, topic, cdn):
    kafka.produce(topic, [ref(cdn, i) for i in range(20, 24)], partition=1)
    with source(kafka, topic) as src:
        first = collect(src, {}, limit=2)  # stored by the caller, but the commit was lost
    with source(kafka, topic) as src:
        second = collect(src, json.loads(json.dumps(first.cursor)))
    assert [a.source_id for a in first.arrivals] == ["k20", "k21"]
    assert [a.source_id for a in second.arrivals] == ["k22", "k23"]


def test_batches_over_partitions_with_object_keys_exactly_once_when_committed(kafka, topic, cdn):
    store = {f"landing/{i}.jpg": jpeg(f"obj{i}") for i in range(6)}
    kafka.produce(topic, [json.dumps({"id": f"o{i}", "key": f"landing/{i}.jpg"}) for i in range(0, 6, 2)], partition=0)
    kafka.produce(topic, [json.dumps({"id": f"o{i}", "key": f"landing/{i}.jpg"}) for i in range(1, 6, 2)]
                  + [json.dumps({"id": "o9", "key": "landing/none.jpg"})], partition=1)
    taken, failures, cursor = [], [], {}
    for _ in range(5):
        with source(kafka, topic, object_getter=store.__getitem__) as src:
            batch = collect(src, json.loads(json.dumps(cursor)), limit=2)
            src.commit(batch.cursor)
        taken += [a.source_id for a in batch.arrivals]
        failures += batch.failures
        cursor = batch.cursor
    assert sorted(taken) == [f"o{i}" for i in range(6)]
    assert [(f.source_id, f.code) for f in failures] == [("o9", "object_missing")]


def test_a_cdn_outage_is_retried_from_the_cursor_after_the_offsets_moved_on(kafka, topic, cdn):
    cdn.script("/photo-k50", *[Reply(503, b"busy")] * 2)
    kafka.produce(topic, [ref(cdn, 50), ref(cdn, 51)], partition=0)
    with source(kafka, topic) as src:
        batch = collect(src, {})
        src.commit(batch.cursor)
    assert [a.source_id for a in batch.arrivals] == ["k51"]
    assert [(f.source_id, f.code, f.retryable) for f in batch.failures] == [("k50", "http_503", True)]
    assert batch.cursor["retry"][0]["item"]["ref"] == f"{topic}/0@0"
    with source(kafka, topic) as src:
        again = collect(src, batch.cursor)
    assert [a.source_id for a in again.arrivals] == ["k50"] and "retry" not in again.cursor


def test_a_topic_that_does_not_exist_yet_is_simply_empty(kafka):
    with source(kafka, f"absent-{uuid.uuid4().hex[:6]}") as src:
        items, cursor = src.list_new({}, 10)
    assert items == [] and cursor == {"offsets": {}}


def test_backlog_counts_from_where_the_next_pull_starts_without_polling(kafka, topic, cdn):
    for i in range(3):  # one batch each: Tansu reports the high watermark as the last batch's base offset + 1
        kafka.produce(topic, [ref(cdn, 60 + i)], partition=0)
    kafka.produce(topic, [ref(cdn, 70)], partition=1)
    with source(kafka, topic) as src:
        assert src.backlog() == {f"{topic}:0": 3, f"{topic}:1": 1}  # never committed: from the low watermark
        assert src.positions() == {f"{topic}:0": (0, 3), f"{topic}:1": (0, 1)}
        ahead = {"offsets": {f"{topic}:0": 2}}  # a cursor ahead of the (absent) commit wins
        assert src.backlog(ahead) == {f"{topic}:0": 1, f"{topic}:1": 1}
        assert src.consumer().assignment() == []  # metadata and offsets only
        src.commit({"offsets": {f"{topic}:0": 1, f"{topic}:1": 1}})
    with source(kafka, topic) as src:
        assert src.backlog() == {f"{topic}:0": 2, f"{topic}:1": 0}
        assert src.backlog({"offsets": {f"{topic}:0": 0}}) == {f"{topic}:0": 2, f"{topic}:1": 0}  # committed is later
        batch = collect(src, {})
        src.commit(batch.cursor)
        assert [a.source_id for a in batch.arrivals] == ["k61", "k62"]
        assert src.backlog() == {f"{topic}:0": 0, f"{topic}:1": 0}
    with source(kafka, f"absent-{uuid.uuid4().hex[:6]}") as src:
        assert src.backlog() == {}


def test_backlog_says_when_the_broker_does_not_answer():
    from photoatlas.sources.kafka_backlog import BrokerUnavailable
    from tests.servers._proc import free_port

    with KafkaSource(f"127.0.0.1:{free_port()}", "photos", "atlas") as src:
        with pytest.raises(BrokerUnavailable, match="127.0.0.1"):
            src.backlog(timeout_s=0.5)


def test_object_keys_are_read_from_the_s3_bucket_of_the_kafka_objects_setting(kafka, topic, s3_env, monkeypatch):
    """PHOTOATLAS_KAFKA_OBJECTS=s3://bucket/prefix: bare keys under the prefix, s3:// URLs of any bucket."""
    from resources.sources import sources_from_env

    landing, other = f"landing-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    s3 = s3_env.client()
    for bucket in (landing, other):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=landing, Key="kafka/in/1.jpg", Body=jpeg("s3-1"))
    s3.put_object(Bucket=other, Key="x/2.jpg", Body=jpeg("s3-2"))
    kafka.produce(topic, [json.dumps({"id": "s1", "key": "in/1.jpg"}),
                          json.dumps({"id": "s2", "url": f"s3://{other}/x/2.jpg"}),
                          json.dumps({"id": "s3", "key": "in/none.jpg"})], partition=0)
    for name, value in {"PHOTOATLAS_KAFKA_BOOTSTRAP": kafka.bootstrap, "PHOTOATLAS_KAFKA_TOPIC": topic,
                        "PHOTOATLAS_KAFKA_OBJECTS": f"s3://{landing}/kafka", "PHOTOATLAS_S3_ENDPOINT": s3_env.endpoint}.items():
        monkeypatch.setenv(name, value)  # credentials and AWS_REGION: s3_env, as for the lake
    with sources_from_env().build("kafka") as src:
        batch = collect(src, {})
    assert {a.source_id: a.read() for a in batch.arrivals} == {"s1": jpeg("s3-1"), "s2": jpeg("s3-2")}
    assert [(f.source_id, f.code, f.retryable) for f in batch.failures] == [("s3", "object_missing", False)]
