"""Copy verdicts from a candidate's Hamming distance and embedding cosine.

The hash finds candidates; the embedding decides, and the further apart two copy hashes
are, the more their embeddings must agree (``copy_tiers``). Measured with
``bench/copy_detection.py`` on edited copies of the sample photos: copies keep a copy-hash
distance <= 14 bits in ~97 % of cases and a cosine >= 0.73 (a grey photo upscaled) to 1.0;
unrelated photos sit >= 20 bits apart, and the hash of a random photo is within 4 bits of a
given one with probability ~4e-14. Edits that move many hash bits (a caption or logo over a
dark picture) keep a very high cosine, hence the loose tier for semantic neighbours.
"""

import math
from dataclasses import dataclass

EXACT = "exact"
COPY = "copy"
NEAR_MISS = "near-miss"


@dataclass(frozen=True)
class Thresholds:
    hash_radius: int = 14  # bits; the exact multi-index search radius
    # (max bits, min cosine): a candidate is a copy when it meets any tier
    copy_tiers: tuple[tuple[int, float], ...] = ((4, 0.50), (14, 0.75), (24, 0.90))
    hash_only_radius: int = 6  # rows without an embedding: a copy on the hash alone
    near_cosine: float = 0.60  # a candidate that is not a copy is a near-miss from this cosine ...
    near_radius: int = 24  # ... within this many bits


DEFAULT_THRESHOLDS = Thresholds()


def verdict(distance: int, cosine: float, t: Thresholds = DEFAULT_THRESHOLDS) -> str | None:
    """COPY, NEAR_MISS or None for a candidate at ``distance`` bits and ``cosine`` (NaN: no embedding)."""
    if math.isnan(cosine):
        if distance <= t.hash_only_radius:
            return COPY
        return NEAR_MISS if distance <= t.hash_radius else None
    if any(distance <= bits and cosine >= cos for bits, cos in t.copy_tiers):
        return COPY
    if distance <= t.near_radius and cosine >= t.near_cosine:
        return NEAR_MISS
    return None
