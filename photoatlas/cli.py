"""The Dagster-free half of the ``photoatlas`` command: questions answered from the core.

``pipelines/cli.py`` adds the orchestration commands (demo, ui, ingest, backfill) and, from
``pipelines/query_cli.py``, the questions asked of the serving stores (counts, similar, labels,
search-color) on top of this parser.
"""

import argparse
import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from photoatlas.imaging.sniff import sniff_format
from photoatlas.inbox import read_sidecar
from photoatlas.privacy import coarsen
from photoatlas.records import add_places, enrich_one

ENCRYPTED = "<encrypted at rest>"
_SENSITIVE_CLEAR = ("exif_serials", "exif_raw", "gps")


def _content(data: bytes) -> dict:
    """Labels, concept scores, faces (and objects when configured) from the content models."""
    from photoatlas.content.describe import ContentSettings, get_content_models
    from photoatlas.content.errors import ModelUnavailable
    from photoatlas.content.images import decode_rgb

    try:
        return get_content_models(ContentSettings()).describe([decode_rgb(data)]).records[0]
    except ModelUnavailable as e:
        return {"content_error": str(e)}


def inspect_photo(path: Path, k: int = 5, with_content: bool = True) -> dict:
    """The enriched record one file would get, computed directly (nothing is stored)."""
    data = path.read_bytes()
    meta, warnings = read_sidecar(path)
    lat, lon = meta.get("lat"), meta.get("lon")
    row = {
        "photo_id": hashlib.sha256(data).hexdigest(),
        "partition": None,
        "source": "file",
        "source_id": str(path),
        "title": meta.get("title"),
        "tags": meta.get("tags") or [],
        "licence": meta.get("licence"),
        "bytes": len(data),
        "format": sniff_format(data),
        "taken_at": meta.get("taken_at"),
        "arrived_at": datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc),
        "source_lat_coarse": coarsen(lat),
        "source_lon_coarse": coarsen(lon),
        "owner_enc": meta.get("owner"),
        "owner_id_enc": meta.get("owner_id"),
        "_source_latlon": (lat, lon) if lat is not None and lon is not None else None,
    }
    record = add_places([enrich_one(row, data, lake=None, k=k)], required=False)[0]
    for field in (*_SENSITIVE_CLEAR, "owner_enc", "owner_id_enc"):
        if field in record:
            record[field] = ENCRYPTED if record[field] is not None else None
    record["thumbnail_key"] = None  # inspect stores nothing
    if record["status"] == "ok" and with_content:
        record.update(_content(data))
    record["warnings"] = list(record.get("warnings") or []) + warnings
    return record


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def format_record(record: dict) -> str:
    lines = []
    status = record["status"]
    lines.append(f"photo    {record['photo_id']}")
    lines.append(f"status   {status}" + (f"  ({record['quarantine_reason']}: {record.get('quarantine_detail')})" if status != "ok" else ""))
    if status == "ok":
        lines.append(f"image    {record['format']} {record['width']}x{record['height']} {record['mode']}, {record['frames']} frame(s), decoded at 1/{record['decode_scale']}")
        lines.append("palette  " + "  ".join(f"{c['hex']} {c['share']:.0%}" for c in record["palette"]))
        lines.append(f"hashes   phash={record['phash'] & (2**64 - 1):016x} dhash={record['dhash'] & (2**64 - 1):016x} ahash={record['ahash'] & (2**64 - 1):016x}")
        exif = {k[5:]: v for k, v in record.items() if k.startswith("exif_") and k not in _SENSITIVE_CLEAR and v is not None}
        lines.append("exif     " + (", ".join(f"{k}={v}" for k, v in exif.items()) or "none"))
        lines.append(f"location {record.get('lat_coarse')}, {record.get('lon_coarse')} (from {record.get('location_source')}), exact GPS {record.get('gps') or 'none'}")
        places = [f"{level}={record.get(f'place_{level}')}" for level in ("country", "admin1", "county", "county_name", "city", "city_km", "geohash") if record.get(f"place_{level}") is not None]
        lines.append("places   " + (", ".join(places) or "unknown"))
        lines.append(f"taken    {_jsonable(record.get('captured_at'))} (from {record.get('time_source')})")
    if record.get("labels"):
        lines.append("labels   " + ", ".join(f"{lb['name']} {lb['score']:.2f}" for lb in record["labels"]))
    if record.get("concepts"):
        lines.append("concepts " + ", ".join(f"{c['name']} {c['score']:.2f}" for c in record["concepts"]))
    if record.get("face_count") is not None:
        lines.append(f"faces    {record['face_count']}" + (f" at {record['faces']}" if record["faces"] else ""))
    if record.get("objects"):
        lines.append("objects  " + ", ".join(f"{o['label']} {o['score']:.2f}" for o in record["objects"]))
    lines.append(f"owner    {record.get('owner_enc') or 'none'}")
    if record.get("warnings"):
        lines.append("warnings " + "; ".join(record["warnings"]))
    return "\n".join(lines)


def cmd_inspect(args) -> int:
    path = Path(args.photo)
    if not path.is_file():
        print(f"photoatlas inspect: no such file: {path}", file=sys.stderr)
        return 2
    record = inspect_photo(path, k=args.k, with_content=not args.no_content)
    if args.json:
        print(json.dumps({k: _jsonable(v) for k, v in record.items()}, indent=2, default=str))
    else:
        print(format_record(record))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="photoatlas", description="Explore photos by colour, place, time, content and similarity.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", help="the enriched record of one photo file, computed directly")
    p.add_argument("photo")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--k", type=int, default=5, help="palette size")
    p.add_argument("--no-content", action="store_true", help="skip the content models (labels, concepts, faces)")
    p.set_defaults(func=cmd_inspect)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
