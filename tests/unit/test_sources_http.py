"""The shared HTTP GET against a local server: retries, Retry-After, size limits, truncation, timeouts."""

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from photoatlas.sources.http import HttpClient, HttpError, HttpPolicy, parse_retry_after, redact_url, with_params
from photoatlas.sources.ratelimit import TokenBucket
from tests.servers.http_fakes import FakeHTTPServer, FakeTime, Reply, jpeg

FAST = HttpPolicy(connect_timeout_s=2, read_timeout_s=0.3, total_timeout_s=5, max_attempts=3, backoff_base_s=0.5)
PHOTO = jpeg("p", 40, 30)


@pytest.fixture(scope="module")
def server():
    with FakeHTTPServer() as s:
        s.route("/ok", lambda req: Reply(200, PHOTO, {"Content-Type": "image/jpeg"}))
        yield s


@pytest.fixture
def time_():
    return FakeTime()


@pytest.fixture
def client(time_):
    return HttpClient(FAST, sleep=time_.sleep, rng=random.Random(7))


def test_plain_get_returns_the_body(server, client):
    resp = client.get(server.url("/ok"))
    assert resp.status == 200 and resp.body == PHOTO and client.attempts == 1


def test_5xx_then_success_backs_off_with_jitter(server, client, time_):
    server.script("/flaky", Reply(503, b"busy"), Reply(500, b"oops"), Reply(200, PHOTO))
    assert client.get(server.url("/flaky")).body == PHOTO
    assert client.attempts == 3
    first, second = time_.sleeps
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0  # equal jitter around 0.5 s, then 1 s


def test_429_honours_retry_after_seconds(server, client, time_):
    server.script("/limited", Reply(429, b"slow down", {"Retry-After": "7"}), Reply(200, PHOTO))
    assert client.get(server.url("/limited")).body == PHOTO
    assert time_.sleeps == [7.0]


def test_retry_after_longer_than_we_wait_fails_retryable_without_sleeping(server, client, time_):
    server.script("/closed", Reply(429, b"", {"Retry-After": "3600"}))
    with pytest.raises(HttpError) as e:
        client.get(server.url("/closed"))
    assert e.value.code == "http_429" and e.value.retryable and "Retry-After 3600" in e.value.detail
    assert time_.sleeps == []


def test_retry_after_http_date():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp()) == pytest.approx(30)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_404_is_final_after_one_attempt(server, client, time_):
    with pytest.raises(HttpError) as e:
        client.get(server.url("/missing.jpg"))
    assert (e.value.code, e.value.retryable, e.value.status) == ("http_404", False, 404)
    assert client.attempts == 1 and time_.sleeps == []


def test_persistent_5xx_gives_up_after_max_attempts(server, client, time_):
    server.script("/down", *[Reply(502, b"bad gateway")] * 3)
    with pytest.raises(HttpError) as e:
        client.get(server.url("/down"))
    assert e.value.code == "http_502" and e.value.retryable and "after 3 attempts" in e.value.detail
    assert client.attempts == 3 and len(time_.sleeps) == 2


def test_truncated_body_is_detected_and_retried(server, client):
    server.script("/cut.jpg", Reply(200, PHOTO, cut_after=100), Reply(200, PHOTO))
    assert client.get(server.url("/cut.jpg")).body == PHOTO
    server.script("/cut2.jpg", *[Reply(200, PHOTO, cut_after=100)] * 3)
    with pytest.raises(HttpError) as e:
        client.get(server.url("/cut2.jpg"))
    assert e.value.code == "truncated" and e.value.retryable


def test_huge_content_length_is_refused_before_reading(server, time_):
    client = HttpClient(FAST, sleep=time_.sleep)
    server.script("/huge.jpg", Reply(200, PHOTO, content_length=10 * 1024**3))
    with pytest.raises(HttpError) as e:
        client.get(server.url("/huge.jpg"), max_bytes=1024 * 1024)
    assert e.value.code == "too_large" and not e.value.retryable
    assert "Content-Length 10737418240" in e.value.detail and client.attempts == 1


def test_body_without_length_is_cut_off_at_the_limit(server, client):
    server.script("/stream.jpg", Reply(200, PHOTO * 50, content_length=None, chunked=True))
    with pytest.raises(HttpError) as e:
        client.get(server.url("/stream.jpg"), max_bytes=len(PHOTO) * 10)
    assert e.value.code == "too_large" and "passed the limit" in e.value.detail
    server.script("/stream-ok.jpg", Reply(200, PHOTO, content_length=None, chunked=True))
    assert client.get(server.url("/stream-ok.jpg")).body == PHOTO


def test_stalled_body_times_out_then_the_retry_succeeds(server, client):
    server.script("/slow.jpg", Reply(200, PHOTO, pause_after=50, pause_s=1.0), Reply(200, PHOTO))
    assert client.get(server.url("/slow.jpg")).body == PHOTO
    assert client.attempts == 2


def test_trickling_body_hits_the_total_deadline(server, time_):
    policy = HttpPolicy(read_timeout_s=1, total_timeout_s=0.3, max_attempts=1)
    client = HttpClient(policy, sleep=time_.sleep)
    server.script("/trickle.jpg", Reply(200, PHOTO, trickle=(64, 0.05)))
    with pytest.raises(HttpError) as e:
        client.get(server.url("/trickle.jpg"))
    assert e.value.code == "timeout" and "over 0.3 s" in e.value.detail and e.value.retryable


def test_connection_refused_is_retryable(time_):
    from tests.servers._proc import free_port

    client = HttpClient(FAST, sleep=time_.sleep)
    with pytest.raises(HttpError) as e:
        client.get(f"http://127.0.0.1:{free_port()}/x.jpg")
    assert e.value.code == "connection" and e.value.retryable and client.attempts == FAST.max_attempts


def test_error_details_never_show_the_api_key(server, client):
    with pytest.raises(HttpError) as e:
        client.get(server.url("/nothing"), params={"api_key": "s3cr3t-key", "page": 2})
    assert "s3cr3t-key" not in str(e.value) and "api_key=***" in e.value.detail
    assert redact_url("http://h/p?api_key=k&sig=z&w=5") == "http://h/p?api_key=***&sig=***&w=5"


def test_with_params_replaces_and_appends():
    assert with_params("https://images.unsplash.com/photo-1?ixid=abc&w=4000", w=640) == \
        "https://images.unsplash.com/photo-1?ixid=abc&w=640"
    assert with_params("https://images.unsplash.com/photo-1", w=640) == "https://images.unsplash.com/photo-1?w=640"


def test_token_bucket_never_passes_the_hourly_limit():
    t = FakeTime(0.0)
    bucket = TokenBucket.per_hour(3600, burst=10, clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(3700):
        bucket.acquire()
        starts.append(t.now)
    assert starts[9] == 0.0 and starts[10] > 0  # the burst is immediate, then it waits
    for i in range(len(starts) - 3600):  # any 3,601 consecutive calls span more than an hour
        assert starts[i + 3600] - starts[i] >= 3600


def test_rate_limiter_is_paid_per_attempt(server, time_):
    t = FakeTime(0.0)
    bucket = TokenBucket(rate_per_s=2.0, capacity=1, clock=t.clock, sleep=t.sleep)
    client = HttpClient(FAST, limiter=bucket, sleep=time_.sleep)
    server.script("/api", Reply(503), Reply(200, b"{}"))
    client.get(server.url("/api"))
    client.get(server.url("/ok"))
    assert t.sleeps == [0.5, 0.5]  # three requests at 2 per second: two waits of half a second
