"""raw_photos' core: bring one hour's arrivals into the lake, content-addressed.

Each arrival is hashed (sha256 = photo id) and stored once under ``objects/``. The first
partition to bring a photo in is recorded beside it (create-if-absent), so re-running any
hour gives the same manifest, and an arrival of bytes already in the lake becomes a row of
the hour's *duplicates* table instead of a second photo. Arrivals that cannot be read are
rows of the hour's *ingest errors* table, never silently dropped.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyarrow as pa

from photoatlas import inbox as inbox_mod
from photoatlas.imaging.sniff import sniff_format
from photoatlas.lake import Lake, first_seen_key, object_key, table_key
from photoatlas.privacy import Cipher, coarsen
from photoatlas.schema import DUPLICATES_SCHEMA, MANIFEST_SCHEMA

INGEST_ERRORS_SCHEMA = pa.schema(
    [("partition", pa.string()), ("source", pa.string()), ("source_id", pa.string()), ("reason", pa.string())]
)
MAX_PHOTO_BYTES = 200 * 1024 * 1024  # larger arrivals are refused at the door, not read into memory


@dataclass
class Arrival:
    """One photo offered by a source: bytes (or a reader) plus source metadata."""

    source: str
    source_id: str
    original_name: str
    arrived_at: datetime
    read: "callable"  # () -> bytes
    size: int
    meta: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


@dataclass
class IngestResult:
    manifest: pa.Table
    duplicates: pa.Table
    errors: pa.Table

    def summary(self) -> dict:
        formats = Counter(f or "unknown" for f in self.manifest.column("format").to_pylist())
        return {
            "new_photos": self.manifest.num_rows,
            "duplicates": self.duplicates.num_rows,
            "ingest_errors": self.errors.num_rows,
            "bytes": int(sum(self.manifest.column("bytes").to_pylist())),
            "formats": dict(sorted(formats.items())),
        }


def inbox_arrivals(files: list[inbox_mod.InboxFile]) -> list[Arrival]:
    arrivals = []
    for f in files:
        meta, warnings = inbox_mod.read_sidecar(f.path)
        arrivals.append(
            Arrival(
                source=meta.pop("source", None) or "inbox",
                source_id=meta.pop("source_id", None) or f.rel,
                original_name=f.path.name,
                arrived_at=datetime.fromtimestamp(f.mtime, tz=timezone.utc),
                read=f.path.read_bytes,
                size=f.size,
                meta=meta,
                warnings=warnings,
            )
        )
    return arrivals


def ingest(lake: Lake, partition: str, arrivals: list[Arrival], cipher: Cipher, failures: list = ()) -> IngestResult:
    """Store the hour's arrivals and write its manifest, duplicates and errors tables.

    ``failures`` are what a source could not turn into arrivals (``photoatlas.sources.Failure``
    or anything with ``.row(partition)``): they join the hour's ingest-errors table.
    """
    rows, dups = [], []
    errors = [f.row(partition) for f in failures]
    seen_here: dict[str, str] = {}
    for arrival in sorted(arrivals, key=lambda a: (a.source, a.source_id)):
        if arrival.size > MAX_PHOTO_BYTES:
            errors.append(_error(partition, arrival, f"too_large: {arrival.size} bytes > {MAX_PHOTO_BYTES}"))
            continue
        try:
            data = arrival.read()
        except OSError as e:
            errors.append(_error(partition, arrival, f"unreadable: {e.strerror or e}"))
            continue
        photo_id = hashlib.sha256(data).hexdigest()
        lake.put_if_absent(object_key(photo_id), data)
        lake.put_json_if_absent(first_seen_key(photo_id), {"partition": partition, "source_id": arrival.source_id})
        first = lake.get_json(first_seen_key(photo_id))
        if first["partition"] != partition or photo_id in seen_here:
            dups.append(
                {
                    "photo_id": photo_id,
                    "partition": partition,
                    "source": arrival.source,
                    "source_id": arrival.source_id,
                    "first_partition": first["partition"],
                    "first_source_id": seen_here.get(photo_id, first["source_id"]),
                }
            )
            continue
        seen_here[photo_id] = arrival.source_id
        rows.append(_manifest_row(partition, arrival, photo_id, data, cipher))

    result = IngestResult(
        manifest=pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA),
        duplicates=pa.Table.from_pylist(dups, schema=DUPLICATES_SCHEMA),
        errors=pa.Table.from_pylist(errors, schema=INGEST_ERRORS_SCHEMA),
    )
    lake.write_table(table_key("duplicates", partition), result.duplicates)
    lake.write_table(table_key("ingest_errors", partition), result.errors)
    lake.write_table(table_key("manifest", partition), result.manifest)  # last: its presence means done
    return result


def _error(partition: str, arrival: Arrival, reason: str) -> dict:
    return {"partition": partition, "source": arrival.source, "source_id": arrival.source_id, "reason": reason}


def _manifest_row(partition: str, arrival: Arrival, photo_id: str, data: bytes, cipher: Cipher) -> dict:
    meta = arrival.meta
    lat, lon = meta.get("lat"), meta.get("lon")
    exact = f"{lat!r},{lon!r}" if lat is not None and lon is not None else None
    return {
        "photo_id": photo_id,
        "partition": partition,
        "source": arrival.source,
        "source_id": arrival.source_id,
        "original_name": arrival.original_name,
        "object_key": object_key(photo_id),
        "bytes": len(data),
        "format": sniff_format(data),
        "arrived_at": arrival.arrived_at,
        "title": meta.get("title"),
        "description": meta.get("description"),
        "tags": meta.get("tags") or [],
        "licence": meta.get("licence"),
        "url": meta.get("url"),
        "taken_at": meta.get("taken_at"),
        "owner_enc": cipher.encrypt(meta.get("owner")),
        "owner_id_enc": cipher.encrypt(meta.get("owner_id")),
        "source_latlon_enc": cipher.encrypt(exact),
        "source_lat_coarse": coarsen(lat),
        "source_lon_coarse": coarsen(lon),
        "ingest_warnings": list(arrival.warnings),
    }
