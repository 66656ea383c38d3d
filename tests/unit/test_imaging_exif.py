"""EXIF: every typed field from a camera-like JPEG, and broken EXIF that must not stop a photo."""

import pytest
from PIL import TiffImagePlugin

from photoatlas.imaging.analyse import analyse
from photoatlas.imaging.exif import parse_datetime
from tests.unit.imaging_corpus import (
    HUBBLE_JPEG,
    camera_exif,
    encode,
    expected_sydney,
    photo,
    read,
    with_app1,
)

EXIF_IFD, GPS_IFD = 0x8769, 0x8825


def exif_of(overrides):
    return analyse(encode(photo("chelsea"), "JPEG", exif=camera_exif(overrides))).exif


def test_camera_jpeg_every_typed_field():
    result = analyse(encode(photo("chelsea"), "JPEG", exif=camera_exif()))
    exif = result.exif
    lat, lon = expected_sydney()
    assert exif.make == "Canon"
    assert exif.model == "Canon EOS 5D Mark IV"
    assert exif.lens == "EF50mm f/1.8 STM"
    assert exif.body_serial == "012345678901"
    assert exif.lens_serial == "0000c1234"
    assert exif.captured_at == "2021-07-04T18:30:15"  # DateTimeOriginal wins over DateTime
    assert exif.offset == "+10:00"
    assert exif.exposure_s == pytest.approx(1 / 250)
    assert exif.f_number == pytest.approx(2.8)
    assert exif.iso == 400 and isinstance(exif.iso, int)
    assert exif.focal_mm == pytest.approx(50.0)
    assert exif.gps_lat == pytest.approx(lat, abs=1e-9) and exif.gps_lat < 0  # 'S' applied
    assert exif.gps_lon == pytest.approx(lon, abs=1e-9)
    assert exif.gps_alt_m == pytest.approx(58.5)
    assert exif.orientation == 1
    assert exif.raw.startswith(b"Exif\x00\x00MM\x00*")
    assert exif.error is None
    assert result.warnings == ()


def test_capture_time_falls_back_digitized_then_datetime():
    exif = exif_of({(EXIF_IFD, 0x9003): None, (EXIF_IFD, 0x9011): None})
    assert (exif.captured_at, exif.offset, exif.error) == ("2021-07-04T18:30:16", None, None)
    exif = exif_of({(EXIF_IFD, 0x9003): None, (EXIF_IFD, 0x9004): None, (EXIF_IFD, 0x9011): None})
    assert exif.captured_at == "2021-07-05T09:00:00"


def test_invalid_date_is_an_error_and_falls_back():
    exif = exif_of({(EXIF_IFD, 0x9003): "2021:13:45 99:00:00"})
    assert exif.captured_at == "2021-07-04T18:30:16"
    assert "DateTimeOriginal" in exif.error


def test_blank_date_is_missing_not_an_error():
    blank = "    :  :     :  :  "
    exif = exif_of({(EXIF_IFD, 0x9003): blank, (EXIF_IFD, 0x9004): "0000:00:00 00:00:00", (0, 0x0132): blank})
    assert exif.captured_at is None
    assert exif.error is None


def test_iso_8601_date_with_embedded_offset():  # hubble_deep_field.jpg: DateTime '2012-09-17T15:53:45-04:00'
    exif = analyse(read(HUBBLE_JPEG)).exif
    assert (exif.captured_at, exif.offset, exif.error) == ("2012-09-17T15:53:45", "-04:00", None)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2021:07:04 18:30:15", ("2021-07-04T18:30:15", None)),
        ("2021:07:04 18:30:15\x00", ("2021-07-04T18:30:15", None)),
        ("2021-07-04T18:30:15.25Z", ("2021-07-04T18:30:15", "+00:00")),
        ("2021:07:04 18:30", ("2021-07-04T18:30:00", None)),
        ("", (None, None)),
    ],
)
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["2021:02:30 10:00:00", "1700:01:01 00:00:00", "yesterday", "2021:07:04 25:00:00"])
def test_parse_datetime_rejects(text):
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_gps_out_of_range_is_dropped_with_error():
    north_95 = (TiffImagePlugin.IFDRational(95), TiffImagePlugin.IFDRational(0), TiffImagePlugin.IFDRational(0))
    exif = exif_of({(GPS_IFD, 2): north_95})
    assert (exif.gps_lat, exif.gps_lon, exif.gps_alt_m) == (None, None, None)
    assert "GPSLatitude" in exif.error
    assert exif.make == "Canon"  # the rest of the EXIF survives


def test_gps_missing_ref_is_dropped_with_error():
    exif = exif_of({(GPS_IFD, 3): None})
    assert exif.gps_lat is None and "GPSLongitudeRef" in exif.error


def test_gps_zero_zero_is_missing():
    zero = (TiffImagePlugin.IFDRational(0), TiffImagePlugin.IFDRational(0), TiffImagePlugin.IFDRational(0))
    exif = exif_of({(GPS_IFD, 2): zero, (GPS_IFD, 4): zero})
    assert (exif.gps_lat, exif.gps_lon, exif.error) == (None, None, None)


def test_gps_below_sea_level():
    exif = exif_of({(GPS_IFD, 5): b"\x01", (GPS_IFD, 6): TiffImagePlugin.IFDRational(430)})
    assert exif.gps_alt_m == pytest.approx(-430.0)


def test_zero_denominator_rational_is_an_error_not_a_crash():
    exif = exif_of({(EXIF_IFD, 0x829A): TiffImagePlugin.IFDRational(1, 0)})
    assert exif.exposure_s is None and "ExposureTime" in exif.error
    assert exif.f_number == pytest.approx(2.8)


def test_invalid_orientation_is_ignored_with_error():
    result = analyse(encode(photo("chelsea"), "JPEG", exif=camera_exif({(0, 0x0112): 9})))
    assert result.exif.orientation is None and "Orientation" in result.exif.error
    assert (result.width, result.height) == (451, 300)  # not turned


@pytest.mark.parametrize(
    "payload, needle",
    [
        (b"Exif\x00\x00" + b"\x13\x37" * 20, "no TIFF header"),
        (b"Exif\x00\x00II*\x00" + (9999).to_bytes(4, "little"), "Corrupt EXIF"),
        (b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 12, "Corrupt EXIF"),
    ],
    ids=["garbage", "ifd-offset-past-end", "entry-count-past-end"],
)
def test_broken_exif_blob_photo_still_enriches(payload, needle):
    data = with_app1(encode(photo("chelsea"), "JPEG"), payload)
    result = analyse(data)
    assert result.exif.error and needle in result.exif.error
    assert result.exif.raw == payload
    assert result.exif.captured_at is None and result.exif.make is None
    assert "exif_broken" in result.warnings
    assert len(result.palette) == 5 and result.thumbnail_jpeg


def test_no_exif_at_all():
    exif = analyse(encode(photo("chelsea"), "PNG")).exif
    assert exif.raw is None and exif.error is None and exif.make is None and exif.orientation is None


def test_png_exif_chunk_is_read():
    exif = analyse(encode(photo("chelsea"), "PNG", exif=camera_exif())).exif
    assert exif.model == "Canon EOS 5D Mark IV" and exif.iso == 400 and exif.error is None
