"""Photo metadata from any source (sidecars, APIs, datasets, messages) in ingest's meta keys."""

from datetime import datetime

TEXT_FIELDS = ("title", "description", "owner", "owner_id", "licence", "url", "source", "source_id")


def clean_meta(raw: dict) -> tuple[dict, list[str]]:
    """Keep ingest's meta keys in their types (tags a list, lat/lon floats, taken_at ISO) and
    pass other keys through; impossible values become warnings, never errors."""
    meta, warnings = {}, []
    for key, value in raw.items():
        if value is None or value == "":
            continue
        meta[key] = value
    for key in TEXT_FIELDS:
        if key in meta:
            meta[key] = str(meta[key])
    if "tags" in meta:
        tags = meta["tags"]
        if isinstance(tags, str):
            tags = tags.replace(",", " ").split()
        meta["tags"] = [str(t).strip() for t in tags if str(t).strip()] if isinstance(tags, (list, tuple)) else []
    for key in ("lat", "lon"):
        if key in meta:
            try:
                meta[key] = float(meta[key])
            except (TypeError, ValueError):
                warnings.append(f"bad_{key}: {meta.pop(key)!r}")
    lat, lon = meta.get("lat"), meta.get("lon")
    if lat is not None or lon is not None:
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            warnings.append(f"bad_coordinates: {lat},{lon}")
            meta.pop("lat", None), meta.pop("lon", None)
        elif lat == 0 and lon == 0:  # what APIs send for "no location", not a point in the Gulf of Guinea
            meta.pop("lat"), meta.pop("lon")
    if "taken_at" in meta:
        taken = meta["taken_at"]
        if isinstance(taken, datetime):
            meta["taken_at"] = taken.isoformat()
        else:
            try:
                meta["taken_at"] = datetime.fromisoformat(str(taken).replace("Z", "+00:00")).isoformat()
            except ValueError:
                warnings.append(f"bad_taken_at: {meta.pop('taken_at')!r}")
    return meta, warnings
