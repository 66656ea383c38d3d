"""The one scoring function of colour search. Every backend ranks with it, so they agree.

For query colour ``q`` and palette colour ``c`` (CIELAB) of a photo:

- ``similarity = max(0, 1 - (ΔE00(q, c) / MATCH_DELTA_E)**2)``: 1 for the same colour, ~0.94 at a
  just-clearly-visible ΔE00 of 3, 0 from ``MATCH_DELTA_E`` on. ΔE00 is the perceptual distance.
- ``compatible``: a near-grey (or near-black) palette colour never matches a hue query and a
  near-grey query never matches a hue, whatever ΔE00 says (ΔE00 between a grey and a pale tint
  is small, but an editor asking for teal does not want grey concrete).
- ``coverage`` of ``c`` (computed once, when the document is built): the share of the photo
  within tolerance of ``c`` — its own share plus the similarity-weighted shares of its shades
  in the same palette, so a wall that k-means split into five oranges still counts as orange.
- per query colour ``j``: ``s_j = max over c of similarity · compatible · coverage``, counting
  only palette colours whose coverage reaches the colour's ``min_share``; the maximising ``c``
  is the reported match, so a photo's 2nd or 3rd palette colour matches as well as its first.
- the photo's score is the harmonic mean of the ``s_j`` (like an F-score): a photo must match
  every colour, and ranks high only when every colour is well represented — orange 0.8 with a
  trace of teal 0.05 (0.09) ranks below orange 0.3 with teal 0.3 (0.3).

Palettes are padded ``[photos, K]`` arrays. The per-colour rules are scalar functions compiled
with numba (:func:`class_of`, :func:`similarity_of`, ΔE00 in :mod:`photoatlas.color_difference`): the array
forms apply them element by element and the scoring loop calls them, so each has one definition.
"""

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from photoatlas.color_difference import delta_e_00, delta_e_2000

MATCH_DELTA_E = 12.0  # ΔE00 from which a palette colour no longer matches at all
GREY_CHROMA = 8.0  # C*ab below this: achromatic (grey, white, black)
HUE_CHROMA = 15.0  # C*ab from this on (and not near-black): a hue; in between matches both
BLACK_L = 10.0  # L* below this: near-black, achromatic whatever its chroma
SCORE_DECIMALS = 12  # scores are rounded here so ties break by photo id identically everywhere

ACHROMATIC, BETWEEN, HUE = 0, 1, 2


@njit(cache=True, nogil=True)
def similarity_of(delta_e: float) -> float:
    return max(0.0, 1.0 - (delta_e / MATCH_DELTA_E) ** 2)


@njit(cache=True, nogil=True)
def class_of(L: float, a: float, b: float) -> int:
    c = math.hypot(a, b)
    if L < BLACK_L or c < GREY_CHROMA:
        return ACHROMATIC
    return HUE if c >= HUE_CHROMA else BETWEEN


@njit(cache=True, nogil=True)
def _similarities(delta_e):  # pragma: no cover - compiled
    return np.array([similarity_of(d) for d in delta_e])


@njit(cache=True, nogil=True)
def _classes(lab):  # pragma: no cover - compiled
    return np.array([class_of(lab[i, 0], lab[i, 1], lab[i, 2]) for i in range(len(lab))], dtype=np.int64)


def similarity(delta_e: np.ndarray) -> np.ndarray:
    delta_e = np.asarray(delta_e, dtype=np.float64)
    return _similarities(delta_e.ravel()).reshape(delta_e.shape)


def color_class(lab: np.ndarray) -> np.ndarray:
    lab = np.asarray(lab, dtype=np.float64)
    return _classes(np.ascontiguousarray(lab.reshape(-1, 3))).reshape(lab.shape[:-1])


@njit(cache=True, nogil=True)
def compatible(class_a, class_b):
    """False exactly when one side is achromatic and the other a hue (classes or arrays of them)."""
    return np.abs(class_a - class_b) < 2


