"""How far a Kafka consumer group is behind its topic, and when a sensor should ask for a pull.

:func:`positions` answers, without polling or joining the group, where the next pull of each
partition starts and where the partition ends (metadata and offset requests only, so a sensor
tick stays short). :func:`plan_pull` is the small state machine a sensor uses to request one
pull per backlog, and to ask again, a bounded number of times, when a pull left the offsets
where they were.
"""

import hashlib
import json
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition

BROKER_TIMEOUT_S = 5.0  # per metadata/offset request in positions(): a sensor tick must stay short
MAX_PULLS_PER_BACKLOG = 3  # pulls requested for one unchanged backlog before plan_pull asks for a human


class BrokerUnavailable(Exception):
    """The broker did not answer a metadata or offset request (down, unreachable, or too slow)."""


def partition_key(topic: str, partition: int) -> str:
    """How cursors and positions name a partition: "topic:partition"."""
    return f"{topic}:{partition}"


def positions(consumer: Consumer, topic: str, cursor: dict | None = None, timeout_s: float = BROKER_TIMEOUT_S,
              servers: str = "the Kafka broker") -> dict[str, tuple[int, int]]:
    """Per "topic:partition": (the offset the next pull starts at, the high watermark).

    The start is where KafkaSource.list_new starts: the later of the group's committed offset and
    the cursor's, the low watermark where neither exists (or retention removed it). Metadata and
    offset requests only: no poll, no assignment, no group join. Raises BrokerUnavailable, naming
    ``servers`` (the bootstrap servers).
    """
    offsets = (cursor or {}).get("offsets", {})
    try:
        topic_md = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if topic_md is None or topic_md.error is not None or not topic_md.partitions:
            return {}  # no such topic (yet): nothing to pull
        parts = sorted(topic_md.partitions)
        committed = consumer.committed([TopicPartition(topic, p) for p in parts], timeout=timeout_s)
        out = {}
        for tp in committed:
            if tp.error is not None:
                raise KafkaException(tp.error)
            key = partition_key(topic, tp.partition)
            marks = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=timeout_s)
            if marks is None:
                raise BrokerUnavailable(f"no watermarks for {key} within {timeout_s:g} s")
            low, high = marks
            pos = max(tp.offset, int(offsets.get(key, -1)))
            out[key] = (min(max(pos, low), high), high)
        return out
    except KafkaException as e:
        raise BrokerUnavailable(f"{servers}: {e.args[0] if e.args else e}") from e


@dataclass
class PullPlan:
    """What a sensor does on one tick: request ``run_key`` (or skip, saying ``reason``), then keep ``cursor``."""

    run_key: str | None
    reason: str
    cursor: dict
    lag: int


def plan_pull(group: str, positions: dict[str, tuple[int, int]], retry: list | None, last: dict | None,
              last_pull_finished: bool, max_pulls: int = MAX_PULLS_PER_BACKLOG) -> PullPlan:
    """One pull per backlog of ``group``.

    ``positions`` come from :func:`positions`, ``retry`` are the pull cursor's carried items,
    ``last`` is the previous plan's cursor; ``last_pull_finished`` whether the pull it requested
    has ended. The run key is a digest of where the pull starts and ends (and which items it
    retries), so an unchanged backlog is requested once; a pull that ended without moving the
    offsets (failed, cancelled) is requested again, at most ``max_pulls`` times in all.
    """
    last = last or {}
    lag = sum(high - start for start, high in positions.values())
    retry = retry or []
    if lag == 0 and not retry:
        where = ", ".join(f"{k}@{high}" for k, (_, high) in sorted(positions.items())) or "no partitions"
        return PullPlan(None, f"no backlog: lag 0 ({where})", last, 0)
    state = {"group": group, "positions": {k: list(v) for k, v in sorted(positions.items())},
             "retry": sorted(f"{r['item'].get('ref')}#{r.get('attempts')}" for r in retry)}
    key = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
    what = f"lag {lag}" + (f", {len(retry)} to retry" if retry else "")
    if key != last.get("key"):
        run_key = f"kafka:{key}"
        return PullPlan(run_key, what, {"key": key, "run_key": run_key, "pulls": 1, **state}, lag)
    pulls = int(last.get("pulls", 1))
    if not last_pull_finished:
        why = f"{last['run_key']} already requested for this backlog ({what}); waiting for it"
        return PullPlan(None, why, last, lag)
    if pulls >= max_pulls:
        return PullPlan(None, f"{pulls} pulls left this backlog where it was ({what}); see the failed kafka_pull runs "
                              "(a new message or a kafka_pull run by hand starts again)", last, lag)
    run_key = f"kafka:{key}:{pulls + 1}"
    return PullPlan(run_key, f"{what} (pull {pulls + 1} of {max_pulls}: the last one did not move the offsets)",
                    {**last, "run_key": run_key, "pulls": pulls + 1}, lag)
