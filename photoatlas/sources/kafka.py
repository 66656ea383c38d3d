"""Photo references from a Kafka topic: at-least-once, offsets committed only after hand-over.

Each message is JSON: ``{"id": ..., "url": "https://..." | "s3://bucket/key"}`` or
``{"id": ..., "key": "object/key"}``, with optional metadata (``meta`` object, or title, tags,
lat, lon, ... at the top level); keys and s3:// URLs are read by an ``object_getter``
(``kafka_objects``). The source assigns itself every partition of the topic (no
group rebalancing: a batch pull starts in milliseconds), starts each at the later of the
group's committed offset and the cursor's, and reads until it has ``limit`` messages, every
partition is at its end, or ``max_wait_s`` passed. ``commit(cursor)`` commits the cursor's
offsets for the group; call it only once the arrivals are in the lake. A crash before that
re-delivers the messages, and the lake's content hashing drops the second copy. Bad messages
(not JSON, no id, no url) become Failures, never exceptions.

One consumer per group at a time: the Dagster layer serialises runs (it reads one batch per run).
``positions``/``backlog`` tell, without polling or joining the group, how far the group is behind
the topic (``kafka_backlog``, which also holds the sensor's pull plan).
"""

import base64
import copy
import json
import time
from typing import Callable

from confluent_kafka import OFFSET_STORED, Consumer, KafkaError, KafkaException, TopicPartition

from photoatlas.ingest import Arrival
from photoatlas.sources import kafka_backlog
from photoatlas.sources.base import Failure, Source
from photoatlas.sources.http import HttpClient, HttpError
from photoatlas.sources.kafka_backlog import BROKER_TIMEOUT_S, partition_key
from photoatlas.sources.kafka_objects import ObjectNameRefused
from photoatlas.sources.meta import clean_meta, not_an_image, utcnow

DEFAULT_BATCH = 500
META_FIELDS = ("title", "description", "tags", "owner", "owner_id", "licence", "license", "lat", "lon", "taken_at")


