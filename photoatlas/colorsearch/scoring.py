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

All of it is pure numpy over padded ``[photos, K]`` palette arrays.
"""

from dataclasses import dataclass

import numpy as np

from photoatlas.color import chroma, delta_e_2000

MATCH_DELTA_E = 12.0  # ΔE00 from which a palette colour no longer matches at all
GREY_CHROMA = 8.0  # C*ab below this: achromatic (grey, white, black)
HUE_CHROMA = 15.0  # C*ab from this on (and not near-black): a hue; in between matches both
BLACK_L = 10.0  # L* below this: near-black, achromatic whatever its chroma
SCORE_DECIMALS = 12  # scores are rounded here so ties break by photo id identically everywhere

ACHROMATIC, BETWEEN, HUE = 0, 1, 2


def similarity(delta_e: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, 1.0 - (np.asarray(delta_e, dtype=np.float64) / MATCH_DELTA_E) ** 2)


def color_class(lab: np.ndarray) -> np.ndarray:
    lab = np.asarray(lab, dtype=np.float64)
    c = chroma(lab)
    dark = lab[..., 0] < BLACK_L
    return np.where(dark | (c < GREY_CHROMA), ACHROMATIC, np.where(c >= HUE_CHROMA, HUE, BETWEEN))


def compatible(class_a: np.ndarray, class_b: np.ndarray) -> np.ndarray:
    """False exactly when one side is achromatic and the other a hue."""
    return np.abs(np.asarray(class_a) - np.asarray(class_b)) < 2


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
    may_match: np.ndarray | None = None,
) -> Scored:
    """Score palettes ``lab [P, K, 3]`` (``coverage``/``valid`` ``[P, K]``) against query colours
    ``query_lab [n, 3]`` with per-colour ``min_share [n]``. See the module docstring.

    ``may_match [n, P, K]`` (optional) marks the palette colours that can match colour ``j`` at
    all; the others must be known to be ΔE00 ≥ MATCH_DELTA_E away or incompatible (a search
    index knows from its cells), so skipping their ΔE00 changes no score and no match."""
    query_lab = np.atleast_2d(np.asarray(query_lab, dtype=np.float64))
    lab = np.asarray(lab, dtype=np.float64)
    coverage = np.asarray(coverage, dtype=np.float64)
    n, (P, K) = len(query_lab), coverage.shape
    palette_class = color_class(lab)
    query_class = color_class(query_lab)
    best = np.zeros((P, n), dtype=np.int64)
    de_best = np.full((P, n), np.nan)
    sim_best = np.zeros((P, n))
    per_color = np.zeros((P, n))
    rows = np.arange(P)
    eligible = valid[None] & (coverage[None] >= min_share[:, None, None])  # [n, P, K]
    if may_match is not None:
        eligible &= may_match
    which, rows_e, slots_e = np.nonzero(eligible)
    de = np.full((n, P, K), np.inf)
    if len(which):  # one ΔE00 call for every colour
        de[which, rows_e, slots_e] = delta_e_2000(query_lab[which], lab[rows_e, slots_e])
    for j in range(n):
        sim = similarity(de[j]) * compatible(query_class[j], palette_class)
        contrib = np.where(eligible[j], sim * coverage, 0.0)
        best[:, j] = np.argmax(contrib, axis=1) if K else 0  # first maximum: the larger share wins ties
        per_color[:, j] = contrib[rows, best[:, j]] if K else 0.0
        de_best[:, j] = de[j][rows, best[:, j]] if K else np.nan
        sim_best[:, j] = sim[rows, best[:, j]] if K else 0.0
    matched = (per_color > 0).all(axis=1)
    with np.errstate(divide="ignore"):
        score = n / (1.0 / per_color).sum(axis=1) if n > 1 else per_color[:, 0]
    score = np.round(np.where(matched, score, 0.0), SCORE_DECIMALS)
    return Scored(score=score, best=best, delta_e=de_best, similarity=sim_best)


def top_k(scores: np.ndarray, photo_ids: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best positive scores, ties broken by photo id ascending."""
    scores = np.asarray(scores)
    pos = np.flatnonzero(scores > 0)
    if len(pos) > 4 * k + 64:  # cut by score first; every tie at the cut-off score stays in
        kth = np.partition(scores[pos], len(pos) - k)[len(pos) - k]
        pos = pos[scores[pos] >= kth]
    order = np.lexsort((np.asarray(photo_ids)[pos], -scores[pos]))
    return pos[order[:k]]
