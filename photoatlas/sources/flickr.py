"""Flickr photos for one logical query, in every language variant, past the 4,000-result window.

Flickr serves at most 4,000 results of one search, so the date range (taken or upload date) is
walked as a list of slices: a slice whose ``total`` is over the window is bisected, lazily, the
first time it is searched. Within a slice each language variant is paged in date order; a photo
already taken (by id) is skipped, so variants and shifting pages never yield it twice. The
cursor holds the slices still to do, the page in progress, and the ids seen in the current slice
(pruned to that slice's dates, so it stays bounded). An open-ended query (``until=None``) keeps
adding a slice from where it stopped up to the clock — use ``date_field="upload"`` for a feed.
The query itself (``FlickrQuery``, its language ``Variant``s, ``from_dict``) is in ``flickr_query``.
"""

import calendar
import copy
import os
import posixpath
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from photoatlas.ingest import Arrival
from photoatlas.sources.base import Failure, Source, download_image
from photoatlas.sources.flickr_api import FLICKR_REST_URL, MAX_RESULTS_WINDOW, FlickrClient, FlickrCredentials
from photoatlas.sources.flickr_query import FlickrQuery, Variant
from photoatlas.sources.http import HttpClient
from photoatlas.sources.licences import licence_meta
from photoatlas.sources.meta import clean_meta, utcnow

TAKEN_FORMAT = "%Y-%m-%d %H:%M:%S"  # Flickr's taken dates: the camera's wall clock, no zone
DEFAULT_BATCH = 500
REST_URL_ENV = "PHOTOATLAS_FLICKR_REST_URL"  # another REST endpoint: a proxy, or a local server in tests


