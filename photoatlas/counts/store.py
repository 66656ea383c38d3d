"""The counts store interface: one shape for the embedded (DuckDB) and production (Cassandra) stores.

Every query answers in tidy pandas frames with fixed columns and dtypes, so callers (the
API, asset checks, tests) never see which store served them. The semantics of
``apply_hour`` are those of :mod:`photoatlas.counts.cube`.
"""

import abc
import hashlib

import pandas as pd

from photoatlas.counts.cube import CONTRIB_COLUMNS, CUBE_COLUMNS
from photoatlas.counts.keys import TIME_LEVELS, UNKNOWN, check_level

PERIOD_COLUMNS = ["place", "item", "count", "weight"]
PLACE_COLUMNS = ["period", "item", "count", "weight"]
TOP_COLUMNS = ["place", "count"]


def frame(rows, columns: list[str], sort_by: int | None = None) -> pd.DataFrame:
    """Rows (tuples) to a frame with int64 ``count``/``weight`` and str keys; optionally sorted
    by the first ``sort_by`` columns (plain tuple order: code points, as DuckDB sorts VARCHAR)."""
    rows = list(rows)
    if sort_by:
        rows.sort(key=lambda r: r[:sort_by])
    values = list(zip(*rows)) if rows else [()] * len(columns)
    return pd.DataFrame(
        {
            c: pd.array(v, dtype="int64") if c in ("count", "weight") else pd.Series(v, dtype=object).to_numpy()
            for c, v in zip(columns, values)
        }
    )


def digest(contributions: pd.DataFrame) -> str:
    """Content hash of an hour's contribution rows (sorted), to recognise a repeated apply."""
    h = hashlib.sha256()
    for row in contributions[CONTRIB_COLUMNS].itertuples(index=False, name=None):
        h.update("\x1f".join(map(str, row)).encode())
        h.update(b"\x1e")
    return h.hexdigest()


def check_time_level(time_level: str) -> str:
    if time_level not in TIME_LEVELS:
        raise ValueError(f"unknown time level {time_level!r}; expected one of {TIME_LEVELS}")
    return time_level


class CountsStore(abc.ABC):
    """Geo x time counts: per-hour contributions in, cube totals out."""

    @abc.abstractmethod
    def ensure_schema(self) -> None:
        """Create tables (and keyspace) if they do not exist; safe to call every run."""

    @abc.abstractmethod
    def apply_hour(self, partition: str, aggregates, force: bool = False) -> dict:
        """Replace hour ``partition``'s contribution with ``aggregates`` (``AGGREGATE_SCHEMA`` rows).

        An apply of exactly the rows already applied returns early (``unchanged``) unless
        ``force``, which recomputes and rewrites every key the hour touches (a repair).
        Returns ``{"partition", "rows", "photos", "keys_touched", "unchanged"}``.
        """

    @abc.abstractmethod
    def remove_hour(self, partition: str) -> None:
        """Withdraw an hour's contribution entirely and forget the hour."""

    @abc.abstractmethod
    def hours(self) -> list[str]:
        """The hours whose contributions are in the cube, sorted."""

    @abc.abstractmethod
    def by_period(self, level: str, period: str, metric: str = "photos") -> pd.DataFrame:
        """Every place of ``level`` in ``period`` (``'YYYY-MM'``, ``'YYYY'``, ``'all'``): ``PERIOD_COLUMNS``, by place."""

    @abc.abstractmethod
    def by_place(self, level: str, place: str, time_level: str, metric: str = "photos") -> pd.DataFrame:
        """One place across the periods of ``time_level``: ``PLACE_COLUMNS``, by period."""

    @abc.abstractmethod
    def top(self, level: str, period: str, n: int, include_unknown: bool = False) -> pd.DataFrame:
        """The ``n`` places of ``level`` with the most photos in ``period``: ``TOP_COLUMNS``, count desc, place asc."""

    @abc.abstractmethod
    def total(self, level: str, period: str, metric: str = "photos") -> int:
        """Sum of counts over all places (the unknown bucket included) of ``level`` in ``period``."""

    @abc.abstractmethod
    def snapshot(self) -> pd.DataFrame:
        """The whole cube (``CUBE_COLUMNS``), sorted by key; for checks and tests, not for serving."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

    def hue_histogram(self, level: str, place: str, period: str) -> dict[int, int]:
        """``{bin: summed share in millionths}`` of a region's photos in ``period``."""
        from photoatlas.counts.keys import time_level_of

        rows = self.by_place(level, place, time_level_of(period), metric="hue")
        rows = rows[rows["period"] == period]
        return {int(item): int(w) for item, w in zip(rows["item"], rows["weight"])}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def _top_frame(rows, n: int, include_unknown: bool) -> pd.DataFrame:
        """``(place, count)`` rows -> the first ``n`` by count desc, place asc."""
        rows = sorted(((p, c) for p, c in rows if include_unknown or p != UNKNOWN), key=lambda r: (-r[1], r[0]))
        return frame(rows[:n], TOP_COLUMNS)


__all__ = [
    "CUBE_COLUMNS",
    "PERIOD_COLUMNS",
    "PLACE_COLUMNS",
    "TOP_COLUMNS",
    "CountsStore",
    "check_level",
    "digest",
    "frame",
]
