"""enriched_records' core: one record per manifest row, ok or quarantined with a reason.

``enrich_rows`` is what runs where the compute is (in-process or on a Spark executor): it
reads the photo from the lake, analyses it, stores the thumbnail and returns the record with
its sensitive fields still in clear. ``seal`` encrypts those fields on the driver, so the key
never travels to executors and no plaintext copy is ever written.
"""

import logging
import traceback
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa

from photoatlas.imaging.analyse import Analysis, Rejected, analyse
from photoatlas.imaging.hashes import to_int64
from photoatlas.lake import Lake, thumbnail_key
from photoatlas.privacy import Cipher, coarsen
from photoatlas.schema import RECORD_SCHEMA

log = logging.getLogger(__name__)

# Fields only the executor sees in clear; ``seal`` turns each into its ``*_enc`` column.
_SENSITIVE = {"exif_serials": "exif_serials_enc", "exif_raw": "exif_raw_enc", "gps": "gps_enc"}
_FROM_MANIFEST = ("photo_id", "partition", "source", "source_id", "title", "tags", "licence", "bytes", "owner_enc", "owner_id_enc")


def enrich_one(row: dict, data: bytes, lake: Lake | None, k: int) -> dict:
    """The record of one manifest row (sensitive fields in clear). Never raises."""
    record = {name: row.get(name) for name in _FROM_MANIFEST}
    record["format"] = row.get("format")
    try:
        analysis = analyse(data, k=k)
    except Rejected as r:
        return _quarantined(record, r.reason, r.detail)
    except Exception as e:  # a bug or a decoder we did not foresee: quarantine, keep the partition alive
        log.exception("unexpected error enriching %s", row.get("photo_id"))
        return _quarantined(record, "internal_error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}")
    if lake is not None:
        lake.put(thumbnail_key(row["photo_id"]), analysis.thumbnail_jpeg)
    record.update(_analysis_fields(analysis))
    record["thumbnail_key"] = thumbnail_key(row["photo_id"])
    record.update(_location(analysis, row))
    record.update(_capture_time(analysis, row))
    record["status"] = "ok"
    return record


def enrich_rows(rows: Iterable[dict], lake: Lake, k: int) -> Iterator[dict]:
    """Enrich manifest rows, reading bytes from the lake, places looked up per chunk. Runs on executors."""
    one_thread_per_task()
    chunk = []
    for row in rows:
        try:
            data = lake.get(row["object_key"])
        except Exception as e:
            chunk.append(_quarantined({name: row.get(name) for name in _FROM_MANIFEST}, "missing_object", f"{row.get('object_key')}: {e}"))
            continue
        chunk.append(enrich_one(row, data, lake, k))
    yield from add_places(chunk)


def one_thread_per_task() -> None:
    """OpenCV keeps its own thread pool; on an executor the cores belong to Spark's tasks."""
    import cv2

    cv2.setNumThreads(1)


def add_places(records: list[dict], required: bool = True) -> list[dict]:
    """Fill the five place levels from each record's exact location, vectorised, then drop it.

    ``required=False`` (inspect) turns missing geodata into a warning instead of an error.
    """
    from photoatlas.geo import GeoDataMissing, get_lookup

    exact = [r.pop("_exact_latlon", None) for r in records]
    located = [i for i, e in enumerate(exact) if e is not None]
    if not located:
        return records
    try:
        lookup = get_lookup()
    except GeoDataMissing as e:
        if required:
            raise
        for i in located:
            records[i].setdefault("warnings", []).append(f"places_unavailable: {e}")
        return records
    levels = lookup.lookup(np.array([exact[i][0] for i in located]), np.array([exact[i][1] for i in located]))
    for j, i in enumerate(located):
        for level, values in levels.items():
            value = values[j]
            if level == "city_km":
                value = None if np.isnan(value) else round(float(value), 3)
            records[i][f"place_{level}"] = None if value is None else (value if isinstance(value, float) else str(value))
    return records