class FlickrSource(Source):
    name = "flickr"

    def __init__(self, query: FlickrQuery, client: FlickrClient | None = None, cdn: HttpClient | None = None,
                 base_url: str | None = None, max_workers: int = 4, clock=utcnow, batch: int = DEFAULT_BATCH):
        self.query = query
        base_url = base_url or os.environ.get(REST_URL_ENV) or FLICKR_REST_URL
        self.client = client or FlickrClient(FlickrCredentials.from_env(), base_url=base_url)
        self.cdn = cdn or HttpClient()
        self.max_workers = max_workers
        self._clock = clock
        self.batch = batch
        self._licences = None
        self._licences_lock = threading.Lock()
        self.stats: Counter = Counter()

    # --- listing -------------------------------------------------------------------------------

    def licence_table(self):
        """Flickr's live licence table, asked for once per source (fetch threads share it)."""
        with self._licences_lock:
            if self._licences is None:
                self._licences = self.client.licences()
        return self._licences

    def allowed_licences(self) -> set[int] | None:
        allowed = set(self.query.licences) if self.query.licences is not None else None
        if self.query.open_only:
            open_ids = {i for i, lic in self.licence_table().items() if lic.is_open}
            allowed = open_ids if allowed is None else allowed & open_ids
        return allowed

    def list_new(self, cursor: dict, limit: int | None = None) -> tuple[list[dict], dict]:
        q, variants = self.query, self.query.variant_list()
        state = copy.deepcopy(cursor) if cursor else {}
        fp = q.fingerprint()
        if state and state.get("query") != fp:
            raise ValueError(f"this cursor belongs to another Flickr query ({state.get('query')} != {fp})")
        if not state:
            state = {"query": fp, "pending": [], "current": None, "seen": {}, "done_until": self._sec(q.since) - 1}
        allowed = self.allowed_licences()
        room = self.batch if limit is None else limit
        horizon = self._horizon()  # once per call: slow calls must not chase a moving clock forever
        items: list[dict] = []
        while len(items) < room:
            cur = state["current"]
            if cur is None:
                if not state["pending"] and not self._extend(state, horizon):
                    break
                a, b, v = state["pending"].pop(0)
                cur = state["current"] = {"range": [a, b], "variant": v, "page": 1}
                state["seen"] = {pid: t for pid, t in state["seen"].items() if a <= t <= b}
            (a, b), v, page_no = cur["range"], cur["variant"], cur["page"]
            page = self.client.search(self._params(variants[v], a, b, allowed), page_no, q.per_page)
            self.stats["pages"] += 1
            if page.total > MAX_RESULTS_WINDOW:
                if b > a:  # too many for one search: bisect and come back to both halves
                    mid = (a + b) // 2
                    state["pending"][:0] = [[a, mid, v], [mid + 1, b, v]]
                    state["current"] = None
                    self.stats["slices_split"] += 1
                    continue
                self.stats["unsplittable_slices"] += 1  # > 4,000 photos in one second: only 4,000 reachable
            fresh = []
            for photo in page.photos:
                pid = str(photo.get("id"))
                if pid in state["seen"]:
                    continue
                if allowed is not None and _int(photo.get("license")) not in allowed:
                    self.stats["skipped_licence"] += 1
                    state["seen"][pid] = self._photo_sec(photo)
                    continue
                fresh.append(photo)
            take = fresh[: room - len(items)]
            for photo in take:
                state["seen"][str(photo["id"])] = self._photo_sec(photo)
                items.append({**photo, "_variant": variants[v].lang})
            if len(take) < len(fresh):
                break  # the rest of this page is for the next call
            last = page_no >= max(page.pages, 1) or not page.photos or page_no * page.per_page >= MAX_RESULTS_WINDOW
            if not last:
                cur["page"] = page_no + 1
            elif v + 1 < len(variants):
                state["current"] = {"range": [a, b], "variant": v + 1, "page": 1}
            else:
                state["current"] = None
                state["done_until"] = max(state["done_until"], b)
                state["seen"] = {}  # later slices hold other dates, hence other photos
        return items, state

    def _horizon(self) -> int:
        """Where the query ends now: its ``until``, or the clock less the settle time for an open one."""
        q = self.query
        return self._sec(q.until) if q.until is not None else self._sec(self._clock() - timedelta(seconds=q.settle_s))

    def _extend(self, state: dict, end: int) -> bool:
        """Queue the next slice: the rest of the query up to ``end`` (the horizon of this call)."""
        if end <= state["done_until"]:
            return False
        state["pending"].append([state["done_until"] + 1, end, 0])
        return True

    def _params(self, variant: Variant, a: int, b: int, allowed: set[int] | None) -> dict:
        q = self.query
        field, sort = ("taken", "date-taken-asc") if q.date_field == "taken" else ("upload", "date-posted-asc")
        params = dict(q.params)
        params.update({
            "text": variant.text or None,
            "tags": ",".join(variant.tags) or None,
            "tag_mode": q.tag_mode if variant.tags else None,
            "bbox": ",".join(str(x) for x in q.bbox) if q.bbox else None,
            "license": ",".join(str(i) for i in sorted(allowed)) if allowed is not None else None,
            "extras": ",".join(q.extras),
            "sort": sort,
            f"min_{field}_date": self._fmt(a),
            f"max_{field}_date": self._fmt(b),
        })
        return params

    def _sec(self, dt: datetime) -> int:
        if self.query.date_field == "taken":  # a wall-clock date: keep its digits, drop any zone
            return calendar.timegm(dt.replace(tzinfo=None).timetuple())
        return int(dt.timestamp()) if dt.tzinfo else calendar.timegm(dt.timetuple())

    def _fmt(self, sec: int) -> str:
        if self.query.date_field == "taken":
            return datetime.fromtimestamp(sec, timezone.utc).strftime(TAKEN_FORMAT)
        return str(sec)

    def _photo_sec(self, photo: dict) -> int:
        try:
            if self.query.date_field == "taken":
                return calendar.timegm(datetime.strptime(photo["datetaken"], TAKEN_FORMAT).timetuple())
            return int(photo["dateupload"])
        except (KeyError, TypeError, ValueError):
            return -1  # undated: forgotten when the slice changes

    # --- fetching ------------------------------------------------------------------------------

    def item_id(self, item: dict) -> str:
        return str(item.get("id"))

    def image_url(self, item: dict) -> str | None:
        for size in self.query.image_sizes:
            if item.get(size):
                return item[size]
        if item.get("server") and item.get("secret"):  # the documented static URL of the 1024 px size
            return f"https://live.staticflickr.com/{item['server']}/{item['id']}_{item['secret']}_b.jpg"
        return None

    def fetch(self, item: dict) -> Arrival | Failure:
        pid = self.item_id(item)
        url = self.image_url(item)
        if not url:
            sizes = ", ".join(self.query.image_sizes)
            return Failure(self.name, pid, "no_image_url", f"none of {sizes} nor server/secret")
        data = download_image(self.cdn, url, self.name, pid)
        if isinstance(data, Failure):
            return data
        meta, warnings = photo_meta(item, self.licence_table())
        meta["image_url"] = url
        name = posixpath.basename(urlsplit(url).path) or f"{pid}.jpg"
        return Arrival(self.name, pid, name, self._clock(), read=lambda: data, size=len(data), meta=meta,
                       warnings=warnings)


def photo_meta(photo: dict, licences) -> tuple[dict, list[str]]:
    """ingest's meta from one flickr.photos.search result (with extras)."""
    desc = photo.get("description")
    owner_id = photo.get("owner")
    raw = {
        "title": photo.get("title"),
        "description": desc.get("_content") if isinstance(desc, dict) else desc,
        "tags": str(photo.get("tags") or "").split(),
        "owner": photo.get("ownername"),
        "owner_id": owner_id,
        "lat": photo.get("latitude"),
        "lon": photo.get("longitude"),
        "url": f"https://www.flickr.com/photos/{owner_id}/{photo.get('id')}/" if owner_id else None,
        "views": _int(photo.get("views")),
        "machine_tags": str(photo.get("machine_tags") or "").split() or None,
        "matched_variant": photo.get("_variant"),
    }
    warnings = []
    if photo.get("datetaken") and str(photo.get("datetakenunknown", "0")) != "1":
        raw["taken_at"] = str(photo["datetaken"]).replace(" ", "T")
        raw["taken_granularity"] = _int(photo.get("datetakengranularity"))
    if _int(photo.get("dateupload")) is not None:
        raw["uploaded_at"] = datetime.fromtimestamp(int(photo["dateupload"]), timezone.utc).isoformat()
    lic, lic_warnings = licence_meta(photo.get("license"), licences)
    raw.update(lic)
    meta, meta_warnings = clean_meta(raw)
    return meta, warnings + lic_warnings + meta_warnings


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
