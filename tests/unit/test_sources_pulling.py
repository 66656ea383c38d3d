"""The CLI's chunked pull: land each chunk, then save the cursor file; resume without taking anything twice."""

import json
import os
import signal
import threading
from datetime import datetime, timezone

import pytest

import photoatlas.sources.pulling as pulling
from photoatlas.ingest import Arrival
from photoatlas.sources import Failure, Source
from photoatlas.sources.pulling import CursorBusy, CursorFile, fingerprint, format_report, pull
from tests.servers.http_fakes import jpeg

NOW = datetime(2026, 6, 1, 10, 30, tzinfo=timezone.utc)


class Numbers(Source):
    """Items 0..n-1 by a cursor {"next": i}; per-item behaviour from ``script`` (default 'ok')."""

    name = "numbers"

    def __init__(self, n: int, script: dict | None = None, max_workers: int = 1):
        self.n, self.script, self.max_workers = n, dict(script or {}), max_workers
        self.fetched: list[int] = []
        self.lists = 0
        self._lock = threading.Lock()

    def list_new(self, cursor, limit=None):
        self.lists += 1
        if self.script.get("list") == "fail":
            raise RuntimeError("Flickr API error 100: Invalid API Key")
        start = cursor.get("next", 0)
        end = self.n if limit is None else min(self.n, start + limit)
        return [{"id": i} for i in range(start, end)], {**cursor, "next": end}

    def fetch(self, item):
        i = item["id"]
        with self._lock:
            self.fetched.append(i)
        kind = self.script.get(i, "ok")
        if kind == "interrupt":
            self.script[i] = "ok"  # Ctrl-C once, while this item is being fetched
            raise KeyboardInterrupt
        if kind == "404":
            return Failure(self.name, str(i), "http_404", "Not Found")
        if kind == "503":
            return Failure(self.name, str(i), "http_503", "busy", retryable=True)
        data = jpeg(f"n{i}")
        return Arrival(self.name, str(i), f"{i}.jpg", NOW, read=lambda: data, size=len(data), meta={"n": i})


@pytest.fixture
def spot(tmp_path):
    cursor_file = CursorFile(tmp_path / "cursors", "numbers", fingerprint({"dataset": "numbers"}), {"dataset": "numbers"})
    return cursor_file, tmp_path / "inbox"


def landed_ids(inbox) -> list[str]:
    return sorted(p.stem for p in (inbox / "sources" / "numbers").glob("*.jpg"))


def test_chunks_are_landed_then_the_cursor_saved_and_a_rerun_takes_nothing(spot):
    cursor_file, inbox = spot
    seen = []
    report = pull(Numbers(120), cursor_file, inbox, chunk=50, clock=lambda: NOW, on_result=seen.append)
    assert (report.chunks, report.fetched, report.landed, report.failures) == (3, 120, 120, [])
    assert report.up_to_date and not report.resumed and report.hours == ["2026-06-01-10:00"]
    assert len(seen) == 120, "the progress callback saw every item"
    assert len(landed_ids(inbox)) == 120
    sidecar = json.loads((inbox / "sources" / "numbers" / "7.jpg.json").read_text())
    assert sidecar["source"] == "numbers" and sidecar["source_id"] == "7" and sidecar["n"] == 7
    record = json.loads(cursor_file.path.read_text())
    assert record["cursor"] == {"next": 120} and record["totals"] == {"landed": 120, "failed": 0}
    assert record["about"] == {"dataset": "numbers"} and cursor_file.path.name == f"numbers-{fingerprint({'dataset': 'numbers'})}.json"

    again = Numbers(120)
    second = pull(again, cursor_file, inbox, chunk=50, clock=lambda: NOW)
    assert second.resumed and second.up_to_date and second.fetched == 0 and again.fetched == []
    assert second.hours == [] and len(landed_ids(inbox)) == 120


def test_limit_stops_and_the_next_run_continues_without_duplicates(spot):
    cursor_file, inbox = spot
    src = Numbers(130)
    first = pull(src, cursor_file, inbox, limit=70, chunk=50)
    assert first.fetched == 70 and not first.up_to_date and "stopped at --limit" in format_report(first)
    second = pull(src, cursor_file, inbox, limit=70, chunk=50)
    third = pull(src, cursor_file, inbox, limit=70, chunk=50)
    assert (second.fetched, third.fetched) == (60, 0) and second.up_to_date
    assert sorted(src.fetched) == list(range(130)), "every item fetched exactly once over the runs"


def test_ctrl_c_while_fetching_loses_only_the_chunk_in_flight(spot):
    cursor_file, inbox = spot
    src = Numbers(100, {57: "interrupt"})
    report = pull(src, cursor_file, inbox, chunk=20)
    assert report.interrupted and report.landed == 40 and report.chunks == 2
    assert cursor_file.load() == {"next": 40}, "the cursor is that of the last landed chunk"
    assert landed_ids(inbox) == sorted(str(i) for i in range(40))
    assert "INTERRUPTED" in format_report(report)

    resumed = pull(src, cursor_file, inbox, chunk=20)
    assert resumed.resumed and resumed.up_to_date and resumed.landed == 60
    assert landed_ids(inbox) == sorted(str(i) for i in range(100))
    assert sorted(set(src.fetched)) == list(range(100))
    assert {i for i in src.fetched if src.fetched.count(i) > 1} == set(range(40, 58)), "only the lost chunk again"


