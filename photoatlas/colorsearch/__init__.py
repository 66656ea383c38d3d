"""Colour search: "photos whose palette holds this orange and this teal", ranked perceptually.

- :mod:`.query` — what a user asks (1-3 colours, min shares, filters) and the hits it gets.
- :mod:`.scoring` — the one scoring function every backend ranks with (ΔE00 and coverage).
- :mod:`.bounds` — a proven ΔE00 lower bound over CIELCh cells: candidates never miss a match.
- :mod:`.documents` — the index document of an enriched record.
- :mod:`.index` — the ColorIndex interface; :mod:`.embedded` (Parquet + a Lab grid, no server)
  and :mod:`.elastic` (Elasticsearch behind an alias) implement it.

Nothing here imports Dagster.
"""

from photoatlas.colorsearch.documents import DocumentError, to_document
from photoatlas.colorsearch.embedded import EmbeddedColorIndex
from photoatlas.colorsearch.index import BulkIndexError, ColorIndex, ColorIndexError
from photoatlas.colorsearch.query import ColorMatch, ColorQuery, Filters, Hit, QueryColor, QueryError

__all__ = [
    "BulkIndexError", "ColorIndex", "ColorIndexError", "ColorMatch", "ColorQuery", "DocumentError",
    "EmbeddedColorIndex", "Filters", "Hit", "QueryColor", "QueryError", "to_document",
]
