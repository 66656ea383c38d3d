"""What a run produced, read back from the lake: photos in, enriched, quarantined by reason."""

from collections import Counter

from photoatlas.lake import KeyNotFound, Lake, table_key


def summarise(lake: Lake, hours: list[str]) -> dict:
    totals = Counter()
    reasons: Counter = Counter()
    missing = []
    for hour in hours:
        try:
            manifest = lake.read_table(table_key("manifest", hour))
            records = lake.read_table(table_key("records", hour))
        except KeyNotFound:
            missing.append(hour)
            continue
        totals["new_photos"] += manifest.num_rows
        totals["duplicates"] += lake.read_table(table_key("duplicates", hour)).num_rows
        totals["ingest_errors"] += lake.read_table(table_key("ingest_errors", hour)).num_rows
        statuses = records.column("status").to_pylist()
        totals["ok"] += statuses.count("ok")
        totals["quarantined"] += statuses.count("quarantined")
        reasons.update(r for r in records.column("quarantine_reason").to_pylist() if r)
    return {"hours": hours, **dict(totals), "quarantined_by_reason": dict(sorted(reasons.items())), "hours_not_materialised": missing}


def format_summary(summary: dict, lake: Lake) -> str:
    hours = summary["hours"]
    lines = [
        f"hours         {hours[0]} .. {hours[-1]} ({len(hours)})" if hours else "hours         none",
        f"photos in     {summary.get('new_photos', 0)} new, {summary.get('duplicates', 0)} duplicate arrival(s), {summary.get('ingest_errors', 0)} unreadable",
        f"enriched      {summary.get('ok', 0)} ok",
        f"quarantined   {summary.get('quarantined', 0)}" + "".join(f"\n                {n} x {r}" for r, n in summary["quarantined_by_reason"].items()),
        f"lake          {lake.uri()}",
        f"  manifests   {lake.uri('tables/manifest/')}",
        f"  records     {lake.uri('tables/records/')}",
        f"  thumbnails  {lake.uri('thumbs/')}",
    ]
    if summary["hours_not_materialised"]:
        lines.append(f"NOT MATERIALISED: {', '.join(summary['hours_not_materialised'])}")
    return "\n".join(lines)
