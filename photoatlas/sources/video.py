"""Frames sampled from video feeds: a file, a folder of segment files, or a live stream (OpenCV).

Frames are taken on a fixed grid of ``frames_per_s`` per second of *video time* (t = 0, 1/r,
2/r, ...), so where a run stops never changes which frames are taken. The cursor holds, per
feed, the segment file in progress and the time of its last frame taken: a file that grew since
resumes after that frame; a folder moves on to the next segment (in name order) once the current
one is read to its end and a later one exists. A stream cannot be resumed: each call reads for up
to ``stream_read_s`` and stamps frames with the wall clock. Frames are JPEG-encoded as they are
read (an item holds bytes, not a raw frame), so a batch costs ~100-300 kB per frame.
"""

import copy
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2

from photoatlas.ingest import Arrival
from photoatlas.sources.base import Failure, Source, parse_time
from photoatlas.sources.meta import utcnow

DEFAULT_BATCH = 600
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")
_NAME_TIME = re.compile(r"(\d{8})[T_-]?(\d{6})")  # cam1_20260301T120000Z.avi, 20260301-120000.mkv, ...
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Feed:
    id: str
    location: str  # a video file, a folder of segments, or a stream URL
    started_at: datetime | None = None  # wall-clock time of t = 0 of a single file (segments: from their names)
    pattern: str = "*"  # which files of a folder are segments

    @property
    def is_stream(self) -> bool:
        return self.location.startswith(STREAM_SCHEMES)

    def problem(self) -> str | None:
        """Why this feed cannot be read at all (missing, or a single file OpenCV cannot open); None if it can."""
        if self.is_stream:
            return None
        path = Path(self.location)
        if not path.exists():
            return f"{self.location} does not exist"
        if path.is_file():
            cap = cv2.VideoCapture(str(path))
            try:
                if not cap.isOpened():
                    return f"OpenCV cannot open {self.location} as a video"
            finally:
                cap.release()
        return None

    @classmethod
    def from_dict(cls, spec: dict) -> "Feed":
        """A feed from JSON-like settings: ``location``, and optional ``id`` (default: from the
        location), ``started_at`` (ISO time of t = 0) and ``pattern``."""
        location = str(spec["location"])
        started = spec.get("started_at")
        return cls(str(spec.get("id") or default_feed_id(location)), location,
                   parse_time(started) if started else None, spec.get("pattern") or "*")


def default_feed_id(location: str) -> str:
    """A feed id from where the video is: a file's stem, a folder's name, a stream's host and path."""
    if location.startswith(STREAM_SCHEMES):
        name = location.split("://", 1)[1].split("?", 1)[0]
    else:
        path = Path(location)
        name = path.name if path.is_dir() else path.stem
    return _ID_UNSAFE.sub("-", name).strip("-") or "feed"


