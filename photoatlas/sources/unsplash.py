"""Photos of the Unsplash dataset (Lite or Full): rows of ``photos.tsv*``, images from Unsplash's CDN.

The dataset is a folder, one TSV file, a zip of the release, or a URL of any of the files (fetched
once into a cache folder). Images are asked for at ``width`` pixels (the CDN resizes on ``w=``);
the full original only if ``width`` is None. The cursor is the row offset plus the last photo id:
if a new release shifted the rows, the id realigns the offset instead of taking photos twice.
"""

import copy
import csv
import hashlib
import io
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator

from photoatlas.ingest import Arrival
from photoatlas.sources.base import Failure, Source, download_image
from photoatlas.sources.http import HttpClient, with_params
from photoatlas.sources.meta import clean_meta, utcnow

DEFAULT_WIDTH_PX = 1080  # Unsplash's own "regular" size: plenty for palettes, hashes and labels
DEFAULT_BATCH = 1000
DATASET_MAX_BYTES = 8 * 1024**3  # the Full release's photos files are a few GB
UNSPLASH_LICENCE = ("Unsplash License", "https://unsplash.com/license")
ROW_FIELDS = (
    "photo_id", "photo_url", "photo_image_url", "photo_submitted_at", "photo_width", "photo_height",
    "photo_description", "photographer_username", "photographer_first_name", "photographer_last_name",
    "exif_camera_make", "exif_camera_model", "photo_location_name", "photo_location_latitude",
    "photo_location_longitude", "photo_location_country", "photo_location_city", "ai_description",
)


class CursorMismatch(ValueError):
    """The cursor's last photo is not in this dataset: resuming would guess."""


class UnsplashLiteSource(Source):
    name = "unsplash"

    def __init__(self, dataset: str | Path, width: int | None = DEFAULT_WIDTH_PX, http: HttpClient | None = None,
                 max_workers: int = 4, cache_dir: Path | None = None, clock=utcnow, batch: int = DEFAULT_BATCH,
                 image_params: dict | None = None):
        self.dataset = str(dataset)
        self.width = width
        self.http = http or HttpClient()
        self.max_workers = max_workers
        self.cache_dir = Path(cache_dir or Path(tempfile.gettempdir()) / "photoatlas-unsplash")
        self._clock = clock
        self.batch = batch
        self.image_params = dict(image_params or {})  # e.g. {"fm": "jpg", "q": 85}

    # --- the dataset ---------------------------------------------------------------------------

    def _local(self) -> Path:
        if "://" not in self.dataset:
            return Path(self.dataset)
        name = self.dataset.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "photos.tsv000"
        digest = hashlib.sha256(self.dataset.encode()).hexdigest()[:12]
        path = self.cache_dir / digest / name
        if not path.exists():
            self.http.download(self.dataset, path, max_bytes=DATASET_MAX_BYTES)
        return path

    def _texts(self) -> Iterator[io.TextIOBase]:
        path = self._local()
        if path.is_dir():
            files = sorted(p for p in path.glob("photos.tsv*") if p.is_file() and not p.name.endswith(".part"))
            if not files:
                raise FileNotFoundError(f"no photos.tsv* in {path}")
            for f in files:
                with open(f, encoding="utf-8", newline="") as fh:
                    yield fh
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = sorted(n for n in zf.namelist() if n.rsplit("/", 1)[-1].startswith("photos.tsv"))
                if not names:
                    raise FileNotFoundError(f"no photos.tsv* in {path}")
                for n in names:
                    with zf.open(n) as raw:
                        yield io.TextIOWrapper(raw, encoding="utf-8", newline="")
        else:
            with open(path, encoding="utf-8", newline="") as fh:
                yield fh

    def rows(self) -> Iterator[dict]:
        """Every row of every photos file, in file order (each file has its own header)."""
        csv.field_size_limit(sys.maxsize)
        for text in self._texts():
            yield from csv.DictReader(text, delimiter="\t")

    # --- listing and fetching ------------------------------------------------------------------

    def list_new(self, cursor: dict, limit: int | None = None) -> tuple[list[dict], dict]:
        state = copy.deepcopy(cursor) if cursor else {}
        start, last_id = int(state.get("row", 0)), state.get("last_id")
        room = self.batch if limit is None else limit
        items = self._read(start, last_id, room)
        if items is None:  # the row before the offset is not the cursor's photo: find where it went
            start = self._realign(last_id)
            items = self._read(start, None, room)
        if items:
            return items, {"row": items[-1]["_row"] + 1, "last_id": items[-1].get("photo_id")}
        return items, {"row": start, "last_id": last_id}

    def _read(self, start: int, last_id: str | None, room: int) -> list[dict] | None:
        """Up to ``room`` items from row ``start``; None if row ``start - 1`` is not ``last_id``."""
        items, checked = [], not (start and last_id)
        for i, row in enumerate(self.rows()):
            if i < start:
                if i == start - 1 and last_id:
                    if row.get("photo_id") != last_id:
                        return None
                    checked = True
                continue
            if len(items) >= room:
                break
            items.append({"_row": i, **{k: row.get(k) for k in ROW_FIELDS if row.get(k) not in (None, "")}})
        return items if checked else None

    def _realign(self, last_id: str) -> int:
        for i, row in enumerate(self.rows()):
            if row.get("photo_id") == last_id:
                return i + 1
        raise CursorMismatch(f"photo {last_id!r} of the cursor is not in {self.dataset}")

    def item_id(self, item: dict) -> str:
        return item.get("photo_id") or f"row-{item.get('_row')}"

    def image_url(self, item: dict) -> str | None:
        base = item.get("photo_image_url")
        if not base:
            return None
        params = dict(self.image_params)
        if self.width:
            params["w"] = int(self.width)
        return with_params(base, **params) if params else base

    def fetch(self, item: dict) -> Arrival | Failure:
        pid = self.item_id(item)
        if not item.get("photo_id"):
            return Failure(self.name, pid, "missing_photo_id", "the row has no photo_id")
        url = self.image_url(item)
        if not url:
            return Failure(self.name, pid, "missing_image_url", "the row has no photo_image_url")
        data = download_image(self.http, url, self.name, pid)
        if isinstance(data, Failure):
            return data
        meta, warnings = row_meta(item)
        meta["image_url"] = url
        return Arrival(self.name, pid, f"{pid}.jpg", self._clock(), read=lambda: data, size=len(data),
                       meta=meta, warnings=warnings)


def row_meta(row: dict) -> tuple[dict, list[str]]:
    """ingest's meta from one photos.tsv row (the dataset has no taken date; submitted_at is the upload)."""
    name = " ".join(x for x in (row.get("photographer_first_name"), row.get("photographer_last_name")) if x)
    raw = {
        "description": row.get("photo_description") or row.get("ai_description"),
        "owner": name or row.get("photographer_username"),
        "owner_id": row.get("photographer_username"),
        "licence": UNSPLASH_LICENCE[0],
        "licence_url": UNSPLASH_LICENCE[1],
        "lat": row.get("photo_location_latitude"),
        "lon": row.get("photo_location_longitude"),
        "url": row.get("photo_url"),
        "submitted_at": row.get("photo_submitted_at"),
        "ai_description": row.get("ai_description"),
        "camera_make": row.get("exif_camera_make"),
        "camera_model": row.get("exif_camera_model"),
        "location_name": row.get("photo_location_name"),
        "location_country": row.get("photo_location_country"),
        "location_city": row.get("photo_location_city"),
        "dataset_row": row.get("_row"),
    }
    return clean_meta(raw)
