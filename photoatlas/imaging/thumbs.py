"""Pixel geometry on the small image: target size, area-averaged shrinking (alpha-aware),
EXIF orientation, flattening onto white, and the metadata-free thumbnail JPEG."""

import io

import cv2
import numpy as np
from PIL import Image

THUMB_EDGE_PX = 256
THUMB_JPEG_QUALITY = 85
SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that turn the stored image by 90 degrees


def fit_size(width: int, height: int, edge: int) -> tuple[int, int]:
    """(width, height) scaled so the long edge is ``edge``; unchanged if already no larger."""
    long_edge = max(width, height)
    if long_edge <= edge:
        return width, height
    return max(1, round(width * edge / long_edge)), max(1, round(height * edge / long_edge))


def shrink(rgb: np.ndarray, alpha: np.ndarray | None, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Area-average ``rgb`` (and ``alpha``) down to ``size`` = (width, height).

    With alpha the colours are averaged premultiplied, so the colour under transparent pixels
    (often black or junk) does not bleed into the visible edge.
    """
    if (rgb.shape[1], rgb.shape[0]) == size:
        return rgb, alpha
    if alpha is None:
        return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), None
    a = alpha.astype(np.float32) / 255.0
    premultiplied = cv2.resize(rgb.astype(np.float32) * a[:, :, None], size, interpolation=cv2.INTER_AREA)
    a_small = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    safe = np.where(a_small > 0, a_small, 1.0)[:, :, None]
    colour = np.clip(np.rint(premultiplied / safe), 0, 255).astype(np.uint8)
    return colour, np.clip(np.rint(a_small * 255), 0, 255).astype(np.uint8)


def orient(pixels: np.ndarray, orientation: int | None) -> np.ndarray:
    """Turn stored pixels (HxW or HxWxC) upright according to an EXIF Orientation value (1-8)."""
    ops = {
        2: lambda p: p[:, ::-1],  # mirrored left-right
        3: lambda p: p[::-1, ::-1],  # upside down
        4: lambda p: p[::-1],  # mirrored top-bottom
        5: lambda p: p.swapaxes(0, 1),  # transposed
        6: lambda p: np.rot90(p, -1),  # needs 90 degrees clockwise
        7: lambda p: p[::-1, ::-1].swapaxes(0, 1),  # transversed
        8: lambda p: np.rot90(p, 1),  # needs 90 degrees counter-clockwise
    }
    op = ops.get(orientation or 1)
    return pixels if op is None else np.ascontiguousarray(op(pixels))


def flatten(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Composite onto white (JPEG thumbnails and hashes have no alpha)."""
    if alpha is None:
        return rgb
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    return np.rint(rgb * a + 255.0 * (1.0 - a)).astype(np.uint8)


def encode_jpeg(rgb: np.ndarray, quality: int = THUMB_JPEG_QUALITY) -> bytes:
    """Baseline JPEG of the pixels alone: no EXIF, ICC, XMP or comment (only the JFIF header)."""
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()
