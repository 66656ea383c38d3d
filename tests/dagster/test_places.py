"""hourly_aggregates → county_counts: conservation, idempotent re-runs, incremental reduction, the map."""

import pytest
from dagster import DagsterInstance, materialize

from assets.county_counts import county_counts
from assets.enriched_records import enriched_records
from assets.hourly_aggregates import hourly_aggregates
from assets.raw_photos import raw_photos
from tests.dagster.conftest import drop

pytestmark = pytest.mark.dagster
H1, H2 = "2026-06-01-10:00", "2026-06-01-11:00"
HOURLY = [raw_photos, enriched_records, hourly_aggregates]


def _cube(resources):
    store = resources["counts"].store()
    try:
        return store.by_period("county", "all").sort_values("place").reset_index(drop=True), int(store.total("country", "all"))
    finally:
        store.close()


def _cube_run(resources, instance):
    result = materialize([county_counts], resources=resources, instance=instance, selection=[county_counts])
    assert result.success
    mat = result.asset_materializations_for_node("county_counts")[0]
    return {k: v.value for k, v in mat.metadata.items()}


def test_counts_flow_from_records_to_the_cube_and_reruns_change_nothing(home, resources, sample_dir):
    root, _ = sample_dir
    drop(root, home.inbox, H1, names={"china.jpg", "chelsea.jpg", "coffee.jpg", "r_canon.jpg", "empty.jpg"})
    drop(root, home.inbox, H2, names={"flower.jpg", "astronaut.jpg"})
    with DagsterInstance.ephemeral() as instance:
        for hour in (H1, H2):
            result = materialize(HOURLY, partition_key=hour, resources=resources, instance=instance)
            assert result.success
            checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations() if e.asset_key.path[-1] == "hourly_aggregates"}
            assert checks == {"counts_conserved": True, "counts_valid": True}
        first = _cube_run(resources, instance)
        assert first["mode"] == "full" and first["hours_applied"] == 2
        cube, total = _cube(resources)
        assert total == 6  # 4 ok in H1 (empty.jpg is quarantined) + 2 in H2
        counts = dict(zip(cube["place"], cube["count"]))
        assert counts["06075"] == 1 and counts["36061"] == 1 and counts["15003"] == 1 and counts["~unknown"] == 1
        assert "county_map" in first and first["county_map"].startswith("![photos per county](data:image/png;base64,")

        # Re-running an hour end to end, then the reduction, leaves the cube exactly as it was.
        assert materialize(HOURLY, partition_key=H1, resources=resources, instance=instance).success
        again = _cube_run(resources, instance)
        assert again["mode"] == "incremental" and again["hours_applied"] == 1 and again["hours_unchanged"] == 1
        assert _cube(resources)[0].equals(cube)

        # A late arrival in an old hour changes exactly that hour's contribution.
        drop(root, home.inbox, H1, names={"motorcycle_left.jpg"})
        assert materialize(HOURLY, partition_key=H1, resources=resources, instance=instance).success
        late = _cube_run(resources, instance)
        assert late["hours_applied"] == 1 and late["hours_unchanged"] == 0
        cube2, total2 = _cube(resources)
        assert total2 == 7 and dict(zip(cube2["place"], cube2["count"]))["02020"] == 1
