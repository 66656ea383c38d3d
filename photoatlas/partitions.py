"""Ingest-hour partition keys, as Dagster's HourlyPartitionsDefinition names them (UTC)."""

from datetime import datetime, timedelta, timezone

HOUR_FORMAT = "%Y-%m-%d-%H:%M"


def hour_key(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("hour_key needs an aware datetime (UTC)")
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0).strftime(HOUR_FORMAT)


def hour_key_from_timestamp(seconds: float) -> str:
    return hour_key(datetime.fromtimestamp(seconds, tz=timezone.utc))


def hour_window(key: str) -> tuple[datetime, datetime]:
    """[start, end) of an hour partition key; raises ValueError for anything else."""
    start = datetime.strptime(key, HOUR_FORMAT).replace(tzinfo=timezone.utc)
    if start.minute:
        raise ValueError(f"not an hour partition key: {key!r}")
    return start, start + timedelta(hours=1)
