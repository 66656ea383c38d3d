"""The embedded backend's spatial index: every palette colour bucketed into a CIELCh grid cell,
sorted by coverage inside its cell, and an exact top-k search over it.

Search (one query colour; several are handled alike, see :meth:`PaletteGrid.search`):

1. :func:`~photoatlas.colorsearch.bounds.support_cells` gives the cells that can hold a match and
   a proven lower bound of ΔE00 in each, hence ``simmax`` — no colour of the cell is more similar.
2. A palette colour adds at most ``simmax · coverage`` to its photo's score. For a threshold ``τ``
   only colours with ``coverage ≥ τ / simmax`` can lift a photo to ``τ``; they are a prefix of
   each cell (``level_count`` gives its length), so the candidates cost no ΔE00 at all.
3. Candidates are bounded from their own palettes, then scored exactly with
   :func:`~photoatlas.colorsearch.scoring.score_palettes`, best bound first; once the k-th
   score beats ``τ`` and every unscored bound, no photo can beat it: the search is exact, the
   same top-k as scoring every photo (``tests/unit/test_colorsearch_embedded.py``).
"""

import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np

from photoatlas.colorsearch.bounds import GRID_SHAPE, SupportCache, cell_of
from photoatlas.colorsearch.index import SCORE_EPS
from photoatlas.colorsearch.scoring import Scored, color_class, score_palettes, similarity, top_k

N_CELLS = int(np.prod(GRID_SHAPE))
FIRST_TAU_FRACTION = 0.85  # first threshold, as a fraction of the best score any photo could have
TAU_STEP = 0.8  # how fast the threshold falls, level by level, once `limit` photos match
TAU_STEP_EMPTY = 0.6  # ... and while fewer do
SCORE_BATCH = 256  # candidates scored exactly at a time, best upper bound first
JOIN_FACTOR = 16  # a colour's list joins the intersection when at most this many times the shortest...
JOIN_FLOOR = 2_000  # ... or this long: flagging an entry costs ~1/20 of bounding a photo
MAX_JOINED = 2  # a third list costs more to flag than its colour saves; the bound checks that colour
SEEN = np.uint8(0x80)  # flag bit of a candidate already taken (joined lists use the low bits)
SUPPORTS = SupportCache(256)  # shared by every grid of the process: supports do not depend on data
COVERAGE_LEVELS = np.array([0, .01, .02, .03, .05, .07, .1, .13, .16, .2, .25, .3, .35, .4, .45, .5,
                            .55, .6, .65, .7, .75, .8, .85, .9, .95, 1.0])


