"""Typed, validated EXIF: camera, capture time, exposure, GPS and orientation.

Broken EXIF never stops a photo: every field that cannot be read or fails validation is
None, and ``Exif.error`` says what was wrong ("; "-joined). Blank values that cameras
write on purpose (an unset clock, "0000:00:00 00:00:00") are missing, not errors.
"""

import math
import re
import warnings
from dataclasses import dataclass
from datetime import datetime

from PIL import ExifTags, Image

T = ExifTags.Base
G = ExifTags.GPS
MIN_YEAR, MAX_YEAR = 1826, 2100  # the first surviving photograph .. a sane horizon
MAX_EXPOSURE_S = 86_400.0
MAX_F_NUMBER = 1_000.0
MAX_ISO = 10_000_000
MAX_FOCAL_MM = 10_000.0
GPS_ALT_RANGE_M = (-12_000.0, 100_000.0)  # deepest trench .. edge of space
_TIFF_HEADERS = (b"II*\x00", b"MM\x00*")
_DATE_RE = re.compile(
    r"^(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_DATE_OFFSET_TAGS = (
    (T.DateTimeOriginal, T.OffsetTimeOriginal),
    (T.DateTimeDigitized, T.OffsetTimeDigitized),
    (T.DateTime, T.OffsetTime),
)


@dataclass(frozen=True)
class Exif:
    """EXIF fields a photo record keeps; all None when the photo has no EXIF."""

    make: str | None = None
    model: str | None = None
    lens: str | None = None
    body_serial: str | None = None
    lens_serial: str | None = None
    captured_at: str | None = None  # local wall-clock time, 'YYYY-MM-DDTHH:MM:SS'
    offset: str | None = None  # '+02:00' when the camera recorded its UTC offset
    exposure_s: float | None = None
    f_number: float | None = None
    iso: int | None = None
    focal_mm: float | None = None
    gps_lat: float | None = None  # decimal degrees, north positive
    gps_lon: float | None = None  # decimal degrees, east positive
    gps_alt_m: float | None = None  # metres above sea level
    orientation: int | None = None  # 1-8, as the EXIF Orientation tag
    raw: bytes | None = None  # the EXIF blob exactly as found in the file
    error: str | None = None


class _Reader:
    """Looks tags up in IFD0, the Exif IFD and the GPS IFD, collecting problems as it goes."""

    def __init__(self, exif: Image.Exif, problems: list[str]):
        self.problems = problems
        self.ifd0 = exif
        self.sub = self._ifd(exif, ExifTags.IFD.Exif)
        self.gps = self._ifd(exif, ExifTags.IFD.GPSInfo)

    def _ifd(self, exif: Image.Exif, tag: int) -> dict:
        try:
            return dict(exif.get_ifd(tag))
        except Exception as exc:  # a broken sub-IFD pointer must not lose IFD0
            self.problems.append(f"{ExifTags.IFD(tag).name} IFD unreadable: {exc}")
            return {}

    def get(self, tag: int):
        value = self.sub.get(tag)
        return self.ifd0.get(tag) if value is None else value

    def text(self, tag: int) -> str | None:
        value = self.get(tag)
        if value is None:
            return None
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if not isinstance(value, str):
            self.problems.append(f"{T(tag).name} is not text: {value!r:.40}")
            return None
        value = value.replace("\x00", "").strip()
        return value or None

    def number(self, value, name: str, low: float, high: float, *, low_open: bool = True) -> float | None:
        if value is None:
            return None
        if isinstance(value, tuple) and len(value) >= 1:
            value = value[0]
        try:
            number = float(value)
        except (TypeError, ValueError, ZeroDivisionError):
            self.problems.append(f"{name} is not a number: {value!r:.40}")
            return None
        if not math.isfinite(number) or number > high or number < low or (low_open and number == low):
            self.problems.append(f"{name} out of range: {number:g}")
            return None
        return number


def _parse_offset(text: str | None) -> str | None:
    """'+02:00' from '+02:00', '+0200' or 'Z'; None for blank; ValueError when malformed."""
    if text is None or not text.strip(" :\x00"):
        return None
    text = text.strip()
    if text == "Z":
        return "+00:00"
    m = _OFFSET_RE.match(text)
    if not m or int(m[2]) > 14 or int(m[3]) >= 60:
        raise ValueError(f"bad UTC offset {text!r}")
    return f"{m[1]}{m[2]}:{m[3]}"


def parse_datetime(text: str | None) -> tuple[str | None, str | None]:
    """EXIF date text -> ('YYYY-MM-DDTHH:MM:SS', embedded offset or None); (None, None) when
    blank; ValueError when present but not a real date and time."""
    text = (text or "").replace("\x00", "").strip()
    if not text.strip(" :-0T"):
        return None, None
    m = _DATE_RE.match(text)
    if not m:
        raise ValueError(f"bad date {text!r}")
    year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
    second = int(m[6] or 0)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"implausible year in {text!r}")
    stamp = datetime(year, month, day, hour, minute, second)  # raises ValueError when impossible
    return stamp.isoformat(timespec="seconds"), _parse_offset(m[7])


