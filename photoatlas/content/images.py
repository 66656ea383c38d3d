"""Decoded RGB pixels for the content models, from an array or from encoded bytes."""

import io

import numpy as np
from PIL import Image, ImageOps

MIN_MODEL_EDGE_PX = 256  # the embedder's centre crop is 224 of 256; detectors resize anyway
MAX_PIXELS = 100_000_000  # refuse decompression bombs before decoding


def decode_rgb(data: bytes, min_edge_px: int = MIN_MODEL_EDGE_PX) -> np.ndarray:
    """RGB uint8 (H, W, 3), EXIF orientation applied, JPEG decoded at the smallest DCT scale
    whose shorter edge is still >= ``min_edge_px``."""
    with Image.open(io.BytesIO(data)) as im:
        if im.width * im.height > MAX_PIXELS:
            raise ValueError(f"image of {im.width}x{im.height} px exceeds {MAX_PIXELS} pixels")
        if im.format == "JPEG" and min(im.size) > min_edge_px:
            scale = min(im.size) / min_edge_px
            im.draft("RGB", (int(im.width / scale) + 1, int(im.height / scale) + 1))
        im = ImageOps.exif_transpose(im)
        return np.asarray(im.convert("RGB"))


def as_rgb(image: "np.ndarray | bytes") -> np.ndarray:
    """Accept encoded bytes, an RGB/RGBA uint8 array or a greyscale one; return RGB uint8."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return decode_rgb(bytes(image))
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise TypeError(f"expected uint8 pixels, got {arr.dtype}")
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim == 3 and arr.shape[2] == 4:
        return arr[:, :, :3]
    if arr.ndim == 3 and arr.shape[2] == 3:
        return arr
    raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {arr.shape}")


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma, as Pillow's 'L' and as ``photoatlas.imaging.hashes`` expects."""
    return np.asarray(Image.fromarray(rgb).convert("L"))
