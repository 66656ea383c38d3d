"""The copy-detection hash: pHash of the picture with plain borders trimmed, and of its mirror.

A frame or letterbox added around a copy moves every DCT coefficient of a plain pHash
(median 12 bits, up to 22, on the sample photos); trimming near-constant edge rows and
columns first brings a bordered copy back to its original (0-2 bits). Trimming is a
deterministic function of the pixels, so the original and its copy are treated alike.

Horizontal flips: the index stores the hash of each photo as it is, and a query is looked
up with its own hash and with the hash of its mirror image (``copy_hashes`` returns both),
so a flipped copy meets its original at distance ~0 without doubling the index.
"""

import numpy as np

from photoatlas.imaging.hashes import phash

EDGE_TOLERANCE_GREY = 8  # a row or column is "plain" when its luma spans fewer grey levels
MAX_TRIM_FRACTION = 0.25  # never trim more than a quarter of the picture from one side


def _plain_run(lines: np.ndarray, limit: int) -> int:
    """How many leading lines (rows of ``lines``) are plain, up to ``limit``."""
    spans = lines[:limit].max(axis=1).astype(np.int16) - lines[:limit].min(axis=1)
    busy = np.flatnonzero(spans > EDGE_TOLERANCE_GREY)
    return int(busy[0]) if len(busy) else min(limit, len(lines))


def trim_borders(grey: np.ndarray) -> np.ndarray:
    """The picture without near-constant rows/columns at its edges (a view, never empty)."""
    h, w = grey.shape
    top = _plain_run(grey, int(h * MAX_TRIM_FRACTION))
    bottom = _plain_run(grey[::-1], int(h * MAX_TRIM_FRACTION))
    left = _plain_run(grey.T, int(w * MAX_TRIM_FRACTION))
    right = _plain_run(grey.T[::-1], int(w * MAX_TRIM_FRACTION))
    return grey[top : h - bottom, left : w - right]


def copy_hashes(grey: np.ndarray) -> tuple[int, int]:
    """(pHash, pHash of the mirror image) of the border-trimmed greyscale picture, unsigned 64-bit."""
    core = trim_borders(np.asarray(grey))
    return phash(np.ascontiguousarray(core)), phash(np.ascontiguousarray(core[:, ::-1]))
