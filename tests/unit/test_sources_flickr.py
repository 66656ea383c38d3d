"""The Flickr source against a local server speaking flickr.photos.search in JSON."""

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from photoatlas.ingest import ingest
from photoatlas.lake import LocalLake
from photoatlas.sources import collect, failures_table
from photoatlas.sources.flickr import FlickrSource
from photoatlas.sources.flickr_api import MAX_RESULTS_WINDOW, FlickrAPIError, FlickrClient, FlickrCredentials
from photoatlas.sources.flickr_query import FlickrQuery, Variant
from photoatlas.sources.http import HttpClient, HttpPolicy
from photoatlas.sources.pulling import CursorFile, pull
from photoatlas.sources.ratelimit import TokenBucket
from tests.servers.http_fakes import FakeFlickr, FakeTime, Reply, flickr_corpus

KEY = "test-key-0123456789abcdef"
T0 = datetime(2020, 1, 1)
YEAR = timedelta(days=366)
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)
FAST = HttpPolicy(connect_timeout_s=2, read_timeout_s=0.5, total_timeout_s=5, max_attempts=3)
WORDS = ("lighthouse", "phare", "leuchtturm", "harbour")


@pytest.fixture(scope="module")
def big():
    """4,400 photos over 2020, every one matching 'sea' (so one search's total is over 4,000)."""
    with FakeFlickr(KEY, flickr_corpus(4400, T0, YEAR, WORDS)) as server:
        yield server


@pytest.fixture
def small():
    with FakeFlickr(KEY, flickr_corpus(40, T0, YEAR, WORDS, seed="s")) as server:
        yield server


def make_source(server, query, time_=None, bucket=None, **kw) -> FlickrSource:
    time_ = time_ or FakeTime()
    api_http = HttpClient(FAST, limiter=bucket, sleep=time_.sleep, rng=random.Random(1))
    client = FlickrClient(FlickrCredentials(KEY), base_url=server.url("/services/rest/"), http=api_http,
                          sleep=time_.sleep)
    return FlickrSource(query, client=client, cdn=HttpClient(FAST, sleep=time_.sleep), clock=lambda: NOW, **kw)


def drain(server, query, limit, **kw) -> tuple[list[str], list[dict]]:
    """List everything in chunks of ``limit``, with a fresh source and a JSON round trip of the cursor each time."""
    ids, cursors, cursor = [], [], {}
    for _ in range(1000):
        items, cursor = make_source(server, query, **kw).list_new(json.loads(json.dumps(cursor)), limit)
        cursors.append(cursor)
        if not items:
            return ids, cursors
        ids += [i["id"] for i in items]
    raise AssertionError("never finished")


def test_credentials_only_from_the_environment(monkeypatch):
    monkeypatch.delenv("FLICKR_API_KEY", raising=False)
    with pytest.raises(RuntimeError, match="FLICKR_API_KEY"):
        FlickrCredentials.from_env()
    monkeypatch.setenv("FLICKR_API_KEY", "k-from-env")
    monkeypatch.setenv("FLICKR_API_SECRET", "s-from-env")
    creds = FlickrCredentials.from_env()
    assert (creds.api_key, creds.api_secret) == ("k-from-env", "s-from-env")
    assert "k-from-env" not in repr(creds) and "s-from-env" not in repr(creds)


def test_search_sends_the_documented_parameters(small):
    query = FlickrQuery(since=T0, until=T0 + YEAR, text="sea", bbox=(-5.0, 47.0, -3.0, 49.5), per_page=100)
    make_source(small, query).list_new({}, 5)
    call = next(c for c in small.calls if c["method"] == "flickr.photos.search")
    assert call["format"] == "json" and call["nojsoncallback"] == "1" and call["api_key"] == KEY
    assert set(call["extras"].split(",")) >= {"owner_name", "geo", "date_taken", "date_upload", "tags", "views",
                                                "machine_tags", "license", "url_o", "url_b"}
    assert call["sort"] == "date-taken-asc" and call["bbox"] == "-5.0,47.0,-3.0,49.5"
    assert call["min_taken_date"] == "2020-01-01 00:00:00" and call["max_taken_date"] == "2021-01-01 00:00:00"


def test_past_the_4000_window_by_bisecting_the_date_range(big):
    query = FlickrQuery(since=T0, until=T0 + YEAR, text="sea", per_page=500)
    source = make_source(big, query)
    items, cursor = source.list_new({}, limit=100_000)
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == 4400, "every photo once, none lost behind the window"
    assert source.stats["slices_split"] >= 1
    searches = [c for c in big.calls if c["method"] == "flickr.photos.search"]
    assert all(int(c["page"]) * int(c["per_page"]) <= MAX_RESULTS_WINDOW for c in searches)
    assert cursor["current"] is None and cursor["pending"] == [] and cursor["seen"] == {}
    taken = [i["datetaken"] for i in items]
    assert taken == sorted(taken), "slices are walked in date order"


