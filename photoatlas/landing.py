"""Land what a pull source fetched in the inbox, so raw_photos treats every source alike.

Each arrival becomes ``<inbox>/sources/<source>/<id>.<ext>`` with a JSON sidecar carrying its
source, source id and metadata; the sidecar is written first and the photo last (each by
rename), so the inbox never shows a photo without its metadata. Failures of the batch are
written as ``…/_failed-<time>.failures.json``; raw_photos turns them into rows of the hour's
ingest-errors table. Landing the same item again rewrites identical files (idempotent).
"""

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from photoatlas.imaging.sniff import sniff_format

FAILURES_SUFFIX = ".failures.json"
_EXT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "TIFF": "tif", "BMP": "bmp"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _atomic_write(path: Path, data: bytes, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".landing-", suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)


def safe_name(source_id: str) -> str:
    return _UNSAFE.sub("_", source_id).strip("._")[:150] or "item"


def land(arrivals: list, failures: list, inbox: Path, source: str, now: datetime | None = None) -> dict:
    """Write a batch into the inbox; returns counts. Arrival time (the file's mtime) is ``now``."""
    now = now or datetime.now(timezone.utc)
    ts = now.timestamp()
    folder = Path(inbox) / "sources" / safe_name(source)
    landed = 0
    for arrival in arrivals:
        data = arrival.read()
        name = f"{safe_name(arrival.source_id)}.{_EXT.get(sniff_format(data) or '', 'bin')}"
        sidecar = {**arrival.meta, "source": arrival.source, "source_id": arrival.source_id, "original_name": arrival.original_name}
        if arrival.warnings:
            sidecar["warnings"] = list(arrival.warnings)
        _atomic_write(folder / f"{name}.json", json.dumps(sidecar, sort_keys=True, default=str).encode(), ts)
        _atomic_write(folder / name, data, ts)
        landed += 1
    if failures:
        rows = [{"source": f.source, "source_id": f.source_id, "reason": f.reason} for f in failures]
        _atomic_write(folder / f"_failed-{now:%Y%m%dT%H%M%S%f}{FAILURES_SUFFIX}", json.dumps(rows).encode(), ts)
    return {"landed": landed, "failed": len(failures)}


@dataclass(frozen=True)
class LandedFailure:
    source: str
    source_id: str
    reason: str

    def row(self, partition: str) -> dict:
        return {"partition": partition, "source": self.source, "source_id": self.source_id, "reason": self.reason}


def failures_by_hour(inbox: Path) -> dict[str, list[LandedFailure]]:
    """The landed failures, by the hour they were written (their files' mtime)."""
    from photoatlas.partitions import hour_key_from_timestamp

    out: dict[str, list[LandedFailure]] = {}
    for path in sorted((Path(inbox) / "sources").rglob(f"*{FAILURES_SUFFIX}")):
        try:
            rows = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            rows = [{"source": "landing", "source_id": path.name, "reason": f"unreadable failures file: {e}"}]
        hour = hour_key_from_timestamp(path.stat().st_mtime)
        out.setdefault(hour, []).extend(LandedFailure(r["source"], r["source_id"], r["reason"]) for r in rows)
    return out
