"""Pull a source into the inbox in chunks, keeping a cursor file, for ``photoatlas ingest <source>``.

The scheduled pull assets keep their cursors in asset metadata; a pull started by hand keeps its
own, one JSON file per source and query/dataset/feed (``<home>/cursors/<source>-<fingerprint>.json``).
:func:`pull` collects a chunk, lands it in the inbox, then saves the cursor (atomically), chunk
after chunk: an interruption loses at most the chunk being fetched (a chunk being landed is
finished first), and the same pull run again resumes after the last landed chunk, so no item is
taken twice. Items that failed retryably wait in the cursor for the *next* run rather than being
hammered again in this one.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from photoatlas.landing import land, safe_name
from photoatlas.partitions import hour_key
from photoatlas.sources.base import Failure, Source, collect
from photoatlas.sources.meta import utcnow

CURSORS_DIR = "cursors"  # under $PHOTOATLAS_HOME
CHUNK_ITEMS = 50  # items fetched, landed and acknowledged together


def fingerprint(spec: dict) -> str:
    """A short stable id of what a pull selects (the same settings, the same cursor file)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


class CursorBusy(RuntimeError):
    """Another process is pulling with the same cursor."""


class CursorFile:
    """One pull's cursor: ``<folder>/<source>-<fingerprint>.json``, replaced atomically on save."""

    def __init__(self, folder: Path, source: str, fingerprint: str, about: dict | None = None):
        self.path = Path(folder) / f"{safe_name(source)}-{fingerprint}.json"
        self.source, self.fingerprint, self.about = source, fingerprint, dict(about or {})

    def read(self) -> dict:
        """The whole record (cursor, totals, about), or {} if there is none yet."""
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise ValueError(f"cursor file {self.path} is unreadable ({e}); remove it, or pass --restart") from e
        if not isinstance(record, dict) or not isinstance(record.get("cursor", {}), dict):
            raise ValueError(f"cursor file {self.path} is not a cursor record; remove it, or pass --restart")
        return record

    def load(self) -> dict:
        return self.read().get("cursor") or {}

    def save(self, cursor: dict, totals: dict | None = None) -> None:
        record = {"source": self.source, "fingerprint": self.fingerprint, "about": self.about, "cursor": cursor,
                  "totals": totals or {}, "saved_at": datetime.now(timezone.utc).isoformat()}
        data = json.dumps(record, indent=1, sort_keys=True, default=str).encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def lock(self):
        """Held for a whole pull, so two runs of the same pull cannot take the same items."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CursorBusy(f"another pull is using {self.path} (the same command is running elsewhere)") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class PullReport:
    source: str
    landed_in: Path
    cursor_path: Path
    resumed: bool = False  # a saved cursor was used
    chunks: int = 0
    fetched: int = 0  # arrivals + failures, this run
    landed: int = 0
    failures: list[Failure] = field(default_factory=list)
    retry_pending: int = 0  # items waiting in the cursor for the next run
    hours: list[str] = field(default_factory=list)  # arrival hours of what was landed
    up_to_date: bool = False  # the source had nothing more to give
    interrupted: bool = False
    error: str | None = None  # listing failed (credentials, a bad dataset, a cursor of another query)
    totals: dict = field(default_factory=dict)  # over every run of this cursor

    def failures_by_code(self) -> dict[str, int]:
        return dict(Counter(f.code for f in self.failures).most_common())


def pull(source: Source, cursor_file: CursorFile, inbox: Path, limit: int | None = None, chunk: int = CHUNK_ITEMS,
         restart: bool = False, on_result: Callable | None = None, on_chunk: Callable | None = None,
         clock=utcnow) -> PullReport:
    """Collect up to ``limit`` items (None: until nothing is new) in chunks, landing each chunk and
    then saving the cursor. Never raises for bad items, listing errors or Ctrl-C: the report says."""
    if chunk < 1:
        raise ValueError("chunk must be >= 1")
    report = PullReport(source.name, Path(inbox) / "sources" / safe_name(source.name), cursor_file.path)
    try:
        with cursor_file.lock():
            record = {} if restart else cursor_file.read()
            report.totals = dict(record.get("totals") or {})
            cursor = record.get("cursor") or {}
            report.resumed = bool(cursor)
            _loop(source, cursor_file, Path(inbox), report, cursor, limit, chunk, on_result, on_chunk, clock)
    except KeyboardInterrupt:
        report.interrupted = True
    except CursorBusy as e:
        report.error = str(e)
    except Exception as e:  # listing failed: the source's message is the report's
        report.error = f"{type(e).__name__}: {e}"
    report.hours = sorted(set(report.hours))
    return report


def _loop(source, cursor_file, inbox, report, cursor, limit, chunk, on_result, on_chunk, clock) -> None:
    held: list[dict] = []  # failed retryably in this run: saved for the next run, not retried now
    report.retry_pending = len(cursor.get("retry", []))
    while limit is None or report.fetched < limit:
        n = chunk if limit is None else min(chunk, limit - report.fetched)
        carried = cursor.get("retry", [])
        untried = {_item_key(r["item"]) for r in carried[n:]}  # collect() tries the first n carried items
        batch = collect(source, cursor, limit=n, on_result=on_result)
        retry = batch.cursor.pop("retry", [])
        still_carried = [r for r in retry if _item_key(r["item"]) in untried]
        held += [r for r in retry if _item_key(r["item"]) not in untried]
        new_items = len(batch.arrivals) + len(batch.failures) - min(len(carried), n)
        progressed = batch.cursor != {k: v for k, v in cursor.items() if k != "retry"}
        saved = {**batch.cursor, "retry": still_carried + held} if still_carried or held else batch.cursor
        with _finish_before_interrupt():  # a chunk being landed is landed and acknowledged in full
            now = clock()
            if batch.arrivals or batch.failures:
                land(batch.arrivals, batch.failures, inbox, source.name, now=now)
                source.commit(saved)
            report.chunks += 1 if batch.arrivals or batch.failures else 0
            report.fetched += len(batch.arrivals) + len(batch.failures)
            report.landed += len(batch.arrivals)
            report.failures += batch.failures
            report.retry_pending = len(saved.get("retry", []))
            if batch.arrivals or batch.failures:
                report.hours.append(hour_key(now))
            totals = Counter(report.totals)
            totals.update(landed=len(batch.arrivals), failed=len(batch.failures))
            report.totals = dict(totals)
            cursor_file.save(saved, report.totals)
        if on_chunk is not None:
            on_chunk(report)
        cursor = {**batch.cursor, "retry": still_carried} if still_carried else batch.cursor
        if (new_items <= 0 or not progressed) and not still_carried:
            report.up_to_date = True  # nothing new (or a source stuck on the same items): stop here
            return


@contextlib.contextmanager
def _finish_before_interrupt():
    """Defer Ctrl-C until the block is done (main thread only; elsewhere a plain block)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


