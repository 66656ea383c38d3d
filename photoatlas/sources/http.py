"""One careful HTTP GET for every source: timeouts, retries with backoff, size and truncation checks.

Retries cover what a later attempt can fix — 408/425/429/5xx, timeouts, dropped connections,
truncated bodies — with exponential backoff and jitter, or exactly what ``Retry-After`` asks
for. Bodies are streamed: a ``Content-Length`` over the limit is refused before reading, a
body without one is cut off once it passes the limit, and a body shorter than its
``Content-Length`` is *truncated*, never a short photo. Sleep, clock and randomness are
injectable so tests run in no time.
"""

import email.utils
import json
import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # a downloaded photo larger than this is refused (ingest's hard cap is 200 MB)
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
SECRET_PARAMS = frozenset({"api_key", "api_secret", "key", "token", "access_token", "secret", "signature", "sig",
                           "api_sig", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "client_id"})
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class HttpPolicy:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0  # longest silence between two reads
    total_timeout_s: float = 300.0  # the whole body, however it trickles
    max_attempts: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 60.0
    max_retry_after_s: float = 300.0  # a server asking for a longer pause gets a failure (retried next run)
    max_bytes: int = DEFAULT_MAX_BYTES
    user_agent: str = "PhotoAtlas/0.1 (+https://github.com/photoatlas)"


class HttpError(Exception):
    def __init__(self, code: str, detail: str, retryable: bool, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.retryable, self.status = code, detail, retryable, status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it did

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass
class HttpResponse:
    url: str
    status: int
    headers: dict
    body: bytes


def redact_url(url: str) -> str:
    """The URL with secret query values (api keys, signatures) replaced, fit for logs and error rows."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def with_params(url: str, **params) -> str:
    """``url`` with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpClient:
    """Thread-safe: one requests.Session per thread. ``limiter`` (a TokenBucket) is paid once per attempt."""

    def __init__(self, policy: HttpPolicy | None = None, limiter=None, sleep=time.sleep, rng=None,
                 clock=time.monotonic):
        self.policy, self.limiter = policy or HttpPolicy(), limiter
        self._sleep, self._clock = sleep, clock
        self._rng = rng or random.Random()
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self.attempts = 0  # every request sent, retries included (for stats and tests)

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def backoff_s(self, attempt: int) -> float:
        """Equal jitter: half the exponential step, plus up to the other half at random."""
        step = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2 ** (attempt - 1))
        return step / 2 + self._rng.uniform(0, step / 2)

    def get(self, url: str, params: dict | None = None, max_bytes: int | None = None,
            accept_encoding: str = "identity") -> HttpResponse:
        """The response body of a 2xx GET; HttpError (with code and retryable) otherwise."""
        return self._with_retries(url, params, max_bytes, accept_encoding, None)

    def download(self, url: str, dest: Path, max_bytes: int | None = None) -> HttpResponse:
        """Stream a 2xx GET into ``dest`` (written beside it, then renamed: never a partial file)."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        try:
            with open(part, "wb") as sink:
                resp = self._with_retries(url, None, max_bytes, "identity", sink)
            os.replace(part, dest)
            return resp
        finally:
            part.unlink(missing_ok=True)

    def _with_retries(self, url, params, max_bytes, accept_encoding, sink) -> HttpResponse:
        p = self.policy
        for attempt in range(1, p.max_attempts + 1):
            try:
                if sink is not None:
                    sink.seek(0)
                    sink.truncate()
                return self._attempt(url, params, max_bytes or p.max_bytes, accept_encoding, sink)
            except HttpError as e:
                if not e.retryable or attempt == p.max_attempts:
                    if e.retryable:
                        e.detail += f" (after {attempt} attempts)"
                    raise
                wait = e.retry_after
                if wait is not None and wait > p.max_retry_after_s:
                    e.detail += f" (Retry-After {wait:.0f} s is over the {p.max_retry_after_s:.0f} s we wait)"
                    raise
                self._sleep(wait if wait is not None else self.backoff_s(attempt))
        raise AssertionError("unreachable")

    def get_json(self, url: str, params: dict | None = None):
        body = self.get(url, params, accept_encoding="gzip, deflate").body
        try:
            return json.loads(body)
        except ValueError as e:
            raise HttpError("bad_json", f"{e} from {redact_url(url)}", retryable=False) from e

    def _attempt(self, url, params, max_bytes, accept_encoding, sink) -> HttpResponse:
        p = self.policy
        if self.limiter is not None:
            self.limiter.acquire()
        with self._count_lock:
            self.attempts += 1
        headers = {"User-Agent": p.user_agent, "Accept-Encoding": accept_encoding}
        try:
            resp = self._session().get(url, params=params, headers=headers, stream=True,
                                       timeout=(p.connect_timeout_s, p.read_timeout_s))
        except requests.RequestException as e:
            raise _from_exception(e, url) from e
        shown = redact_url(resp.url)
        with resp:
            if resp.status_code in RETRY_STATUSES or resp.status_code >= 400:
                raise HttpError(f"http_{resp.status_code}", f"{resp.reason} from {shown}",
                                retryable=resp.status_code in RETRY_STATUSES, status=resp.status_code,
                                retry_after=parse_retry_after(resp.headers.get("Retry-After")))
            declared = _content_length(resp.headers)
            if declared is not None and declared > max_bytes:
                raise HttpError("too_large", f"Content-Length {declared} > limit {max_bytes} bytes from {shown}", False)
            body = bytearray()
            n_bytes = 0
            deadline = self._clock() + p.total_timeout_s
            try:
                for chunk in resp.iter_content(CHUNK_BYTES):
                    n_bytes += len(chunk)
                    if sink is None:
                        body += chunk
                    else:
                        sink.write(chunk)
                    if n_bytes > max_bytes:
                        raise HttpError("too_large", f"body passed the limit of {max_bytes} bytes from {shown}", False)
                    if self._clock() > deadline:
                        raise HttpError("timeout", f"body took over {p.total_timeout_s:g} s from {shown}", True)
            except requests.RequestException as e:
                err = _from_exception(e, resp.url)
                if err.code == "connection" and declared is not None:
                    err = HttpError("truncated", f"got {n_bytes} of {declared} bytes from {shown}", True)
                raise err from e
            received = resp.raw.tell() if resp.headers.get("Content-Encoding") else n_bytes
            if declared is not None and received != declared:
                raise HttpError("truncated", f"got {received} of {declared} bytes from {shown}", True)
            return HttpResponse(resp.url, resp.status_code, dict(resp.headers), bytes(body))


def _content_length(headers) -> int | None:
    try:
        value = int(headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _from_exception(e: requests.RequestException, url: str) -> HttpError:
    shown = redact_url(url)
    text = repr(e)
    if isinstance(e, requests.Timeout) or "ReadTimeoutError" in text or "timed out" in text:
        return HttpError("timeout", f"no data within the timeout from {shown}", True)
    if isinstance(e, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in text:
        return HttpError("truncated", f"connection closed mid-body from {shown}", True)
    if isinstance(e, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                      requests.exceptions.InvalidSchema)):
        return HttpError("bad_url", f"{type(e).__name__} for {shown}", False)
    return HttpError("connection", f"{type(e).__name__} for {shown}", True)
