"""Local HTTP servers that speak the real protocols of the photo sources, for tests without the internet.

- :class:`FakeHTTPServer`: http.server on 127.0.0.1 in a thread, with scripted replies per path
  (status, Retry-After, slow or truncated bodies, a lying Content-Length, chunked bodies).
- :class:`FakeFlickr`: the REST endpoint (``/services/rest/``) with flickr.photos.search as
  Flickr answers it in JSON — filters, date-taken/-posted sort, ``page``/``pages``/``total``, the
  4,000-result window (pages past it repeat the last page, as Flickr does), ``stat: fail`` for a
  bad key — and its static image host.
- :class:`FakeImageCDN`: an imgix-style image CDN (Unsplash's ``images.unsplash.com``) that
  resizes to ``w=`` and serves dataset files.
"""

import calendar
import hashlib
import io
import json
import math
import threading
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image

AUTO = object()  # Content-Length: the body's real length


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    content_length: object = AUTO  # AUTO, None (omit: close-delimited or chunked), or a declared int
    chunked: bool = False
    cut_after: int | None = None  # send only this many body bytes, then drop the connection
    delay_s: float = 0.0  # before the status line
    pause_after: int | None = None  # pause this many bytes into the body ...
    pause_s: float = 0.0  # ... for this long (a stalled transfer)
    trickle: tuple[int, float] | None = None  # (bytes per write, seconds between writes)


@dataclass
class Request:
    method: str
    path: str
    query: dict  # name -> last value
    headers: dict
    at: float


