"""The inbox folder: photos (with optional JSON sidecars) dropped for ingestion.

A photo's *arrival hour* is the UTC hour of its modification time in the inbox. Files whose
name starts with '.', sidecars (``*.json``) and partial downloads are not photos.
A sidecar sits beside its photo as ``NAME.EXT.json`` or ``NAME.json``.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from photoatlas.metadata import clean_meta
from photoatlas.partitions import hour_key_from_timestamp

PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".json")

# Sidecar field -> accepted spellings (Flickr / Unsplash / EXIF-tool style exports).
SIDECAR_FIELDS = {
    "title": ("title",),
    "description": ("description", "desc", "caption"),
    "tags": ("tags", "keywords"),
    "owner": ("owner", "owner_name", "author", "photographer"),
    "owner_id": ("owner_id", "user_id", "ownerid"),
    "licence": ("licence", "license"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "longitude"),
    "taken_at": ("taken_at", "taken", "date_taken", "datetaken"),
    "url": ("url", "source_url"),
    "source_id": ("source_id", "id"),
    "source": ("source",),  # set by pull sources landing in the inbox (flickr, unsplash, video, kafka)
}


@dataclass(frozen=True)
class InboxFile:
    path: Path
    rel: str  # path relative to the inbox, '/'-separated: the inbox source id
    size: int
    mtime: float

    @property
    def hour(self) -> str:
        return hour_key_from_timestamp(self.mtime)

    def fingerprint(self) -> str:
        return f"{self.rel}:{self.size}:{self.mtime_ns}"

    @property
    def mtime_ns(self) -> int:
        return int(self.mtime * 1e9)


def is_photo_candidate(name: str) -> bool:
    return not name.startswith(".") and not name.lower().endswith(PARTIAL_SUFFIXES)


def scan(inbox: Path) -> list[InboxFile]:
    """Every photo candidate in the inbox, sorted by relative path."""
    inbox = Path(inbox)
    found = []
    for dirpath, dirnames, filenames in os.walk(inbox):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not is_photo_candidate(name):
                continue
            path = Path(dirpath) / name
            try:
                st = path.stat()
            except OSError:
                continue  # vanished between listing and stat: the next scan decides
            found.append(InboxFile(path, path.relative_to(inbox).as_posix(), st.st_size, st.st_mtime))
    return sorted(found, key=lambda f: f.rel)


def by_hour(files: list[InboxFile]) -> dict[str, list[InboxFile]]:
    hours: dict[str, list[InboxFile]] = {}
    for f in files:
        hours.setdefault(f.hour, []).append(f)
    return hours


def sidecar_path(photo: Path) -> Path | None:
    for candidate in (photo.with_name(photo.name + ".json"), photo.with_suffix(".json")):
        if candidate != photo and candidate.is_file():
            return candidate
    return None


def read_sidecar(photo: Path) -> tuple[dict, list[str]]:
    """Normalised sidecar metadata and warnings; a broken sidecar never blocks the photo."""
    path = sidecar_path(photo)
    if path is None:
        return {}, []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return {}, [f"sidecar_unreadable: {path.name}: {e}"]
    if not isinstance(raw, dict):
        return {}, [f"sidecar_not_an_object: {path.name}"]
    lowered = {str(k).lower(): v for k, v in raw.items()}
    aliased = {}
    for field, names in SIDECAR_FIELDS.items():
        value = next((lowered[n] for n in names if lowered.get(n) is not None), None)
        if value is not None:
            aliased[field] = value
    meta, warnings = clean_meta(aliased)
    return meta, [f"sidecar_{w}" for w in warnings]


def hour_fingerprints(files: list[InboxFile]) -> dict[str, str]:
    """A short digest of each arrival hour's file set (name, size, mtime)."""
    import hashlib

    digests: dict[str, "hashlib._Hash"] = {}
    for f in files:
        digests.setdefault(f.hour, hashlib.sha256()).update(f.fingerprint().encode() + b"\n")
    return {hour: d.hexdigest()[:16] for hour, d in digests.items()}


@dataclass(frozen=True)
class InboxPlan:
    requests: list  # [(hour, fingerprint)] to run now, oldest first
    cursor: dict  # hour -> fingerprint already requested
    waiting: int  # changed hours left for later ticks
    out_of_range: list  # hours that are not valid partitions


def plan(files: list[InboxFile], cursor: dict, valid_hours, max_requests: int) -> InboxPlan:
    """Which hours changed since the cursor, capped per tick so a backlog never floods.

    ``valid_hours`` is a predicate telling whether an hour is a partition that exists now.
    """
    current = hour_fingerprints(files)
    changed = sorted(h for h, fp in current.items() if cursor.get(h) != fp)
    out_of_range = [h for h in changed if not valid_hours(h)]
    ready = [h for h in changed if valid_hours(h)]
    now, later = ready[:max_requests], ready[max_requests:]
    new_cursor = dict(cursor)
    for h in now:
        new_cursor[h] = current[h]
    return InboxPlan([(h, current[h]) for h in now], new_cursor, len(later), out_of_range)
