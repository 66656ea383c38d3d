"""The embedded backend's spatial index: every palette colour bucketed into a CIELCh grid cell,
ordered by coverage level inside its cell, and an exact top-k search over it.

Search (one query colour; several are handled alike, see :meth:`PaletteGrid.search`):

1. :func:`~photoatlas.colorsearch.bounds.support_cells` gives the cells that can hold a match and
   a proven lower bound of ΔE00 in each, hence ``simmax`` — no colour of the cell is more similar.
2. A palette colour adds at most ``simmax · coverage`` to its photo's score. For a threshold ``τ``
   only colours with ``coverage ≥ τ / simmax`` can lift a photo to ``τ``; they are a prefix of
   each cell (``level_count`` gives its length), so the candidates cost no ΔE00 at all.
3. Candidates are bounded from their own palettes, then scored exactly with
   :func:`~photoatlas.colorsearch.scoring.score_palettes`, best bound first (a photo's ΔE00 stop
   once it certainly scores below the k-th score so far); once the k-th score beats ``τ`` and
   every unscored bound, no photo can beat it: the search is exact, the same top-k as scoring
   every photo (``tests/unit/test_colorsearch_embedded.py``).

The per-entry and per-candidate loops are compiled (:mod:`~photoatlas.colorsearch.kernels`); what
is left is memory latency, so a base grid keeps its photos in :func:`color_order`.
"""

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np

from photoatlas.colorsearch.bounds import GRID_SHAPE, SupportCache, cell_of
from photoatlas.colorsearch.index import SCORE_EPS
from photoatlas.colorsearch.kernels import join_list, list_counts, upper_bounds
from photoatlas.colorsearch.scoring import Scored, color_class, score_palettes, similarity, top_k

N_CELLS = int(np.prod(GRID_SHAPE))
FIRST_TAU_FRACTION = 0.85  # first threshold, as a fraction of the best score any photo could have
TAU_STEP = 0.8  # how fast the threshold falls, level by level, once `limit` photos match
TAU_STEP_EMPTY = 0.6  # ... and while fewer do
SCORE_BATCH = 256  # candidates scored exactly at a time, best upper bound first
JOIN_FACTOR = 16  # a colour's list joins the intersection when at most this many times the shortest...
JOIN_FLOOR = 2_000  # ... or this long: flagging an entry costs ~1/40 of bounding a photo (a cache miss)
SUPPORTS = SupportCache(256)  # shared by every grid of the process: supports do not depend on data
COVERAGE_LEVELS = np.array([0, .01, .02, .03, .05, .07, .1, .13, .16, .2, .25, .3, .35, .4, .45, .5,
                            .55, .6, .65, .7, .75, .8, .85, .9, .95, 1.0])


