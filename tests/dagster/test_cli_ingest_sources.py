"""`photoatlas ingest flickr|unsplash|video`: chunks landed in the inbox, a cursor file per query, a summary.

Flickr runs against the local fake REST server (paging, language variants, a 404 image), Unsplash
against a local image CDN, video on a file written with OpenCV. One test goes on with --run through
every stage of the real pipeline.
"""

import csv
import json
import sys
from datetime import datetime, timedelta

import cv2
import numpy as np
import pytest

from photoatlas.lake import LocalLake, table_key
from pipelines.cli import main
from tests.servers.http_fakes import FakeFlickr, FakeImageCDN, Reply, flickr_corpus

pytestmark = pytest.mark.dagster
KEY = "cli-test-key"
WORDS = ("monkey", "mono", "singe")  # the same subject tagged in en, es, fr


def photos_in(folder) -> dict[str, dict]:
    """Landed photos by file name, with their sidecars."""
    out = {}
    for p in sorted(folder.glob("*")):
        if p.suffix in (".jpg", ".png") and not p.name.startswith("."):
            out[p.name] = json.loads((folder / f"{p.name}.json").read_text())
    return out


def failure_rows(folder) -> list[dict]:
    return [r for f in sorted(folder.glob("_failed-*.failures.json")) for r in json.loads(f.read_text())]


@pytest.fixture
def flickr(monkeypatch):
    photos = flickr_corpus(40, datetime(2020, 1, 1), timedelta(days=366), WORDS, seed="cli")
    with FakeFlickr(KEY, photos) as server:
        monkeypatch.setenv("FLICKR_API_KEY", KEY)
        monkeypatch.setenv("PHOTOATLAS_FLICKR_REST_URL", server.url("/services/rest/"))
        yield server, photos


# Pages of 8, and a bounded date range: few enough calls to stay within the rate limiter's burst
# (an open-ended query also searches the seconds the clock moved on meanwhile).
FLICKR_ARGS = ["ingest", "flickr", "--text", "monkey", "--languages", "en,es,fr", "--bbox", "-5 47 -3 50",
               "--since", "2019-12-01", "--until", "2021-06-01", "--per-page", "8", "--chunk", "8"]


def test_flickr_lands_every_language_once_with_failures_in_the_summary(home, flickr, capsys):
    server, photos = flickr
    gone = photos[5]
    server.script(f"/static/{gone['server']}/{gone['id']}_{gone['secret']}_b.jpg", Reply(404, b"<html>Not found</html>"))
    in_box = [p for p in photos if p["latitude"] or p["longitude"]]  # every 4th photo has no location

    assert main(FLICKR_ARGS) == 0
    out = capsys.readouterr().out
    folder = home.inbox / "sources" / "flickr"
    landed = photos_in(folder)
    assert sorted(name.split(".")[0] for name in landed) == sorted(p["id"] for p in in_box if p is not gone)
    side = landed[f"{photos[1]['id']}.jpg"]
    assert side["source"] == "flickr" and side["source_id"] == photos[1]["id"]
    assert side["matched_variant"] in ("en", "es", "fr") and side["licence"] and side["image_url"].endswith("_b.jpg")
    assert [(r["source_id"], r["reason"].split(":")[0]) for r in failure_rows(folder)] == [(gone["id"], "http_404")]

    searches = [c for c in server.calls if c.get("method") == "flickr.photos.search"]
    assert {c["text"] for c in searches} == {"monkey", "mono", "singe"}, "each language searched in its own words"
    assert max(int(c["page"]) for c in searches) >= 2, "results were paged"
    assert "searching es: mono" in out and "searching fr: singe" in out
    assert f"landed        {len(in_box) - 1} photo(s) → {folder}" in out
    assert "failed        1 (http_404 × 1)" in out and f"e.g. {gone['id']}: http_404" in out
    assert "arrival hour  " in out and "up to date" in out and "photoatlas backfill --from" in out
    cursor_files = list((home.root / "cursors").glob("flickr-*.json"))
    assert len(cursor_files) == 1 and f"cursor        {cursor_files[0]}" in out
    assert json.loads(cursor_files[0].read_text())["about"]["languages"] == ["en", "es", "fr"]

    images_before = len(server.requests_for("/static/"))
    assert main(FLICKR_ARGS) == 0
    again = capsys.readouterr().out
    assert "landed        0 photo(s)" in again and "resumed from the saved cursor" in again
    assert len(server.requests_for("/static/")) == images_before, "no photo downloaded twice"
    assert photos_in(folder).keys() == landed.keys() and len(failure_rows(folder)) == 1


