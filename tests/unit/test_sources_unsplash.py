"""The Unsplash dataset source: photos.tsv rows (real columns), images at a chosen width from a local CDN."""

import csv
import io
import json
import time
import zipfile
from datetime import datetime, timezone

import pytest
from PIL import Image

from photoatlas.sources import collect
from photoatlas.sources.http import HttpClient, HttpPolicy
from photoatlas.sources.unsplash import CursorMismatch, UnsplashLiteSource
from tests.servers.http_fakes import FakeImageCDN, FakeTime, Reply

NOW = datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)
FAST = HttpPolicy(connect_timeout_s=2, read_timeout_s=1, total_timeout_s=5, max_attempts=2)
COLUMNS = [  # the Lite release's photos.tsv000 header
    "photo_id", "photo_url", "photo_image_url", "photo_submitted_at", "photo_featured", "photo_width", "photo_height",
    "photo_aspect_ratio", "photo_description", "photographer_username", "photographer_first_name",
    "photographer_last_name", "exif_camera_make", "exif_camera_model", "exif_iso", "exif_aperture_value",
    "exif_focal_length", "exif_exposure_time", "photo_location_name", "photo_location_latitude",
    "photo_location_longitude", "photo_location_country", "photo_location_city", "stats_views", "stats_downloads",
    "ai_description", "ai_primary_landmark_name", "ai_primary_landmark_latitude", "ai_primary_landmark_longitude",
    "ai_primary_landmark_confidence", "blur_hash",
]


def row(cdn, i: int, **over) -> dict:
    pid = f"u{i:04d}XyZ"
    r = {c: "" for c in COLUMNS}
    r.update(photo_id=pid, photo_url=f"https://unsplash.com/photos/{pid}", photo_image_url=cdn.url(f"/photo-{pid}"),
             photo_submitted_at="2020-05-01 10:00:00.123", photo_featured="t", photo_width="4000", photo_height="3000",
             photo_description=f"Sea cliffs {i}", photographer_username=f"ann{i % 3}", photographer_first_name="Ann",
             photographer_last_name=f"Lee{i % 3}", exif_camera_make="FUJIFILM", photo_location_latitude="48.3904",
             photo_location_longitude="-4.4861", photo_location_country="France", ai_description="a cliff by the sea")
    r.update(over)
    return r


def write_tsv(path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, delimiter="\t")
        w.writeheader()
        w.writerows(rows)


@pytest.fixture
def cdn():
    with FakeImageCDN() as server:
        yield server


def source(dataset, cdn_or_none=None, **kw) -> UnsplashLiteSource:
    return UnsplashLiteSource(dataset, http=HttpClient(FAST, sleep=FakeTime().sleep), clock=lambda: NOW, **kw)


def test_rows_become_arrivals_at_the_configured_width(cdn, tmp_path):
    rows = [row(cdn, i) for i in range(5)]
    rows[1]["photo_description"] = 'tab\there, "quotes" and a\nnewline'  # csv quoting, as pandas reads it
    write_tsv(tmp_path / "photos.tsv000", rows)
    batch = collect(source(tmp_path, width=64), {})
    assert [a.source_id for a in batch.arrivals] == [r["photo_id"] for r in rows] and batch.failures == []
    assert all(req.query.get("w") == "64" for req in cdn.requests_for("/photo-")), "never the full original"
    a = batch.arrivals[1]
    assert Image.open(io.BytesIO(a.read())).size == (64, 42)
    m = a.meta
    assert m["description"] == 'tab\there, "quotes" and a\nnewline'
    assert (m["owner"], m["owner_id"], m["licence"]) == ("Ann Lee1", "ann1", "Unsplash License")
    assert (m["lat"], m["lon"], m["url"]) == (48.3904, -4.4861, rows[1]["photo_url"])
    assert m["image_url"].endswith("?w=64") and m["camera_make"] == "FUJIFILM" and "taken_at" not in m


