"""The interface every colour index implements, and what both backends share around it."""

from typing import Iterable, Protocol, runtime_checkable

import numpy as np

from photoatlas.colorsearch.query import ColorMatch, ColorQuery, Hit
from photoatlas.colorsearch.scoring import Scored

# Both backends re-rank candidates for a falling score threshold and stop once `limit` photos
# clear it: a photo outside the candidates provably scores below it (see their search docs).
SCORE_EPS = 1e-9  # scores are rounded to 1e-12; a clear margin keeps the stop test exact


class ColorIndexError(RuntimeError):
    """The colour index could not do what was asked."""


class BulkIndexError(ColorIndexError):
    """Some documents of a write failed; the rest were written. ``failed`` maps photo id -> reason."""

    def __init__(self, failed: dict[str, str], written: int = 0):
        self.failed = dict(failed)
        self.written = written
        shown = ", ".join(f"{pid} ({reason})" for pid, reason in list(self.failed.items())[:10])
        more = f" and {len(self.failed) - 10} more" if len(self.failed) > 10 else ""
        super().__init__(f"{len(self.failed)} document(s) failed to index, {written} written: {shown}{more}")


@runtime_checkable
class ColorIndex(Protocol):
    """A colour-search index of enriched photos, keyed by photo id."""

    def ensure(self) -> None:
        """Create whatever storage is missing (index, alias, mapping, folders). Idempotent."""

    def upsert(self, docs: Iterable[dict]) -> int:
        """Write documents (from :func:`to_document`) keyed by photo id; returns how many.
        Raises BulkIndexError naming the photo ids that failed."""

    def replace_partition(self, partition: str, docs: Iterable[dict]) -> int:
        """Make the partition hold exactly ``docs``: upsert them, then drop its other photos."""

    def delete_partition(self, partition: str) -> int:
        """Remove every photo of the partition; returns how many were removed."""

    def search(self, query: ColorQuery, limit: int = 10) -> list[Hit]:
        """The ``limit`` best photos, best first, ties by photo id."""

    def count(self, partition: str | None = None) -> int: ...

    def ids(self, partition: str) -> set[str]: ...


def make_hits(query: ColorQuery, scored: Scored, order: np.ndarray, photo_ids, palettes) -> list[Hit]:
    """Hits for rows ``order`` of ``scored``; ``palettes[row]`` is that photo's palette (dicts
    with hex/share/coverage, in the order scored)."""
    hits = []
    for row in order:
        palette = palettes[row]
        matches = []
        for j, color in enumerate(query.colors):
            entry = palette[int(scored.best[row, j])]
            matches.append(ColorMatch(
                query=color.text, query_hex=color.hex, palette_hex=entry["hex"],
                delta_e=round(float(scored.delta_e[row, j]), 3), share=float(entry["share"]),
                coverage=float(entry["coverage"]), similarity=round(float(scored.similarity[row, j]), 4),
            ))
        hits.append(Hit(photo_id=str(photo_ids[row]), score=float(scored.score[row]), matches=tuple(matches)))
    return hits


def palette_arrays(palettes: list[list[dict]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded ``lab [P, K, 3]``, ``coverage [P, K]`` and ``valid [P, K]`` from document palettes."""
    k = max((len(p) for p in palettes), default=0) or 1
    lab = np.zeros((len(palettes), k, 3))
    coverage = np.zeros((len(palettes), k))
    valid = np.zeros((len(palettes), k), dtype=bool)
    for i, palette in enumerate(palettes):
        for j, c in enumerate(palette):
            lab[i, j] = (c["l"], c["a"], c["b"])
            coverage[i, j] = c["coverage"]
            valid[i, j] = True
    return lab, coverage, valid
