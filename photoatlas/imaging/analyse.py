"""Everything the pipeline learns from a photo's bytes, in one decode: size, palette, colour
histogram, perceptual hashes, EXIF and a metadata-free thumbnail. No Dagster, no Spark.

``analyse`` either returns an ``Analysis`` or raises ``Rejected`` (see ``decode`` for the
reason codes, plus ``internal_error`` for a bug of ours on a decodable photo): bad input
never escapes as another exception.
"""

from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from photoatlas.imaging import hashes
from photoatlas.imaging.decode import MAX_BYTES, MAX_PIXELS, SUPPORTED_FORMATS, Decoded, Rejected, decode
from photoatlas.imaging.exif import Exif
from photoatlas.imaging.palette import HIST_BINS, HIST_LABELS, PaletteColor, palette_and_hist
from photoatlas.imaging.pixels import icc_to_srgb
from photoatlas.imaging.sniff import sniff_format
from photoatlas.imaging.thumbs import SWAPS_AXES, THUMB_EDGE_PX, encode_jpeg, fit_size, flatten, orient, shrink

PALETTE_EDGE_PX = 512  # JPEGs decode at 1/8 to at most ~512 px anyway; others are shrunk to it

__all__ = [
    "HIST_BINS",
    "HIST_LABELS",
    "MAX_BYTES",
    "MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "THUMB_EDGE_PX",
    "Analysis",
    "Exif",
    "PaletteColor",
    "Rejected",
    "analyse",
    "sniff_format",
]


@dataclass(frozen=True)
class Analysis:
    """The enrichment of one photo (see the module doc)."""

    format: str
    mode: str
    width: int  # full resolution, after EXIF orientation
    height: int
    frames: int
    decode_scale: int  # 1, 2, 4 or 8: the JPEG DCT scale used
    palette: tuple[PaletteColor, ...]  # by share, largest first; shares sum to 1
    # float32, HIST_BINS long, sums to 1 (layout in palette.py). Left out of == and hash(),
    # which numpy arrays do not support; it is derived from the same pixels as the palette.
    color_hist: np.ndarray = field(compare=False)
    phash: int  # unsigned 64-bit
    dhash: int
    ahash: int
    exif: Exif
    thumbnail_jpeg: bytes  # long edge THUMB_EDGE_PX (or the photo's own if smaller); no metadata
    warnings: tuple[str, ...]


def analyse(data: bytes, *, k: int = 5, seed: int = 0) -> Analysis:
    """Enrich one photo from its bytes; raises ``Rejected`` only (``ValueError`` for k < 1, a caller's bug)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    decoded = decode(data, THUMB_EDGE_PX)
    try:
        return _enrich(decoded, k, seed)
    except Exception as exc:  # a bug of ours must quarantine one photo, not fail a partition
        raise Rejected("internal_error", f"{type(exc).__name__}: {exc}") from exc


def _enrich(decoded: Decoded, k: int, seed: int) -> Analysis:
    warnings = list(decoded.warnings)
    orientation = decoded.exif.orientation
    width, height = decoded.size
    if orientation in SWAPS_AXES:
        width, height = height, width

    # Colours come from the decoded pixels (capped at PALETTE_EDGE_PX), not from the
    # thumbnail: shrinking further averages texture away and shifts k-means away from the
    # full-resolution palette. Orientation does not matter to colours, so it waits.
    decoded_h, decoded_w = decoded.rgb.shape[:2]
    rgb, alpha = shrink(decoded.rgb, decoded.alpha, fit_size(decoded_w, decoded_h, PALETTE_EDGE_PX))
    converted = icc_to_srgb(Image.fromarray(rgb), decoded.icc, warnings) if decoded.icc else None
    if converted is not None:
        rgb = np.asarray(converted)
    if alpha is not None and alpha.max() == 0:
        warnings.append("fully_transparent")  # nothing visible: describe the white it shows on
        palette, hist = palette_and_hist(flatten(rgb, alpha), k=k, seed=seed)
    else:
        weights = None if alpha is None else alpha.astype(np.float32) / 255.0
        palette, hist = palette_and_hist(rgb, weights, k=k, seed=seed)

    # Thumbnail and hashes: shrink in stored orientation (fewer pixels to turn), then turn upright.
    rgb, alpha = shrink(rgb, alpha, fit_size(*decoded.size, THUMB_EDGE_PX))
    flat = flatten(orient(rgb, orientation), None if alpha is None else orient(alpha, orientation))
    grey = cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY)
    return Analysis(
        format=decoded.format,
        mode=decoded.mode,
        width=width,
        height=height,
        frames=decoded.frames,
        decode_scale=decoded.scale,
        palette=palette,
        color_hist=hist,
        phash=hashes.phash(grey),
        dhash=hashes.dhash(grey),
        ahash=hashes.ahash(grey),
        exif=decoded.exif,
        thumbnail_jpeg=encode_jpeg(flat),
        warnings=tuple(warnings),
    )
