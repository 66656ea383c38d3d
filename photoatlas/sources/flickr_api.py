"""A small Flickr REST client: flickr.photos.search and flickr.photos.licenses.getInfo, JSON format.

Credentials come from the environment only (FLICKR_API_KEY, FLICKR_API_SECRET). Every API call
pays a token from a bucket sized to Flickr's 3,600 calls an hour; HTTP failures are retried by
the HttpClient, and Flickr's own "try again" errors (stat=fail, code 105/106) here.
"""

import json
import os
import time
from dataclasses import dataclass, field

from photoatlas.sources.http import HttpClient, HttpError
from photoatlas.sources.licences import FLICKR_LICENCES, Licence, parse_licences
from photoatlas.sources.ratelimit import TokenBucket

FLICKR_REST_URL = "https://api.flickr.com/services/rest/"
CALLS_PER_HOUR = 3600  # Flickr's published per-key limit
MAX_RESULTS_WINDOW = 4000  # Flickr serves at most this many results of one search, however it is paged
MAX_PER_PAGE = 500
DEFAULT_EXTRAS = ("description", "owner_name", "geo", "date_taken", "date_upload", "tags", "views", "machine_tags",
                  "license", "url_o", "url_b")
RETRYABLE_API_CODES = {105, 106, 201}  # service unavailable, write failed, API not available


@dataclass(frozen=True)
class FlickrCredentials:
    api_key: str = field(repr=False)
    api_secret: str | None = field(default=None, repr=False)  # for signed calls; public search is unsigned

    @classmethod
    def from_env(cls, environ=os.environ) -> "FlickrCredentials":
        key = environ.get("FLICKR_API_KEY", "").strip()
        if not key:
            raise RuntimeError("FLICKR_API_KEY is not set: the Flickr source needs an API key from the environment")
        return cls(key, environ.get("FLICKR_API_SECRET", "").strip() or None)


class FlickrAPIError(Exception):
    def __init__(self, code: int, message: str, retryable: bool):
        super().__init__(f"Flickr API error {code}: {message}")
        self.code, self.message, self.retryable = code, message, retryable


@dataclass
class SearchPage:
    page: int
    pages: int
    per_page: int
    total: int
    photos: list[dict]


class FlickrClient:
    def __init__(self, credentials: FlickrCredentials, base_url: str = FLICKR_REST_URL, http: HttpClient | None = None,
                 api_attempts: int = 3, sleep=time.sleep):
        """``http`` should carry the rate limiter (it pays per request, retries included);
        the default one holds a bucket of CALLS_PER_HOUR."""
        self.credentials = credentials
        self.base_url = base_url
        self.http = http or HttpClient(limiter=TokenBucket.per_hour(CALLS_PER_HOUR))
        self.api_attempts = api_attempts
        self._sleep = sleep
        self.calls = 0

    def call(self, method: str, **params) -> dict:
        """One API method's JSON payload (stat=ok); FlickrAPIError or HttpError otherwise."""
        query = {"method": method, "api_key": self.credentials.api_key, "format": "json", "nojsoncallback": "1"}
        query.update({k: str(v) for k, v in params.items() if v is not None})
        for attempt in range(1, self.api_attempts + 1):
            self.calls += 1
            body = self.http.get(self.base_url, query, accept_encoding="gzip, deflate").body
            payload = _decode(body)
            if payload.get("stat") == "ok":
                return payload
            code = int(payload.get("code", -1))
            err = FlickrAPIError(code, str(payload.get("message", "")), code in RETRYABLE_API_CODES)
            if not err.retryable or attempt == self.api_attempts:
                raise err
            self._sleep(self.http.backoff_s(attempt))
        raise AssertionError("unreachable")

    def search(self, params: dict, page: int = 1, per_page: int = 250) -> SearchPage:
        payload = self.call("flickr.photos.search", **params, page=page, per_page=min(per_page, MAX_PER_PAGE))
        photos = payload.get("photos") or {}
        return SearchPage(
            page=int(photos.get("page", page)),
            pages=int(photos.get("pages", 0) or 0),
            per_page=int(photos.get("perpage", per_page) or per_page),
            total=int(photos.get("total", 0) or 0),  # an int today, a string in older responses
            photos=list(photos.get("photo") or []),
        )

    def licences(self) -> dict[int, Licence]:
        """The live licence table, falling back to the built-in one if the call fails."""
        try:
            table = parse_licences(self.call("flickr.photos.licenses.getInfo"))
        except (FlickrAPIError, HttpError):
            return dict(FLICKR_LICENCES)
        return {**FLICKR_LICENCES, **table} if table else dict(FLICKR_LICENCES)


def _decode(body: bytes) -> dict:
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("jsonFlickrApi(") and text.endswith(")"):  # JSONP, if nojsoncallback was ignored
        text = text[len("jsonFlickrApi("):-1]
    try:
        payload = json.loads(text)
    except ValueError as e:
        raise HttpError("bad_json", f"Flickr answered with something that is not JSON: {e}", retryable=True) from e
    if not isinstance(payload, dict):
        raise HttpError("bad_json", "Flickr answered with JSON that is not an object", retryable=True)
    return payload
