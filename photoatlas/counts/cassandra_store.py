"""The production counts store on Cassandra (2.1 through 5), via cassandra-driver.

An apply replaces one hour's contribution and recomputes only the keys it touched, with
idempotent upserts (no counters, no read-modify-increment):

1. ledger row -> pending (``digest = ''``); a repeated apply of a digest already committed
   returns at once.
2. the hour's rows (plus ``'*'`` rollups per level) into ``counts_contrib_by_hour``, with
   zero rows for keys the hour no longer has, so a crashed apply still knows what it touched;
   then ``counts_contrib_by_key`` (upsert new, delete vanished).
3. each touched month key is summed from ``counts_contrib_by_key``; each touched place's
   year/all rows are re-derived from its months (read back from ``counts_by_place``).
4. changed totals are written top -> by_period -> by_place; ``counts_by_place`` is the commit
   point (it is what the next apply diffs against), so a crash anywhere is healed by
   re-applying the hour, with the same data or new. A re-run that finds the ledger pending
   also sweeps the touched ``counts_top``/``counts_by_period`` partitions for rows the
   crashed run left behind and rewrites the touched places' rows in full.
5. zero rows pruned; ledger row -> digest.

Applies must not run concurrently on overlapping hours' keys (two writers could each
recompute a key from a view missing the other's hour): run the reduction as one writer
(one Dagster run at a time for the cube). ``apply_hour(..., force=True)`` (or
``reduce_cube(..., force=True)`` over all hours) recomputes and sweeps regardless of the
ledger, and repairs any such drift.
"""

import json
from collections import defaultdict

import pandas as pd
from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.concurrent import execute_concurrent, execute_concurrent_with_args
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.query import BatchStatement, BatchType, tuple_factory

from photoatlas.counts import cassandra_plan as plan
from photoatlas.counts import cassandra_schema as cql
from photoatlas.counts.cube import CONTRIB_KEY, CUBE_COLUMNS, month_contributions
from photoatlas.counts.keys import ALL_PLACES, bucket_of, check_level, time_level_of
from photoatlas.counts.store import (
    PERIOD_COLUMNS,
    PLACE_COLUMNS,
    CountsStore,
    check_time_level,
    digest,
    frame,
)

PENDING = ""


