"""Every kind of input is enriched correctly or rejected with a specific reason, never a crash:
bad bytes, formats and modes, orientation, size limits, the decode scale and the thumbnail."""

import io
import warnings

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from photoatlas.color import srgb8_to_lab
from photoatlas.imaging import decode as decode_module
from photoatlas.imaging.analyse import THUMB_EDGE_PX, Rejected, analyse, sniff_format
from photoatlas.imaging.palette import HIST_LABELS, palette_delta_e
from tests.unit.imaging_corpus import (
    HUBBLE_JPEG,
    ROCKET_JPEG,
    camera_exif,
    encode,
    jpeg_markers,
    oriented_jpeg,
    photo,
    png_header_only,
    quadrants,
    read,
    upscaled,
)


def rejected(data: bytes) -> Rejected:
    with pytest.raises(Rejected) as info:
        analyse(data)
    return info.value


def hist(result) -> dict[str, float]:
    return {label: float(v) for label, v in zip(HIST_LABELS, result.color_hist) if v > 0}


# --- bytes that are not (whole) photos ------------------------------------------------------


@pytest.mark.parametrize(
    "data, reason, detail",
    [
        (b"", "empty_file", "0 bytes"),
        (b"just some notes\nabout a trip\n", "not_an_image", "text"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "not_an_image", "HTML"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_an_image", "PDF"),
        (b"PK\x03\x04\x14\x00\x00\x00", "not_an_image", "ZIP"),
        (bytes(range(1, 256)) * 2, "not_an_image", "unknown binary data"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "unsupported_format", "HEIF"),
        (b"\x00\x00\x00\x0cJXL \r\n\x87\n" + b"\x00" * 20, "unsupported_format", "JXL"),
    ],
    ids=["empty", "text", "html", "pdf", "zip", "binary", "heic", "jxl"],
)
def test_not_a_photo(data, reason, detail):
    err = rejected(data)
    assert err.reason == reason and detail in err.detail


def test_truncated_jpeg_is_rejected_even_when_only_eoi_is_missing():
    jpeg = encode(photo("coffee"), "JPEG", quality=90)
    for cut in (len(jpeg) // 2, len(jpeg) - 2):
        assert rejected(jpeg[:cut]).reason == "truncated"


def test_truncated_progressive_jpeg_is_rejected():
    jpeg = encode(photo("coffee"), "JPEG", progressive=True)
    assert rejected(jpeg[: len(jpeg) * 3 // 4]).reason == "truncated"


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "TIFF", "BMP", "WEBP"])
def test_truncated_other_formats(fmt):
    pixels = photo("coffee") if fmt != "GIF" else Image.fromarray(photo("coffee")).convert("P")
    data = encode(pixels, fmt)
    assert rejected(data[: len(data) // 2]).reason == "truncated"


def test_complete_pixels_missing_only_the_trailer_are_enriched():
    png = encode(photo("coffee"), "PNG")
    assert analyse(png[:-12]).format == "PNG"  # no IEND chunk
    gif = encode(Image.fromarray(photo("coffee")).convert("P"), "GIF")
    assert analyse(gif[:-1]).format == "GIF"  # no ';' trailer


def test_corrupt_headers_and_streams():
    jpeg = bytearray(encode(photo("coffee"), "JPEG"))
    sof = jpeg.index(b"\xff\xc0")
    no_size = bytes(jpeg[: sof + 5] + b"\x00\x00\x00\x00" + jpeg[sof + 9 :])
    dht = jpeg.index(b"\xff\xc4")
    bad_tables = bytes(jpeg[: dht + 5] + b"\xff" * 20 + jpeg[dht + 25 :])
    png = bytearray(encode(photo("coffee"), "PNG"))
    png[29] ^= 0xFF  # IHDR checksum
    for data in (no_size, bad_tables, bytes(png), b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 4):
        err = rejected(data)
        assert err.reason in ("corrupt", "truncated") and err.detail


def test_any_decoder_exception_becomes_corrupt(monkeypatch):
    def explode(self):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", explode)
    err = rejected(encode(photo("coffee"), "PNG"))
    assert (err.reason, err.detail) == ("corrupt", "RuntimeError: decoder exploded")


def test_bug_after_decoding_is_internal_error_not_a_crash(monkeypatch):
    import photoatlas.imaging.analyse as analyse_module

    monkeypatch.setattr(analyse_module, "palette_and_hist", lambda *a, **k: 1 / 0)
    err = rejected(encode(photo("coffee"), "PNG"))
    assert err.reason == "internal_error" and "ZeroDivisionError" in err.detail


# --- size limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("width, height", [(11_000, 11_000), (40_000, 40_000)])  # ours, and above Pillow's own error
def test_decompression_bomb_is_refused_before_any_pixel_is_allocated(width, height):
    bomb = png_header_only(width, height)
    assert len(bomb) < 200
    err = rejected(bomb)
    assert err.reason == "decompression_bomb"


def test_pillows_bomb_warning_never_escapes(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert analyse(encode(np.full((40, 40, 3), 90, np.uint8), "PNG")).width == 40  # Pillow warns at 1,000 px
        bigger = encode(np.full((50, 50, 3), 90, np.uint8), "PNG")
        assert rejected(bigger).reason == "decompression_bomb"  # Pillow errors at twice its limit


def test_our_pixel_limit_and_byte_limit(monkeypatch):
    monkeypatch.setattr(decode_module, "MAX_PIXELS", 100 * 100)
    assert rejected(encode(photo("coffee"), "JPEG")).reason == "decompression_bomb"
    monkeypatch.setattr(decode_module, "MAX_BYTES", 1_000)
    assert rejected(encode(photo("coffee"), "JPEG")).reason == "too_large"


def test_very_large_jpeg_decodes_at_one_eighth():
    result = analyse(encode(upscaled("astronaut", 6000, noise_sigma=0), "JPEG", quality=80))
    assert (result.width, result.height, result.decode_scale) == (6000, 6000, 8)
    assert Image.open(io.BytesIO(result.thumbnail_jpeg)).size == (THUMB_EDGE_PX, THUMB_EDGE_PX)


# --- decode once, at the smallest sufficient DCT scale ---------------------------------------


@pytest.mark.parametrize(
    "width, scale", [(4000, 8), (2048, 8), (2047, 4), (1024, 4), (1023, 2), (600, 2), (511, 1), (300, 1)]
)
def test_dct_scale_is_the_smallest_covering_the_thumbnail(width, scale):
    result = analyse(encode(np.full((width * 3 // 4, width, 3), 128, np.uint8), "JPEG"))
    assert result.decode_scale == scale
    assert max(Image.open(io.BytesIO(result.thumbnail_jpeg)).size) == min(width, THUMB_EDGE_PX)


def test_each_photo_is_decoded_once(monkeypatch):
    data = encode(upscaled("chelsea", 2100, noise_sigma=0), "JPEG", exif=camera_exif())
    calls = []
    real = Image._getdecoder
    monkeypatch.setattr(Image, "_getdecoder", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    analyse(data)
    # 'raw' decoders only wrap arrays of ours (Image.fromarray for the thumbnail), never the file.
    assert [codec for codec in calls if codec != "raw"] == ["jpeg"]


# --- orientation ------------------------------------------------------------------------------

CORNERS = {
    "top_left": (255, 0, 0),
    "top_right": (0, 255, 0),
    "bottom_left": (0, 0, 255),
    "bottom_right": (255, 255, 255),
}


def corners(rgb: np.ndarray) -> dict[str, tuple[int, ...]]:
    h, w = rgb.shape[:2]
    y0, y1, x0, x1 = h // 8, h - 1 - h // 8, w // 8, w - 1 - w // 8
    return {
        "top_left": tuple(rgb[y0, x0]),
        "top_right": tuple(rgb[y0, x1]),
        "bottom_left": tuple(rgb[y1, x0]),
        "bottom_right": tuple(rgb[y1, x1]),
    }


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("width, height", [(200, 100), (3200, 1600)], ids=["small", "dct-scaled"])
def test_every_exif_orientation(orientation, width, height):
    data = oriented_jpeg(quadrants(width, height), orientation)
    result = analyse(data)
    assert (result.width, result.height) == (width, height)
    assert result.exif.orientation == orientation
    thumb = np.asarray(Image.open(io.BytesIO(result.thumbnail_jpeg)).convert("RGB"))
    assert thumb.shape[1] > thumb.shape[0]  # upright: wide like the card
    for corner, colour in corners(thumb).items():
        assert np.abs(np.int16(colour) - CORNERS[corner]).max() < 40, (corner, colour)
    # Pillow's own exif_transpose agrees on the same file.
    reference = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    assert reference.shape[:2] == (height, width)
    assert all(np.abs(np.int16(c) - CORNERS[k]).max() < 40 for k, c in corners(reference).items())


# --- formats and modes ----------------------------------------------------------------------


def test_cmyk_jpeg():
    rgb_result = analyse(encode(photo("chelsea"), "JPEG", quality=95))
    result = analyse(encode(Image.fromarray(photo("chelsea")).convert("CMYK"), "JPEG", quality=95))
    assert (result.format, result.mode) == ("JPEG", "CMYK")
    assert "cmyk_naive_conversion" in result.warnings
    assert palette_delta_e(result.palette, rgb_result.palette) < 3.0


def test_16bit_grey_png_is_scaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 512).astype(np.uint16), (64, 1))
    result = analyse(encode(Image.fromarray(ramp), "PNG"))
    assert result.mode == "I;16"
    shares = hist(result)
    # A full-range ramp spreads over the four neutral bins; clipping at 255 would make it ~all white.
    assert set(shares) == {"black", "dark_grey", "light_grey", "white"}
    assert shares["white"] < 0.35
    thumb = np.asarray(Image.open(io.BytesIO(result.thumbnail_jpeg)).convert("L"))
    assert abs(int(thumb[:, thumb.shape[1] // 2].mean()) - 128) < 8


def test_16bit_big_endian_tiff_is_scaled():
    import tifffile

    buf = io.BytesIO()
    tifffile.imwrite(buf, np.full((64, 64), 0x8000, dtype=">u2"))
    result = analyse(buf.getvalue())
    assert (result.format, result.mode) == ("TIFF", "I;16B")
    assert hist(result) == {"light_grey": pytest.approx(1.0)}  # 50 % grey: L* 53.6
    assert result.palette[0].l == pytest.approx(srgb8_to_lab(np.array([128, 128, 128], np.uint8))[0], abs=0.5)


def test_16bit_rgb_png_keeps_colour():
    import cv2

    orange16 = np.zeros((32, 32, 3), np.uint16)
    orange16[:] = (65535, 32896, 0)  # RGB (255, 128, 0) in 16 bits
    ok, png = cv2.imencode(".png", orange16[:, :, ::-1])
    result = analyse(png.tobytes())
    assert result.palette[0].hex == "#ff8000"


def test_palette_png_transparent_pixels_do_not_count():
    card = Image.new("P", (64, 64), 0)
    card.putpalette([0, 255, 0, 200, 30, 30])  # index 0: green (transparent), 1: red
    card.paste(1, (0, 0, 16, 64))  # a quarter of the picture is red
    data = encode(card, "PNG", transparency=0)
    result = analyse(data)
    assert result.mode == "P"
    assert [c.hex for c in result.palette] == ["#c81e1e"]
    assert result.palette[0].share == 1.0
    assert not any(label.startswith(("green", "lime")) for label in hist(result))


def test_rgba_png_alpha_weighs_the_palette():
    rgba = np.zeros((60, 60, 4), np.uint8)
    rgba[:, :30] = (0, 0, 255, 255)  # opaque blue half
    rgba[:, 30:] = (255, 255, 0, 0)  # invisible yellow half
    result = analyse(encode(rgba, "PNG"))
    assert [c.hex for c in result.palette] == ["#0000ff"]
    thumb = np.asarray(Image.open(io.BytesIO(result.thumbnail_jpeg)).convert("RGB"))
    assert thumb[30, 50].min() > 240  # transparent shows as white, not yellow or black


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animation_first_frame_and_frame_count(fmt):
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "blue", "green", "yellow")]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = analyse(data)
    assert (result.format, result.frames) == (fmt, 4)
    assert len(result.palette) == 1 and result.palette[0].hex in ("#ff0000", "#ff0100", "#fe0000")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "AVIF"])
def test_every_supported_format(fmt):
    pixels = Image.fromarray(photo("chelsea")).resize((90, 60))
    data = encode(pixels if fmt != "GIF" else pixels.convert("P"), fmt)
    assert sniff_format(data) == fmt
    result = analyse(data)
    assert (result.format, result.width, result.height, result.frames) == (fmt, 90, 60, 1)
    assert sum(c.share for c in result.palette) == pytest.approx(1.0, abs=1e-9)


def test_embedded_profiles_are_converted_to_srgb():
    managed = analyse(read(ROCKET_JPEG))  # Adobe RGB (1998): converted, so more saturated in sRGB
    raw = Image.open(ROCKET_JPEG)
    unmanaged = analyse(encode(raw, "JPEG", quality=95))
    assert managed.warnings == ()
    assert max(np.hypot(c.a, c.b) for c in managed.palette) > max(np.hypot(c.a, c.b) for c in unmanaged.palette) + 3
    # An sRGB profile changes nothing: the transform is skipped.
    hubble = Image.open(HUBBLE_JPEG)
    small = hubble.resize((250, 218))
    with_srgb = analyse(encode(small, "PNG", icc_profile=hubble.info["icc_profile"]))
    without = analyse(encode(small, "PNG"))
    assert with_srgb.palette == without.palette


# --- the thumbnail ----------------------------------------------------------------------------


def test_thumbnail_carries_no_metadata_at_all():
    source = Image.open(HUBBLE_JPEG)  # EXIF, XMP, Adobe and an ICC profile
    icc = source.info["icc_profile"]
    data = encode(source, "JPEG", exif=camera_exif(), icc_profile=icc, comment=b"secret", xmp=b"<x:xmpmeta/>")
    assert {m for m, _ in jpeg_markers(data)} >= {0xE1, 0xE2, 0xFE}  # the source has EXIF/XMP, ICC, comment
    thumb = analyse(data).thumbnail_jpeg
    markers = jpeg_markers(thumb)
    app_and_comments = [(m, head) for m, head in markers if 0xE0 <= m <= 0xEF or m == 0xFE]
    assert app_and_comments == [(0xE0, markers[0][1])] and markers[0][1].startswith(b"JFIF\x00")
    opened = Image.open(io.BytesIO(thumb))
    assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(opened.info)
    assert len(opened.getexif()) == 0


def test_thumbnail_size_and_aspect():
    result = analyse(encode(upscaled("coffee", 1800, noise_sigma=0), "JPEG"))
    assert (result.width, result.height) == (1800, 1200)
    assert Image.open(io.BytesIO(result.thumbnail_jpeg)).size == (256, 171)
    small = analyse(encode(photo("coffee")[:100, :150], "PNG"))
    assert Image.open(io.BytesIO(small.thumbnail_jpeg)).size == (150, 100)  # never upscaled


# --- sniffing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head, fmt",
    [
        (b"\xff\xd8\xff\xdb", "JPEG"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"GIF87a", "GIF"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WEBP"),
        (b"MM\x00*\x00\x00\x00\x08", "TIFF"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "HEIF"),
        (b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2mp41", None),
        (b"%PDF-1.4", None),
        (b"BM", None),
        (b"", None),
    ],
)
def test_sniff_format(head, fmt):
    assert sniff_format(head + b"\x00" * 64 if head else head) == fmt
