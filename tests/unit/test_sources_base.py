"""The source contract: collect(), retries carried in the cursor, failure rows, metadata clean-up."""

import json
import threading
from datetime import datetime, timezone

import pytest

from photoatlas.ingest import INGEST_ERRORS_SCHEMA, Arrival
from photoatlas.sources import Failure, Source, collect, failures_table
from photoatlas.sources.meta import clean_meta, not_an_image
from tests.servers.http_fakes import jpeg

T0 = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)


class ListSource(Source):
    """Items 0..n-1; behaviour per item from a script: 'ok', 'bad', 'flaky' (retryable), 'boom' (raises)."""

    name = "list"

    def __init__(self, script: list[str], max_workers: int = 1):
        self.script = script
        self.max_workers = max_workers
        self.fetched: list[int] = []
        self._lock = threading.Lock()

    def list_new(self, cursor, limit=None):
        start = cursor.get("next", 0)
        end = len(self.script) if limit is None else min(len(self.script), start + limit)
        return [{"id": i} for i in range(start, end)], {**cursor, "next": end}

    def fetch(self, item):
        i = item["id"]
        with self._lock:
            self.fetched.append(i)
        kind = self.script[i]
        if kind == "boom":
            raise ValueError("unexpected input")
        if kind == "bad":
            return Failure(self.name, str(i), "not_image", "HTML page")
        if kind == "flaky":
            return Failure(self.name, str(i), "http_503", "busy", retryable=True)
        data = jpeg(str(i))
        return Arrival(self.name, str(i), f"{i}.jpg", T0, read=lambda: data, size=len(data))


def test_collect_sorts_items_into_arrivals_and_counted_failures():
    src = ListSource(["ok", "bad", "ok", "boom", "flaky"])
    cursor = {"next": 0}
    batch = collect(src, cursor)
    assert [a.source_id for a in batch.arrivals] == ["0", "2"]
    assert {f.source_id: f.code for f in batch.failures} == {"1": "not_image", "3": "fetch_error", "4": "http_503"}
    assert "ValueError: unexpected input" in next(f.reason for f in batch.failures if f.code == "fetch_error")
    assert batch.counts() == {"arrivals": 2, "failures": 3, "retry_pending": 1,
                              "failures_by_code": {"fetch_error": 1, "http_503": 1, "not_image": 1}}
    assert cursor == {"next": 0}, "the caller's cursor is never mutated"
    json.dumps(batch.cursor)


def test_retryable_items_ride_in_the_cursor_until_they_succeed_or_give_up():
    src = ListSource(["flaky", "ok"])
    b1 = collect(src, {}, max_attempts=3)
    assert b1.cursor["retry"] == [{"item": {"id": 0}, "attempts": 1}]
    assert "kept for retry" in b1.failures[0].reason
    b2 = collect(src, json.loads(json.dumps(b1.cursor)), max_attempts=3)  # a restart in between
    assert src.fetched == [0, 1, 0] and b2.cursor["retry"][0]["attempts"] == 2
    src.script[0] = "ok"  # the server recovered
    b3 = collect(src, b2.cursor, max_attempts=3)
    assert [a.source_id for a in b3.arrivals] == ["0"] and "retry" not in b3.cursor


def test_give_up_after_max_attempts_and_say_so():
    src = ListSource(["flaky"])
    cursor = {}
    for _ in range(3):
        batch = collect(src, cursor, max_attempts=3)
        cursor = batch.cursor
    assert "retry" not in cursor and "given up" in batch.failures[0].reason
    assert src.fetched == [0, 0, 0]


def test_limit_counts_retries_first():
    src = ListSource(["flaky", "flaky", "ok", "ok", "ok"])
    b1 = collect(src, {}, limit=2)
    assert len(b1.cursor["retry"]) == 2
    b2 = collect(src, b1.cursor, limit=3)
    assert src.fetched == [0, 1, 0, 1, 2]  # two retries, then one new item
    assert b2.cursor["next"] == 3


def test_collect_uses_threads_up_to_max_workers_and_keeps_order():
    src = ListSource(["ok"] * 20, max_workers=4)
    batch = collect(src, {})
    assert [a.source_id for a in batch.arrivals] == [str(i) for i in range(20)]


def test_failures_table_matches_the_ingest_errors_schema():
    table = failures_table("2026-03-01-10:00", [Failure("flickr", "42", "http_404", "Not Found")])
    assert table.schema == INGEST_ERRORS_SCHEMA
    assert table.to_pylist() == [{"partition": "2026-03-01-10:00", "source": "flickr", "source_id": "42",
                                  "reason": "http_404: Not Found"}]


def test_clean_meta_types_and_warnings():
    meta, warnings = clean_meta({"title": 5, "tags": "a, b c", "lat": "48.5", "lon": -4.2, "owner": "",
                                 "taken_at": "2026-03-01T10:00:00Z", "extra": {"k": 1}})
    assert meta == {"title": "5", "tags": ["a", "b", "c"], "lat": 48.5, "lon": -4.2,
                    "taken_at": "2026-03-01T10:00:00+00:00", "extra": {"k": 1}}
    assert warnings == []
    meta, warnings = clean_meta({"lat": 0, "lon": 0, "taken_at": "yesterday"})
    assert meta == {} and warnings == ["bad_taken_at: 'yesterday'"]
    meta, warnings = clean_meta({"lat": 95, "lon": 10})
    assert "lat" not in meta and warnings == ["bad_coordinates: 95.0,10.0"]


@pytest.mark.parametrize("data, expected", [
    (jpeg("x"), None),
    (b"<!doctype html><html><body>rate limited</body></html>", "HTML page (53 bytes)"),
    (b"", "empty body"),
    (b'{"error": "nope"}', "JSON or other text (17 bytes)"),
])
def test_not_an_image(data, expected):
    assert not_an_image(data) == expected


def test_on_result_sees_every_result_once_from_the_fetch_threads():
    src = ListSource(["ok", "bad", "ok", "boom", "flaky"] * 4, max_workers=4)
    seen, lock = [], threading.Lock()

    def on_result(result):
        with lock:
            seen.append((result.source_id, type(result).__name__, threading.current_thread().name))

    batch = collect(src, {}, on_result=on_result)
    assert sorted(int(i) for i, _, _ in seen) == list(range(20))
    assert sum(kind == "Arrival" for _, kind, _ in seen) == len(batch.arrivals) == 8
    assert all(name.startswith("fetch-list") for _, _, name in seen)
    plain = collect(ListSource(["ok", "flaky"]), {})
    assert [a.source_id for a in plain.arrivals] == ["0"] and len(plain.failures) == 1, "without a callback: as before"


def test_ctrl_c_during_a_threaded_batch_drops_the_fetches_not_started():
    class Slow(ListSource):
        def fetch(self, item):
            if item["id"] == 0:
                raise KeyboardInterrupt
            import time

            time.sleep(0.05)
            return super().fetch(item)

    src = Slow(["ok"] * 40, max_workers=2)
    with pytest.raises(KeyboardInterrupt):
        collect(src, {})
    assert len(src.fetched) < 10, "the queued fetches were cancelled, not run to the end (pull relies on it)"
