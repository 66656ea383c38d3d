"""Test images for the imaging tests: real photos shipped in packages, and files built from
them with Pillow (every format, every EXIF orientation, camera EXIF, broken inputs)."""

import io
import os
import struct
import zlib
from fractions import Fraction
from functools import lru_cache

import numpy as np
from PIL import Image, TiffImagePlugin

SKIMAGE_DATA = os.path.dirname(__import__("skimage.data").data.__file__)
HUBBLE_JPEG = os.path.join(SKIMAGE_DATA, "hubble_deep_field.jpg")  # has EXIF, XMP and an sRGB profile
ROCKET_JPEG = os.path.join(SKIMAGE_DATA, "rocket.jpg")  # has an Adobe RGB (1998) profile


@lru_cache(maxsize=None)
def photo(name: str) -> np.ndarray:
    """A real RGB photo: astronaut, chelsea, coffee, rocket (scikit-image) or china, flower (scikit-learn)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    import skimage.data

    return getattr(skimage.data, name)()


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def encode(pixels, fmt: str = "JPEG", **params) -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def upscaled(name: str, width: int, noise_sigma: float = 3.0, seed: int = 0) -> np.ndarray:
    """A real photo scaled to ``width`` px with mild grain, so it compresses like a camera file."""
    import cv2

    src = photo(name)
    height = round(src.shape[0] * width / src.shape[1])
    big = cv2.resize(src, (width, height), interpolation=cv2.INTER_CUBIC)
    if not noise_sigma:
        return big
    noisy = big + np.random.default_rng(seed).standard_normal(big.shape, dtype=np.float32) * noise_sigma
    return np.clip(noisy, 0, 255).astype(np.uint8)


def camera_exif(overrides: dict | None = None) -> Image.Exif:
    """EXIF as a camera writes it: IFD0, Exif IFD, GPS IFD with refs (Sydney Opera House).

    ``overrides`` maps (ifd, tag) -> value (ifd 0 for IFD0; None deletes the tag)."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS 5D Mark IV"  # Model
    exif[0x0112] = 1  # Orientation
    exif[0x0132] = "2021:07:05 09:00:00"  # DateTime (last modified)
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2021:07:04 18:30:15"  # DateTimeOriginal
    sub[0x9004] = "2021:07:04 18:30:16"  # DateTimeDigitized
    sub[0x9011] = "+10:00"  # OffsetTimeOriginal
    sub[0x829A] = TiffImagePlugin.IFDRational(1, 250)  # ExposureTime
    sub[0x829D] = TiffImagePlugin.IFDRational(28, 10)  # FNumber
    sub[0x8827] = 400  # ISOSpeedRatings
    sub[0x920A] = TiffImagePlugin.IFDRational(50, 1)  # FocalLength
    sub[0xA434] = "EF50mm f/1.8 STM"  # LensModel
    sub[0xA431] = "012345678901"  # BodySerialNumber
    sub[0xA435] = "0000c1234"  # LensSerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1] = "S"
    gps[2] = (TiffImagePlugin.IFDRational(33), TiffImagePlugin.IFDRational(51), TiffImagePlugin.IFDRational(3564, 100))
    gps[3] = "E"
    gps[4] = (TiffImagePlugin.IFDRational(151), TiffImagePlugin.IFDRational(12), TiffImagePlugin.IFDRational(3096, 100))
    gps[5] = b"\x00"
    gps[6] = TiffImagePlugin.IFDRational(117, 2)
    for (ifd, tag), value in (overrides or {}).items():
        target = exif if ifd == 0 else exif.get_ifd(ifd)
        if value is None:
            target.pop(tag, None)
        else:
            target[tag] = value
    return exif


def expected_sydney() -> tuple[float, float]:
    lat = -(33 + 51 / 60 + float(Fraction(3564, 100)) / 3600)
    lon = 151 + 12 / 60 + float(Fraction(3096, 100)) / 3600
    return lat, lon


def with_app1(jpeg: bytes, payload: bytes) -> bytes:
    """``jpeg`` with an extra APP1 segment (e.g. a broken EXIF blob) right after SOI."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def quadrants(width: int, height: int) -> np.ndarray:
    """Upright test card: top-left red, top-right green, bottom-left blue, bottom-right white."""
    card = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    card[:h2, :w2] = (255, 0, 0)
    card[:h2, w2:] = (0, 255, 0)
    card[h2:, :w2] = (0, 0, 255)
    card[h2:, w2:] = (255, 255, 255)
    return card


# How to store an upright picture so that a viewer honouring the Orientation tag shows it upright.
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # stored turned left; the viewer turns it right
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def oriented_jpeg(upright: np.ndarray, orientation: int) -> bytes:
    image = Image.fromarray(upright)
    method = STORE_FOR_ORIENTATION[orientation]
    stored = image if method is None else image.transpose(method)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif, subsampling=0)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels and holds almost nothing (a bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_markers(jpeg: bytes) -> list[tuple[int, bytes]]:
    """(marker, first bytes of payload) for every segment before the image data."""
    assert jpeg[:2] == b"\xff\xd8", "not a JPEG"
    out, i = [], 2
    while i < len(jpeg):
        assert jpeg[i] == 0xFF, f"lost sync at {i}"
        marker = jpeg[i + 1]
        length = struct.unpack(">H", jpeg[i + 2 : i + 4])[0]
        out.append((marker, jpeg[i + 4 : i + 4 + min(length - 2, 16)]))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        i += 2 + length
    return out