class KafkaSource(Source):
    name = "kafka"

    def __init__(self, bootstrap_servers: str, topic: str, group_id: str, http: HttpClient | None = None,
                 object_getter: Callable[[str], bytes] | None = None, max_workers: int = 4,
                 poll_timeout_s: float = 0.5, max_wait_s: float = 30.0, consumer_config: dict | None = None,
                 clock=utcnow, batch: int = DEFAULT_BATCH):
        """``object_getter(key_or_s3_url) -> bytes`` reads referenced objects (kafka_objects.objects_getter)."""
        self.topic = topic
        self.config = {
            "bootstrap.servers": bootstrap_servers,
            "group.id": group_id,
            "enable.auto.commit": False,  # we commit after hand-over, never on poll
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",  # a new group starts at the beginning of the topic
            "enable.partition.eof": True,  # to stop at the end instead of waiting out max_wait_s
            **(consumer_config or {}),
        }
        self.http = http or HttpClient()
        self.object_getter = object_getter
        self.max_workers = max_workers
        self.poll_timeout_s, self.max_wait_s = poll_timeout_s, max_wait_s
        self._clock = clock
        self.batch = batch
        self._consumer: Consumer | None = None

    def consumer(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(self.config)
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _key(self, partition: int) -> str:
        return partition_key(self.topic, partition)

    def list_new(self, cursor: dict, limit: int | None = None) -> tuple[list[dict], dict]:
        state = copy.deepcopy(cursor) if cursor else {}
        offsets = state.setdefault("offsets", {})
        room = self.batch if limit is None else limit
        c = self.consumer()
        topic_md = c.list_topics(self.topic, timeout=10).topics.get(self.topic)
        if topic_md is None or topic_md.error is not None or not topic_md.partitions:
            return [], state  # no such topic (yet): nothing new
        parts = sorted(topic_md.partitions)
        committed = c.committed([TopicPartition(self.topic, p) for p in parts], timeout=10)
        start = []
        for tp in committed:
            pos = max(tp.offset, int(offsets.get(self._key(tp.partition), -1)))
            start.append(TopicPartition(self.topic, tp.partition, pos if pos >= 0 else OFFSET_STORED))
        c.assign(start)
        items, at_end = [], set()
        deadline = time.monotonic() + self.max_wait_s
        try:
            while len(items) < room and len(at_end) < len(parts) and time.monotonic() < deadline:
                msg = c.poll(self.poll_timeout_s)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        at_end.add(msg.partition())
                        continue
                    if msg.error().fatal():
                        raise KafkaException(msg.error())
                    continue  # transient (a broker moved, a fetch failed): librdkafka retries it
                at_end.discard(msg.partition())
                items.append(_item(msg))
                offsets[self._key(msg.partition())] = msg.offset() + 1
        finally:
            c.unassign()  # the next call assigns again from committed/cursor offsets: nothing polled is skipped
        return items, state

    def positions(self, cursor: dict | None = None, timeout_s: float = BROKER_TIMEOUT_S) -> dict[str, tuple[int, int]]:
        """Per "topic:partition": (where the next pull starts, the high watermark); see kafka_backlog.positions."""
        return kafka_backlog.positions(self.consumer(), self.topic, cursor, timeout_s,
                                       servers=self.config["bootstrap.servers"])

    def backlog(self, cursor: dict | None = None, timeout_s: float = BROKER_TIMEOUT_S) -> dict[str, int]:
        """Per "topic:partition": messages between where the next pull starts and the high watermark."""
        return {k: high - start for k, (start, high) in self.positions(cursor, timeout_s).items()}

    def commit(self, cursor: dict) -> None:
        """Commit the cursor's offsets for the group (synchronously): call after hand-over only."""
        offsets = [TopicPartition(self.topic, int(k.rsplit(":", 1)[1]), int(v))
                   for k, v in (cursor or {}).get("offsets", {}).items() if k.rsplit(":", 1)[0] == self.topic]
        if offsets:
            self.consumer().commit(offsets=offsets, asynchronous=False)

    def item_id(self, item: dict) -> str:
        return item.get("ref", "?")

    def fetch(self, item: dict) -> Arrival | Failure:
        ref = item["ref"]
        value = item.get("value")
        if value is None:
            why = "the value is not UTF-8 text" if "value_b64" in item else "the message has no value"
            return Failure(self.name, ref, "not_json", f"{why} ({ref})")
        try:
            msg = json.loads(value)
        except ValueError as e:
            return Failure(self.name, ref, "not_json", f"{e} ({ref})")
        if not isinstance(msg, dict):
            return Failure(self.name, ref, "not_json_object", f"got {type(msg).__name__} ({ref})")
        if msg.get("id") in (None, ""):
            return Failure(self.name, ref, "missing_id", f"no 'id' ({ref})")
        pid = str(msg["id"])
        url, key = msg.get("url"), msg.get("key") or msg.get("object_key")
        if not url and not key:
            return Failure(self.name, pid, "missing_url", f"neither 'url' nor 'key' ({ref})")
        try:
            data = self._read(url, key)
        except _Refused as e:
            return Failure(self.name, pid, e.code, f"{e.detail} ({ref})", e.retryable)
        bad = not_an_image(data)
        if bad:
            return Failure(self.name, pid, "not_image", f"{bad} ({ref})")
        raw = dict(msg.get("meta") or {}) if isinstance(msg.get("meta"), dict) else {}
        for field in META_FIELDS:
            if msg.get(field) is not None:
                raw.setdefault(field, msg[field])
        if "license" in raw:
            raw.setdefault("licence", raw.pop("license"))
        raw.update({"url": raw.get("url") or url, "kafka_ref": ref})
        meta, warnings = clean_meta(raw)
        name = (url or key).rstrip("/").rsplit("/", 1)[-1].split("?")[0] or f"{pid}.jpg"
        return Arrival(self.name, pid, name, self._clock(), read=lambda: data, size=len(data), meta=meta,
                       warnings=warnings)

    def _read(self, url: str | None, key: str | None) -> bytes:
        if url and url.startswith(("http://", "https://")):
            try:
                return self.http.get(url).body
            except HttpError as e:
                raise _Refused(e.code, e.detail, e.retryable) from e
        if url and not url.startswith("s3://"):
            raise _Refused("bad_url", f"unsupported URL scheme in {url[:80]!r}", False)
        if self.object_getter is None:
            raise _Refused("no_object_store", "the message names an object but no object_getter is configured", False)
        name = url or key
        try:
            return self.object_getter(name)
        except (KeyError, FileNotFoundError) as e:
            raise _Refused("object_missing", f"{name}: {e}", False) from e
        except ObjectNameRefused as e:
            raise _Refused("object_refused", f"{name}: {e}", False) from e
        except Exception as e:  # the store is down or refused us: worth another try later
            raise _Refused("object_error", f"{name}: {type(e).__name__}: {e}", True) from e


class _Refused(Exception):
    def __init__(self, code: str, detail: str, retryable: bool):
        super().__init__(detail)
        self.code, self.detail, self.retryable = code, detail, retryable


def _item(msg) -> dict:
    """A JSON-able record of one message (so that a retry can ride in the cursor)."""
    item = {"ref": f"{msg.topic()}/{msg.partition()}@{msg.offset()}", "topic": msg.topic(),
            "partition": msg.partition(), "offset": msg.offset(), "timestamp_ms": msg.timestamp()[1]}
    key, value = msg.key(), msg.value()
    if key is not None:
        item["key"] = key.decode("utf-8", errors="replace")
    if value is not None:
        try:
            item["value"] = value.decode("utf-8")
        except UnicodeDecodeError:
            item["value_b64"] = base64.b64encode(value).decode("ascii")
    return item