def seal(records: list[dict], cipher: Cipher) -> pa.Table:
    """Encrypt the sensitive fields and build the partition's table in RECORD_SCHEMA."""
    sealed = []
    for record in records:
        out = dict(record)
        for clear, enc in _SENSITIVE.items():
            out[enc] = cipher.encrypt(out.pop(clear, None))
        out.pop("_exact_latlon", None)
        sealed.append(out)
    return pa.Table.from_pylist(sorted(sealed, key=lambda r: r["photo_id"]), schema=RECORD_SCHEMA)


def _quarantined(record: dict, reason: str, detail: str) -> dict:
    record.update(status="quarantined", quarantine_reason=reason, quarantine_detail=detail[:2000])
    return record


def _analysis_fields(a: Analysis) -> dict:
    e = a.exif
    serials = {k: v for k, v in (("body", e.body_serial), ("lens", e.lens_serial)) if v}
    gps = None
    if e.gps_lat is not None and e.gps_lon is not None:
        gps = f"{e.gps_lat!r},{e.gps_lon!r},{e.gps_alt_m!r}"
    return {
        "format": a.format,
        "mode": a.mode,
        "width": a.width,
        "height": a.height,
        "frames": a.frames,
        "decode_scale": a.decode_scale,
        "palette": [
            {"l": c.l, "a": c.a, "b": c.b, "hex": c.hex, "share": c.share} for c in a.palette
        ],
        "color_hist": [float(v) for v in a.color_hist],
        "phash": to_int64(a.phash),
        "dhash": to_int64(a.dhash),
        "ahash": to_int64(a.ahash),
        "exif_make": e.make,
        "exif_model": e.model,
        "exif_lens": e.lens,
        "exif_captured_at": e.captured_at,
        "exif_offset": e.offset,
        "exif_exposure_s": e.exposure_s,
        "exif_f_number": e.f_number,
        "exif_iso": e.iso,
        "exif_focal_mm": e.focal_mm,
        "exif_error": e.error,
        "exif_serials": ",".join(f"{k}={v}" for k, v in serials.items()) or None,
        "exif_raw": e.raw,
        "gps": gps,
        "warnings": list(a.warnings),
    }


def _location(a: Analysis, row: dict) -> dict:
    """EXIF GPS (the camera's own fix) wins over the source's coordinates.

    The exact point (``_exact_latlon``) lives only until places are looked up; it is never
    stored in clear (the EXIF fix is kept encrypted in ``gps_enc``).
    """
    if a.exif.gps_lat is not None and a.exif.gps_lon is not None:
        return {"lat_coarse": coarsen(a.exif.gps_lat), "lon_coarse": coarsen(a.exif.gps_lon), "location_source": "exif",
                "_exact_latlon": (a.exif.gps_lat, a.exif.gps_lon)}
    exact = row.get("_source_latlon")
    if exact is None and row.get("source_lat_coarse") is not None and row.get("source_lon_coarse") is not None:
        exact = (row["source_lat_coarse"], row["source_lon_coarse"])
    if exact is not None:
        return {"lat_coarse": coarsen(exact[0]), "lon_coarse": coarsen(exact[1]), "location_source": "source", "_exact_latlon": exact}
    return {"lat_coarse": None, "lon_coarse": None, "location_source": None}


def _capture_time(a: Analysis, row: dict) -> dict:
    """EXIF capture time (with its offset when recorded), else the source's, else arrival."""
    if a.exif.captured_at:
        local = datetime.fromisoformat(a.exif.captured_at)
        if a.exif.offset:
            sign = 1 if a.exif.offset[0] == "+" else -1
            hours, minutes = (int(x) for x in a.exif.offset[1:].split(":"))
            return {"captured_at": (local - sign * timedelta(hours=hours, minutes=minutes)).replace(tzinfo=timezone.utc), "time_source": "exif"}
        return {"captured_at": local.replace(tzinfo=timezone.utc), "time_source": "exif_local"}
    taken = parse_source_time(row.get("taken_at"))
    if taken is not None:
        return {"captured_at": taken, "time_source": "source"}
    return {"captured_at": row.get("arrived_at"), "time_source": "ingest"}


def parse_source_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if not (1826 <= value.year <= 2100):  # photography starts in 1826; anything else is junk
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
