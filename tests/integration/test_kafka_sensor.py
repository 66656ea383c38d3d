"""The Kafka sensor against a real broker (Tansu): one kafka_pull per backlog, offsets committed after landing."""

import json
import uuid

import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    MetadataValue,
    RunRequest,
    SkipReason,
    build_sensor_context,
    materialize,
)

from assets.sources import pull_assets
from photoatlas.landing import FAILURES_SUFFIX
from photoatlas.sources.kafka import KafkaSource
from resources.inbox import InboxResource
from resources.sources import SourcesResource
from sensors.kafka_sensor import CONSUMER_TAG, REQUEST_TAG, kafka_sensor

pytestmark = pytest.mark.integration
KAFKA_PULL = next(a for a in pull_assets if a.key == AssetKey("kafka_pull"))


@pytest.fixture
def topic(kafka):
    name = f"refs-{uuid.uuid4().hex[:8]}"
    kafka.create_topic(name, partitions=2)
    return name


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def send(kafka, topic, values, partition=0):
    # One produce (one record batch) per message: Tansu reports the high watermark as the last
    # batch's base offset + 1, so a multi-record batch would hide part of the backlog.
    for v in values:
        kafka.produce(topic, [v], partition=partition)


def ref(cdn, i) -> str:
    return json.dumps({"id": f"r{i}", "url": cdn.url(f"/photo-r{i}?w=32"), "title": f"ref {i}"})


def sources(kafka, topic, **kw) -> SourcesResource:
    return SourcesResource(kafka_bootstrap=kafka.bootstrap, kafka_topic=topic, kafka_group=f"atlas-{topic}", **kw)


def tick(instance, res, cursor=None):
    ctx = build_sensor_context(instance=instance, cursor=cursor, resources={"sources": res})
    result = kafka_sensor(ctx)
    if isinstance(result, SkipReason):
        return [], result.skip_message, cursor
    skip = result.skip_reason.skip_message if result.skip_reason else None
    return list(result.run_requests or []), skip, result.cursor


def add_run(instance, status, tags=None, selection=frozenset({AssetKey("kafka_pull")})):
    instance.add_run(DagsterRun(job_name="pull_job", run_id=str(uuid.uuid4()), status=status, tags=tags or {},
                                asset_selection=selection))


def record_pull(instance, cursor):
    """A kafka_pull materialisation that stored ``cursor``, as the asset does."""
    metadata = {"cursor": MetadataValue.json(cursor)}
    instance.report_runless_asset_event(AssetMaterialization("kafka_pull", metadata=metadata))


def test_one_request_per_backlog_then_pulled_committed_and_quiet(kafka, topic, cdn, instance, tmp_path):
    res = sources(kafka, topic)
    send(kafka, topic, [ref(cdn, 1), "not json at all", json.dumps({"id": "r3", "title": "no url"})], partition=0)
    send(kafka, topic, [ref(cdn, 4)], partition=1)

    requests, skip, cursor = tick(instance, res)
    assert skip is None and len(requests) == 1
    first: RunRequest = requests[0]
    assert first.asset_selection == [AssetKey("kafka_pull")] and first.run_key.startswith("kafka:")
    assert first.tags[CONSUMER_TAG] == f"kafka:atlas-{topic}" and first.tags["photoatlas/kafka_lag"] == "4"
    assert json.loads(cursor)["positions"] == {f"{topic}:0": [0, 3], f"{topic}:1": [0, 1]}

    again, skip, same = tick(instance, res, cursor)  # nothing new, the request not yet run
    assert again == [] and "already requested" in skip and same == cursor

    inbox = tmp_path / "inbox"
    result = materialize([KAFKA_PULL], instance=instance, tags=first.tags,
                         resources={"sources": res, "inbox": InboxResource(path=str(inbox))})
    meta = result.asset_materializations_for_node("kafka_pull")[0].metadata
    assert (meta["landed"].value, meta["failed"].value) == (2, 2)
    landed = inbox / "sources" / "kafka"
    assert sorted(p.name for p in landed.glob("r*.jpg")) == ["r1.jpg", "r4.jpg"]
    assert json.loads((landed / "r1.jpg.json").read_text())["title"] == "ref 1"
    failed = [row for f in landed.glob(f"*{FAILURES_SUFFIX}") for row in json.loads(f.read_text())]
    assert sorted((r["source_id"], r["reason"].split(":")[0]) for r in failed) == [
        ("r3", "missing_url"), (f"{topic}/0@1", "not_json")]  # bad messages are landed with a reason, not lost

    requests, skip, cursor = tick(instance, res, cursor)  # the run committed the group's offsets
    assert requests == [] and skip.startswith("no backlog: lag 0") and f"{topic}:0@3" in skip

    send(kafka, topic, [ref(cdn, 5)], partition=1)
    requests, skip, cursor = tick(instance, res, cursor)
    assert len(requests) == 1 and requests[0].run_key != first.run_key
    assert requests[0].tags["photoatlas/kafka_lag"] == "1"


