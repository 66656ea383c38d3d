"""county_counts: the geo × time cube reduced from every hourly aggregate, in the counts store."""

import time

from dagster import AssetExecutionContext, AutomationCondition, MaterializeResult, MetadataValue, asset

from assets._checks import results, specs
from assets._incremental import CURSOR_KEY, changed_partitions
from assets.hourly_aggregates import hourly_aggregates
from photoatlas.counts import AGGREGATE_SCHEMA, reduce_cube
from photoatlas.lake import table_key, table_partitions
from photoatlas.maps import county_choropleth_png
from photoatlas.quality import check_cube
from photoatlas.render import png_markdown
from resources.counts_store import CountsStoreResource
from resources.lake import LakeResource

CHECKS = {
    "cube_conserved": ("all-time totals at every level equal the ok records of all hours", True),
    "cube_non_negative": ("no place has a negative count", True),
}
@asset(
    deps=[hourly_aggregates],
    group_name="places",
    kinds={"duckdb", "cassandra"},
    automation_condition=AutomationCondition.eager(),
    check_specs=specs("county_counts", CHECKS),
)
def county_counts(context: AssetExecutionContext, lake: LakeResource, counts: CountsStoreResource) -> MaterializeResult:
    """Photo counts per place (5 levels) and period (month, year, all time), served to the county map."""
    started = time.monotonic()
    the_lake = lake.lake()
    changed, newest = changed_partitions(context, "hourly_aggregates")
    all_hours = table_partitions(the_lake, "aggregates")
    hours = all_hours if changed is None else [h for h in changed if h in set(all_hours)]
    frames = {h: the_lake.read_table(table_key("aggregates", h), AGGREGATE_SCHEMA).to_pandas() for h in hours}
    store = counts.store()
    try:
        done = reduce_cube(store, frames, full=changed is None)
        expected = 0
        for h in all_hours:
            statuses = the_lake.read_table(table_key("records", h)).column("status").to_pylist()
            expected += statuses.count("ok")
        outcomes = check_cube(store, expected)
        county = store.by_period("county", "all")
        by_fips = {p: int(n) for p, n in zip(county["place"], county["count"]) if p != "~unknown" and not county.empty}
        top = store.top("county", "all", 10)
    finally:
        store.close()
    context.log.info("cube: %s", done)
    png = county_choropleth_png(by_fips, f"Photos per US county, all time ({sum(by_fips.values())} photos)")
    the_lake.put("maps/county_counts_all.png", png)
    return MaterializeResult(
        metadata={
            CURSOR_KEY: newest,
            "mode": "full" if changed is None else "incremental",
            "hours_applied": done["hours_applied"],
            "hours_unchanged": done["hours_unchanged"],
            "keys_touched": done["keys_touched"],
            "ok_photos": expected,
            "counties_with_photos": len(by_fips),
            "top_counties": MetadataValue.json({str(p): int(n) for p, n in zip(top["place"], top["count"])}),
            "county_map": MetadataValue.md(png_markdown(png, "photos per county")),
            "map_png": MetadataValue.path(the_lake.uri("maps/county_counts_all.png")),
            "seconds": round(time.monotonic() - started, 3),
        },
        check_results=results(outcomes, CHECKS),
    )
