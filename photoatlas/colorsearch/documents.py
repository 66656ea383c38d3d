"""The colour-index document of one enriched record, the same for every backend.

A document holds the photo's palette (sorted by share, each colour with its coverage, chroma and
hue precomputed) and the fields queries filter on. Place fields and labels are optional: records
from before the place/label stages simply have none and never match a place or label filter.
"""

import math
from datetime import datetime

import numpy as np
import pyarrow as pa

from photoatlas.color import lab_to_hex
from photoatlas.colorsearch.bounds import lch
from photoatlas.colorsearch.query import PLACE_LEVELS, to_epoch_ms
from photoatlas.colorsearch.scoring import palette_coverage

PLACE_FIELDS = tuple(f"place_{level}" for level in PLACE_LEVELS) + ("place_geohash",)
L_SLACK = 1e-6  # 8-bit white converts to L* = 100 plus rounding; clamped, not rejected
LAB_DECIMALS, SHARE_DECIMALS = 6, 9  # few enough digits that every JSON store round-trips them exactly
AB_LIMIT = 128.0


DOC_COLOR = pa.struct([
    ("l", pa.float64()), ("a", pa.float64()), ("b", pa.float64()), ("hex", pa.string()),
    ("share", pa.float64()), ("coverage", pa.float64()), ("chroma", pa.float64()), ("hue", pa.float64()),
])
DOC_SCHEMA = pa.schema(
    [
        ("photo_id", pa.string()),
        ("partition", pa.string()),
        ("source", pa.string()),
        ("licence", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("captured_at", pa.int64()),  # epoch ms, UTC
        *((name, pa.string()) for name in PLACE_FIELDS),
        ("labels", pa.list_(pa.struct([("label", pa.string()), ("score", pa.float64())]))),
        ("palette", pa.list_(DOC_COLOR)),  # by share, largest first
    ]
)


class DocumentError(ValueError):
    """A record that cannot become a document; the message names the photo."""


def _palette(photo_id: str, palette) -> list[dict]:
    colors = []
    for i, color in enumerate(palette or []):
        try:
            l, a, b, share = (float(color[k]) for k in ("l", "a", "b", "share"))
        except (KeyError, TypeError, ValueError) as exc:
            raise DocumentError(f"photo {photo_id}: palette colour {i} is not l/a/b/share numbers ({exc})") from None
        if not all(map(math.isfinite, (l, a, b, share))):
            raise DocumentError(f"photo {photo_id}: palette colour {i} has a non-finite value")
        if not (-L_SLACK <= l <= 100 + L_SLACK and abs(a) <= AB_LIMIT and abs(b) <= AB_LIMIT):
            raise DocumentError(f"photo {photo_id}: palette colour {i} is outside CIELAB of sRGB: {(l, a, b)}")
        if not 0.0 <= share <= 1.0 + L_SLACK:
            raise DocumentError(f"photo {photo_id}: palette colour {i} has share {share} outside [0, 1]")
        colors.append({"l": round(min(max(l, 0.0), 100.0), LAB_DECIMALS), "a": round(a, LAB_DECIMALS),
                       "b": round(b, LAB_DECIMALS), "hex": color.get("hex"),
                       "share": round(min(share, 1.0), SHARE_DECIMALS)})
    colors.sort(key=lambda c: -c["share"])  # stable: equal shares keep the enrichment's order
    if colors:
        lab = np.array([[c["l"], c["a"], c["b"]] for c in colors])
        coverage = palette_coverage(lab[None], np.array([[c["share"] for c in colors]]))[0]
        polar = lch(lab)
        for c, cov, (_, chroma, hue) in zip(colors, coverage, polar):
            c.update(coverage=round(float(cov), SHARE_DECIMALS), chroma=round(float(chroma), LAB_DECIMALS),
                     hue=round(float(hue), LAB_DECIMALS))  # may round up to 360.0: ranges stay right
            if not c["hex"]:
                c["hex"] = lab_to_hex(np.array([c["l"], c["a"], c["b"]]))
    return colors


def _labels(photo_id: str, labels) -> list[dict]:
    out = []
    for item in labels or []:
        label, score = (item.get("label"), item.get("score")) if isinstance(item, dict) else (item[0], item[1])
        if not label:
            continue
        score = float(score) if score is not None else 0.0
        if not math.isfinite(score):
            raise DocumentError(f"photo {photo_id}: label {label!r} has a non-finite score")
        out.append({"label": str(label), "score": score})
    return out


def to_document(record: dict) -> dict:
    """The index document of an ``ok`` enriched record (a row of RECORD_SCHEMA as a dict).

    Raises DocumentError for quarantined records and for palettes that are not CIELAB of sRGB.
    ``captured_at`` becomes epoch milliseconds (the resolution of an Elasticsearch ``date``).
    """
    photo_id = record.get("photo_id")
    if not photo_id or not isinstance(photo_id, str):
        raise DocumentError(f"record without a photo_id: {sorted(record)[:8]}")
    if record.get("status", "ok") != "ok":
        raise DocumentError(f"photo {photo_id}: only ok records are indexed, this one is {record.get('status')!r}")
    if not record.get("partition"):
        raise DocumentError(f"photo {photo_id}: no partition")
    captured = record.get("captured_at")
    is_time = isinstance(captured, (datetime, str, int)) or hasattr(captured, "to_pydatetime")
    if captured is not None and not is_time:
        raise DocumentError(f"photo {photo_id}: captured_at {captured!r} is not a time")
    doc = {
        "photo_id": photo_id,
        "partition": str(record["partition"]),
        "source": record.get("source"),
        "licence": record.get("licence"),
        "tags": [str(t) for t in (record.get("tags") or [])],
        "captured_at": to_epoch_ms(captured) if captured is not None and captured == captured else None,
        "palette": _palette(photo_id, record.get("palette")),
        "labels": _labels(photo_id, record.get("labels")),
    }
    for name in PLACE_FIELDS:
        value = record.get(name)
        doc[name] = str(value) if value is not None and value == value else None
    return doc
