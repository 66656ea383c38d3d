"""A durable outbox: alerts are written down first, then delivered, so none is lost or sent twice.

One SQLite file under the alerts folder. ``enqueue`` is idempotent by the alert's dedupe key
(the same failure seen again — a re-read event, a retried tick — is ignored). ``deliver``
sends what is pending, retrying each alert with exponential backoff; whatever it cannot
deliver stays pending for the next call. Delivery is at-least-once on the wire (a channel that
accepted an alert but whose answer was lost gets it again, with the same idempotency key) and
exactly-once in the outbox's books.

Failure policy:
- a *retryable* failure (channel down, 5xx, timeout) ends the round — the channel is probably
  down, and the sensor must stay inside its tick timeout; the alert stays pending, forever if need be.
- a *permanent* failure (4xx, refused recipient) is tried once per round and the round goes on;
  after ``DEAD_AFTER_PERMANENT_FAILURES`` of them in a row the alert is set aside as dead (kept,
  listed by ``dead()``, back in the queue with ``requeue_dead()``).
"""

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from photoatlas.alerts.alert import Alert
from photoatlas.alerts.channels import Channel, ChannelError

OUTBOX_FILE_NAME = "outbox.sqlite3"
CLAIM_LEASE_S = 300  # a crashed deliverer's claim expires after this; longer than any round
DEAD_AFTER_PERMANENT_FAILURES = 50  # ~25 minutes of 30-second ticks answering 4xx
DELIVERED_RETENTION_S = 90 * 24 * 3600  # delivered rows (and their dedupe keys) are kept this long

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    dedupe_key TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    permanent_failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_attempt_at REAL,
    claimed_until REAL,
    delivered_at REAL,
    delivered_via TEXT,
    dead_at REAL
)
"""
_OPEN = "delivered_at IS NULL AND dead_at IS NULL"


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int  # sent in this round
    failed: int  # tried in this round and not delivered (still pending, or now dead)
    pending: int  # waiting after this round
    dead: int  # set aside after repeated permanent failures (all time)
    last_error: str | None = None


class Outbox:
    def __init__(self, directory: str | os.PathLike):
        self.path = Path(directory) / OUTBOX_FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self):
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def enqueue(self, alerts: Iterable[Alert]) -> int:
        """Write the alerts down (one transaction); returns how many were new."""
        now = time.time()
        rows = [(a.dedupe_key, json.dumps(a.to_json(), sort_keys=True), now) for a in alerts]
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO outbox (dedupe_key, payload, enqueued_at) VALUES (?, ?, ?)", rows)
            new = db.total_changes - before
            db.execute("COMMIT")
        return new

    def pending(self) -> list[Alert]:
        with self._connect() as db:
            rows = db.execute(f"SELECT payload FROM outbox WHERE {_OPEN} ORDER BY enqueued_at, rowid").fetchall()
        return [Alert.from_json(json.loads(p)) for (p,) in rows]

    def dead(self) -> list[tuple[Alert, str]]:
        with self._connect() as db:
            rows = db.execute("SELECT payload, last_error FROM outbox WHERE dead_at IS NOT NULL ORDER BY dead_at").fetchall()
        return [(Alert.from_json(json.loads(p)), e) for p, e in rows]

    def status(self, dedupe_key: str) -> dict | None:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM outbox WHERE dedupe_key = ?", (dedupe_key,)).fetchone()
        return {k: row[k] for k in row.keys() if k != "payload"} if row else None

    def requeue_dead(self) -> int:
        with self._connect() as db:
            return db.execute("UPDATE outbox SET dead_at = NULL, permanent_failures = 0 WHERE dead_at IS NOT NULL").rowcount

    def prune(self, older_than_s: float = DELIVERED_RETENTION_S) -> int:
        """Forget delivered alerts older than the retention (their events are long behind every cursor)."""
        with self._connect() as db:
            return db.execute("DELETE FROM outbox WHERE delivered_at < ?", (time.time() - older_than_s,)).rowcount

    def _claim(self, db, key: str) -> bool:
        now = time.time()
        cur = db.execute(
            f"UPDATE outbox SET claimed_until = ? WHERE dedupe_key = ? AND {_OPEN} AND (claimed_until IS NULL OR claimed_until < ?)",
            (now + CLAIM_LEASE_S, key, now),
        )
        return cur.rowcount == 1

    def deliver(
        self, channel: Channel, max_attempts: int = 3, backoff_s: float = 1.0, budget_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> DeliveryReport:
        """Send pending alerts, oldest first; ``backoff_s`` doubles between the attempts at one alert.

        ``budget_s`` bounds the round (a sensor tick has a timeout): no new alert is started after it.
        """
        started = time.monotonic()
        delivered = failed = 0
        last_error = None
        with self._connect() as db:
            keys = [k for (k,) in db.execute(f"SELECT dedupe_key FROM outbox WHERE {_OPEN} ORDER BY enqueued_at, rowid")]
            for key in keys:
                if budget_s is not None and time.monotonic() - started > budget_s:
                    break
                if not self._claim(db, key):
                    continue  # delivered meanwhile, or another deliverer holds it
                (payload,) = db.execute("SELECT payload FROM outbox WHERE dedupe_key = ?", (key,)).fetchone()
                alert = Alert.from_json(json.loads(payload))
                error, tries = self._send(channel, alert, max_attempts, backoff_s, sleep)
                now = time.time()
                if error is None:
                    delivered += 1
                    db.execute(
                        "UPDATE outbox SET delivered_at = ?, delivered_via = ?, attempts = attempts + ?, "
                        "last_attempt_at = ?, claimed_until = NULL WHERE dedupe_key = ?",
                        (now, channel.name, tries, now, key),
                    )
                    continue
                failed += 1
                last_error = str(error)
                permanent = not error.retryable
                db.execute(
                    "UPDATE outbox SET attempts = attempts + ?, last_error = ?, last_attempt_at = ?, claimed_until = NULL, "
                    "permanent_failures = CASE WHEN ? THEN permanent_failures + 1 ELSE 0 END, "
                    "dead_at = CASE WHEN ? AND permanent_failures + 1 >= ? THEN ? ELSE NULL END WHERE dedupe_key = ?",
                    (tries, last_error, now, permanent, permanent, DEAD_AFTER_PERMANENT_FAILURES, now, key),
                )
                if not permanent:
                    break  # the channel is down: the rest wait for the next round
            pending = db.execute(f"SELECT COUNT(*) FROM outbox WHERE {_OPEN}").fetchone()[0]
            dead = db.execute("SELECT COUNT(*) FROM outbox WHERE dead_at IS NOT NULL").fetchone()[0]
        return DeliveryReport(delivered=delivered, failed=failed, pending=pending, dead=dead, last_error=last_error)

    @staticmethod
    def _send(channel: Channel, alert: Alert, max_attempts: int, backoff_s: float, sleep) -> tuple[ChannelError | None, int]:
        attempt = 0
        while True:
            attempt += 1
            try:
                channel.send(alert)
                return None, attempt
            except ChannelError as e:
                error = e
            except Exception as e:  # a channel bug must not lose the alert or kill the tick: keep it pending
                error = ChannelError(f"{type(e).__name__}: {e}")
            if not error.retryable or attempt >= max_attempts:
                return error, attempt
            sleep(backoff_s * 2 ** (attempt - 1))