class VideoSource(Source):
    name = "video"

    def __init__(self, feeds: list[Feed], frames_per_s: float = 1.0, jpeg_quality: int = 90, batch: int = DEFAULT_BATCH,
                 stream_read_s: float = 10.0, clock=utcnow):
        if frames_per_s <= 0:
            raise ValueError("frames_per_s must be > 0")
        self.feeds = list(feeds)
        self.interval_ms = 1000.0 / frames_per_s
        self.jpeg_quality = jpeg_quality
        self.batch = batch
        self.stream_read_s = stream_read_s
        self._clock = clock

    def list_new(self, cursor: dict, limit: int | None = None) -> tuple[list[dict], dict]:
        state = copy.deepcopy(cursor) if cursor else {}
        feeds_state = state.setdefault("feeds", {})
        room = self.batch if limit is None else limit
        items: list[dict] = []
        for feed in self.feeds:
            if len(items) >= room:
                break
            fs = feeds_state.get(feed.id, {})
            if feed.is_stream:
                got, fs = self._read_stream(feed, fs, room - len(items))
            else:
                got, fs = self._read_segments(feed, fs, room - len(items))
            items += got
            feeds_state[feed.id] = fs
        return items, state

    # --- files and segment folders ---------------------------------------------------------------

    def _segments(self, feed: Feed) -> list[Path] | None:
        path = Path(feed.location)
        if path.is_dir():
            return sorted(p for p in path.glob(feed.pattern) if p.is_file() and not p.name.startswith("."))
        return [path] if path.is_file() else None

    def _read_segments(self, feed: Feed, fs: dict, room: int) -> tuple[list[dict], dict]:
        segments = self._segments(feed)
        if segments is None:
            return [_error_item(feed, None, "feed_missing", f"{feed.location} does not exist")], fs
        items: list[dict] = []
        single_file = not Path(feed.location).is_dir()
        for i, seg in enumerate(segments):
            if fs.get("file") and seg.name < fs["file"]:
                continue
            is_last = i == len(segments) - 1
            after = fs.get("t_ms") if seg.name == fs.get("file") else None
            cap = cv2.VideoCapture(str(seg))
            if not cap.isOpened():
                cap.release()
                if is_last:  # possibly still being written: try again next call
                    fs = {"file": seg.name, "t_ms": after}
                    break
                items.append(_error_item(feed, seg.name, "video_unreadable", f"OpenCV cannot open {seg.name}"))
                fs = {"file": seg.name, "t_ms": None}
                continue
            try:
                start = (feed.started_at if single_file else None) or _name_time(seg.name)
                got, last_t, ended = self._sample(cap, feed, seg.name, after, start, room - len(items))
            finally:
                cap.release()
            items += got
            fs = {"file": seg.name, "t_ms": last_t if last_t is not None else after}
            if not ended or len(items) >= room or is_last:
                break
        return items, fs

    def _sample(self, cap, feed: Feed, file: str, after_ms: float | None, start: datetime | None, room: int):
        """Frames on the grid after ``after_ms``: (items, last time taken, whether the file ended)."""
        due = 0.0 if after_ms is None else (int(after_ms // self.interval_ms) + 1) * self.interval_ms
        if after_ms is not None:
            cap.set(cv2.CAP_PROP_POS_MSEC, after_ms)
        items, last_t = [], None
        while len(items) < room:
            if not cap.grab():
                return items, last_t, True
            t = cap.get(cv2.CAP_PROP_POS_MSEC)
            if t < due - 0.5 or (after_ms is not None and t <= after_ms):
                continue
            ok, frame = cap.retrieve()
            if not ok:
                continue
            due = (int(t // self.interval_ms) + 1) * self.interval_ms
            last_t = t
            taken = start + timedelta(milliseconds=t) if start else None
            items.append(self._item(feed, frame, f"{feed.id}/{file}@{t:.0f}ms", file, t, taken))
        return items, last_t, False

    # --- streams ---------------------------------------------------------------------------------

    def _read_stream(self, feed: Feed, fs: dict, room: int) -> tuple[list[dict], dict]:
        cap = cv2.VideoCapture(feed.location)
        connected = self._clock()
        if not cap.isOpened():
            cap.release()
            return [_error_item(feed, None, "stream_unreachable", f"OpenCV cannot open {feed.location}")], fs
        items, due, first_t = [], None, None
        try:
            while len(items) < room and (self._clock() - connected).total_seconds() < self.stream_read_s:
                if not cap.grab():
                    break
                t = cap.get(cv2.CAP_PROP_POS_MSEC)
                first_t = t if first_t is None else first_t
                if due is not None and t < due - 0.5:
                    continue
                ok, frame = cap.retrieve()
                if not ok:
                    continue
                due = t + self.interval_ms
                taken = connected + timedelta(milliseconds=t - first_t)
                items.append(self._item(feed, frame, f"{feed.id}@{taken.isoformat()}", None, t, taken))
        finally:
            cap.release()
        if items:
            fs = {"last_taken_at": items[-1]["taken_at"]}
        return items, fs

    # --- items and arrivals ----------------------------------------------------------------------

    def _item(self, feed: Feed, frame, source_id: str, file: str | None, t_ms: float, taken: datetime | None) -> dict:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        return {"source_id": source_id, "feed": feed.id, "file": file, "t_ms": round(t_ms, 3),
                "taken_at": taken.isoformat() if taken else None, "jpeg": buf.tobytes() if ok else None,
                "height": int(frame.shape[0]), "width": int(frame.shape[1])}

    def item_id(self, item: dict) -> str:
        return item["source_id"]

    def fetch(self, item: dict) -> Arrival | Failure:
        if item.get("error"):
            return Failure(self.name, item["source_id"], item["error"], item.get("detail", ""))
        data = item.get("jpeg")
        if not data:
            return Failure(self.name, item["source_id"], "encode_failed", "OpenCV could not JPEG-encode the frame")
        meta = {"feed": item["feed"], "frame_ms": item["t_ms"], "video_file": item.get("file"),
                "width": item["width"], "height": item["height"]}
        if item.get("taken_at"):
            meta["taken_at"] = item["taken_at"]
        stem = Path(item["file"]).stem if item.get("file") else "stream"
        name = f"{item['feed']}_{stem}_{int(item['t_ms']):09d}ms.jpg"
        return Arrival(self.name, item["source_id"], name, self._clock(), read=lambda: data, size=len(data), meta=meta)


def _error_item(feed: Feed, file: str | None, code: str, detail: str) -> dict:
    return {"source_id": f"{feed.id}/{file}" if file else feed.id, "feed": feed.id, "error": code, "detail": detail}


def _name_time(name: str) -> datetime | None:
    m = _NAME_TIME.search(name)
    if not m:
        return None
    try:
        return datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
