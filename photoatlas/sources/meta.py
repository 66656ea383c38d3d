"""Shared helpers for sources: the image check and metadata clean-up into ingest's meta keys."""

from datetime import datetime, timezone

from photoatlas.imaging.sniff import describe_non_image, sniff_format
from photoatlas.metadata import clean_meta  # noqa: F401  (the sources' import point)



def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def not_an_image(data: bytes) -> str | None:
    """None when ``data`` starts like a raster image; otherwise what it looks like instead."""
    if not data:
        return "empty body"
    if sniff_format(data) is not None:
        return None
    return f"{describe_non_image(data)} ({len(data)} bytes)"


