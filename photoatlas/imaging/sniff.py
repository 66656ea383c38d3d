"""What a file is, from its first bytes (magic numbers), never from its name.

``sniff_format`` names raster image formats only; ``describe_non_image`` names the usual
things that arrive instead of photos (documents, web pages, archives, videos) so that a
quarantine reason can say what the file was.
"""

_ISOBMFF_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_ISOBMFF_AVIF_BRANDS = {b"avif", b"avis"}
_BMP_HEADER_SIZES = (12, 16, 40, 52, 56, 64, 108, 124)  # the DIB header versions
_ISOBMFF_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"avc1", b"dash"}


def _isobmff_brands(data: bytes) -> set[bytes]:
    """Major and compatible brands of an ISO base-media file ('ftyp' box first), else empty."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return set()
    box_size = int.from_bytes(data[0:4], "big")
    end = min(len(data), box_size if box_size >= 16 else 16, 4096)
    brands = {data[8:12]}
    brands.update(data[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def sniff_format(data: bytes) -> str | None:
    """The raster image format of ``data`` from its magic bytes, or None if it is not one we know.

    Names follow Pillow's where Pillow has the format: JPEG, PNG, GIF, WEBP, TIFF, BMP, AVIF,
    HEIF, JXL, JPEG2000, ICO, PSD, QOI.
    """
    head = bytes(data[:64])
    if head[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "BMP"
    brands = _isobmff_brands(data)
    if brands & _ISOBMFF_AVIF_BRANDS:
        return "AVIF"
    if brands & _ISOBMFF_HEIF_BRANDS:
        return "HEIF"
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "JXL"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xff\x4f\xff\x51":
        return "JPEG2000"
    if head[:4] == b"\x00\x00\x01\x00" and len(head) >= 6 and head[4:6] != b"\x00\x00":
        return "ICO"
    if head[:4] == b"8BPS":
        return "PSD"
    if head[:4] == b"qoif":
        return "QOI"
    return None


def describe_non_image(data: bytes) -> str:
    """A short human description of a file that is not a raster image ('PDF document', 'text', ...)."""
    head = bytes(data[:1024])
    lower = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head[:5] == b"%PDF-":
        return "PDF document"
    if lower.startswith((b"<!doctype html", b"<html")) or b"<html" in lower[:512]:
        return "HTML page"
    if b"<svg" in lower:
        return "SVG vector drawing (not rasterised)"
    if lower.startswith(b"<?xml"):
        return "XML document"
    if head[:4] == b"PK\x03\x04":
        return "ZIP archive (or an Office document)"
    if head[:3] == b"\x1f\x8b\x08":
        return "gzip archive"
    if _isobmff_brands(data) & _ISOBMFF_VIDEO_BRANDS or head[4:8] in (b"moov", b"mdat"):
        return "MP4/QuickTime video"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska/WebM video"
    if head[:4] == b"RIFF":
        return f"RIFF container ({head[8:12].decode('latin-1')!r})"
    if lower.startswith((b"{", b"[")):
        return "JSON or other text"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a multi-byte character cut at the edge
            return f"unknown binary data (starts {head[:8].hex()})"
    return "text"
