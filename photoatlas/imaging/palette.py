"""Dominant colours (k-means in CIELAB, weighted by pixel share) and the colour histogram.

Speed comes from clustering colour *bins*, not pixels: every pixel falls in one of 4096
sRGB bins (4 bits per channel); a bin is represented by the exact mean colour of its
pixels and weighted by their count (or their alpha), so the clustering sees at most 4096
weighted points whatever the photo's size, and its centroids are still the means of the
pixels assigned to them.

Histogram layout (``HIST_BINS`` = 40, ``HIST_LABELS`` names them):

- bins 0-35: 12 CIELAB hue sectors x 3 lightness tiers, index ``3 * sector + tier``.
  Sector ``s`` covers hue angles [15 + 30 s, 45 + 30 s) degrees: red, orange, yellow,
  lime, green, teal, cyan, sky, azure, blue, purple, pink. Tiers: dark (L* < 40),
  mid (40 <= L* < 70), light (L* >= 70).
- bins 36-39: neutrals, by L*: black (< 20), dark_grey (< 50), light_grey (< 80), white.
  A colour is neutral when its chroma C* < ``NEUTRAL_CHROMA`` or its L* < ``NEAR_BLACK_L``:
  greys and near-blacks are not hues, though they stay in the palette as neutral colours.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from photoatlas.color import lab_to_srgb8, srgb8_to_lab

HUE_NAMES = ("red", "orange", "yellow", "lime", "green", "teal", "cyan", "sky", "azure", "blue", "purple", "pink")
TIER_NAMES = ("dark", "mid", "light")
NEUTRAL_NAMES = ("black", "dark_grey", "light_grey", "white")
HUE_SECTOR_START_DEG = 15.0
TIER_L_EDGES = (40.0, 70.0)
NEUTRAL_L_EDGES = (20.0, 50.0, 80.0)
NEUTRAL_CHROMA = 10.0
NEAR_BLACK_L = 15.0
HIST_LABELS = tuple(f"{h}_{t}" for h in HUE_NAMES for t in TIER_NAMES) + NEUTRAL_NAMES
HIST_BINS = len(HIST_LABELS)

_BIN_BITS = 4
_N_BINS = 1 << (3 * _BIN_BITS)
_N_INIT = 4
_MAX_ITER = 40


@dataclass(frozen=True)
class PaletteColor:
    """One dominant colour: CIELAB (D65), its sRGB hex, and the share of the photo it covers."""

    l: float  # noqa: E741 - CIELAB's name for lightness
    a: float
    b: float
    hex: str
    share: float


def hist_bin(lab: np.ndarray) -> np.ndarray:
    """Histogram bin index (see module doc) of each CIELAB colour in ``lab[..., 3]``."""
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    hue = (np.degrees(np.arctan2(b, a)) - HUE_SECTOR_START_DEG) % 360.0
    sector = np.minimum((hue // 30).astype(np.int64), 11)
    tier = np.searchsorted(TIER_L_EDGES, L, side="right")
    grey = 36 + np.searchsorted(NEUTRAL_L_EDGES, L, side="right")
    neutral = (np.hypot(a, b) < NEUTRAL_CHROMA) | (L < NEAR_BLACK_L)
    return np.where(neutral, grey, 3 * sector + tier)


def colour_bins(rgb: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Occupied colour bins of an sRGB8 image: (mean colour of each bin in CIELAB, bin weight)."""
    px = rgb.reshape(-1, 3)
    shift = 8 - _BIN_BITS
    idx = (px[:, 0] >> shift).astype(np.uint16) << (2 * _BIN_BITS)
    idx |= (px[:, 1] >> shift).astype(np.uint16) << _BIN_BITS
    idx |= px[:, 2] >> shift
    w = None if weights is None else weights.reshape(-1).astype(np.float64)
    count = np.bincount(idx, weights=w, minlength=_N_BINS)
    occupied = np.flatnonzero(count > 0)
    sums = np.empty((occupied.size, 3))
    for c in range(3):
        chan = px[:, c] if w is None else px[:, c] * w
        sums[:, c] = np.bincount(idx, weights=chan, minlength=_N_BINS)[occupied]
    mean_rgb = np.clip(np.rint(sums / count[occupied, None]), 0, 255).astype(np.uint8)
    return srgb8_to_lab(mean_rgb), count[occupied]


