"""Compiled inner loops of the embedded colour search (numba): joining the colour lists into new
candidates, and bounding each candidate's score from its own palette. In numpy each needed
several temporaries per threshold level; here each is one pass.

Compiled once per install and cached on disk (``cache=True``); they release the GIL, so
searches in threads run in parallel.
"""

import numpy as np
from numba import njit

SEEN = np.uint8(0x80)  # flag bit of a candidate already taken (joined lists use the low bits)


@njit(cache=True, nogil=True)
def list_counts(level_count, levels, cells, simmax, tau_j, min_share_j):  # pragma: no cover - compiled
    """How many palette colours of each cell (``cells``, with their ``simmax``) reach
    ``simmax · coverage ≥ tau_j`` and ``coverage ≥ min_share_j``: each cell's colours are ordered
    by coverage level, highest first, so the colours at or above a level are a prefix, read from
    ``level_count [cells, levels]`` at the level just below the one needed — a superset, never
    missing a colour."""
    counts = np.zeros(len(cells), dtype=np.int64)
    for c in range(len(cells)):
        need = max(min_share_j, tau_j / simmax[c])
        if need <= 1.0:
            level = max(np.searchsorted(levels, need, side="right") - 1, 0)
            counts[c] = level_count[cells[c], level]
    return counts


@njit(cache=True, nogil=True)
def join_list(ent_photo, cell_start, level_count, levels, cells, simmax, tau_j, min_share_j, done, bit, every,
              flags):  # pragma: no cover - compiled
    """Takes one colour's list down to ``tau_j`` (:func:`list_counts`): its entries not taken yet
    (``done`` per cell, updated in place) set the list's ``bit`` in ``flags`` (uint8 per photo,
    updated in place). Returns the photos that now carry every joined list's bit (``every``) and
    were not taken before; each is returned once and then marked ``SEEN``."""
    counts = list_counts(level_count, levels, cells, simmax, tau_j, min_share_j)
    total = 0
    for c in range(len(cells)):
        total += max(counts[c] - done[c], 0)
    out = np.empty(total, dtype=np.int64)
    n = 0
    for c in range(len(cells)):
        first = cell_start[cells[c]]
        for e in range(first + done[c], first + counts[c]):
            row = ent_photo[e]
            f = flags[row] | bit
            if f == every:
                f |= SEEN
                out[n] = row
                n += 1
            flags[row] = f
        done[c] = max(done[c], counts[c])
    return out[:n]


@njit(cache=True, nogil=True)
def upper_bounds(coverage32, cells32, rows, simmax_by_cell, min_share):  # pragma: no cover - compiled
    """For each photo row, the most its score can be: per query colour the largest
    ``simmax · coverage`` of its palette (colours under the colour's ``min_share`` left out),
    combined like the score (harmonic mean), rounded up by 1e-5 for the float32 inputs; 0 when
    some colour cannot match at all."""
    n_colors, k = simmax_by_cell.shape[0], coverage32.shape[1]
    out = np.zeros(len(rows))
    best = np.zeros(n_colors, dtype=np.float32)
    floor = (min_share * (1 - 1e-6)).astype(np.float32)  # float32 coverage may sit just below its share
    for p in range(len(rows)):
        row = rows[p]
        best[:] = 0
        for s in range(k):
            cell, cov = cells32[row, s], coverage32[row, s]
            if cell >= 0:
                for j in range(n_colors):
                    if cov >= floor[j]:
                        best[j] = max(best[j], cov * simmax_by_cell[j, cell])
        inverse = 0.0
        for j in range(n_colors):
            inverse = inverse + 1.0 / best[j] if best[j] > 0 and inverse >= 0 else -1.0
        if inverse > 0:
            out[p] = n_colors / inverse * (1 + 1e-5)
    return out
