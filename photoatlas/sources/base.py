"""What every photo source is: list what is new after a cursor, then fetch each item.

A source is a small state machine driven from outside. ``list_new(cursor)`` returns the next
items and the cursor that follows them; ``fetch(item)`` turns one item into an
:class:`~photoatlas.ingest.Arrival` or a :class:`Failure` with a reason. Cursors are plain
JSON-able dicts, so the caller (a Dagster sensor or asset) can keep them anywhere; a source
never mutates the cursor it was given. ``commit(cursor)`` acknowledges a cursor once its
arrivals are handed over (only Kafka needs it). :func:`collect` runs the whole loop, in
threads where the source allows it, and keeps retryable failures in the cursor so that a
later call tries them again instead of losing them.
"""

import copy
import json
from abc import ABC, abstractmethod
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import pyarrow as pa

from photoatlas.ingest import INGEST_ERRORS_SCHEMA, Arrival
from photoatlas.sources.http import HttpClient, HttpError
from photoatlas.sources.meta import not_an_image

MAX_FETCH_ATTEMPTS = 3  # collect() calls an item carried in the cursor at most this often, then records it lost
MAX_WORKERS_CAP = 16  # no source downloads with more threads than this, whatever it is configured with


@dataclass
class Failure:
    """An item that did not become an arrival: the row the pipeline writes to ``ingest_errors``."""

    source: str
    source_id: str
    code: str  # short and stable, for counting: http_404, not_image, timeout, not_json, ...
    detail: str = ""
    retryable: bool = False  # a later attempt may succeed (timeouts, 5xx, 429): collect() keeps the item

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code

    def row(self, partition: str) -> dict:
        return {"partition": partition, "source": self.source, "source_id": self.source_id, "reason": self.reason}


def download_image(http: HttpClient, url: str, source: str, source_id: str) -> bytes | Failure:
    """An image's bytes from ``url``, or the Failure saying why not (HTTP errors keep their code
    and whether a retry may help; bytes that are no image are ``not_image``)."""
    try:
        data = http.get(url).body
    except HttpError as e:
        return Failure(source, source_id, e.code, e.detail, e.retryable)
    bad = not_an_image(data)
    return Failure(source, source_id, "not_image", f"{bad} from {url}") if bad else data


def failures_table(partition: str, failures: list[Failure]) -> pa.Table:
    """The failures as rows of ingest.py's INGEST_ERRORS_SCHEMA."""
    return pa.Table.from_pylist([f.row(partition) for f in failures], schema=INGEST_ERRORS_SCHEMA)


class Source(ABC):
    """A place photos come from. Subclasses set ``name`` and implement list_new and fetch."""

    name: str = "source"
    max_workers: int = 1  # how many fetches collect() may run at once

    @abstractmethod
    def list_new(self, cursor: dict, limit: int | None = None) -> tuple[list[dict], dict]:
        """At most ``limit`` items after ``cursor``, and the cursor that follows them."""

    @abstractmethod
    def fetch(self, item: dict) -> Arrival | Failure:
        """One item's bytes and metadata, or a Failure saying why not. Never raises for bad data."""

    def item_id(self, item: dict) -> str:
        return str(item.get("id", "?"))

    def commit(self, cursor: dict) -> None:
        """Acknowledge ``cursor`` after its arrivals were handed over (default: nothing to do)."""

    def close(self) -> None:
        """Release connections."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class Batch:
    arrivals: list[Arrival]
    failures: list[Failure]
    cursor: dict  # store it (and commit it) only after the arrivals are safely ingested

    def counts(self) -> dict:
        return {
            "arrivals": len(self.arrivals),
            "failures": len(self.failures),
            "failures_by_code": dict(sorted(Counter(f.code for f in self.failures).items())),
            "retry_pending": len(self.cursor.get("retry", [])),
        }


def collect(source: Source, cursor: dict | None, limit: int | None = None,
            max_attempts: int = MAX_FETCH_ATTEMPTS,
            on_result: Callable[[Arrival | Failure], None] | None = None) -> Batch:
    """List and fetch the next items; retryable failures ride along in ``cursor["retry"]``.

    Every item comes back as an arrival or a failure (failures are reported on every attempt,
    so the errors table shows each one). Items carried for retry are tried first.
    ``on_result`` (e.g. a progress bar) sees each result as its fetch completes, from the
    fetch threads, before retry notes are added.
    """
    cursor = copy.deepcopy(cursor or {})
    carried = cursor.pop("retry", [])
    retry_now = carried if limit is None else carried[:limit]
    retry_later = [] if limit is None else carried[limit:]
    room = None if limit is None else limit - len(retry_now)
    new_items, new_cursor = source.list_new(cursor, room) if room is None or room > 0 else ([], cursor)
    work = [(r["item"], r["attempts"]) for r in retry_now] + [(item, 0) for item in new_items]

    def fetch(item: dict) -> Arrival | Failure:
        result = _safe_fetch(source, item)
        if on_result is not None:
            on_result(result)
        return result

    workers = max(1, min(source.max_workers, MAX_WORKERS_CAP, len(work) or 1))
    if workers == 1:
        results = [fetch(item) for item, _ in work]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"fetch-{source.name}") as pool:
            results = list(pool.map(lambda w: fetch(w[0]), work))  # on Ctrl-C, map cancels the fetches not started

    arrivals, failures = [], []
    for (item, attempts), result in zip(work, results, strict=False):
        if isinstance(result, Arrival):
            arrivals.append(result)
            continue
        attempts += 1
        if result.retryable and _json_able(item):
            if attempts < max_attempts:
                result.detail += f" (attempt {attempts} of {max_attempts}; kept for retry)"
                retry_later.append({"item": item, "attempts": attempts})
            else:
                result.detail += f" (attempt {attempts} of {max_attempts}; given up)"
        failures.append(result)
    new_cursor = copy.deepcopy(new_cursor)
    if retry_later:
        new_cursor["retry"] = retry_later
    return Batch(arrivals, failures, new_cursor)


def parse_time(value: str | datetime) -> datetime:
    """A time from a source's settings: a datetime, or ISO 8601 text ("2024-01-01", "…T10:00:00Z")."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO date or time: {value!r} (e.g. 2024-01-01 or 2024-01-01T10:00:00Z)") from None


def _safe_fetch(source: Source, item: dict) -> Arrival | Failure:
    try:
        return source.fetch(item)
    except Exception as e:  # a bug or an unforeseen input must cost one item, never the batch
        return Failure(source.name, source.item_id(item), "fetch_error", f"{type(e).__name__}: {e}")


def _json_able(item) -> bool:
    try:
        json.dumps(item)
        return True
    except (TypeError, ValueError):
        return False