def palette_coverage(lab: np.ndarray, share: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Coverage of every palette colour in its own photo (``[P, K]``), clipped to [0, 1]."""
    lab = np.asarray(lab, dtype=np.float64)
    share = np.asarray(share, dtype=np.float64)
    if valid is None:
        valid = np.ones(share.shape, dtype=bool)
    de = delta_e_2000(lab[:, :, None, :], lab[:, None, :, :])  # [P, K, K]
    cls = color_class(lab)
    weight = similarity(de) * compatible(cls[:, :, None], cls[:, None, :]) * valid[:, None, :]
    cov = np.einsum("pkf,pf->pk", weight, np.where(valid, share, 0.0))
    return np.where(valid, np.clip(cov, 0.0, 1.0), 0.0)


@dataclass(frozen=True)
class Scored:
    """Scores of ``P`` palettes against an ``n``-colour query."""

    score: np.ndarray  # [P], 0 where the photo does not match every colour
    best: np.ndarray  # [P, n] index of the matching palette colour
    delta_e: np.ndarray  # [P, n] ΔE00 to it
    similarity: np.ndarray  # [P, n]


def score_palettes(
    query_lab: np.ndarray,
    min_share: np.ndarray,
    lab: np.ndarray,
    coverage: np.ndarray,
    valid: np.ndarray,
    rows: np.ndarray | None = None,
    support: tuple[np.ndarray, np.ndarray] | None = None,
    floor: float = 0.0,
) -> Scored:
    """Score palettes ``lab [N, K, 3]`` (``coverage``/``valid`` ``[N, K]``) — all of them, or only
    ``rows`` — against query colours ``query_lab [n, 3]`` with per-colour ``min_share [n]``. See
    the module docstring.

    ``support`` (optional), ``(simmax_by_cell [n, cells + 1] float32, cells [N, K] int32)``:
    palette colour ``k`` of a photo can match colour ``j`` only where
    ``simmax_by_cell[j, cells[photo, k]] > 0``, and by at most that similarity; a search index
    that knows this from its grid skips the ΔE00 of colours that cannot match or cannot beat
    the photo's best so far, which changes no score and no match.

    ``floor``: a photo whose score is certainly below it may come back as 0 as soon as that is
    certain, without its remaining colours' ΔE00 (a search that already holds ``k`` photos
    scoring ``floor`` or more needs no exact score below it). Only photos that match every colour
    have a reported match (``best``, ``delta_e``, ``similarity``)."""
    query_lab = np.atleast_2d(np.asarray(query_lab, dtype=np.float64))
    n, k = len(query_lab), np.shape(coverage)[1]
    rows = np.arange(len(coverage)) if rows is None else np.asarray(rows, dtype=np.int64)
    if support is None:
        support = (np.zeros((n, 0), dtype=np.float32), np.zeros((0, k), dtype=np.int32))
    score, best, de, sim = _score_rows(
        query_lab, color_class(query_lab), np.asarray(min_share, dtype=np.float64),
        np.asarray(lab, dtype=np.float64), np.asarray(coverage, dtype=np.float64), np.asarray(valid, dtype=bool),
        rows, *support, float(floor))
    return Scored(score=np.round(score, SCORE_DECIMALS), best=best, delta_e=de, similarity=sim)


BOUND_SLACK = 1 + 1e-6  # float32 similarities in a support may sit a hair under the float64 ones


@njit(cache=True, nogil=True)
def _score_rows(query_lab, query_class, min_share, lab, coverage, valid, rows, simmax_by_cell, cells,
                floor):  # pragma: no cover - compiled
    n, k = len(query_lab), coverage.shape[1]
    use_support = cells.shape[0] > 0
    score = np.zeros(len(rows))
    best = np.zeros((len(rows), n), dtype=np.int64)
    de_best = np.full((len(rows), n), np.nan)
    sim_best = np.zeros((len(rows), n))
    most = np.zeros((n, k))  # the most each palette colour can add for each query colour: coverage · simmax
    reach = np.zeros(n)  # ... and its maximum: the most the query colour can score in this photo
    for p in range(len(rows)):
        r = rows[p]
        for j in range(n):
            reach[j] = 0.0
            for s in range(k):
                most[j, s] = 0.0
                if valid[r, s] and coverage[r, s] >= min_share[j]:
                    most[j, s] = coverage[r, s] * (simmax_by_cell[j, cells[r, s]] * BOUND_SLACK if use_support else 1.0)
                    reach[j] = max(reach[j], most[j, s])
        inverse = 0.0
        for j in range(n):
            if reach[j] == 0.0:
                break
        else:
            for j in range(n):
                top = 0.0
                for s in range(k):
                    if most[j, s] == 0.0 or (s > 0 and most[j, s] <= top):
                        continue  # cannot match, or cannot beat the best so far (a tie keeps the first)
                    de = delta_e_00(query_lab[j, 0], query_lab[j, 1], query_lab[j, 2], lab[r, s, 0], lab[r, s, 1], lab[r, s, 2])
                    sim = 0.0
                    if compatible(query_class[j], class_of(lab[r, s, 0], lab[r, s, 1], lab[r, s, 2])):
                        sim = similarity_of(de)
                    contrib = sim * coverage[r, s]
                    if contrib > top:
                        top, best[p, j], de_best[p, j], sim_best[p, j] = contrib, s, de, sim
                if top == 0.0:
                    inverse = -1.0
                    break
                inverse += 1.0 / top
                if floor > 0.0:
                    rest = 0.0
                    for i in range(j + 1, n):
                        rest += 1.0 / reach[i]
                    if n / (inverse + rest) < floor:  # cannot reach the floor any more
                        inverse = -1.0
                        break
            if inverse > 0.0:  # the harmonic mean of the per-colour scores
                score[p] = top if n == 1 else n / inverse
    return score, best, de_best, sim_best


def top_k(scores: np.ndarray, photo_ids: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best positive scores, ties broken by photo id ascending."""
    scores = np.asarray(scores)
    pos = np.flatnonzero(scores > 0)
    if len(pos) > 4 * k + 64:  # cut by score first; every tie at the cut-off score stays in
        kth = np.partition(scores[pos], len(pos) - k)[len(pos) - k]
        pos = pos[scores[pos] >= kth]
    order = np.lexsort((np.asarray(photo_ids)[pos], -scores[pos]))
    return pos[order[:k]]
