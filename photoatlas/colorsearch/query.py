"""What a user asks the colour index, and what it answers.

A query is 1-3 colours (hex codes or CSS names), each with an optional minimum share of the
photo, plus optional filters. Both backends take the same :class:`ColorQuery` and return the
same :class:`Hit` list, ranked by :func:`photoatlas.colorsearch.scoring.score_palettes`.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from photoatlas.color import lab_to_hex, parse_color

MAX_QUERY_COLORS = 3
PLACE_LEVELS = ("country", "admin1", "county", "city")  # exact match; geohash is a prefix


class QueryError(ValueError):
    """A query that cannot be run: a bad colour, too many colours, an impossible filter."""


@dataclass(frozen=True)
class QueryColor:
    """One colour of a query: as the user wrote it, in CIELAB, and the least share it must cover."""

    text: str
    lab: tuple[float, float, float]
    min_share: float = 0.0
    hex: str = ""

    def __post_init__(self):
        if not self.hex:
            object.__setattr__(self, "hex", lab_to_hex(np.asarray(self.lab)))

    @classmethod
    def parse(cls, text: str, min_share: float = 0.0) -> "QueryColor":
        try:
            lab = parse_color(text)
        except ValueError as exc:
            raise QueryError(str(exc)) from None
        if not 0.0 <= float(min_share) <= 1.0:
            raise QueryError(f"min_share for {text!r} must be within [0, 1], got {min_share!r}")
        return cls(text=text, lab=tuple(float(v) for v in lab), min_share=float(min_share))


@dataclass(frozen=True)
class Filters:
    """Restrictions on which photos may match; every field left as None does not restrict.

    ``place`` maps a level (country, admin1, county, city) to the exact value and ``geohash`` to
    a prefix. ``captured_from`` is inclusive and ``captured_to`` exclusive; both are compared at
    millisecond precision (Elasticsearch ``date`` resolution). ``labels`` must all be present
    with a score of at least ``label_min_score``.
    """

    place: tuple[tuple[str, str], ...] = ()
    captured_from: datetime | None = None
    captured_to: datetime | None = None
    sources: tuple[str, ...] = ()
    licences: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    label_min_score: float = 0.0
    partition: str | None = None

    def __post_init__(self):
        for level, _ in self.place:
            if level not in PLACE_LEVELS + ("geohash",):
                raise QueryError(f"unknown place level {level!r}; use one of {PLACE_LEVELS + ('geohash',)}")
        lo, hi = self.captured_from_ms, self.captured_to_ms
        if lo is not None and hi is not None and lo >= hi:
            raise QueryError("captured_from must be earlier than captured_to")

    @property
    def captured_from_ms(self) -> int | None:
        return to_epoch_ms(self.captured_from)

    @property
    def captured_to_ms(self) -> int | None:
        return to_epoch_ms(self.captured_to)

    @property
    def is_empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class ColorQuery:
    colors: tuple[QueryColor, ...]
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self):
        if not 1 <= len(self.colors) <= MAX_QUERY_COLORS:
            raise QueryError(f"a colour query takes 1 to {MAX_QUERY_COLORS} colours, got {len(self.colors)}")

    @classmethod
    def of(cls, *colors, min_share: float | dict = 0.0, **filters) -> "ColorQuery":
        """``ColorQuery.of("orange", "#008080", min_share={"orange": 0.2}, sources=("flickr",))``.

        ``min_share`` is one number for every colour or a dict from colour text to share;
        keyword filters are those of :class:`Filters` (``place`` may be a dict).
        """
        shares = min_share if isinstance(min_share, dict) else {c: min_share for c in colors}
        unknown = set(shares) - set(colors)
        if unknown:
            raise QueryError(f"min_share names colours not in the query: {sorted(unknown)}")
        if isinstance(filters.get("place"), dict):
            filters["place"] = tuple(sorted(filters["place"].items()))
        for key in ("sources", "licences", "labels"):
            if isinstance(filters.get(key), str):
                filters[key] = (filters[key],)
        return cls(tuple(QueryColor.parse(c, shares.get(c, 0.0)) for c in colors), Filters(**filters))

    @property
    def labs(self) -> np.ndarray:
        return np.array([c.lab for c in self.colors], dtype=np.float64)


@dataclass(frozen=True)
class ColorMatch:
    """How one query colour matched a photo: the palette colour that carried the score."""

    query: str
    query_hex: str
    palette_hex: str
    delta_e: float
    share: float  # the palette colour's own share of the photo
    coverage: float  # share of the photo within tolerance of that palette colour (its shades too)
    similarity: float


@dataclass(frozen=True)
class Hit:
    photo_id: str
    score: float
    matches: tuple[ColorMatch, ...]


def to_epoch_ms(moment) -> int | None:
    """An aware datetime (naive ones are taken as UTC), ISO string or epoch ms -> epoch ms (floored)."""
    if moment is None:
        return None
    if isinstance(moment, (int, np.integer)):
        return int(moment)
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if hasattr(moment, "to_pydatetime"):  # pandas Timestamp
        moment = moment.to_pydatetime()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400_000) + (delta.seconds * 1000) + (delta.microseconds // 1000)