class CassandraCountsStore(CountsStore):
    """Counts in a Cassandra keyspace; see :mod:`.cassandra_schema` for the tables."""

    def __init__(
        self,
        hosts=("127.0.0.1",),
        port: int = 9042,
        keyspace: str = "photoatlas",
        consistency: str = "LOCAL_QUORUM",
        protocol_version: int | None = None,
        username: str | None = None,
        password: str | None = None,
        replication: dict | None = None,
        local_dc: str | None = None,
        buckets: dict | None = None,
        concurrency: int = 64,
        request_timeout_s: float = 30.0,
    ):
        self.keyspace = cql.check_keyspace(keyspace)
        self.replication = replication or {"class": "SimpleStrategy", "replication_factor": 1}
        self.buckets = dict(buckets or cql.DEFAULT_BUCKETS)
        self.concurrency = concurrency
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=local_dc)),
            consistency_level=ConsistencyLevel.name_to_value[consistency.upper()],
            request_timeout=request_timeout_s,
            row_factory=tuple_factory,
        )
        options = {"protocol_version": protocol_version} if protocol_version else {}
        if username:
            options["auth_provider"] = PlainTextAuthProvider(username=username, password=password)
        self.cluster = Cluster(list(hosts), port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile}, **options)
        self.session = self.cluster.connect()
        self._prepared = {}

    # -- plumbing -------------------------------------------------------------------------------

    def _stmt(self, name: str):
        if name not in self._prepared:
            self._prepared[name] = self.session.prepare(cql.STATEMENTS[name].format(ks=self.keyspace))
        return self._prepared[name]

    def _run(self, name: str, params: list) -> list[list[tuple]]:
        """Run one prepared statement for every parameter tuple, concurrently; rows per tuple.

        Writes are grouped by partition into unlogged batches of ``BATCH_ROWS``.
        """
        if not params:
            return []
        stmt = self._stmt(name)
        arity = cql.PARTITION_KEY_ARITY.get(name)
        if arity is None:
            results = execute_concurrent_with_args(self.session, stmt, params, concurrency=self.concurrency)
            return [list(r.result_or_exc) for r in results]
        groups = defaultdict(list)
        for p in params:
            groups[tuple(p[:arity])].append(p)
        batches = []
        for rows in groups.values():
            for i in range(0, len(rows), cql.BATCH_ROWS):
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for p in rows[i : i + cql.BATCH_ROWS]:
                    batch.add(stmt, p)
                batches.append((batch, None))
        execute_concurrent(self.session, batches, concurrency=self.concurrency)
        return []

    def ensure_schema(self) -> None:
        self.session.execute(cql.create_keyspace(self.keyspace, self.replication))
        for ddl in cql.create_tables(self.keyspace):
            self.session.execute(ddl)
        stored = self._run("meta_get", [("buckets",)])[0]
        if stored:  # the layout is fixed at creation; a different setting would misread the data
            self.buckets = json.loads(stored[0][0])
        else:
            self._run("meta_put", [("buckets", json.dumps(self.buckets, sort_keys=True))])

    # -- writes ---------------------------------------------------------------------------------

    def apply_hour(self, partition: str, aggregates, force: bool = False) -> dict:
        new = month_contributions(partition, aggregates)
        photos = int(new.loc[(new["metric"] == "photos") & (new["geo_level"] == "country"), "count"].sum())
        stars = new.groupby(["metric", "geo_level", "period", "item"], as_index=False)[["count", "weight"]].sum()
        new = pd.concat([new, stars.assign(place=ALL_PLACES)], ignore_index=True)
        new_map = {
            k[:5]: (int(k[5]), int(k[6]))
            for k in new[CONTRIB_KEY + ["count", "weight"]].itertuples(index=False, name=None)
        }
        d, year = digest(new.sort_values(CONTRIB_KEY)), partition[:4]
        stats = {"partition": partition, "rows": len(new_map), "photos": photos, "keys_touched": 0, "unchanged": True}
        ledger = self._run("ledger_get", [(year, partition)])[0]
        if ledger and ledger[0][0] == d and not force:
            return stats
        recovering = force or (bool(ledger) and ledger[0][0] == PENDING)
        self._run("ledger_put", [(year, partition, PENDING, len(new_map), photos)])

        old_map = {row[:5]: (row[5], row[6]) for row in self._run("hour_get", [(partition,)])[0]}
        vanished = [k for k in old_map if k not in new_map]
        self._run(
            "hour_put", [(partition, *k, *v) for k, v in new_map.items()] + [(partition, *k, 0, 0) for k in vanished]
        )
        self._run("key_put", [(*k, partition, *v) for k, v in new_map.items()])
        self._run("key_del", [(*k, partition) for k in vanished])

        touched = sorted({k[:4] for k in old_map} | {k[:4] for k in new_map})
        self._recompute(touched, recovering)
        self._run("hour_del_row", [(partition, *k) for k in vanished])
        self._run("ledger_put", [(year, partition, d, len(new_map), photos)])
        return {**stats, "keys_touched": len(touched), "unchanged": False}

    def _recompute(self, touched: list[tuple], recovering: bool) -> None:
        """Re-sum touched month keys (metric, geo_level, period, place); re-derive their places' year/all."""
        sums = dict(zip(touched, self._run("key_get", touched), strict=True))
        periods = defaultdict(set)
        for m, g, per, pl in touched:
            periods[(m, g, pl)].add(per)
        places = sorted(periods)
        olds, news = {}, {}
        for (m, g, pl), rows in zip(places, self._run("place_get", places), strict=True):
            olds[(m, g, pl)] = {(tl, per, item): (n, w) for tl, per, item, n, w in rows}
            month_sums = {per: sums[(m, g, per, pl)] for per in periods[(m, g, pl)]}
            news[(m, g, pl)] = plan.new_totals(olds[(m, g, pl)], periods[(m, g, pl)], month_sums)
        writes = plan.plan_writes(olds, news, self._bucket, recovering)
        if recovering:
            stale_top, stale_period = self._sweep(news, periods)
            writes["top_del"] += stale_top
            writes["period_del"] += stale_period
        # Order matters: counts_by_place is what the next apply diffs against, so it goes last.
        for name in ("top_del", "top_put", "period_del", "period_put", "place_del", "place_put"):
            self._run(name, writes[name])

    def _sweep(self, news: dict, periods: dict) -> tuple[list, list]:
        """After a crash: read the touched by_period/top partitions whole and find rows to drop."""
        parts = plan.sweep_partitions(periods, self._bucket)
        tops = sorted({p[1:] for p in parts if p[0] == "photos"})
        period_rows = dict(zip(parts, self._run("period_get", parts), strict=True))
        top_rows = dict(zip(tops, self._run("top_get", [(*t, 2**31 - 1) for t in tops]), strict=True))
        return plan.stale_rows(news, period_rows, top_rows)

    def _bucket(self, level: str, place: str) -> int:
        return bucket_of(place, self.buckets[level])

    def remove_hour(self, partition: str) -> None:
        self.apply_hour(partition, None)
        self._run("hour_del", [(partition,)])
        self._run("ledger_del", [(partition[:4], partition)])

    # -- reads ----------------------------------------------------------------------------------

    def hours(self) -> list[str]:
        years = [(row[0],) for row in self._run("ledger_years", [()])[0]]
        return sorted(hour for rows in self._run("ledger_list", years) for hour, d in rows if d != PENDING)

    def _buckets(self, level: str) -> range:
        return range(self.buckets[check_level(level)])

    def by_period(self, level: str, period: str, metric: str = "photos") -> pd.DataFrame:
        params = [(metric, level, time_level_of(period), period, b) for b in self._buckets(level)]
        return frame((row for rows in self._run("period_get", params) for row in rows), PERIOD_COLUMNS, sort_by=2)

    def by_place(self, level: str, place: str, time_level: str, metric: str = "photos") -> pd.DataFrame:
        params = [(metric, check_level(level), place, check_time_level(time_level))]
        return frame(self._run("place_slice", params)[0], PLACE_COLUMNS, sort_by=2)

    def top(self, level: str, period: str, n: int, include_unknown: bool = False) -> pd.DataFrame:
        params = [(level, time_level_of(period), period, b, int(n) + 1) for b in self._buckets(level)]
        return self._top_frame((row for rows in self._run("top_get", params) for row in rows), n, include_unknown)

    def total(self, level: str, period: str, metric: str = "photos") -> int:
        rows = self._run("place_slice", [(metric, check_level(level), ALL_PLACES, time_level_of(period))])[0]
        return sum(n for per, _, n, _ in rows if per == period)

    def snapshot(self) -> pd.DataFrame:
        rows = (r for r in self._run("place_scan", [()])[0] if r[4] != ALL_PLACES)
        cube = frame(rows, ["metric", "geo_level", "time_level", "period", "place", "item", "count", "weight"])
        return cube[CUBE_COLUMNS].sort_values(CUBE_COLUMNS[:-2], ignore_index=True)

    def close(self) -> None:
        self.cluster.shutdown()


__all__ = ["CassandraCountsStore"]
