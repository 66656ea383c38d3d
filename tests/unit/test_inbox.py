import json
import os

from photoatlas import inbox
from photoatlas.partitions import hour_key_from_timestamp

HOUR = 1_780_000_000  # some fixed instant


def _touch(path, data=b"x", at=HOUR):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (at, at))
    return path


def test_scan_skips_sidecars_hidden_and_partial_files(tmp_path):
    _touch(tmp_path / "a.jpg")
    _touch(tmp_path / "a.jpg.json", b"{}")
    _touch(tmp_path / ".hidden.jpg")
    _touch(tmp_path / "b.jpg.part")
    _touch(tmp_path / "sub" / "c.png")
    _touch(tmp_path / ".trash" / "d.jpg")
    assert [f.rel for f in inbox.scan(tmp_path)] == ["a.jpg", "sub/c.png"]


def _with_sidecar(folder, content):
    photo = _touch(folder / "s.jpg")
    (folder / "s.jpg.json").write_text(json.dumps(content))
    return photo


def test_sidecar_aliases_tags_and_bad_coordinates(tmp_path):
    photo = _touch(tmp_path / "p.jpg")
    (tmp_path / "p.jpg.json").write_text(json.dumps({"Title": "T", "license": "CC0", "latitude": "0", "longitude": 0, "tags": "a, b c", "photographer": "Ann"}))
    meta, warnings = inbox.read_sidecar(photo)
    assert meta["title"] == "T" and meta["licence"] == "CC0" and meta["owner"] == "Ann"
    assert meta["tags"] == ["a", "b", "c"]
    assert "lat" not in meta and "lon" not in meta  # (0, 0) is "no location", not the Gulf of Guinea
    meta, warnings = inbox.read_sidecar(_with_sidecar(tmp_path, {"lat": 91, "lon": 10}))
    assert "lat" not in meta and warnings == ["sidecar_bad_coordinates: 91.0,10.0"]


def test_stem_sidecar_and_broken_sidecar(tmp_path):
    photo = _touch(tmp_path / "q.jpg")
    (tmp_path / "q.json").write_text('{"lat": 40.7, "lon": -74.0}')
    assert inbox.read_sidecar(photo)[0] == {"lat": 40.7, "lon": -74.0}
    (tmp_path / "q.json").write_text("{oops")
    meta, warnings = inbox.read_sidecar(photo)
    assert meta == {} and warnings[0].startswith("sidecar_unreadable")


def test_plan_caps_a_backlog_and_resumes_from_cursor(tmp_path):
    for h in range(10):
        _touch(tmp_path / f"{h}.jpg", at=HOUR + h * 3600)
    files = inbox.scan(tmp_path)
    p1 = inbox.plan(files, {}, lambda h: True, max_requests=4)
    assert len(p1.requests) == 4 and p1.waiting == 6
    p2 = inbox.plan(files, p1.cursor, lambda h: True, max_requests=4)
    assert {h for h, _ in p2.requests}.isdisjoint({h for h, _ in p1.requests}) and p2.waiting == 2
    p3 = inbox.plan(files, p2.cursor, lambda h: True, max_requests=4)
    p4 = inbox.plan(files, p3.cursor, lambda h: True, max_requests=4)
    assert len(p3.requests) == 2 and p4.requests == [] and p4.waiting == 0


def test_plan_re_requests_an_hour_whose_files_changed(tmp_path):
    _touch(tmp_path / "a.jpg")
    first = inbox.plan(inbox.scan(tmp_path), {}, lambda h: True, 10)
    _touch(tmp_path / "b.jpg")  # a late arrival in the same hour
    second = inbox.plan(inbox.scan(tmp_path), first.cursor, lambda h: True, 10)
    assert [h for h, _ in second.requests] == [hour_key_from_timestamp(HOUR)]
    assert second.requests[0][1] != first.requests[0][1]


def test_plan_reports_hours_outside_the_partition_range(tmp_path):
    _touch(tmp_path / "old.jpg", at=HOUR - 10 * 86400)
    p = inbox.plan(inbox.scan(tmp_path), {}, lambda h: False, 10)
    assert p.requests == [] and p.out_of_range == [hour_key_from_timestamp(HOUR - 10 * 86400)]
