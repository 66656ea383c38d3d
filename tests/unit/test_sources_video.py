"""Video frames sampled on a fixed grid from files the tests write with OpenCV (MJPG in AVI)."""

import json
from datetime import datetime, timezone

import cv2
import numpy as np
import pytest

from photoatlas.imaging.sniff import sniff_format
from photoatlas.sources import collect
from photoatlas.sources.video import Feed, VideoSource

FPS = 10
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def write_video(path, seconds: float, fps: int = FPS, size=(64, 48)) -> None:
    """Frame i is a flat grey of level 4*i (so a frame tells its own index)."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert w.isOpened()
    for i in range(int(seconds * fps)):
        w.write(np.full((size[1], size[0], 3), min(255, 4 * i), np.uint8))
    w.release()


def frame_index(arrival) -> int:
    img = cv2.imdecode(np.frombuffer(arrival.read(), np.uint8), cv2.IMREAD_GRAYSCALE)
    return int(round(float(img.mean()) / 4))


def make(feeds, **kw) -> VideoSource:
    return VideoSource(feeds, clock=lambda: NOW, **kw)


def test_frames_on_a_grid_with_feed_time_and_taken_at(tmp_path):
    write_video(tmp_path / "cam.avi", 3)
    batch = collect(make([Feed("cam1", str(tmp_path / "cam.avi"), started_at=START)], frames_per_s=2), {})
    assert batch.failures == []
    assert [a.meta["frame_ms"] for a in batch.arrivals] == [0, 500, 1000, 1500, 2000, 2500]
    assert [frame_index(a) for a in batch.arrivals] == [0, 5, 10, 15, 20, 25]
    a = batch.arrivals[3]
    assert a.source == "video" and a.source_id == "cam1/cam.avi@1500ms" and sniff_format(a.read()) == "JPEG"
    assert a.meta["feed"] == "cam1" and a.meta["taken_at"] == "2026-03-01T09:00:01.500000+00:00"
    assert a.original_name == "cam1_cam_000001500ms.jpg" and a.arrived_at == NOW
    assert batch.cursor == {"feeds": {"cam1": {"file": "cam.avi", "t_ms": 2500.0}}}


def test_resume_in_small_batches_takes_each_frame_once(tmp_path):
    write_video(tmp_path / "cam.avi", 3)
    src = make([Feed("cam1", str(tmp_path / "cam.avi"))], frames_per_s=2)
    arrivals, cursor = [], {}
    for _ in range(6):
        batch = collect(src, json.loads(json.dumps(cursor)), limit=4)
        arrivals += batch.arrivals
        cursor = batch.cursor
    assert [a.source_id for a in arrivals] == [f"cam1/cam.avi@{t}ms" for t in (0, 500, 1000, 1500, 2000, 2500)]
    assert not any("taken_at" in a.meta for a in arrivals), "no start time known, so no taken_at"


def test_a_growing_file_resumes_after_the_last_frame(tmp_path):
    path = tmp_path / "live.avi"
    write_video(path, 2)
    src = make([Feed("cam", str(path))], frames_per_s=1)
    first = collect(src, {})
    assert [a.meta["frame_ms"] for a in first.arrivals] == [0, 1000]
    write_video(path, 4)  # the recorder appended two more seconds
    second = collect(src, first.cursor)
    assert [a.meta["frame_ms"] for a in second.arrivals] == [2000, 3000]
    assert [frame_index(a) for a in second.arrivals] == [20, 30]
    assert collect(src, second.cursor).arrivals == []


def test_segment_folder_in_name_order_with_times_from_names_and_a_broken_segment(tmp_path):
    seg = tmp_path / "segments"
    seg.mkdir()
    write_video(seg / "cam2_20260301T090000Z.avi", 2)
    (seg / "cam2_20260301T090002Z.avi").write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage")
    write_video(seg / "cam2_20260301T090004Z.avi", 1)
    src = make([Feed("cam2", str(seg))], frames_per_s=1)
    batch = collect(src, {})
    assert [a.source_id for a in batch.arrivals] == ["cam2/cam2_20260301T090000Z.avi@0ms",
                                                     "cam2/cam2_20260301T090000Z.avi@1000ms",
                                                     "cam2/cam2_20260301T090004Z.avi@0ms"]
    assert batch.arrivals[1].meta["taken_at"] == "2026-03-01T09:00:01+00:00"
    assert batch.arrivals[2].meta["taken_at"] == "2026-03-01T09:00:04+00:00"
    assert [(f.source_id, f.code) for f in batch.failures] == [("cam2/cam2_20260301T090002Z.avi", "video_unreadable")]
    assert batch.cursor["feeds"]["cam2"] == {"file": "cam2_20260301T090004Z.avi", "t_ms": 0.0}
    again = collect(src, batch.cursor)
    assert again.arrivals == [] and again.failures == [], "the broken segment is reported once"


def test_a_missing_feed_is_a_failure_not_a_crash(tmp_path):
    write_video(tmp_path / "ok.avi", 1)
    src = make([Feed("gone", str(tmp_path / "nope.avi")), Feed("ok", str(tmp_path / "ok.avi"))])
    batch = collect(src, {})
    assert [(f.source_id, f.code) for f in batch.failures] == [("gone", "feed_missing")]
    assert [a.source_id for a in batch.arrivals] == ["ok/ok.avi@0ms"]


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        VideoSource([], frames_per_s=0)


def test_a_stream_is_stamped_with_the_wall_clock_from_connection(tmp_path):
    from tests.servers.http_fakes import FakeImageCDN

    write_video(tmp_path / "live.avi", 2)
    with FakeImageCDN() as server:
        server.files["/files/live.avi"] = (tmp_path / "live.avi").read_bytes()
        src = make([Feed("live", server.url("/files/live.avi")), Feed("down", server.url("/files/none.avi"))],
                   frames_per_s=2)
        batch = collect(src, {})
    assert [a.meta["taken_at"] for a in batch.arrivals] == [
        "2026-03-01T10:30:00+00:00", "2026-03-01T10:30:00.500000+00:00",
        "2026-03-01T10:30:01+00:00", "2026-03-01T10:30:01.500000+00:00"]
    assert batch.arrivals[0].source_id == "live@2026-03-01T10:30:00+00:00"
    assert [(f.source_id, f.code) for f in batch.failures] == [("down", "stream_unreachable")]
    assert batch.cursor["feeds"]["live"] == {"last_taken_at": "2026-03-01T10:30:01.500000+00:00"}