def test_bad_rows_and_bad_images_are_counted_failures(cdn, tmp_path):
    rows = [row(cdn, i) for i in range(6)]
    rows[1]["photo_image_url"] = ""
    rows[2]["photo_image_url"] = cdn.url("/gone/photo-x")  # the CDN answers 404
    cdn.script(f"/photo-{rows[3]['photo_id']}", Reply(200, b"<html><body>Access denied</body></html>"))
    cdn.script(f"/photo-{rows[4]['photo_id']}", Reply(200, b"\xff\xd8\xff", content_length=999 * 1024**2))
    rows[5]["photo_location_latitude"] = "north"
    write_tsv(tmp_path / "photos.tsv000", rows)
    batch = collect(source(tmp_path / "photos.tsv000", width=64), {})
    assert {f.source_id: f.code for f in batch.failures} == {
        rows[1]["photo_id"]: "missing_image_url", rows[2]["photo_id"]: "http_404",
        rows[3]["photo_id"]: "not_image", rows[4]["photo_id"]: "too_large"}
    assert batch.counts()["failures_by_code"] == {"http_404": 1, "missing_image_url": 1, "not_image": 1, "too_large": 1}
    last = batch.arrivals[-1]
    assert last.source_id == rows[5]["photo_id"] and "lat" not in last.meta and "lon" not in last.meta
    assert last.warnings == ["bad_lat: 'north'", "bad_coordinates: None,-4.4861"]


def test_resume_in_chunks_with_json_cursors_never_duplicates(cdn, tmp_path):
    write_tsv(tmp_path / "photos.tsv000", [row(cdn, i) for i in range(10)])
    write_tsv(tmp_path / "photos.tsv001", [row(cdn, i) for i in range(10, 17)])  # Full releases span files
    seen, cursor = [], {}
    for _ in range(10):
        items, cursor = source(tmp_path).list_new(json.loads(json.dumps(cursor)), 4)
        seen += [i["photo_id"] for i in items]
    assert seen == [f"u{i:04d}XyZ" for i in range(17)]
    assert cursor == {"row": 17, "last_id": "u0016XyZ"}


def test_a_new_release_with_shifted_rows_realigns_on_the_last_id(cdn, tmp_path):
    write_tsv(tmp_path / "photos.tsv000", [row(cdn, i) for i in range(6)])
    items, cursor = source(tmp_path).list_new({}, 3)
    assert cursor == {"row": 3, "last_id": "u0002XyZ"}
    write_tsv(tmp_path / "photos.tsv000", [row(cdn, i) for i in (100, 101)] + [row(cdn, i) for i in range(8)])
    items, cursor = source(tmp_path).list_new(cursor, 10)
    assert [i["photo_id"] for i in items] == [f"u{i:04d}XyZ" for i in range(3, 8)]
    write_tsv(tmp_path / "photos.tsv000", [row(cdn, i) for i in range(200, 205)])
    with pytest.raises(CursorMismatch):
        source(tmp_path).list_new(cursor, 10)


def test_dataset_from_a_url_and_from_the_release_zip(cdn, tmp_path):
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, delimiter="\t")
    w.writeheader()
    w.writerows([row(cdn, i) for i in range(3)])
    cdn.files["/files/photos.tsv000"] = buf.getvalue().encode()
    src = source(cdn.url("/files/photos.tsv000"), width=32, cache_dir=tmp_path / "cache")
    assert [i["photo_id"] for i in src.list_new({}, 10)[0]] == ["u0000XyZ", "u0001XyZ", "u0002XyZ"]
    src.list_new({}, 10)
    assert len(cdn.requests_for("/files/")) == 1, "downloaded once, then read from the cache"

    zpath = tmp_path / "unsplash-research-dataset-lite-latest.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("photos.tsv000", buf.getvalue())
        zf.writestr("keywords.tsv000", "photo_id\tkeyword\n")
    assert len(source(zpath).list_new({}, 10)[0]) == 3


def test_downloads_run_concurrently_up_to_the_cap(tmp_path):
    with FakeImageCDN(delay_s=0.2) as slow:
        write_tsv(tmp_path / "photos.tsv000", [row(slow, i) for i in range(8)])
        started = time.monotonic()
        batch = collect(source(tmp_path, width=16, max_workers=4), {})
        elapsed = time.monotonic() - started
    assert len(batch.arrivals) == 8
    assert slow.max_in_flight == 4, "four at a time, no more"
    assert elapsed < 8 * 0.2, "faster than one at a time"