def test_no_request_while_a_pull_reads_the_group(kafka, topic, cdn, instance):
    res = sources(kafka, topic)
    send(kafka, topic, [ref(cdn, 10)])
    add_run(instance, DagsterRunStatus.STARTED, {CONSUMER_TAG: f"kafka:atlas-{topic}"})
    requests, skip, _ = tick(instance, res)
    assert requests == [] and "still running" in skip and "one consumer per group" in skip


def test_a_kafka_pull_launched_by_hand_also_counts_and_other_pulls_do_not(kafka, topic, cdn, instance):
    res = sources(kafka, topic)
    send(kafka, topic, [ref(cdn, 11)])
    add_run(instance, DagsterRunStatus.STARTED, selection=frozenset({AssetKey("video_pull")}))
    assert len(tick(instance, res)[0]) == 1
    add_run(instance, DagsterRunStatus.NOT_STARTED)  # kafka_pull selected in the UI: no sensor tags
    requests, skip, _ = tick(instance, res)
    assert requests == [] and "NOT_STARTED" in skip


def test_a_failed_pull_is_requested_again_a_bounded_number_of_times(kafka, topic, cdn, instance):
    res = sources(kafka, topic)
    send(kafka, topic, [ref(cdn, 20), ref(cdn, 21)])
    requests, _, cursor = tick(instance, res)
    keys = [requests[0].run_key]
    for _ in range(2):
        add_run(instance, DagsterRunStatus.FAILURE, {REQUEST_TAG: keys[-1]})  # the run died: offsets unmoved
        requests, _, cursor = tick(instance, res, cursor)
        keys.append(requests[0].run_key)
    assert keys[1:] == [f"{keys[0]}:2", f"{keys[0]}:3"]
    add_run(instance, DagsterRunStatus.FAILURE, {REQUEST_TAG: keys[-1]})
    requests, skip, cursor = tick(instance, res, cursor)
    assert requests == [] and "3 pulls left this backlog where it was" in skip
    send(kafka, topic, [ref(cdn, 22)])  # a new message is a new backlog
    assert len(tick(instance, res, cursor)[0]) == 1


def test_items_kept_for_retry_are_pulled_again_though_the_offsets_are_committed(kafka, topic, cdn, instance):
    res = sources(kafka, topic)
    send(kafka, topic, [ref(cdn, 30)])
    pulled = {"offsets": {f"{topic}:0": 1}}
    with KafkaSource(kafka.bootstrap, topic, res.kafka_group) as src:
        src.commit(pulled)  # as kafka_pull does after landing, with the item kept for a retry (a CDN 503)
    item = {"ref": f"{topic}/0@0", "partition": 0, "offset": 0, "value": ref(cdn, 30)}

    def pulled_with(attempts):
        record_pull(instance, {**pulled, "retry": [{"item": item, "attempts": attempts}]})

    pulled_with(1)
    requests, _, cursor = tick(instance, res)
    assert len(requests) == 1 and requests[0].tags["photoatlas/kafka_lag"] == "0"
    pulled_with(2)  # the retry failed again: a new state, a new request (collect gives up after its attempts)
    again, _, cursor = tick(instance, res, cursor)
    assert len(again) == 1 and again[0].run_key != requests[0].run_key
    record_pull(instance, pulled)  # the retry succeeded
    assert tick(instance, res, cursor)[1].startswith("no backlog")


def test_not_configured_and_broker_down_skip_with_the_reason(instance, capsys, monkeypatch):
    requests, skip, _ = tick(instance, SourcesResource())
    assert requests == [] and "Kafka is not configured" in skip
    from tests.servers._proc import free_port

    monkeypatch.setattr("sensors.kafka_sensor.BROKER_TIMEOUT_S", 1.0)
    down = SourcesResource(kafka_bootstrap=f"127.0.0.1:{free_port()}", kafka_topic="refs")
    requests, skip, cursor = tick(instance, down, '{"key": "k"}')
    assert requests == [] and "did not answer" in skip and cursor == '{"key": "k"}'
    assert "WARNING - Kafka backlog unknown, the broker did not answer" in capsys.readouterr().err  # logged, not hidden