def color_order(lab: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """An order of photos by the grid cell of their highest-coverage colour (then by that
    coverage, highest first). A grid built in this order keeps the photos one query colour
    finds close together in memory: bounding and scoring its candidates touches a few regions
    of the arrays rather than one page per photo."""
    if not len(coverage):
        return np.zeros(0, dtype=np.int64)
    top = coverage.argmax(axis=1)
    rows = np.arange(len(coverage))
    return np.lexsort((-coverage[rows, top], cell_of(lab[rows, top])))


def _kth(parts: list[Scored], k: int) -> float | None:
    """The k-th best positive score so far, or None while fewer than k photos match."""
    scores = np.concatenate([p.score for p in parts]) if parts else np.zeros(0)
    scores = scores[scores > 0]
    return float(np.partition(scores, len(scores) - k)[len(scores) - k]) if len(scores) >= k else None


@dataclass
class PaletteGrid:
    photo_ids: np.ndarray  # [N] bytes (S), ascending sort order = str order for hex ids
    lab: np.ndarray  # [N, K, 3] float64
    coverage: np.ndarray  # [N, K] float64
    valid: np.ndarray  # [N, K] bool
    packed: np.ndarray  # [N, 2K] uint32: float32 coverage bits then int32 cell (-1: padding) per colour,
    # one cache line per photo for the upper bounds
    ent_photo: np.ndarray  # [E] int32 photo row of each palette colour, by (cell, -coverage level, row)
    cell_start: np.ndarray  # [N_CELLS + 1] int64
    level_count: np.ndarray  # [N_CELLS, len(COVERAGE_LEVELS)] int32: colours with coverage >= level
    cell_max_cov: np.ndarray  # [N_CELLS] float64

    @classmethod
    def build(cls, photo_ids: np.ndarray, lab: np.ndarray, coverage: np.ndarray, valid: np.ndarray) -> "PaletteGrid":
        rows, slots = np.nonzero(valid)
        cells = cell_of(lab[rows, slots])
        cov = coverage[rows, slots]
        # by cell, then coverage level (highest first), then photo: a level's entries are a prefix
        # of the cell, and within a level the photos ascend, so taking them walks memory forward
        level = np.searchsorted(COVERAGE_LEVELS, cov, side="right") - 1
        order = np.lexsort((rows, -level, cells))
        cells, cov = cells[order], cov[order]
        cell_start = np.searchsorted(cells, np.arange(N_CELLS + 1)).astype(np.int64)
        level_count = np.stack(
            [np.bincount(cells[cov >= lvl], minlength=N_CELLS) for lvl in COVERAGE_LEVELS], axis=1
        ).astype(np.int32)
        cell_max_cov = np.zeros(N_CELLS)
        np.maximum.at(cell_max_cov, cells, cov)
        k = valid.shape[1]
        packed = np.zeros((len(valid), 2 * k), dtype=np.uint32)
        packed[:, :k] = np.where(valid, coverage, 0.0).astype(np.float32).view(np.uint32)
        cell = np.full(valid.shape, -1, dtype=np.int32)
        cell[rows[order], slots[order]] = cells
        packed[:, k:] = cell.view(np.uint32)
        return cls(np.asarray(photo_ids), lab, coverage, valid, packed, rows[order].astype(np.int32),
                   cell_start, level_count, cell_max_cov)

    @property
    def cells(self) -> np.ndarray:
        """``[N, K]`` grid cell of every palette colour (-1: padding), a view of ``packed``."""
        return self.packed[:, self.packed.shape[1] // 2:].view(np.int32)

    def __len__(self) -> int:
        return len(self.photo_ids)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            np.save(folder / f"{f.name}.npy", getattr(self, f.name), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> "PaletteGrid":
        # plain ndarray views of the memory maps: np.memmap's per-index overhead is not free
        return cls(**{f.name: np.asarray(np.load(folder / f"{f.name}.npy", mmap_mode="r")) for f in fields(cls)})

    def _counts(self, cells, simmax, tau_j, min_share) -> np.ndarray:
        return list_counts(self.level_count, COVERAGE_LEVELS, cells, simmax, tau_j, min_share)

    def search(self, query_lab: np.ndarray, min_share: np.ndarray, limit: int,
               keep: "np.ndarray | Callable[[np.ndarray], np.ndarray] | None" = None) -> tuple[np.ndarray, Scored]:
        """Rows of the ``limit`` best photos (best first, ties by photo id) and their scores.

        The score is the harmonic mean of the per-colour ``s_j``, and ``s_i ≤ M_i``, the largest
        ``simmax · coverage`` of colour ``i``; so a photo scoring ``τ`` has, for every ``j``,
        ``s_j ≥ τ_j = 1 / (n/τ - Σ_{i≠j} 1/M_i)``. For a threshold ``τ`` that falls level by level:

        1. take, for each *joined* colour ``j``, the palette colours with ``simmax · coverage ≥ τ_j``
           (only those new since the last level) and flag their photos with ``j``'s bit; the
           photos flagged by every joined colour are the new candidates — every photo left out
           scores below ``τ``. The colour with the fewest entries is always joined, the others
           when their lists are not much longer (flagging an entry costs a fraction of bounding
           a photo, so intersecting lists beats bounding all of one long list);
        2. bound each new candidate from its own palette (``simmax · coverage`` per colour,
           combined like the score) and score the photos bounded at ``τ`` or more exactly, best
           bound first, until the k-th score beats both ``τ`` and the next bound: then nothing
           unscored can beat it, and the top ``limit`` is exact.

        ``keep`` (bool [N], or a function from rows to bools) keeps only photos that pass the
        query's filters; it is asked only about candidates.
        """
        n = len(query_lab)
        supports, simmax_by_cell = [], np.zeros((n, N_CELLS + 1), dtype=np.float32)  # last: padding (cell -1)
        for j, (cells, bound) in enumerate(SUPPORTS.get(query_lab, color_class(query_lab))):
            occupied = self.cell_start[cells + 1] > self.cell_start[cells]
            cells, simmax = cells[occupied], similarity(bound[occupied])
            supports.append((cells, simmax))
            simmax_by_cell[j, cells] = simmax
        best_possible = np.array([float((sm * self.cell_max_cov[c]).max()) if len(c) else 0.0 for c, sm in supports])
        empty = np.zeros(0, dtype=np.int64)
        if not best_possible.all():
            return empty, self._score(query_lab, min_share, empty)
        inverse_sum = float((1.0 / best_possible).sum())

        def threshold(t: float, j: int) -> float:
            return 0.0 if t == 0.0 else 1.0 / (n / t - inverse_sum + 1.0 / best_possible[j])

        tau = FIRST_TAU_FRACTION * n / inverse_sum
        sizes = np.array([int(self._counts(cells, sm, threshold(tau, j), min_share[j]).sum())
                          for j, (cells, sm) in enumerate(supports)])
        joined = [int(j) for j in np.argsort(sizes, kind="stable") if sizes[j] <= JOIN_FACTOR * max(sizes.min(), JOIN_FLOOR)]
        done = [np.zeros(len(supports[j][0]), dtype=np.int64) for j in joined]
        every = np.uint8((1 << len(joined)) - 1)
        flags = np.zeros(len(self), dtype=np.uint8)  # bit i: in joined list i; 0x80: candidate already taken
        coverage32, cells = self.packed[:, :self.packed.shape[1] // 2].view(np.float32), self.cells
        min_share = np.asarray(min_share, dtype=np.float64)
        pool_rows, pool_ub = np.zeros(0, dtype=np.int64), np.zeros(0)
        scored_rows, parts, kth = [], [], None
        while True:
            new = np.concatenate([
                join_list(self.ent_photo, self.cell_start, self.level_count, COVERAGE_LEVELS, *supports[j],
                          threshold(tau, j), min_share[j], done[i], np.uint8(1 << i), every, flags)
                for i, j in enumerate(joined)])
            if keep is not None:
                new = new[keep(new) if callable(keep) else keep[new]]
            ub = upper_bounds(coverage32, cells, new, simmax_by_cell, min_share)
            pool_rows, pool_ub = np.concatenate([pool_rows, new[ub > 0]]), np.concatenate([pool_ub, ub[ub > 0]])
            ready = np.flatnonzero(pool_ub > tau - SCORE_EPS)
            ready = ready[np.argsort(-pool_ub[ready], kind="stable")]
            finished, start, batch_size = False, 0, SCORE_BATCH
            while start < len(ready) and not finished:
                batch = np.sort(pool_rows[ready[start:start + batch_size]])
                start += batch_size
                batch_size *= 2  # first batches small (the best bounds), then fewer, larger calls
                # photos certainly under the k-th score so far need no exact score: they may come back 0
                floor = 0.0 if kth is None else kth - SCORE_EPS
                parts.append(self._score(query_lab, min_share, batch, (simmax_by_cell, cells), floor))
                scored_rows.append(batch)
                next_ub = float(pool_ub[ready[start]]) if start < len(ready) else 0.0
                kth = _kth(parts, limit)
                finished = kth is not None and kth > max(tau, next_ub) + SCORE_EPS
            unscored = np.ones(len(pool_rows), dtype=bool)
            unscored[ready[:start]] = False
            pool_rows, pool_ub = pool_rows[unscored], pool_ub[unscored]
            kth = _kth(parts, limit)
            unscored_best = float(pool_ub.max()) if len(pool_ub) else 0.0
            if tau == 0.0 or finished or (kth is not None and kth > max(tau, unscored_best) + SCORE_EPS):
                break
            # no photo below the k-th score so far can enter the top k: never go lower than that
            tau = max(tau * TAU_STEP, kth - 2 * SCORE_EPS) if kth is not None else tau * TAU_STEP_EMPTY
            if min(threshold(tau, j) for j in joined) < COVERAGE_LEVELS[1]:
                tau = 0.0  # below the finest coverage level: take the rest
        if not parts:
            return empty, self._score(query_lab, min_share, empty)
        rows = np.concatenate(scored_rows)
        result = Scored(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Scored)))
        pick = top_k(result.score, self.photo_ids[rows], limit)
        return rows[pick], Scored(*(getattr(result, f.name)[pick] for f in fields(Scored)))

    def _score(self, query_lab, min_share, rows, support=None, floor=0.0) -> Scored:
        return score_palettes(query_lab, min_share, self.lab, self.coverage, self.valid, rows, support, floor)

    def brute_force(self, query_lab: np.ndarray, min_share: np.ndarray, limit: int,
                    mask: np.ndarray | None = None, chunk: int = 100_000) -> tuple[np.ndarray, Scored]:
        """Score every photo (the reference the index is tested and benchmarked against)."""
        best_rows, best_parts = [], []
        for start in range(0, len(self), chunk):
            rows = np.arange(start, min(start + chunk, len(self)))
            if mask is not None:
                rows = rows[mask[rows]]
            scored = self._score(query_lab, min_share, rows)
            pick = top_k(scored.score, self.photo_ids[rows], limit)
            best_rows.append(rows[pick])
            best_parts.append(Scored(*(getattr(scored, f.name)[pick] for f in fields(Scored))))
        rows = np.concatenate(best_rows) if best_rows else np.zeros(0, dtype=np.int64)
        scored = Scored(*(np.concatenate([getattr(p, f.name) for p in best_parts]) if best_parts
                          else np.zeros(0) for f in fields(Scored)))
        pick = top_k(scored.score, self.photo_ids[rows], limit)
        return rows[pick], Scored(*(getattr(scored, f.name)[pick] for f in fields(Scored)))
