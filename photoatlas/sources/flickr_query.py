"""What one logical Flickr query selects: dates, words in each language, box, licences.

:meth:`FlickrQuery.from_dict` builds a query from JSON-like settings ($PHOTOATLAS_FLICKR_QUERY,
the CLI's options), translating it into language variants with the glossary; its
:meth:`~FlickrQuery.fingerprint` names the query's cursor. ``flickr`` walks it.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from photoatlas.sources.base import parse_time
from photoatlas.sources.flickr_api import DEFAULT_EXTRAS

# Before Flickr opened (February 2004): by default a query walks its whole history, oldest first. A
# fixed date, not "a year ago", keeps the query's fingerprint (so its cursor) the same from run to run.
DEFAULT_SINCE = datetime(2004, 1, 1)


@dataclass(frozen=True)
class Variant:
    """One language's wording of the query."""

    lang: str
    text: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlickrQuery:
    since: datetime  # lower bound of the date being sliced (required: Flickr needs a limiting parameter)
    until: datetime | None = None  # None: open-ended, follows the clock
    text: str | None = None
    tags: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = ()  # language variants of one logical query; default: one from text/tags
    tag_mode: str = "any"
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    licences: tuple[int, ...] | None = None  # Flickr licence ids to accept; None: any
    open_only: bool = False  # only licences that allow reuse and adaptation (CC BY, BY-SA, CC0, PDM, ...)
    date_field: str = "taken"  # or "upload"
    per_page: int = 250
    image_sizes: tuple[str, ...] = ("url_b", "url_o")  # first present wins: 1024 px before the original
    extras: tuple[str, ...] = DEFAULT_EXTRAS
    settle_s: int = 3600  # an open-ended query stops this far behind the clock (Flickr indexes with a lag)
    params: tuple[tuple[str, str], ...] = (("media", "photos"),)

    def __post_init__(self):
        if self.date_field not in ("taken", "upload"):
            raise ValueError("date_field is 'taken' or 'upload'")

    @classmethod
    def from_dict(cls, spec: dict, glossary=None) -> "FlickrQuery":
        """A query from JSON-like settings ($PHOTOATLAS_FLICKR_QUERY, the CLI's options).

        Times are ISO text (``since`` defaults to DEFAULT_SINCE); ``tags``, ``licences`` and
        ``languages`` are lists or comma-separated text; ``bbox`` is a list or "min_lon min_lat
        max_lon max_lat". ``variants`` is a list of ``{"lang", "text", "tags"}`` used as given, or
        ``{lang: text}`` overrides. ``languages`` translates text and tags word by word with the
        glossary (photoatlas.sources.glossary); an override replaces a language's translation, and
        overrides without ``languages`` come beside the query as written (en).
        """
        q = dict(spec)
        unknown = set(q) - {f.name for f in fields(cls)} - {"languages"}
        if unknown:
            raise ValueError(f"unknown Flickr query field(s): {', '.join(sorted(unknown))}")
        q["since"] = parse_time(q["since"]) if q.get("since") else DEFAULT_SINCE
        if q.get("until"):
            q["until"] = parse_time(q["until"])
        for key in ("tags", "image_sizes", "extras"):
            if q.get(key) is not None:
                q[key] = tuple(_items(q[key]))
        if q.get("licences") is not None:
            q["licences"] = tuple(int(x) for x in _items(q["licences"]))
        if q.get("bbox") is not None:
            q["bbox"] = _bbox(q["bbox"])
        if "params" in q:
            pairs = q["params"].items() if isinstance(q["params"], dict) else q["params"]
            q["params"] = tuple((str(k), str(v)) for k, v in pairs)
        variants, languages = q.pop("variants", None) or [], _items(q.pop("languages", None) or [])
        if not isinstance(variants, (dict, list, tuple)):
            raise ValueError("variants is a list of {\"lang\", \"text\", \"tags\"} or an object of language -> text")
        given = [] if isinstance(variants, dict) else [_variant(v) for v in variants]
        if languages or isinstance(variants, dict):
            from photoatlas.sources.glossary import SOURCE_LANG, query_variants

            overrides = dict(variants) if isinstance(variants, dict) else {}
            wanted = [lang for lang in (languages or [SOURCE_LANG]) if lang not in {v.lang for v in given}]
            made = query_variants(q.get("text"), q.get("tags", ()), wanted, overrides, glossary)
            given = [Variant(v["lang"], v["text"], tuple(v["tags"])) for v in made] + given
        if given:
            q["variants"] = tuple(given)
        return cls(**q)

    def variant_list(self) -> list[Variant]:
        return list(self.variants) or [Variant("default", self.text, tuple(self.tags))]

    def fingerprint(self) -> str:
        """Identifies what the query selects; a cursor is only valid for the query that made it."""
        keep = {k: v for k, v in asdict(self).items() if k not in ("per_page", "image_sizes", "settle_s", "until")}
        return hashlib.sha256(json.dumps(keep, default=str, sort_keys=True).encode()).hexdigest()[:16]


def _items(value) -> list[str]:
    """A list from a JSON list or comma-separated text."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    return [str(x).strip() for x in parts if str(x).strip()]


def _variant(value) -> Variant:
    if isinstance(value, Variant):
        return value
    if not isinstance(value, dict) or not value.get("lang"):
        raise ValueError(f"a variant is {{\"lang\": …, \"text\": …, \"tags\": […]}}, not {value!r}")
    return Variant(str(value["lang"]), value.get("text") or None, tuple(_items(value.get("tags") or [])))


def _bbox(value) -> tuple:
    """(min_lon, min_lat, max_lon, max_lat) from a list or "116 4 127 22" / "116,4,127,22"; numbers kept as
    JSON would give them (ints stay ints), so the same box always has the same fingerprint."""
    parts = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    try:
        box = tuple(x if isinstance(x, (int, float)) and not isinstance(x, bool) else _number(str(x)) for x in parts)
    except ValueError:
        box = ()
    if len(box) != 4 or not (-180 <= box[0] < box[2] <= 180 and -90 <= box[1] < box[3] <= 90):
        raise ValueError("bbox is four numbers, min_lon min_lat max_lon max_lat, west < east and south < north: "
                         f"{value!r}")
    return box


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