def _capture_time(r: _Reader) -> tuple[str | None, str | None]:
    for date_tag, offset_tag in _DATE_OFFSET_TAGS:
        try:
            stamp, embedded = parse_datetime(r.text(date_tag))
        except ValueError as exc:
            r.problems.append(f"{T(date_tag).name}: {exc}")
            continue
        if stamp is None:
            continue
        try:
            offset = _parse_offset(r.text(offset_tag)) or embedded
        except ValueError as exc:
            r.problems.append(f"{T(offset_tag).name}: {exc}")
            offset = embedded
        return stamp, offset
    return None, None


def _gps_coordinate(r: _Reader, value_tag: int, ref_tag: int, refs: str, limit: float) -> float | None:
    value, ref = r.gps.get(value_tag), r.gps.get(ref_tag)
    name = G(value_tag).name
    if value is None:
        return None
    parts = value if isinstance(value, tuple) else (value,)
    nums = [r.number(p, name, 0.0, limit, low_open=False) for p in parts[:3]]
    if not parts or any(n is None for n in nums):
        return None
    if any(n >= 60 for n in nums[1:]):
        r.problems.append(f"{name} minutes/seconds out of range: {nums}")
        return None
    degrees = sum(n / 60**i for i, n in enumerate(nums))
    if isinstance(ref, bytes):
        ref = ref.decode("latin-1")
    ref = ref.replace("\x00", "").strip().upper() if isinstance(ref, str) else ""
    if len(ref) != 1 or ref not in refs:
        r.problems.append(f"{G(ref_tag).name} missing or invalid: {ref!r}")
        return None
    if degrees > limit:
        r.problems.append(f"{name} out of range: {degrees:g}")
        return None
    return -degrees if ref == refs[1] else degrees


def _gps(r: _Reader) -> tuple[float | None, float | None, float | None]:
    lat = _gps_coordinate(r, G.GPSLatitude, G.GPSLatitudeRef, "NS", 90.0)
    lon = _gps_coordinate(r, G.GPSLongitude, G.GPSLongitudeRef, "EW", 180.0)
    if lat is None or lon is None or (lat == 0.0 and lon == 0.0):  # (0, 0) is an unset receiver
        return None, None, None
    alt = r.number(r.gps.get(G.GPSAltitude), "GPSAltitude", 0.0, GPS_ALT_RANGE_M[1], low_open=False)
    below = r.gps.get(G.GPSAltitudeRef)
    if isinstance(below, bytes):
        below = below[:1] == b"\x01"
    if alt is not None and below:
        alt = -alt if -alt >= GPS_ALT_RANGE_M[0] else None
    return lat, lon, alt


def _orientation(r: _Reader) -> int | None:
    value = r.ifd0.get(T.Orientation)
    if value is None:
        return None
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    r.problems.append(f"Orientation invalid: {value!r:.20}")
    return None


def read_exif(image: Image.Image) -> Exif:
    """Typed EXIF of an opened (and, for PNG, loaded) Pillow image."""
    raw = image.info.get("exif")
    raw = bytes(raw) if raw else None
    problems: list[str] = []
    tiff = raw[6:] if raw and raw.startswith(b"Exif\x00\x00") else raw
    if tiff is not None and tiff[:4] not in _TIFF_HEADERS:
        return Exif(raw=raw, error=f"EXIF blob has no TIFF header (starts {tiff[:8].hex()})")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if raw is None:  # TIFF: the tags live in the image's own IFD
                parsed = image.getexif()
            else:  # parse afresh: Pillow may have parsed (and warned) already while opening
                parsed = Image.Exif()
                parsed.load(raw)
            r = _Reader(parsed, problems)
        except Exception as exc:
            return Exif(raw=raw, error=f"EXIF unreadable: {type(exc).__name__}: {exc}")
        if raw is None and not r.ifd0:
            return Exif()
        values = dict(
            make=r.text(T.Make),
            model=r.text(T.Model),
            lens=r.text(T.LensModel),
            body_serial=r.text(T.BodySerialNumber),
            lens_serial=r.text(T.LensSerialNumber),
            exposure_s=r.number(r.get(T.ExposureTime), "ExposureTime", 0.0, MAX_EXPOSURE_S),
            f_number=r.number(r.get(T.FNumber), "FNumber", 0.0, MAX_F_NUMBER),
            focal_mm=r.number(r.get(T.FocalLength), "FocalLength", 0.0, MAX_FOCAL_MM),
            orientation=_orientation(r),
        )
        iso = r.number(r.get(T.ISOSpeedRatings), "ISOSpeedRatings", 0.0, MAX_ISO)
        values["iso"] = None if iso is None else int(round(iso))
        values["captured_at"], values["offset"] = _capture_time(r)
        values["gps_lat"], values["gps_lon"], values["gps_alt_m"] = _gps(r)
    problems.extend(f"{w.message}".strip() for w in caught)
    if raw is not None and not r.ifd0 and not problems:
        problems.append("EXIF blob holds no readable tags")
    return Exif(**values, raw=raw, error="; ".join(problems) or None)


