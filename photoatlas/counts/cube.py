"""The full geo x time cube, reduced from hourly aggregates: pure reduction and the incremental driver.

Semantics (what every store implements):

- The **truth** is each hour's *contribution*: its aggregate rows at the month level
  (``time_level == 'month'``, period ``'YYYY-MM'`` or ``'~unknown'``).
- ``cube[key] = sum over hours of contribution[hour][key]`` for month keys; year and all
  keys are sums of their months (``'~unknown'`` month -> ``'~unknown'`` year). Every value
  is an integer (weights are fixed-point), so sums are exact and order-free.
- ``apply_hour(p, rows)`` *replaces* hour ``p``'s contribution and recomputes only the keys
  it touched (old keys of ``p`` union new keys). Re-applying the same rows is a no-op;
  re-applying changed rows corrects the totals; hours commute. A key whose count reaches 0
  disappears.
- :func:`reduce_cube` with ``full=True`` also removes hours the store holds but the input
  does not, so the store equals :func:`reduce_aggregates` of the input exactly.
"""

from collections.abc import Iterable, Mapping

import pandas as pd
import pyarrow as pa

from photoatlas.counts.aggregate import AGGREGATE_COLUMNS, empty_aggregates
from photoatlas.counts.keys import ALL_PERIOD, GEO_LEVELS, METRICS, UNKNOWN

CUBE_COLUMNS = ["metric", "geo_level", "time_level", "period", "place", "item", "count", "weight"]
CUBE_KEY = CUBE_COLUMNS[:-2]
CONTRIB_COLUMNS = ["metric", "geo_level", "period", "place", "item", "count", "weight"]
CONTRIB_KEY = CONTRIB_COLUMNS[:-2]


def _frame(aggregates) -> pd.DataFrame:
    if aggregates is None:
        return empty_aggregates()
    df = aggregates.to_pandas() if isinstance(aggregates, pa.Table) else aggregates
    missing = set(AGGREGATE_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"aggregates lack columns {sorted(missing)}")
    return df[AGGREGATE_COLUMNS]


def _with_year(rows: pd.DataFrame) -> pd.Series:
    return rows["period"].where(rows["period"] == UNKNOWN, rows["period"].str.slice(0, 4))


def rollup_months(months: pd.DataFrame) -> pd.DataFrame:
    """Month rows (``CONTRIB_COLUMNS``) -> cube rows (``CUBE_COLUMNS``) for month, year and all."""
    by = ["metric", "geo_level", "place", "item"]
    month = months.assign(time_level="month")
    year = months.assign(period=_with_year(months)).groupby(by + ["period"], as_index=False)[["count", "weight"]].sum()
    every = months.groupby(by, as_index=False)[["count", "weight"]].sum().assign(period=ALL_PERIOD)
    out = pd.concat([month, year.assign(time_level="year"), every.assign(time_level="all")], ignore_index=True)
    out = out[out["count"] > 0].astype({"count": "int64", "weight": "int64"})
    return out.sort_values(CUBE_KEY, ignore_index=True)[CUBE_COLUMNS]


def month_contributions(partition: str, aggregates) -> pd.DataFrame:
    """The rows a store keeps for one hour (``CONTRIB_COLUMNS``), after checking the aggregate.

    Raises ``ValueError`` when rows belong to another hour, a level/metric is unknown, a
    count is not positive, a key repeats, or the year/all rows disagree with the month rows.
    """
    df = _frame(aggregates)
    if df.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c in ("count", "weight") else object) for c in CONTRIB_COLUMNS}
        )
    problems = []
    if (df["partition"] != partition).any():
        problems.append(f"rows of other hours: {sorted(set(df['partition']) - {partition})[:3]}")
    if not df["geo_level"].isin(GEO_LEVELS).all() or not df["metric"].isin(METRICS).all():
        problems.append("unknown geo_level or metric")
    if (df["count"] <= 0).any() or (df["weight"] < 0).any():
        problems.append("non-positive count or negative weight")
    if df.duplicated(["metric", "geo_level", "time_level", "period", "place", "item"]).any():
        problems.append("duplicate keys")
    months = df[df["time_level"] == "month"][CONTRIB_COLUMNS].astype({"count": "int64", "weight": "int64"})
    if not problems:
        derived = rollup_months(months)
        given = df.drop(columns="partition").sort_values(CUBE_KEY, ignore_index=True)[CUBE_COLUMNS]
        if not derived.equals(given.astype({"count": "int64", "weight": "int64"})):
            problems.append("year/all rows are not the sums of the month rows")
    if problems:
        raise ValueError(f"hourly aggregate for {partition} rejected: " + "; ".join(problems))
    return months.sort_values(CONTRIB_KEY, ignore_index=True)


def reduce_aggregates(aggregates) -> pd.DataFrame:
    """Pure reduction: the cube (``CUBE_COLUMNS``) of any number of hours' aggregate rows."""
    df = _frame(aggregates)
    cube = df.groupby(CUBE_KEY, as_index=False)[["count", "weight"]].sum()
    cube = cube[cube["count"] > 0].astype({"count": "int64", "weight": "int64"})
    return cube.sort_values(CUBE_KEY, ignore_index=True)[CUBE_COLUMNS]


def split_hours(aggregates, partitions: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """``{partition: rows}`` from a frame of many hours or a mapping; listed hours without rows map to empty."""
    if isinstance(aggregates, Mapping):
        hours = {p: _frame(rows) for p, rows in aggregates.items()}
    else:
        df = _frame(aggregates)
        hours = {p: rows for p, rows in df.groupby("partition", sort=True)}
    for p in partitions or ():
        hours.setdefault(p, empty_aggregates())
    return dict(sorted(hours.items()))


def reduce_cube(
    store, aggregates, partitions: Iterable[str] | None = None, full: bool = False, force: bool = False
) -> dict:
    """Bring ``store``'s cube up to date with the given hours' aggregates, incrementally.

    ``aggregates``: one frame/table holding many hours, or ``{partition: rows}``. Every hour
    present (plus every hour in ``partitions``, applied as empty when it has no rows)
    replaces its contribution; hours whose rows are already applied are skipped unless
    ``force``. ``full=True``: the input is *all* hours; hours the store holds beyond it are
    removed. Safe to repeat; returns what was done.
    """
    hours = split_hours(aggregates, partitions)
    applied = [store.apply_hour(p, rows, force=force) for p, rows in hours.items()]
    removed = []
    if full:
        removed = [p for p in store.hours() if p not in hours]
        for p in removed:
            store.remove_hour(p)
    return {
        "hours_applied": len(applied),
        "hours_removed": removed,
        "hours_unchanged": sum(1 for a in applied if a.get("unchanged")),
        "keys_touched": sum(a.get("keys_touched", 0) for a in applied),
    }
