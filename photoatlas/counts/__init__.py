"""Geo x time counts: hourly aggregation, the incremental cube reduction, and the counts stores.

- :func:`aggregate_hour` (pure): enriched records -> the hour's ``AGGREGATE_SCHEMA`` rows.
- :func:`reduce_cube`: hourly aggregates -> a :class:`CountsStore`, replacing each hour's
  contribution and recomputing only the keys it touches (see :mod:`.cube` for semantics).
- Stores: :class:`DuckDBCountsStore` (embedded default) and :class:`CassandraCountsStore`
  (production; imported lazily so the driver stays optional).
"""

from photoatlas.counts.aggregate import AGGREGATE_SCHEMA, aggregate_hour
from photoatlas.counts.cube import CUBE_COLUMNS, reduce_aggregates, reduce_cube
from photoatlas.counts.duckdb_store import DuckDBCountsStore
from photoatlas.counts.keys import ALL_PERIOD, GEO_LEVELS, REGION_LEVELS, TIME_LEVELS, UNKNOWN
from photoatlas.counts.store import CountsStore

__all__ = [
    "AGGREGATE_SCHEMA",
    "ALL_PERIOD",
    "CUBE_COLUMNS",
    "GEO_LEVELS",
    "REGION_LEVELS",
    "TIME_LEVELS",
    "UNKNOWN",
    "CassandraCountsStore",
    "CountsStore",
    "DuckDBCountsStore",
    "aggregate_hour",
    "reduce_aggregates",
    "reduce_cube",
]


def __getattr__(name):
    if name == "CassandraCountsStore":
        from photoatlas.counts.cassandra_store import CassandraCountsStore

        return CassandraCountsStore
    raise AttributeError(name)
