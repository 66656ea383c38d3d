"""county_counts through a real Cassandra agrees with the embedded DuckDB store, answer for answer."""

import pytest
from dagster import DagsterInstance, materialize

from assets.county_counts import county_counts
from assets.enriched_records import enriched_records
from assets.hourly_aggregates import hourly_aggregates
from assets.raw_photos import raw_photos
from resources.counts_store import CountsStoreResource
from tests.dagster.conftest import drop
from tests.servers.cassandra import PROTOCOL_VERSION

pytestmark = pytest.mark.integration
HOUR = "2026-06-03-10:00"
LEVELS = ("country", "admin1", "county", "city", "geohash")


def _answers(resource: CountsStoreResource) -> dict:
    store = resource.store()
    try:
        out = {}
        for level in LEVELS:
            for period in ("all", "2014", "2014-07"):
                frame = store.by_period(level, period)
                out[(level, period)] = sorted(zip(frame["place"], frame["item"], frame["count"], frame["weight"]))
                out[(level, period, "top")] = list(store.top(level, period, 5)["count"])
        return out
    finally:
        store.close()


def test_cassandra_and_duckdb_cubes_agree(home, sample_dir, cassandra_server):
    from pipelines.environment import local_resources

    root, _ = sample_dir
    drop(root, home.inbox, HOUR)
    resources = local_resources(home)
    user, password = cassandra_server.credentials
    cassandra = CountsStoreResource(kind="cassandra", hosts="127.0.0.1", port=cassandra_server.port, keyspace="pa_assets",
                                    consistency="ONE", protocol_version=PROTOCOL_VERSION, username=user, password=password)
    with DagsterInstance.ephemeral() as instance:
        assert materialize([raw_photos, enriched_records, hourly_aggregates], partition_key=HOUR, resources=resources, instance=instance).success
        assert materialize([county_counts], resources=resources, instance=instance).success
    with DagsterInstance.ephemeral() as instance:
        result = materialize([county_counts], resources={**resources, "counts": cassandra}, instance=instance)
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
    embedded, production = _answers(resources["counts"]), _answers(cassandra)
    assert embedded[("county", "all")], "nothing was counted"
    assert embedded == production