def test_resuming_in_small_chunks_never_duplicates_or_skips(big):
    query = FlickrQuery(since=T0, until=T0 + YEAR, text="sea", per_page=500)
    ids, cursors = drain(big, query, limit=1111)
    assert len(ids) == len(set(ids)) == len(big.photos)
    assert any(len(c["pending"]) > 0 for c in cursors), "the chunks cross bisected slices"
    assert max(len(json.dumps(c)) for c in cursors) < 200_000, "the cursor stays bounded by one slice"


def test_an_explicit_licence_list_is_sent_and_enforced(small):
    query = FlickrQuery(since=T0, until=T0 + YEAR, text="sea", licences=(4, 9))
    items, _ = make_source(small, query).list_new({}, 100)
    assert small.calls[-1]["license"] == "4,9"
    assert items and {i["license"] for i in items} == {"4", "9"}


def test_language_variants_are_one_query_deduplicated_by_photo_id(small):
    query = FlickrQuery(since=T0, until=T0 + YEAR, variants=(Variant("en", "lighthouse"), Variant("fr", "phare"),
                                                             Variant("de", tags=("leuchtturm",))))
    ids, _ = drain(small, query, limit=7)
    expected = {p["id"] for p in small.photos if {"lighthouse", "phare", "leuchtturm"} & set(p["tags"])}
    assert len(ids) == len(set(ids)) and set(ids) == expected
    both = [p for p in small.photos if {"lighthouse", "phare"} <= set(p["tags"])]
    assert both, "the corpus has photos both variants find"
    variants = {c.get("text") or c.get("tags") for c in small.calls if c["method"] == "flickr.photos.search"}
    assert variants == {"lighthouse", "phare", "leuchtturm"}


def test_open_licences_only_and_a_licence_on_every_photo(small):
    query = FlickrQuery(since=T0, until=T0 + YEAR, text="sea", open_only=True)
    batch = collect(make_source(small, query), {})
    assert batch.failures == []
    search = next(c for c in small.calls if c["method"] == "flickr.photos.search")
    assert search["license"] == "4,5,7,8,9,10,11"  # from the live licence table, CC BY 4.0 included
    labels = {a.meta["licence"] for a in batch.arrivals}
    assert labels <= {"CC BY 2.0", "CC BY-SA 2.0", "No known copyright restrictions", "United States Government Work",
                      "CC0 1.0", "Public Domain Mark 1.0", "CC BY 4.0"}
    assert all(a.meta["licence_url"] or a.meta["licence_id"] in ("7", "8") for a in batch.arrivals)
    assert all(a.meta["licence_open"] for a in batch.arrivals)


def test_arrivals_carry_the_photo_metadata(small):
    query = FlickrQuery(since=T0, until=T0 + YEAR, text="sea")
    batch = collect(make_source(small, query), {}, limit=4)
    a = batch.arrivals[1]  # corpus photo 1: geotagged
    p = small.photos[1]
    assert a.source == "flickr" and a.source_id == p["id"] and a.arrived_at == NOW
    assert a.read()[:3] == b"\xff\xd8\xff" and a.size == len(a.read())
    m = a.meta
    assert (m["title"], m["owner"], m["owner_id"]) == (p["title"], p["ownername"], p["owner"])
    assert m["tags"] == p["tags"] and m["description"] == p["description"]
    assert (m["lat"], m["lon"]) == (p["latitude"], p["longitude"])
    assert m["taken_at"] == p["datetaken"].replace(" ", "T")
    assert m["url"] == f"https://www.flickr.com/photos/{p['owner']}/{p['id']}/"
    assert m["image_url"].endswith("_b.jpg"), "1024 px before the original by default"
    assert (m["licence"], m["licence_url"], m["licence_open"]) == \
        ("CC BY-NC-SA 2.0", "https://creativecommons.org/licenses/by-nc-sa/2.0/", False)
    assert "lat" not in batch.arrivals[0].meta, "0,0 from Flickr means no location"


def test_bad_downloads_are_failures_with_reasons_then_retried(small, tmp_path, cipher):
    query = FlickrQuery(since=T0, until=T0 + YEAR, text="sea")
    source = make_source(small, query)
    items, _ = make_source(small, query).list_new({}, 6)
    paths = [i["url_b"].split(str(small._httpd.server_address[1]), 1)[1] for i in items]
    small.script(paths[0], Reply(404, b"<html>gone</html>"))
    small.script(paths[1], Reply(200, b"<!DOCTYPE html><html>Flickr is down</html>"))
    small.script(paths[2], *[Reply(200, b"\xff\xd8\xff" + b"\0" * 5000, cut_after=300)] * 3)
    small.script(paths[3], Reply(200, b"\xff\xd8\xff", content_length=300 * 1024**2))
    small.script(paths[4], *[Reply(503, b"busy")] * 3)
    batch = collect(source, {}, limit=6)
    codes = {f.source_id: f.code for f in batch.failures}
    assert codes == {items[0]["id"]: "http_404", items[1]["id"]: "not_image", items[2]["id"]: "truncated",
                     items[3]["id"]: "too_large", items[4]["id"]: "http_503"}
    assert "HTML page" in next(f.reason for f in batch.failures if f.code == "not_image")
    assert batch.counts()["failures"] == 5 and len(batch.arrivals) == 1
    assert sorted(r["item"]["id"] for r in batch.cursor["retry"]) == sorted([items[2]["id"], items[4]["id"]])

    # hand-over: arrivals through ingest, failures as ingest-error rows
    lake = LocalLake(tmp_path / "lake")
    result = ingest(lake, "2026-03-01-10:00", batch.arrivals, cipher)
    assert result.manifest.num_rows == 1
    assert failures_table("2026-03-01-10:00", batch.failures).num_rows == 5

    again = collect(make_source(small, query), batch.cursor, limit=6)  # the CDN recovered
    assert {a.source_id for a in again.arrivals} >= {items[2]["id"], items[4]["id"]}
    assert "retry" not in again.cursor