def _kmeans_pp(x: np.ndarray, xx: np.ndarray, w: np.ndarray, k: int, runs: int, rng: np.random.Generator) -> np.ndarray:
    """Weighted k-means++ seeding for ``runs`` independent runs at once: (runs, k, 3) centres.

    Each next centre is drawn with probability proportional to weight x squared distance to
    the nearest centre already chosen (the first one: to weight)."""
    centres = np.empty((runs, k, 3))
    p = np.broadcast_to(w, (runs, len(x)))
    closest = None
    for i in range(k):
        cdf = np.cumsum(p, axis=1)
        # A run whose points are all taken already (total 0) repeats a centre; its cluster ends up empty.
        pick = (cdf < (rng.random(runs) * cdf[:, -1])[:, None]).sum(1)
        c = centres[:, i] = x[np.minimum(pick, len(x) - 1)]
        d = np.maximum(xx - 2.0 * (c @ x.T) + (c * c).sum(1)[:, None], 0.0)
        closest = d if closest is None else np.minimum(closest, d)
        p = w * closest
    return centres


def weighted_kmeans(
    x: np.ndarray, w: np.ndarray, k: int, seed: int = 0, n_init: int = _N_INIT
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic weighted k-means in 3-D: ``n_init`` Lloyd runs from k-means++ seeds drawn
    from ``seed``, run side by side; the run with the least inertia wins.

    Returns (centres, cluster weights); fewer than ``k`` when there are fewer distinct points.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    keep = w > 0
    x, w = x[keep], w[keep]
    if len(x) <= k:
        return x, w
    m, runs = len(x), n_init
    xx = (x * x).sum(1)
    centres = _kmeans_pp(x, xx, w, k, runs, np.random.default_rng(seed)).reshape(runs * k, 3)
    wx = np.column_stack([x * w[:, None], w])
    slots = np.arange(runs * k).reshape(runs, k)  # cluster j of run r is column slots[r, j]
    ks = np.arange(k)

    def assign(centres: np.ndarray) -> np.ndarray:  # nearest centre per point and run: (points, runs)
        # |x - c|^2 without the |x|^2 term, which is the same for every centre of a point.
        return ((centres * centres).sum(1) - 2.0 * (x @ centres.T)).reshape(m, runs, k).argmin(2)

    label = assign(centres)
    for _ in range(_MAX_ITER):
        member = (label[:, :, None] == ks).reshape(m, runs * k)
        sums = member.T @ wx  # (runs * k, [wL, wa, wb, w])
        np.divide(sums[:, :3], sums[:, 3:], out=centres, where=sums[:, 3:] > 0)  # empty: stays put
        new_label = assign(centres)
        if np.array_equal(new_label, label):
            break
        label = new_label
    d = (xx[:, None] - 2.0 * (x @ centres.T) + (centres * centres).sum(1)).reshape(m, runs, k)
    nearest = np.maximum(np.take_along_axis(d, label[:, :, None], 2)[:, :, 0], 0.0)
    best = int(np.argmin(w @ nearest))
    mass = np.bincount(label[:, best], weights=w, minlength=k)
    live = mass > 0
    return centres[slots[best]][live], mass[live]


def palette_from_lab(lab: np.ndarray, weights: np.ndarray, k: int = 5, seed: int = 0) -> tuple[PaletteColor, ...]:
    """Palette of weighted CIELAB points, sorted by share (largest first); shares sum to 1."""
    centres, mass = weighted_kmeans(lab, weights, k, seed)
    share = mass / mass.sum()
    order = sorted(range(len(share)), key=lambda i: (-share[i], -centres[i, 0], i))
    rgb = lab_to_srgb8(centres)
    return tuple(
        PaletteColor(*(float(v) for v in centres[i]), "#%02x%02x%02x" % tuple(rgb[i]), float(share[i])) for i in order
    )


def palette_and_hist(
    rgb: np.ndarray, weights: np.ndarray | None = None, *, k: int = 5, seed: int = 0
) -> tuple[tuple[PaletteColor, ...], np.ndarray]:
    """Palette (k colours) and colour histogram (float32, ``HIST_BINS``, sums to 1) of an sRGB8 image.

    ``weights`` (e.g. alpha / 255) scales each pixel's share; fully transparent pixels count for nothing.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    lab, mass = colour_bins(rgb, weights)
    hist = np.bincount(hist_bin(lab), weights=mass, minlength=HIST_BINS)
    hist = (hist / hist.sum()).astype(np.float32)
    return palette_from_lab(lab, mass, k, seed), hist


def palette_delta_e(p: tuple[PaletteColor, ...], q: tuple[PaletteColor, ...]) -> float:
    """Distance between two palettes: ΔE00 over a one-to-one matching that minimises it,
    averaged with the matched colours' mean share as weight."""
    from photoatlas.color_difference import delta_e_2000  # numba: not imported by decoding workers

    if not p or not q:
        raise ValueError("empty palette")
    lab_p = np.array([[c.l, c.a, c.b] for c in p])
    lab_q = np.array([[c.l, c.a, c.b] for c in q])
    cost = delta_e_2000(lab_p[:, None, :], lab_q[None, :, :])
    rows, cols = linear_sum_assignment(cost)
    share = np.array([(p[i].share + q[j].share) / 2 for i, j in zip(rows, cols)])
    return float((cost[rows, cols] * share).sum() / share.sum())