def _item_key(item) -> str:
    return json.dumps(item, sort_keys=True, default=str)


def format_report(report: PullReport, what: str = "", examples: int = 3) -> str:
    """What a pull did, for a person: counts, failures by code with examples, hours, the cursor."""
    lines = [f"{report.source}{' ' + what if what else ''}: {report.fetched} item(s) in {report.chunks} chunk(s)"
             + (", resumed from the saved cursor" if report.resumed else "")]
    lines.append(f"landed        {report.landed} photo(s) → {report.landed_in}")
    by_code = report.failures_by_code()
    lines.append(f"failed        {len(report.failures)}"
                 + (f" ({', '.join(f'{code} × {n}' for code, n in by_code.items())})" if by_code else ""))
    for f in report.failures[:examples]:
        lines.append(f"                e.g. {f.source_id}: {f.reason}")
    if report.failures:
        lines.append("                (failures are landed too: raw_photos files them in the hour's ingest_errors)")
    if report.retry_pending:
        lines.append(f"retry pending {report.retry_pending} item(s) failed for now (timeouts, 5xx, 429): "
                     "the next run tries them again")
    lines.append(f"arrival hour  {', '.join(report.hours) if report.hours else 'none (nothing landed)'}")
    total = report.totals
    overall = f" ({total.get('landed', 0)} landed, {total.get('failed', 0)} failed over every run)" if total else ""
    lines.append(f"cursor        {report.cursor_path}{overall}")
    if report.error:
        lines.append(f"ERROR         {report.error}")
        lines.append("              fix the cause and run the same command again (--restart ignores the saved cursor)")
    elif report.interrupted:
        lines.append("INTERRUPTED   the chunk in flight was not landed; run the same command again to resume")
    elif report.up_to_date:
        lines.append("status        up to date: nothing more is new (run the same command later for what arrives)")
    else:
        lines.append("status        stopped at --limit; more may be waiting: run the same command again to continue")
    return "\n".join(lines)