def test_flickr_configuration_errors_exit_non_zero_with_a_clear_message(home, flickr, monkeypatch, capsys):
    assert main(["ingest", "flickr", "--text", "monkey Borneo", "--languages", "en,es,ja"]) == 2
    err = capsys.readouterr().err
    assert "'Borneo'" in err and "es:" in err and "ja:" in err and "--variant" in err and "--glossary" in err

    assert main(["ingest", "flickr", "--text", "monkey", "--bbox", "116 4 127"]) == 2
    assert "bbox" in capsys.readouterr().err

    monkeypatch.setenv("FLICKR_API_KEY", "not-the-key")
    assert main(["ingest", "flickr", "--text", "monkey"]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "Invalid API Key" in out and "not-the-key" not in out

    monkeypatch.delenv("FLICKR_API_KEY")
    assert main(["ingest", "flickr", "--text", "monkey"]) == 2
    assert "FLICKR_API_KEY" in capsys.readouterr().err
    assert not list((home.inbox / "sources").glob("flickr/*.jpg"))


def test_flickr_variant_and_user_glossary(home, flickr, tmp_path, capsys):
    server, _ = flickr
    glossary = tmp_path / "words.json"
    glossary.write_text(json.dumps({"words": {"monkey": {"fr": "singe"}}}))
    assert main(["ingest", "flickr", "--text", "monkey", "--languages", "fr", "--glossary", str(glossary),
                 "--variant", "es=mono", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "searching fr: singe" in out and "searching es: mono" in out and "stopped at --limit" in out
    assert len(photos_in(home.inbox / "sources" / "flickr")) == 3


def write_tsv(path, cdn, n: int) -> list[str]:
    ids = [f"cli{i:03d}" for i in range(n)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["photo_id", "photo_url", "photo_image_url", "photo_description", "photographer_username"])
        for pid in ids:
            w.writerow([pid, f"https://unsplash.com/photos/{pid}", cdn.url(f"/photo-{pid}"), f"photo {pid}", "ann"])
    return ids


def test_unsplash_lands_at_the_asked_width_and_resumes(home, tmp_path, capsys):
    with FakeImageCDN() as cdn:
        ids = write_tsv(tmp_path / "photos.tsv000", cdn, 7)
        args = ["ingest", "unsplash", str(tmp_path), "--width", "320", "--chunk", "3", "--limit", "5"]
        assert main(args) == 0
        out = capsys.readouterr().out
        folder = home.inbox / "sources" / "unsplash"
        assert sorted(photos_in(folder)) == [f"{pid}.jpg" for pid in ids[:5]]
        assert {r.query.get("w") for r in cdn.requests_for("/photo-")} == {"320"}, "--width reaches the CDN"
        assert photos_in(folder)[f"{ids[0]}.jpg"]["image_url"].endswith("?w=320")
        assert "5 item(s) in 2 chunk(s)" in out and "at 320 px" in out and "stopped at --limit" in out

        assert main(args) == 0
        assert "landed        2 photo(s)" in capsys.readouterr().out
        assert main(args) == 0
        assert "landed        0 photo(s)" in capsys.readouterr().out
        assert sorted(photos_in(folder)) == [f"{pid}.jpg" for pid in ids]
        assert len(cdn.requests_for("/photo-")) == 7, "each photo downloaded once"

    assert main(["ingest", "unsplash", str(tmp_path / "missing.tsv")]) == 2
    assert "no such file" in capsys.readouterr().err


def write_video(path, seconds: int, fps: int = 10) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (96, 64))
    for i in range(seconds * fps):
        frame = np.zeros((64, 96, 3), np.uint8)
        frame[:, :48] = (40 + 20 * (i % 10), 90, 200 - 15 * (i // fps))  # a two-tone frame that changes each second
        frame[:, 48:] = (200, 40 + 5 * i, 60)
        writer.write(frame)
    writer.release()


def test_video_frames_land_once_with_their_feed_and_time(home, tmp_path, capsys):
    write_video(tmp_path / "harbour_cam.avi", 3)
    args = ["ingest", "video", str(tmp_path / "harbour_cam.avi"), "--fps", "1", "--started-at", "2026-06-01T10:00:00Z"]
    assert main(args) == 0
    out = capsys.readouterr().out
    landed = photos_in(home.inbox / "sources" / "video")
    assert sorted(s["source_id"] for s in landed.values()) == [f"harbour_cam/harbour_cam.avi@{t}ms" for t in (0, 1000, 2000)]
    assert {s["feed"] for s in landed.values()} == {"harbour_cam"}  # the feed id defaults to the file's name
    assert sorted(s["taken_at"] for s in landed.values())[1] == "2026-06-01T10:00:01+00:00"
    assert "feed harbour_cam" in out and "landed        3 photo(s)" in out and "up to date" in out

    assert main(args) == 0
    assert "landed        0 photo(s)" in capsys.readouterr().out
    assert len(photos_in(home.inbox / "sources" / "video")) == 3

    assert main(["ingest", "video", str(tmp_path / "nothing.avi")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "not_video.avi").write_bytes(b"not a video at all")
    assert main(["ingest", "video", str(tmp_path / "not_video.avi")]) == 2
    assert "OpenCV cannot open" in capsys.readouterr().err


def test_production_lands_in_the_configured_inbox(home, tmp_path, monkeypatch, capsys):
    """Where PHOTOATLAS_INBOX points away from the home, the commands land there (what the sensor watches)."""
    for name, value in {"PHOTOATLAS_ENV": "production", "PHOTOATLAS_INBOX": str(tmp_path / "shared-inbox"),
                        "PHOTOATLAS_LAKE_URL": "s3://unused/lake", "PHOTOATLAS_CASSANDRA_HOSTS": "127.0.0.1",
                        "PHOTOATLAS_ES_URL": "http://127.0.0.1:1"}.items():
        monkeypatch.setenv(name, value)
    write_video(tmp_path / "dock.avi", 2)
    assert main(["ingest", "video", str(tmp_path / "dock.avi"), "--fps", "1"]) == 0
    assert len(photos_in(tmp_path / "shared-inbox" / "sources" / "video")) == 2
    assert not (home.inbox / "sources").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "a.jpg").write_bytes(b"\xff\xd8 not really a photo: ingest only copies it")
    assert main(["ingest", "folder", str(tmp_path / "mine")]) == 0
    assert [p.name for p in (tmp_path / "shared-inbox").glob("mine-*/*")] == ["a.jpg"]
    assert str(tmp_path / "shared-inbox") in capsys.readouterr().out


@pytest.mark.slow
def test_video_with_run_goes_through_every_stage(home, tmp_path, monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "pipelines.definitions", raising=False)  # its resources follow this test's home
    write_video(tmp_path / "quay.avi", 2)
    assert main(["ingest", "video", str(tmp_path / "quay.avi"), "--fps", "1", "--run"]) == 0
    out = capsys.readouterr().out
    assert "landed        2 photo(s)" in out and "materialising the arrival hour(s)" in out
    assert "photos in     2 new" in out and "enriched      2 ok" in out and "NOT MATERIALISED" not in out
    hour = out.split("arrival hour  ")[1].split()[0]
    manifest = LocalLake(str(home.lake)).read_table(table_key("manifest", hour)).to_pylist()
    assert sorted(r["source_id"] for r in manifest) == ["quay/quay.avi@0ms", "quay/quay.avi@1000ms"]
    assert {r["source"] for r in manifest} == {"video"}

    # the serving views answer from the command line: the two-tone frames by their colours
    first = next(r["photo_id"] for r in manifest if r["source_id"].endswith("@0ms"))
    assert main(["search-color", "#c85a28", "#3c28c8", "--json"]) == 0  # frame 0: orange | blue-violet halves
    hits = json.loads(capsys.readouterr().out)
    assert [h["photo_id"] for h in hits] == [first]  # frame 1's right half is (60, 90, 200): ΔE00 > 12 away
    assert all(m["delta_e"] < 5 and m["share"] > 0.4 for m in hits[0]["matches"])
    assert main(["search-color", "#c85a28", "#3c28c8"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0] == "1 photo(s) for #c85a28 + #3c28c8" and text[1].split()[:2] == [first[:16], "score"]
    assert float(text[1].split()[2]) == pytest.approx(hits[0]["score"], abs=1e-3)
    assert hits[0]["score"] > 0.45  # each colour covers about half the frame
    assert main(["search-color", "#c85a28", "--min-share", "0.9"]) == 0
    assert capsys.readouterr().out.startswith("0 photo(s)")  # no frame is 90 % orange