def test_ctrl_c_between_chunks_keeps_every_landed_chunk(spot):
    cursor_file, inbox = spot

    def stop_after_two(report):
        if report.chunks == 2:
            raise KeyboardInterrupt

    src = Numbers(100)
    report = pull(src, cursor_file, inbox, chunk=25, on_chunk=stop_after_two)
    assert report.interrupted and report.landed == 50 and cursor_file.load() == {"next": 50}
    pull(src, cursor_file, inbox, chunk=25)
    assert src.fetched == list(range(100)), "nothing fetched twice"


def test_a_real_sigint_during_landing_waits_for_the_chunk_to_be_landed_and_saved(spot, monkeypatch):
    cursor_file, inbox = spot
    real_land = pulling.land

    def land_and_get_interrupted(*args, **kw):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives while the chunk is being written
        return real_land(*args, **kw)

    monkeypatch.setattr(pulling, "land", land_and_get_interrupted)
    handler = signal.getsignal(signal.SIGINT)
    report = pull(Numbers(60), cursor_file, inbox, chunk=20)
    assert report.interrupted and report.landed == 20
    assert cursor_file.load() == {"next": 20} and len(landed_ids(inbox)) == 20
    assert signal.getsignal(signal.SIGINT) == handler, "the Ctrl-C handler is given back"


def test_restart_ignores_the_saved_cursor(spot):
    cursor_file, inbox = spot
    src = Numbers(30)
    pull(src, cursor_file, inbox, chunk=50)
    again = pull(src, cursor_file, inbox, chunk=50, restart=True)
    assert not again.resumed and again.landed == 30 and src.fetched == list(range(30)) * 2
    assert len(landed_ids(inbox)) == 30, "landing the same items again rewrites the same files"
    assert json.loads(cursor_file.path.read_text())["totals"] == {"landed": 30, "failed": 0}, "totals restart too"


def test_failures_are_landed_and_retryable_ones_wait_for_the_next_run(spot):
    cursor_file, inbox = spot
    src = Numbers(60, {3: "404", 5: "503", 42: "503"})
    report = pull(src, cursor_file, inbox, chunk=20)
    assert report.landed == 57 and report.failures_by_code() == {"http_503": 2, "http_404": 1}
    assert src.fetched.count(5) == 1 and src.fetched.count(42) == 1, "not retried within the same run"
    assert report.retry_pending == 2 and [r["item"]["id"] for r in cursor_file.load()["retry"]] == [5, 42]
    failed_files = list((inbox / "sources" / "numbers").glob("_failed-*.failures.json"))
    assert sorted(r["source_id"] for f in failed_files for r in json.loads(f.read_text())) == ["3", "42", "5"]
    text = format_report(report)
    assert "http_503 × 2, http_404 × 1" in text and "e.g. 3: http_404: Not Found" in text and "retry pending 2" in text

    src.script.update({5: "ok"})
    second = pull(src, cursor_file, inbox, chunk=20)
    assert second.landed == 1 and second.retry_pending == 1 and second.up_to_date
    assert "5" in landed_ids(inbox) and [r["item"]["id"] for r in cursor_file.load()["retry"]] == [42]


def test_a_listing_error_is_reported_and_saves_nothing(spot):
    cursor_file, inbox = spot
    report = pull(Numbers(10, {"list": "fail"}), cursor_file, inbox)
    assert report.error == "RuntimeError: Flickr API error 100: Invalid API Key" and report.fetched == 0
    assert not cursor_file.path.exists()
    assert "ERROR" in format_report(report) and "--restart" in format_report(report)


def test_an_unreadable_cursor_file_is_an_error_until_restart(spot):
    cursor_file, inbox = spot
    cursor_file.path.parent.mkdir(parents=True)
    cursor_file.path.write_text("{half a cursor")
    report = pull(Numbers(5), cursor_file, inbox)
    assert report.error and "--restart" in report.error and report.fetched == 0
    assert pull(Numbers(5), cursor_file, inbox, restart=True).landed == 5


def test_the_same_pull_cannot_run_twice_at_once(spot):
    cursor_file, inbox = spot
    with cursor_file.lock():
        report = pull(Numbers(5), cursor_file, inbox)
    assert report.error and "another pull" in report.error and report.fetched == 0
    with pytest.raises(CursorBusy):
        with cursor_file.lock(), cursor_file.lock():
            pass


def test_a_source_that_makes_no_progress_stops_after_one_chunk(spot):
    cursor_file, inbox = spot

    class Stuck(Numbers):  # like a video feed whose file is missing: the same error item every call
        def list_new(self, cursor, limit=None):
            return [{"id": 0}], dict(cursor)

    report = pull(Stuck(1, {0: "404"}), cursor_file, inbox, chunk=10)
    assert report.up_to_date and report.fetched == 1 and report.chunks == 1


def test_threads_report_each_result_once(spot):
    cursor_file, inbox = spot
    seen, lock = [], threading.Lock()

    def on_result(result):
        with lock:
            seen.append((result.source_id, threading.current_thread().name))

    report = pull(Numbers(40, max_workers=4), cursor_file, inbox, chunk=15, on_result=on_result)
    assert report.landed == 40 and sorted(int(i) for i, _ in seen) == list(range(40))
    assert any(name.startswith("fetch-numbers") for _, name in seen)


def test_cursor_file_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    cf = CursorFile(tmp_path, "flickr", "abc123")
    cf.save({"query": "abc123", "page": 2}, {"landed": 5})
    cf.save({"query": "abc123", "page": 3}, {"landed": 9})
    assert cf.load() == {"query": "abc123", "page": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flickr-abc123.json"]
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1}) != fingerprint({"a": 2})