def test_api_429_and_service_unavailable_are_retried(small):
    time_ = FakeTime()
    unavailable = {"stat": "fail", "code": 105, "message": "Service currently unavailable"}
    small.script("/services/rest/", Reply(429, b"", {"Retry-After": "2"}), Reply(200, json.dumps(unavailable).encode()))
    query = FlickrQuery(since=T0, until=T0 + YEAR, text="sea")
    items, _ = make_source(small, query, time_=time_).list_new({}, 3)
    assert len(items) == 3 and time_.sleeps[0] == 2.0 and len(time_.sleeps) == 2


def test_a_bad_api_key_fails_loudly(small):
    client = FlickrClient(FlickrCredentials("wrong"), base_url=small.url("/services/rest/"), http=HttpClient(FAST))
    with pytest.raises(FlickrAPIError) as e:
        client.search({"text": "sea"})
    assert e.value.code == 100 and not e.value.retryable


def test_calls_are_paced_by_the_hourly_budget(small):
    t = FakeTime(0.0)
    bucket = TokenBucket.per_hour(3600, burst=2, clock=t.clock, sleep=t.sleep)
    query = FlickrQuery(since=T0, until=T0 + YEAR, text="sea", per_page=4)
    make_source(small, query, bucket=bucket).list_new({}, limit=1000)
    api_calls = len(small.calls)  # the licence table is not asked for: no open_only
    assert api_calls == 10
    assert t.now == pytest.approx((api_calls - 2) / ((3600 - 2) / 3600)), "one call a second after the burst"


def test_a_cursor_from_another_query_is_refused(small):
    _, cursor = make_source(small, FlickrQuery(since=T0, until=T0 + YEAR, text="sea")).list_new({}, 2)
    with pytest.raises(ValueError, match="another Flickr query"):
        make_source(small, FlickrQuery(since=T0, until=T0 + YEAR, text="boats")).list_new(cursor, 2)


def test_open_ended_upload_feed_follows_the_clock(small):
    query = FlickrQuery(since=T0, date_field="upload", text="sea", settle_s=3600)
    uploads = sorted(p["dateupload"] for p in small.photos)
    cut = datetime.fromtimestamp(uploads[20], timezone.utc)
    src = make_source(small, query)
    src._clock = lambda: cut + timedelta(seconds=3600)  # the feed stops an hour behind the clock
    items, cursor = src.list_new({}, 1000)
    assert len(items) == 21 and cursor["done_until"] == uploads[20]
    src._clock = lambda: NOW
    more, cursor = src.list_new(cursor, 1000)
    assert len(more) == 19 and not ({i["id"] for i in items} & {i["id"] for i in more})
    none, _ = src.list_new(cursor, 1000)
    assert none == []


def test_an_open_ended_query_stops_at_each_calls_horizon(tmp_path):
    """Listing takes time; an open-ended query must not keep chasing the clock within one call."""
    now = NOW.replace(month=6)  # after the corpus below
    ticks = []

    def slow_clock():  # every look at the clock is 30 s later, as if each API call took that long
        ticks.append(1)
        assert len(ticks) < 500, "the listing keeps chasing the clock"
        return now + timedelta(seconds=30 * len(ticks))

    policy, fake_time = HttpPolicy(connect_timeout_s=2, read_timeout_s=1, total_timeout_s=5), FakeTime()
    with FakeFlickr("k", flickr_corpus(12, datetime(2026, 5, 1), timedelta(days=20))) as server:
        client = FlickrClient(FlickrCredentials("k"), base_url=server.url("/services/rest/"),
                              http=HttpClient(policy, sleep=fake_time.sleep, rng=random.Random(1)), sleep=fake_time.sleep)
        source = FlickrSource(FlickrQuery(since=datetime(2026, 4, 1), text="lighthouse"), client=client,
                              cdn=HttpClient(policy), clock=slow_clock)
        report = pull(source, CursorFile(tmp_path / "c", "flickr", "q"), tmp_path / "inbox", chunk=5)
    assert report.up_to_date and report.landed == 12 and report.error is None
