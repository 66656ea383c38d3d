"""The embedded counts store: one DuckDB file, each hour applied in one transaction.

Tables: ``counts_contrib`` (each hour's month-level rows, the truth), ``counts_cube`` (month,
year and all totals, derived) and ``counts_hours`` (the ledger of applied hours). An apply
deletes and re-inserts the hour's contribution, then recomputes only the touched month
keys from ``counts_contrib`` and the touched places' year/all rows from their months.
"""

from pathlib import Path

import duckdb
import pandas as pd

from photoatlas.counts.cube import CONTRIB_COLUMNS, CUBE_COLUMNS, month_contributions
from photoatlas.counts.keys import ALL_PERIOD, UNKNOWN, check_level, time_level_of
from photoatlas.counts.store import (
    PERIOD_COLUMNS,
    PLACE_COLUMNS,
    TOP_COLUMNS,
    CountsStore,
    check_time_level,
    digest,
    frame,
)

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS counts_contrib (
        partition VARCHAR NOT NULL, metric VARCHAR NOT NULL, geo_level VARCHAR NOT NULL,
        period VARCHAR NOT NULL, place VARCHAR NOT NULL, item VARCHAR NOT NULL,
        count BIGINT NOT NULL, weight BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS counts_cube (
        metric VARCHAR NOT NULL, geo_level VARCHAR NOT NULL, time_level VARCHAR NOT NULL,
        period VARCHAR NOT NULL, place VARCHAR NOT NULL, item VARCHAR NOT NULL,
        count BIGINT NOT NULL, weight BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS counts_hours (
        partition VARCHAR NOT NULL, rows BIGINT NOT NULL, photos BIGINT NOT NULL, digest VARCHAR NOT NULL)""",
]

_YEAR = f"CASE WHEN period = '{UNKNOWN}' THEN period ELSE substr(period, 1, 4) END"
_APPLY = [
    # Touched month keys: the hour's old keys and its new ones.
    """CREATE OR REPLACE TEMP TABLE _touched AS
       SELECT DISTINCT metric, geo_level, place, period FROM counts_contrib WHERE partition = $p
       UNION SELECT metric, geo_level, place, period FROM _new""",
    f"""CREATE OR REPLACE TEMP TABLE _touched_years AS
        SELECT DISTINCT metric, geo_level, place, {_YEAR} AS year FROM _touched""",
    "DELETE FROM counts_contrib WHERE partition = $p",
    f"INSERT INTO counts_contrib SELECT $p, {', '.join(CONTRIB_COLUMNS)} FROM _new",
    """DELETE FROM counts_cube c USING _touched t
       WHERE c.time_level = 'month' AND c.metric = t.metric AND c.geo_level = t.geo_level
         AND c.place = t.place AND c.period = t.period""",
    """INSERT INTO counts_cube
       SELECT c.metric, c.geo_level, 'month', c.period, c.place, c.item, sum(c.count)::BIGINT, sum(c.weight)::BIGINT
       FROM counts_contrib c JOIN _touched t USING (metric, geo_level, place, period)
       GROUP BY ALL HAVING sum(c.count) > 0""",
    """DELETE FROM counts_cube c USING _touched_years t
       WHERE c.metric = t.metric AND c.geo_level = t.geo_level AND c.place = t.place
         AND ((c.time_level = 'year' AND c.period = t.year) OR c.time_level = 'all')""",
    f"""INSERT INTO counts_cube
        SELECT metric, geo_level, 'year', {_YEAR} AS y, place, item, sum(count)::BIGINT, sum(weight)::BIGINT
        FROM counts_cube c
        WHERE time_level = 'month' AND EXISTS (SELECT 1 FROM _touched_years t WHERE t.metric = c.metric
              AND t.geo_level = c.geo_level AND t.place = c.place AND t.year = {_YEAR.replace("period", "c.period")})
        GROUP BY ALL""",
    f"""INSERT INTO counts_cube
        SELECT metric, geo_level, 'all', '{ALL_PERIOD}', place, item, sum(count)::BIGINT, sum(weight)::BIGINT
        FROM counts_cube c
        WHERE time_level = 'month' AND EXISTS (SELECT 1 FROM _touched_years t WHERE t.metric = c.metric
              AND t.geo_level = c.geo_level AND t.place = c.place)
        GROUP BY ALL""",
    "DELETE FROM counts_hours WHERE partition = $p",
]


class DuckDBCountsStore(CountsStore):
    """Counts in a local DuckDB file (``':memory:'`` for tests); ``threads`` caps DuckDB's pool."""

    def __init__(self, path: str | Path = ":memory:", threads: int | None = None):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(self.path, config={"threads": threads} if threads else {})
        self.ensure_schema()  # idempotent: a store nobody wrote yet reads as empty, not as an error

    def ensure_schema(self) -> None:
        for ddl in _SCHEMA:
            self.con.execute(ddl)

    def apply_hour(self, partition: str, aggregates, force: bool = False) -> dict:
        new = month_contributions(partition, aggregates)
        photos = int(new.loc[(new["metric"] == "photos") & (new["geo_level"] == "country"), "count"].sum())
        stats = {"partition": partition, "rows": len(new), "photos": photos, "keys_touched": 0, "unchanged": True}
        new_digest = digest(new)
        # fetchall: DuckDB 2 refuses new work on a connection while a result is half read.
        applied = self.con.execute("SELECT digest FROM counts_hours WHERE partition = $p", {"p": partition}).fetchall()
        if applied and applied[0][0] == new_digest and not force:
            return stats
        self.con.register("_new", new)
        try:
            self.con.begin()
            try:
                for sql in _APPLY:
                    self.con.execute(sql, {"p": partition} if "$p" in sql else None)
                touched = self.con.execute("SELECT count(*) FROM _touched").fetchall()[0][0]
                self.con.execute(
                    "INSERT INTO counts_hours VALUES ($p, $rows, $photos, $digest)",
                    {"p": partition, "rows": len(new), "photos": photos, "digest": new_digest},
                )
                self.con.commit()
            except BaseException:
                self.con.rollback()
                raise
        finally:
            self.con.unregister("_new")
        return {**stats, "keys_touched": int(touched), "unchanged": False}

    def remove_hour(self, partition: str) -> None:
        self.apply_hour(partition, None)
        self.con.execute("DELETE FROM counts_hours WHERE partition = $p", {"p": partition})

    def hours(self) -> list[str]:
        return [r[0] for r in self.con.execute("SELECT partition FROM counts_hours ORDER BY partition").fetchall()]

    def _query(self, sql: str, params: dict, columns: list[str]) -> pd.DataFrame:
        return frame(self.con.execute(sql, params).fetchall(), columns)

    def by_period(self, level: str, period: str, metric: str = "photos") -> pd.DataFrame:
        params = {"m": metric, "g": check_level(level), "t": time_level_of(period), "p": period}
        return self._query(
            """SELECT place, item, count, weight FROM counts_cube
                              WHERE metric = $m AND geo_level = $g AND time_level = $t AND period = $p
                              ORDER BY place, item""",
            params,
            PERIOD_COLUMNS,
        )

    def by_place(self, level: str, place: str, time_level: str, metric: str = "photos") -> pd.DataFrame:
        params = {"m": metric, "g": check_level(level), "t": check_time_level(time_level), "pl": place}
        return self._query(
            """SELECT period, item, count, weight FROM counts_cube
                              WHERE metric = $m AND geo_level = $g AND time_level = $t AND place = $pl
                              ORDER BY period, item""",
            params,
            PLACE_COLUMNS,
        )

    def top(self, level: str, period: str, n: int, include_unknown: bool = False) -> pd.DataFrame:
        params = {
            "g": check_level(level),
            "t": time_level_of(period),
            "p": period,
            "u": UNKNOWN,
            "inc": include_unknown,
            "n": int(n),
        }
        return self._query(
            """SELECT place, count FROM counts_cube
                              WHERE metric = 'photos' AND geo_level = $g AND time_level = $t AND period = $p
                                AND ($inc OR place <> $u)
                              ORDER BY count DESC, place LIMIT $n""",
            params,
            TOP_COLUMNS,
        )

    def total(self, level: str, period: str, metric: str = "photos") -> int:
        params = {"m": metric, "g": check_level(level), "t": time_level_of(period), "p": period}
        return int(
            self.con.execute(
                """SELECT coalesce(sum(count), 0)::BIGINT FROM counts_cube
                                       WHERE metric = $m AND geo_level = $g AND time_level = $t AND period = $p""",
                params,
            ).fetchall()[0][0]
        )

    def snapshot(self) -> pd.DataFrame:
        return frame(
            self.con.execute(f"SELECT {', '.join(CUBE_COLUMNS)} FROM counts_cube ORDER BY ALL").fetchall(), CUBE_COLUMNS
        )

    def close(self) -> None:
        self.con.close()