def jpeg(seed: str, width: int = 48, height: int = 32, quality: int = 85) -> bytes:
    """A small, valid JPEG whose bytes depend on ``seed`` (so content hashes differ per photo)."""
    h = hashlib.sha256(seed.encode()).digest()
    img = Image.new("RGB", (width, height), (h[0], h[1], h[2]))
    img.paste((h[3], h[4], h[5]), (0, 0, max(1, width // 2), max(1, height // 2)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


class FakeHTTPServer:
    def __init__(self):
        self.scripts: dict[str, deque] = defaultdict(deque)
        self.routes: list[tuple[str, object]] = []  # (path prefix, handler(Request) -> Reply)
        self.log: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> "FakeHTTPServer":
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # --- behaviour --------------------------------------------------------------------------------
    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next requests for ``path`` (ignoring the query) with these replies, in order."""
        self.scripts[path].extend(replies)

    def route(self, prefix: str, handler) -> None:
        self.routes.append((prefix, handler))

    def requests_for(self, prefix: str) -> list[Request]:
        return [r for r in self.log if r.path.startswith(prefix)]

    def respond(self, req: Request) -> Reply:
        with self._lock:
            if self.scripts.get(req.path):
                return self.scripts[req.path].popleft()
        for prefix, handler in self.routes:
            if req.path.startswith(prefix):
                return handler(req)
        return Reply(404, b"Not Found", {"Content-Type": "text/plain"})


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # clients that hang up on purpose are not news
        pass


def _handler_for(server: FakeHTTPServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            req = Request("GET", parts.path, query, dict(self.headers), time.monotonic())
            with server._lock:
                server.log.append(req)
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                self._send(server.respond(req))
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _send(self, r: Reply):
            if r.delay_s:
                time.sleep(r.delay_s)
            body = r.body if r.cut_after is None else r.body[: r.cut_after]
            self.send_response(r.status)
            for k, v in r.headers.items():
                self.send_header(k, v)
            declared = len(r.body) if r.content_length is AUTO else r.content_length
            if r.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            elif declared is not None:
                self.send_header("Content-Length", str(declared))
            honest = not r.chunked and declared == len(body)
            if not (honest or r.chunked):
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if r.chunked:
                for i in range(0, len(body), 4096):
                    chunk = body[i:i + 4096]
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            elif r.trickle:
                step, wait = r.trickle
                for i in range(0, len(body), step):
                    self.wfile.write(body[i:i + step])
                    self.wfile.flush()
                    time.sleep(wait)
            elif r.pause_after is not None:
                self.wfile.write(body[: r.pause_after])
                self.wfile.flush()
                time.sleep(r.pause_s)
                self.wfile.write(body[r.pause_after:])
            else:
                self.wfile.write(body)
            self.wfile.flush()

    return Handler


# --- Flickr -----------------------------------------------------------------------------------------

FLICKR_LICENCES_JSON = [
    {"id": 0, "name": "All Rights Reserved", "url": ""},
    {"id": 1, "name": "Attribution-NonCommercial-ShareAlike License", "url": "https://creativecommons.org/licenses/by-nc-sa/2.0/"},
    {"id": 2, "name": "Attribution-NonCommercial License", "url": "https://creativecommons.org/licenses/by-nc/2.0/"},
    {"id": 3, "name": "Attribution-NonCommercial-NoDerivs License", "url": "https://creativecommons.org/licenses/by-nc-nd/2.0/"},
    {"id": 4, "name": "Attribution License", "url": "https://creativecommons.org/licenses/by/2.0/"},
    {"id": 5, "name": "Attribution-ShareAlike License", "url": "https://creativecommons.org/licenses/by-sa/2.0/"},
    {"id": 6, "name": "Attribution-NoDerivs License", "url": "https://creativecommons.org/licenses/by-nd/2.0/"},
    {"id": 7, "name": "No known copyright restrictions", "url": "https://www.flickr.com/commons/usage/"},
    {"id": 8, "name": "United States Government Work", "url": "http://www.usa.gov/copyright.shtml"},
    {"id": 9, "name": "Public Domain Dedication (CC0)", "url": "https://creativecommons.org/publicdomain/zero/1.0/"},
    {"id": 10, "name": "Public Domain Mark", "url": "https://creativecommons.org/publicdomain/mark/1.0/"},
    {"id": 11, "name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
    {"id": 14, "name": "CC BY-NC 4.0", "url": "https://creativecommons.org/licenses/by-nc/4.0/"},
]
TAKEN_FMT = "%Y-%m-%d %H:%M:%S"
DATE_BOUNDS = (("min_taken_date", "datetaken", True), ("max_taken_date", "datetaken", True),
               ("min_upload_date", "dateupload", False), ("max_upload_date", "dateupload", False))
WINDOW = 4000


def flickr_corpus(n: int, start: datetime, span: timedelta, words=("lighthouse",), seed: str = "c") -> list[dict]:
    """``n`` photos evenly spread over ``span`` of taken dates, tags cycling through ``words``."""
    photos = []
    for i in range(n):
        taken = start + span * (i / max(n, 1))
        tags = [words[i % len(words)]] + ([words[(i + 1) % len(words)]] if i % 3 == 0 else [])
        photos.append({
            "id": str(10_000_000_000 + i), "owner": f"{1000 + i % 50}@N0{i % 7}", "secret": f"{i:010x}"[:10],
            "server": str(65535 - i % 100), "farm": 66, "title": f"{seed} photo {i}",
            "description": f"a {tags[0]} by the sea",
            "tags": tags, "license": i % 11, "datetaken": taken.strftime(TAKEN_FMT),
            "dateupload": calendar.timegm(taken.timetuple()) + 86400 + i, "ownername": f"Owner {i % 50}",
            "latitude": round(48.0 + (i % 100) / 100, 6) if i % 4 else 0,  # every 4th photo has no location
            "longitude": round(-4.5 + (i % 50) / 100, 6) if i % 4 else 0,
            "views": i * 7 % 1000, "machine_tags": "geo:country=fr" if i % 5 == 0 else "",
        })
    return photos


def _date_arg(value: str | None, taken: bool):
    """A min/max date argument (unix timestamp or MySQL datetime) in the form of the field it bounds."""
    if not value:
        return None
    if value.isdigit():
        return int(value) if not taken else datetime.fromtimestamp(int(value), timezone.utc).strftime(TAKEN_FMT)
    return value if taken else calendar.timegm(datetime.strptime(value, TAKEN_FMT).timetuple())


class FakeFlickr(FakeHTTPServer):
    def __init__(self, api_key: str, photos: list[dict], image_bytes=None):
        super().__init__()
        self.api_key = api_key
        self.photos = photos
        self.calls: list[dict] = []  # every REST call's parameters
        self.image_bytes = image_bytes or (lambda p, size: jpeg(p["id"] + size))
        self.route("/services/rest/", self._rest)
        self.route("/static/", self._static)
        self._by_id = {p["id"]: p for p in photos}
        self._hay: dict[str, str] = {}
        self._sorted: dict[str, tuple] = {}

    def _rest(self, req: Request) -> Reply:
        q = req.query
        self.calls.append(q)
        if q.get("api_key") != self.api_key:
            payload = {"stat": "fail", "code": 100, "message": "Invalid API Key (Key has invalid format)"}
        elif q.get("method") == "flickr.photos.search":
            payload = self._search(q)
        elif q.get("method") == "flickr.photos.licenses.getInfo":
            payload = {"licenses": {"license": FLICKR_LICENCES_JSON}, "stat": "ok"}
        else:
            payload = {"stat": "fail", "code": 112, "message": f"Method \"{q.get('method')}\" not found"}
        text = json.dumps(payload)
        if q.get("format") == "json" and q.get("nojsoncallback") != "1":
            text = f"jsonFlickrApi({text})"
        return Reply(200, text.encode(), {"Content-Type": "application/json; charset=utf-8"})

    def _search(self, q: dict) -> dict:
        bounds = [(name, _date_arg(q.get(bound), taken), bound.startswith("min"))
                  for bound, name, taken in DATE_BOUNDS if q.get(bound)]
        key = "dateupload" if q.get("sort", "").startswith("date-posted") else "datetaken"
        ordered, keys = self._ordered(key)
        lo, hi = 0, len(ordered)
        for name, v, is_min in bounds:  # the sort field's bounds by bisection, the others photo by photo
            if name == key:
                lo, hi = (max(lo, bisect_left(keys, v)), hi) if is_min else (lo, min(hi, bisect_right(keys, v)))
        found = [p for p in ordered[lo:hi] if self._matches(p, q, [b for b in bounds if b[0] != key])]
        if q.get("sort", "").endswith("desc"):
            found.reverse()
        per_page = min(int(q.get("per_page", 100)), 500)
        page = max(1, int(q.get("page", 1)))
        total = len(found)
        reachable = found[:WINDOW]
        last_reachable = max(1, math.ceil(len(reachable) / per_page))
        shown = min(page, last_reachable)  # past the window Flickr repeats its last page
        chunk = reachable[(shown - 1) * per_page: shown * per_page]
        extras = set(filter(None, q.get("extras", "").split(",")))
        return {"photos": {"page": page, "pages": max(1, math.ceil(total / per_page)) if total else 0,
                           "perpage": per_page, "total": total, "photo": [self._json(p, extras) for p in chunk]},
                "stat": "ok"}

    def _ordered(self, key: str):
        if key not in self._sorted:
            ordered = sorted(self.photos, key=lambda p: (p[key], p["id"]))
            self._sorted[key] = (ordered, [p[key] for p in ordered])
        return self._sorted[key]

    def _matches(self, p: dict, q: dict, bounds: list) -> bool:
        for name, v, is_min in bounds:
            if p[name] < v if is_min else p[name] > v:
                return False
        if q.get("text"):
            if p["id"] not in self._hay:
                self._hay[p["id"]] = " ".join([p["title"], p["description"], *p["tags"]]).lower()
            hay = self._hay[p["id"]]
            if not all(w in hay for w in q["text"].lower().split()):
                return False
        if q.get("tags"):
            wanted = [t.strip().lower() for t in q["tags"].split(",") if t.strip()]
            have = set(p["tags"])
            if not (all if q.get("tag_mode") == "all" else any)(t in have for t in wanted):
                return False
        if q.get("license") and str(p["license"]) not in q["license"].split(","):
            return False
        if q.get("bbox"):
            x0, y0, x1, y1 = map(float, q["bbox"].split(","))
            if not (p["latitude"] or p["longitude"]) or not (x0 <= p["longitude"] <= x1 and y0 <= p["latitude"] <= y1):
                return False
        return True

    def _json(self, p: dict, extras: set) -> dict:
        out = {"id": p["id"], "owner": p["owner"], "secret": p["secret"], "server": p["server"], "farm": p["farm"],
               "title": p["title"], "ispublic": 1, "isfriend": 0, "isfamily": 0}
        if "license" in extras:
            out["license"] = str(p["license"])
        if "description" in extras:
            out["description"] = {"_content": p["description"]}
        if "date_upload" in extras:
            out["dateupload"] = str(p["dateupload"])
        if "date_taken" in extras:
            out.update(datetaken=p["datetaken"], datetakengranularity=0, datetakenunknown="0")
        if "owner_name" in extras:
            out["ownername"] = p["ownername"]
        if "views" in extras:
            out["views"] = str(p["views"])
        if "tags" in extras:
            out["tags"] = " ".join(p["tags"])
        if "machine_tags" in extras:
            out["machine_tags"] = p["machine_tags"]
        if "geo" in extras:
            out.update(latitude=p["latitude"], longitude=p["longitude"], accuracy=16 if p["latitude"] else 0, context=0)
        for size, w in (("o", 64), ("b", 48)):
            if f"url_{size}" in extras:
                out[f"url_{size}"] = self.url(f"/static/{p['server']}/{p['id']}_{p['secret']}_{size}.jpg")
                out[f"width_{size}"], out[f"height_{size}"] = w, w * 2 // 3
        return out

    def _static(self, req: Request) -> Reply:
        name = req.path.rsplit("/", 1)[-1]
        pid, _, rest = name.partition("_")
        photo = self._by_id.get(pid)
        if photo is None:
            return Reply(404, b"<html>Not found</html>", {"Content-Type": "text/html"})
        return Reply(200, self.image_bytes(photo, rest), {"Content-Type": "image/jpeg"})


# --- Unsplash-style image CDN -----------------------------------------------------------------------

class FakeImageCDN(FakeHTTPServer):
    """``/photo-<id>?w=N`` answers a JPEG N pixels wide (2,000 without ``w``, like an original)."""

    ORIGINAL_WIDTH = 2000

    def __init__(self, delay_s: float = 0.0):
        super().__init__()
        self.files: dict[str, bytes] = {}
        self.delay_s = delay_s
        self._cache: dict = {}
        self.route("/photo-", self._image)
        self.route("/files/", lambda req: Reply(200, self.files[req.path]) if req.path in self.files else Reply(404))

    def _image(self, req: Request) -> Reply:
        if self.delay_s:
            time.sleep(self.delay_s)
        w = int(req.query.get("w", self.ORIGINAL_WIDTH))
        key = (req.path, w)
        if key not in self._cache:
            self._cache[key] = jpeg(req.path, w, max(1, w * 2 // 3))
        return Reply(200, self._cache[key], {"Content-Type": "image/jpeg"})


class FakeTime:
    """A clock and a sleep for injection: sleeping only advances the clock and is recorded."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
