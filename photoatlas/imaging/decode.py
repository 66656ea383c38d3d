"""Decode a photo once, as small as its largest consumer allows, or say why it cannot be.

JPEGs are decoded with libjpeg's DCT scaling (Pillow ``draft``) at the smallest of 1/1,
1/2, 1/4, 1/8 whose result still covers ``min_edge`` pixels on the long side; other
formats decode at full size. Every failure becomes ``Rejected`` with a stable reason code:

=====================  ==========================================================
``empty_file``          zero bytes
``too_large``           more than ``MAX_BYTES`` of input, or out of memory decoding
``not_an_image``        magic bytes of no raster format (text, HTML, PDF, video...)
``unsupported_format``  a raster format (HEIF, JXL...) or pixel mode we recognise but do not decode
``decompression_bomb``  declares more than ``MAX_PIXELS`` pixels
``truncated``           the decoder ran out of data (any truncation, see below)
``corrupt``             anything else the decoder refused, with its message
=====================  ==========================================================

Truncation policy: a file whose pixel data is incomplete is rejected, never enriched from
the grey fill a lenient decoder would invent (the palette, hashes and thumbnail would be
wrong and look right). libjpeg needs the 2-byte EOI marker too, so a JPEG cut anywhere is
``truncated``; a PNG or GIF missing only its trailer (IEND, ';') holds every pixel and is
enriched. This relies on Pillow's default ``ImageFile.LOAD_TRUNCATED_IMAGES = False``.

Decoder warnings are recorded with ``warnings.catch_warnings``, which is process-global
before Python 3.14: call ``decode`` from one thread per process (Spark's Python workers
are processes), or expect another thread's warnings to be swallowed meanwhile.
"""

import io
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from photoatlas.imaging.exif import Exif, read_exif
from photoatlas.imaging.pixels import to_srgb8
from photoatlas.imaging.sniff import describe_non_image, sniff_format

MAX_BYTES = 200 * 1024 * 1024
MAX_PIXELS = 120_000_000  # above any single-shot camera (102 Mpix medium format); Pillow warns at 89 M
SUPPORTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "AVIF")
_ANIMATED_FORMATS = {"GIF", "PNG", "WEBP", "TIFF", "AVIF"}
_RGB_MODES = {"RGB", "RGBA", "RGBX", "RGBa"}
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>")  # keeps details stable between runs


class Rejected(Exception):
    """The photo cannot be enriched; it is quarantined with ``reason`` (a stable code) and ``detail``."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Decoded:
    """The decoded photo: pixels in stored orientation at ``scale``, plus what the file says."""

    format: str
    mode: str  # Pillow's mode of the file as stored (RGB, L, CMYK, I;16, P, RGBA...)
    size: tuple[int, int]  # full-resolution (width, height) as stored, before orientation
    frames: int
    scale: int  # DCT scale denominator used (1 for formats that cannot scale)
    rgb: np.ndarray  # uint8, H x W x 3
    alpha: np.ndarray | None  # uint8, H x W; None when opaque
    icc: bytes | None  # profile not yet applied to ``rgb`` (RGB images only)
    exif: Exif
    warnings: list[str] = field(default_factory=list)


def _check_container(data: bytes, fmt: str) -> None:
    if fmt == "WEBP" and len(data) >= 8:
        declared = int.from_bytes(data[4:8], "little") + 8
        if declared > len(data):
            raise Rejected("truncated", f"RIFF header declares {declared} bytes, file has {len(data)}")


def _as_rejection(exc: Exception) -> Rejected:
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return Rejected("decompression_bomb", str(exc))
    if isinstance(exc, MemoryError):
        return Rejected("too_large", "out of memory while decoding")
    text = f"{type(exc).__name__}: {_OBJECT_REPR.sub('<data>', str(exc))}"
    lowered = str(exc).lower()
    if isinstance(exc, EOFError) or "truncated" in lowered or "premature end" in lowered:
        return Rejected("truncated", text)
    return Rejected("corrupt", text)


def _count_frames(image: Image.Image, fmt: str, warns: list[str]) -> int:
    if fmt not in _ANIMATED_FORMATS:
        return 1
    try:
        return max(1, int(getattr(image, "n_frames", 1)))
    except Exception as exc:  # a broken later frame does not spoil the first one
        warns.append(f"frames_uncounted: {type(exc).__name__}: {exc}")
        return 1


def decode(data: bytes, min_edge: int) -> Decoded:
    """Decode the first frame of ``data`` so its long edge is at least ``min_edge`` (or full size)."""
    if not data:
        raise Rejected("empty_file", "0 bytes")
    if len(data) > MAX_BYTES:
        raise Rejected("too_large", f"{len(data)} bytes > MAX_BYTES {MAX_BYTES}")
    fmt = sniff_format(data)
    if fmt is None:
        raise Rejected("not_an_image", describe_non_image(data))
    if fmt not in SUPPORTED_FORMATS:
        raise Rejected("unsupported_format", f"{fmt} (decoded formats: {', '.join(SUPPORTED_FORMATS)})")
    _check_container(data, fmt)
    warns: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            # Decoder warnings are kept with the photo, never raised (not even under -W error);
            # MAX_PIXELS below is the authority, so Pillow's own bomb warning is dropped.
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = image.size
            if width < 1 or height < 1:
                raise Rejected("corrupt", f"image declares {width}x{height} pixels")
            if width * height > MAX_PIXELS:
                detail = f"{width}x{height} = {width * height} pixels > MAX_PIXELS {MAX_PIXELS}"
                raise Rejected("decompression_bomb", detail)
            mode = image.mode
            scale = 1
            if fmt == "JPEG" and image.mode in ("RGB", "L", "CMYK"):
                long_edge = max(width, height)
                want = (max(1, width * min_edge // long_edge), max(1, height * min_edge // long_edge))
                image.draft(image.mode, want)
                scale = image.decoderconfig[0] if image.decoderconfig else 1
            image.load()
            exif = read_exif(image)
            try:
                rgb, alpha = to_srgb8(image, warns)
            except ValueError as exc:  # Pillow cannot convert this pixel mode to RGB
                raise Rejected("unsupported_format", f"pixel mode {image.mode}: {exc}") from exc
            icc = image.info.get("icc_profile") if image.mode in _RGB_MODES else None
            frames = _count_frames(image, fmt, warns)
        # (EXIF trouble Pillow warned about while opening is in exif.error already.)
        messages = (f"{w.message}".strip() for w in caught)
        warns.extend(f"decoder_warning: {m}" for m in messages if m not in (exif.error or ""))
    except Rejected:
        raise
    except Exception as exc:  # the boundary: whatever a decoder throws is a quarantine reason
        raise _as_rejection(exc) from exc
    if exif.error:
        warns.append("exif_broken")
    return Decoded(fmt, mode, (width, height), frames, scale, rgb, alpha, icc, exif, warns)
