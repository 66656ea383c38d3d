"""The outbox: an alert is written down first, survives a channel outage and a restart, and goes out once."""

import json

import pytest

from photoatlas.alerts import ChannelError, LogChannel, Outbox, check_failure_alert
from photoatlas.alerts import outbox as outbox_module


def alert(n: int = 0, run: str = "run-1"):
    return check_failure_alert(
        run_id=run, asset="enriched_records", check=f"check_{n}", severity="ERROR", partition="2026-06-01-10:00",
        metadata={"failing_ids": [f"id{n}"]}, ui_base_url="http://127.0.0.1:3000", occurred_at=1_780_000_000.0 + n,
    )


class FlakyChannel:
    """Fails while ``down`` (retryable) or for good (``permanent``); records what it accepted."""

    name = "flaky"

    def __init__(self, down: bool = False, permanent: bool = False):
        self.down, self.permanent = down, permanent
        self.sent, self.calls = [], 0

    def send(self, a):
        self.calls += 1
        if self.permanent:
            raise ChannelError("HTTP 400 bad request", retryable=False)
        if self.down:
            raise ChannelError("connection refused")
        self.sent.append(a.dedupe_key)


def no_sleep(_):
    pass


def test_enqueue_is_idempotent_by_dedupe_key(tmp_path):
    box = Outbox(tmp_path)
    assert box.enqueue([alert(1), alert(2)]) == 2
    assert box.enqueue([alert(1), alert(2), alert(3)]) == 1
    assert Outbox(tmp_path).enqueue([alert(1)]) == 0  # a new process sees the same keys
    assert [a.check for a in box.pending()] == ["check_1", "check_2", "check_3"]


def test_channel_down_keeps_alerts_then_delivers_each_exactly_once(tmp_path):
    channel = FlakyChannel(down=True)
    box = Outbox(tmp_path)
    box.enqueue([alert(1), alert(2)])

    report = box.deliver(channel, max_attempts=3, backoff_s=0, sleep=no_sleep)
    assert (report.delivered, report.failed, report.pending) == (0, 1, 2)
    assert channel.calls == 3  # three tries at the oldest, then the round stops: the channel is down
    assert "connection refused" in report.last_error
    assert box.status(alert(1).dedupe_key)["attempts"] == 3

    # The process restarts; the same failure is seen again; the channel comes back.
    box = Outbox(tmp_path)
    assert box.enqueue([alert(1)]) == 0
    channel.down = False
    report = box.deliver(channel, sleep=no_sleep)
    assert (report.delivered, report.failed, report.pending) == (2, 0, 0)
    assert box.deliver(channel, sleep=no_sleep).delivered == 0
    assert channel.sent == [alert(1).dedupe_key, alert(2).dedupe_key]
    assert box.status(alert(1).dedupe_key)["delivered_via"] == "flaky"


def test_retries_back_off_exponentially_within_a_round(tmp_path):
    waits = []
    channel = FlakyChannel(down=True)
    box = Outbox(tmp_path)
    box.enqueue([alert(1)])
    box.deliver(channel, max_attempts=4, backoff_s=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]


def test_a_permanent_failure_does_not_block_the_others_and_is_set_aside_after_many_rounds(tmp_path, monkeypatch):
    monkeypatch.setattr(outbox_module, "DEAD_AFTER_PERMANENT_FAILURES", 3)

    class PoisonFirst(FlakyChannel):
        def send(self, a):
            if a.check == "check_1":
                raise ChannelError("HTTP 400", retryable=False)
            super().send(a)

    channel = PoisonFirst()
    box = Outbox(tmp_path)
    box.enqueue([alert(1), alert(2)])
    first = box.deliver(channel, max_attempts=3, sleep=no_sleep)
    assert (first.delivered, first.failed, first.pending, first.dead) == (1, 1, 1, 0)
    assert box.status(alert(1).dedupe_key)["attempts"] == 1  # no point retrying a 400 at once
    for _ in range(2):
        last = box.deliver(channel, sleep=no_sleep)
    assert (last.pending, last.dead) == (0, 1)
    assert [(a.check, err) for a, err in box.dead()] == [("check_1", "HTTP 400")]
    assert box.requeue_dead() == 1 and [a.check for a in box.pending()] == ["check_1"]


def test_a_channel_bug_keeps_the_alert_pending(tmp_path):
    class Broken:
        name = "broken"

        def send(self, a):
            raise KeyError("oops")

    box = Outbox(tmp_path)
    box.enqueue([alert(1)])
    report = box.deliver(Broken(), max_attempts=2, sleep=no_sleep)
    assert (report.delivered, report.pending) == (0, 1) and "KeyError" in report.last_error


def test_a_claimed_alert_is_not_sent_by_a_second_deliverer(tmp_path):
    """Both alert sensors share the outbox; a claim stops them sending one alert twice."""
    box = Outbox(tmp_path)
    box.enqueue([alert(1)])
    inner = FlakyChannel()

    class Reentrant(FlakyChannel):
        def send(self, a):
            # While this alert is being sent, another deliverer runs a whole round.
            assert Outbox(tmp_path).deliver(inner, sleep=no_sleep).delivered == 0
            super().send(a)

    outer = Reentrant()
    assert box.deliver(outer, sleep=no_sleep).delivered == 1
    assert inner.sent == [] and outer.sent == [alert(1).dedupe_key]


def test_budget_stops_starting_new_deliveries(tmp_path):
    box = Outbox(tmp_path)
    box.enqueue([alert(i) for i in range(3)])
    report = box.deliver(FlakyChannel(), budget_s=-1, sleep=no_sleep)
    assert (report.delivered, report.pending) == (0, 3)


def test_log_channel_appends_json_lines(tmp_path):
    channel = LogChannel(tmp_path / "alerts")
    box = Outbox(tmp_path / "alerts")
    box.enqueue([alert(1), alert(2)])
    assert box.deliver(channel, sleep=no_sleep).delivered == 2
    lines = (tmp_path / "alerts" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line)["check"] for line in lines] == ["check_1", "check_2"]
    assert channel.read()[0]["run_url"] == "http://127.0.0.1:3000/runs/run-1"


def test_log_channel_on_an_unwritable_path_is_a_retryable_channel_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ChannelError) as e:
        LogChannel(tmp_path / "file").send(alert(1))
    assert e.value.retryable


def test_prune_forgets_only_old_delivered_alerts(tmp_path):
    box = Outbox(tmp_path)
    box.enqueue([alert(1), alert(2)])
    box.deliver(FlakyChannel(), budget_s=None, sleep=no_sleep)
    box.enqueue([alert(3)])
    assert box.prune(older_than_s=3600) == 0
    assert box.prune(older_than_s=-1) == 2
    assert [a.check for a in box.pending()] == ["check_3"]