def in_support_of(simmax_by_cell: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``[n, P, K]``: which palette colours lie in a support cell of each query colour."""
    return simmax_by_cell[:, cells] > 0


def _kth(parts: list[Scored], k: int) -> float | None:
    """The k-th best positive score so far, or None while fewer than k photos match."""
    scores = np.concatenate([p.score for p in parts]) if parts else np.zeros(0)
    scores = scores[scores > 0]
    return float(np.partition(scores, len(scores) - k)[len(scores) - k]) if len(scores) >= k else None


def first_of_each(rows: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """``rows`` without repeats (in no particular order), using ``scratch`` (int32, one slot per
    photo, any content): linear, where sorting 200 k rows costs ten times as much."""
    at = np.arange(len(rows), dtype=np.int32)
    scratch[rows] = at
    return rows[scratch.take(rows) == at].astype(np.int64)


@dataclass
class PaletteGrid:
    photo_ids: np.ndarray  # [N] bytes (S), ascending sort order = str order for hex ids
    lab: np.ndarray  # [N, K, 3] float64
    coverage: np.ndarray  # [N, K] float64
    valid: np.ndarray  # [N, K] bool
    packed: np.ndarray  # [N, 2K] uint32: float32 coverage bits then int32 cell (-1: padding) per colour,
    # one cache line per photo for the upper bounds
    ent_photo: np.ndarray  # [E] int32 photo row of each palette colour, by (cell, -coverage)
    cell_start: np.ndarray  # [N_CELLS + 1] int64
    level_count: np.ndarray  # [N_CELLS, len(COVERAGE_LEVELS)] int32: colours with coverage >= level
    cell_max_cov: np.ndarray  # [N_CELLS] float64

    @classmethod
    def build(cls, photo_ids: np.ndarray, lab: np.ndarray, coverage: np.ndarray, valid: np.ndarray) -> "PaletteGrid":
        rows, slots = np.nonzero(valid)
        cells = cell_of(lab[rows, slots])
        cov = coverage[rows, slots]
        order = np.lexsort((-cov, cells))
        cells, cov = cells[order], cov[order]
        cell_start = np.searchsorted(cells, np.arange(N_CELLS + 1)).astype(np.int64)
        level_count = np.stack(
            [np.bincount(cells[cov >= lvl], minlength=N_CELLS) for lvl in COVERAGE_LEVELS], axis=1
        ).astype(np.int32)
        cell_max_cov = np.zeros(N_CELLS)
        nonempty = cell_start[1:] > cell_start[:-1]
        cell_max_cov[nonempty] = cov[cell_start[:-1][nonempty]]
        k = valid.shape[1]
        packed = np.zeros((len(valid), 2 * k), dtype=np.uint32)
        packed[:, :k] = np.where(valid, coverage, 0.0).astype(np.float32).view(np.uint32)
        cell = np.full(valid.shape, -1, dtype=np.int32)
        cell[rows[order], slots[order]] = cells
        packed[:, k:] = cell.view(np.uint32)
        return cls(np.asarray(photo_ids), lab, coverage, valid, packed, rows[order].astype(np.int32),
                   cell_start, level_count, cell_max_cov)

    def _scratch(self) -> np.ndarray:
        """This thread's int32 work array of one slot per photo (searches may run in threads)."""
        local = self.__dict__.setdefault("_local", threading.local())
        if getattr(local, "array", None) is None or len(local.array) != len(self):
            local.array = np.empty(len(self), dtype=np.int32)
        return local.array

    def cells_of(self, rows) -> np.ndarray:
        """``[P, K]`` grid cells of the photos' palette colours (-1: padding)."""
        k = self.packed.shape[1] // 2
        return np.ascontiguousarray(self.packed.take(rows, axis=0)[:, k:]).view(np.int32)

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

    def _entries(self, cells, simmax, tau_j, min_share, done=None) -> np.ndarray:
        """Photo rows (with repeats) of the palette colours in ``cells`` with ``simmax · coverage ≥
        tau_j`` and ``coverage ≥ min_share`` — a superset: thresholds round down to a coverage
        level. With ``done`` (colours already taken per cell, updated in place) only the new ones."""
        counts = self._counts(cells, simmax, tau_j, min_share)
        start = self.cell_start[cells]
        if done is not None:
            counts = np.maximum(counts, done)
            start, counts, done[:] = start + done, counts - done, counts
        total = int(counts.sum())
        if not total:
            return np.zeros(0, dtype=np.int32)
        ends = np.cumsum(counts)
        return self.ent_photo.take(np.repeat(start - (ends - counts), counts) + np.arange(total))

    def _counts(self, cells, simmax, tau_j, min_share) -> np.ndarray:
        need = np.maximum(min_share, tau_j / simmax)
        level = np.maximum(np.searchsorted(COVERAGE_LEVELS, need, side="right") - 1, 0)
        return np.where(need <= 1.0, self.level_count[cells, level], 0)

    def _upper_bound(self, rows, simmax_by_cell, min_share) -> np.ndarray:
        """For each photo row, the most its score can be: per colour the largest
        ``simmax · coverage`` of its palette, combined like the score (float32, rounded up)."""
        k = self.packed.shape[1] // 2
        both = self.packed.take(rows, axis=0).T.copy()  # [2K, P] (take: far faster than [] here)
        cov = both[:k].view(np.float32)
        cell = both[k:].view(np.int32)
        inverse = np.zeros(len(rows), dtype=np.float32)
        for sm, ms in zip(simmax_by_cell, min_share):
            bound = cov * sm.take(cell)
            if ms > 0:
                bound[cov < np.float32(ms) * np.float32(1 - 1e-6)] = 0
            with np.errstate(divide="ignore"):
                inverse += 1.0 / bound.max(axis=0)
        with np.errstate(divide="ignore"):
            return np.where(np.isfinite(inverse), len(simmax_by_cell) / inverse, 0.0) * (1 + 1e-5)

    def search(self, query_lab: np.ndarray, min_share: np.ndarray, limit: int,
               keep: "np.ndarray | Callable[[np.ndarray], np.ndarray] | None" = None) -> tuple[np.ndarray, Scored]:
        """Rows of the ``limit`` best photos (best first, ties by photo id) and their scores.

        The score is the harmonic mean of the per-colour ``s_j``, and ``s_i ≤ M_i``, the largest
        ``simmax · coverage`` of colour ``i``; so a photo scoring ``τ`` has, for every ``j``,
        ``s_j ≥ τ_j = 1 / (n/τ - Σ_{i≠j} 1/M_i)``. For a threshold ``τ`` that falls level by level:

        1. take, for each *joined* colour ``j``, the palette colours with ``simmax · coverage ≥ τ_j``
           (only those new since the last level) and flag their photos with ``j``'s bit; the
           photos flagged by every joined colour are the new candidates — every photo left out
           scores below ``τ``. The colour with the fewest entries is always joined, a second one
           when its list is not much longer (flagging an entry costs a fraction of bounding a
           photo, so intersecting two lists beats bounding all of one long list);
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
            return empty, score_palettes(query_lab, min_share, *self._rows(empty))
        inverse_sum = float((1.0 / best_possible).sum())

        def threshold(t: float, j: int) -> float:
            return 0.0 if t == 0.0 else 1.0 / (n / t - inverse_sum + 1.0 / best_possible[j])

        tau = FIRST_TAU_FRACTION * n / inverse_sum
        sizes = np.array([int(self._counts(cells, sm, threshold(tau, j), min_share[j]).sum())
                          for j, (cells, sm) in enumerate(supports)])
        joined = [int(j) for j in np.argsort(sizes, kind="stable") if sizes[j] <= JOIN_FACTOR * max(sizes.min(), JOIN_FLOOR)][:MAX_JOINED]
        done = [np.zeros(len(supports[j][0]), dtype=np.int64) for j in joined]
        every = (1 << len(joined)) - 1
        flags = np.zeros(len(self), dtype=np.uint8)  # bit i: in joined list i; SEEN: candidate already taken
        scratch = self._scratch()
        pool_rows, pool_ub = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scored_rows, parts = [], []
        while True:
            fresh = []
            for i, j in enumerate(joined):
                rows = self._entries(*supports[j], threshold(tau, j), min_share[j], done[i])
                if len(joined) > 1:
                    flags[rows] |= np.uint8(1 << i)
                fresh.append(rows)
            new = np.concatenate(fresh) if len(fresh) > 1 else fresh[0]
            new = new[flags.take(new) == (every if len(joined) > 1 else 0)]  # in every joined list, not yet taken
            new = first_of_each(new, scratch)
            flags[new] |= SEEN
            if keep is not None:
                new = new[keep(new) if callable(keep) else keep[new]]
            ub = self._upper_bound(new, simmax_by_cell, min_share)
            pool_rows, pool_ub = np.concatenate([pool_rows, new[ub > 0]]), np.concatenate([pool_ub, ub[ub > 0]])
            ready = np.flatnonzero(pool_ub > tau - SCORE_EPS)
            ready = ready[np.argsort(-pool_ub[ready], kind="stable")]
            finished, start, batch_size = False, 0, SCORE_BATCH
            while start < len(ready) and not finished:
                batch = np.sort(pool_rows[ready[start:start + batch_size]])
                start += batch_size
                batch_size *= 2  # first batches small (the best bounds), then fewer, larger calls
                may_match = in_support_of(simmax_by_cell, self.cells_of(batch))
                parts.append(score_palettes(query_lab, min_share, *self._rows(batch), may_match))
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
            return empty, score_palettes(query_lab, min_share, *self._rows(empty))
        rows = np.concatenate(scored_rows)
        result = Scored(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Scored)))
        pick = top_k(result.score, self.photo_ids[rows], limit)
        return rows[pick], Scored(*(getattr(result, f.name)[pick] for f in fields(Scored)))

    def _rows(self, rows):
        rows = np.asarray(rows, dtype=np.int64)
        return self.lab.take(rows, axis=0), self.coverage.take(rows, axis=0), self.valid.take(rows, axis=0)

    def brute_force(self, query_lab: np.ndarray, min_share: np.ndarray, limit: int,
                    mask: np.ndarray | None = None, chunk: int = 100_000) -> tuple[np.ndarray, Scored]:
        """Score every photo (the reference the index is tested and benchmarked against)."""
        best_rows, best_parts = [], []
        for start in range(0, len(self), chunk):
            rows = np.arange(start, min(start + chunk, len(self)))
            if mask is not None:
                rows = rows[mask[rows]]
            scored = score_palettes(query_lab, min_share, *self._rows(rows))
            pick = top_k(scored.score, self.photo_ids[rows], limit)
            best_rows.append(rows[pick])
            best_parts.append(Scored(*(getattr(scored, f.name)[pick] for f in fields(Scored))))
        rows = np.concatenate(best_rows) if best_rows else np.zeros(0, dtype=np.int64)
        scored = Scored(*(np.concatenate([getattr(p, f.name) for p in best_parts]) if best_parts
                          else np.zeros(0) for f in fields(Scored)))
        pick = top_k(scored.score, self.photo_ids[rows], limit)
        return rows[pick], Scored(*(getattr(scored, f.name)[pick] for f in fields(Scored)))
