"""Which upstream partitions changed since a non-partitioned asset last ran (from the event log)."""

from dagster import AssetExecutionContext, AssetKey, AssetRecordsFilter

CURSOR_KEY = "upstream_cursor"


def changed_partitions(context: AssetExecutionContext, upstream: str) -> tuple[list[str] | None, int]:
    """(partitions of ``upstream`` materialised since this asset's last run, the newest storage id).

    None instead of a list means "no cursor yet: take every partition" (first run or a reset).
    The cursor travels in this asset's own materialisation metadata under ``CURSOR_KEY``.
    """
    instance = context.instance
    last = instance.get_latest_materialization_event(context.asset_key)
    after = None
    if last is not None and last.asset_materialization is not None:
        value = last.asset_materialization.metadata.get(CURSOR_KEY)
        after = value.value if value is not None else None
    partitions, cursor, newest = set(), None, after or 0
    while True:
        page = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey(upstream), after_storage_id=after), limit=1000, cursor=cursor, ascending=True
        )
        for record in page.records:
            partitions.add(record.partition_key)
            newest = max(newest, record.storage_id)
        if not page.has_more:
            break
        cursor = page.cursor
    return (sorted(partitions) if after is not None else None), newest
