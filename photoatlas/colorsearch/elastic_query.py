"""The Elasticsearch side of colour search as plain dicts: the mapping and the candidate query.

Mapping: one document per photo (``_id`` = photo id). ``palette`` is ``nested`` so a colour's
L*, chroma, hue and coverage are matched on the *same* palette colour (an object array would
let the L* of one colour and the hue of another satisfy a query together); ``labels`` is
nested for the same reason (label and score). Filter fields are ``keyword``/``date``. The
colour histogram is not indexed: nothing ranks on it here, and its length is not fixed yet.

Candidate query, for a threshold ``τ``: every query colour ``j`` must have a palette colour
(a) inside the LCh range of :func:`~photoatlas.colorsearch.bounds.support_range` — it holds
every colour within MATCH_DELTA_E ΔE00 of the query colour and compatible with it, by the proven
cell bound — and (b) with ``coverage ≥ max(min_share_j, τ_j)``, ``τ_j = 1/(n/τ - (n-1))``. Since
similarity ≤ 1, ``s_j ≤ coverage`` of the matching colour and ``s_i ≤ 1``; so a photo outside
the candidates has some ``s_j < τ_j`` and a harmonic mean below ``τ``. Ranges are widened by
``FLOAT_PAD`` because Elasticsearch compares ``float`` (32-bit) values.
"""

from photoatlas.colorsearch.bounds import support_range
from photoatlas.colorsearch.documents import PLACE_FIELDS
from photoatlas.colorsearch.query import ColorQuery, Filters
from photoatlas.colorsearch.scoring import color_class

FLOAT_PAD = 1e-3  # L*, chroma, hue: float32 keeps ~7 digits, so values up to 360 move < 1e-4
COVERAGE_PAD = 1e-6

_F = {"type": "float"}
_K = {"type": "keyword"}
MAPPING = {
    "dynamic": "strict",
    "properties": {
        "photo_id": _K,
        "partition": _K,
        "index_run": _K,  # which write put the document there (replace_partition drops the others)
        "source": _K,
        "licence": _K,
        "tags": _K,
        "captured_at": {"type": "date", "format": "epoch_millis"},
        **{name: _K for name in PLACE_FIELDS},
        "labels": {"type": "nested", "properties": {"label": _K, "score": _F}},
        "palette": {
            "type": "nested",
            "properties": {
                "l": _F, "a": _F, "b": _F, "chroma": _F, "hue": _F, "share": _F, "coverage": _F,
                "hex": {"type": "keyword", "index": False},
            },
        },
    },
}
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}


def _range(field, lo=None, hi=None, pad=FLOAT_PAD):
    bounds = {}
    if lo is not None and lo != float("-inf"):
        bounds["gte"] = float(lo) - pad
    if hi is not None and hi != float("inf"):
        bounds["lte"] = float(hi) + pad
    return {"range": {field: bounds}} if bounds else None


def color_clause(lab, min_coverage: float) -> dict | None:
    """The nested clause one query colour needs; None when no palette colour can match it."""
    support = support_range(lab, int(color_class(lab)))
    if support is None:
        return None
    l_lo, l_hi, c_lo, c_hi, arc = support
    clauses = [_range("palette.l", l_lo, l_hi), _range("palette.chroma", c_lo, c_hi)]
    if arc is not None:
        start, end = arc
        if start <= end:
            clauses.append(_range("palette.hue", start, end))
        else:  # wraps through 0°
            clauses.append({"bool": {"should": [_range("palette.hue", start, None), _range("palette.hue", None, end)],
                                     "minimum_should_match": 1}})
    if min_coverage > 0:
        clauses.append(_range("palette.coverage", min_coverage, None, COVERAGE_PAD))
    return {"nested": {"path": "palette", "query": {"bool": {"filter": [c for c in clauses if c]}}}}


def filter_clauses(filters: Filters) -> list[dict]:
    """The query's filters as Elasticsearch filter clauses (same semantics as filters.mask)."""
    out = []
    if filters.partition is not None:
        out.append({"term": {"partition": filters.partition}})
    for level, value in filters.place:
        if level == "geohash":
            out.append({"prefix": {"place_geohash": value}})
        else:
            out.append({"term": {f"place_{level}": value}})
    if filters.sources:
        out.append({"terms": {"source": list(filters.sources)}})
    if filters.licences:
        out.append({"terms": {"licence": list(filters.licences)}})
    lo, hi = filters.captured_from_ms, filters.captured_to_ms
    if lo is not None or hi is not None:
        bounds = {"format": "epoch_millis"}
        if lo is not None:
            bounds["gte"] = lo
        if hi is not None:
            bounds["lt"] = hi
        out.append({"range": {"captured_at": bounds}})
    for label in filters.labels:
        out.append({"nested": {"path": "labels", "query": {"bool": {"filter": [
            {"term": {"labels.label": label}}, {"range": {"labels.score": {"gte": filters.label_min_score}}}]}}}})
    return out


def candidate_query(query: ColorQuery, tau: float) -> dict | None:
    """The bool query of every photo that can score ``tau`` or more; None when none can."""
    n = len(query.colors)
    tau_j = 0.0 if tau <= 0 else 1.0 / (n / tau - (n - 1))
    clauses = filter_clauses(query.filters)
    for color in query.colors:
        clause = color_clause(color.lab, max(color.min_share, tau_j))
        if clause is None:
            return None
        clauses.append(clause)
    return {"bool": {"filter": clauses}}
