import hashlib
import io
from datetime import datetime, timezone

import pyarrow.parquet as pq
import pytest
from PIL import Image

from photoatlas.ingest import Arrival, ingest
from photoatlas.lake import LocalLake, object_key, table_key

H1, H2 = "2026-03-01-10:00", "2026-03-01-11:00"


def _jpeg(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buf, "JPEG")
    return buf.getvalue()


def _arrival(source_id, data, **meta):
    return Arrival("inbox", source_id, source_id.split("/")[-1], datetime(2026, 3, 1, 10, 5, tzinfo=timezone.utc),
                   read=lambda: data, size=len(data), meta=meta)


def _unreadable(source_id):
    def boom():
        raise PermissionError(13, "Permission denied")

    return Arrival("inbox", source_id, source_id, datetime(2026, 3, 1, tzinfo=timezone.utc), read=boom, size=10)


@pytest.fixture
def lake(tmp_path):
    return LocalLake(str(tmp_path / "lake"))


def test_photos_are_content_addressed_and_sniffed(lake, cipher):
    red = _jpeg("red")
    result = ingest(lake, H1, [_arrival("a/red.png", red), _arrival("notes.jpg", b"hello")], cipher)
    rows = {r["source_id"]: r for r in result.manifest.to_pylist()}
    assert rows["a/red.png"]["photo_id"] == hashlib.sha256(red).hexdigest()
    assert rows["a/red.png"]["format"] == "JPEG"  # from the bytes, not the .png name
    assert rows["notes.jpg"]["format"] is None
    assert lake.get(object_key(rows["a/red.png"]["photo_id"])) == red


def test_duplicates_within_and_across_hours_are_listed_not_stored_twice(lake, cipher):
    red, blue = _jpeg("red"), _jpeg("blue")
    first = ingest(lake, H1, [_arrival("red.jpg", red), _arrival("red_copy.jpg", red)], cipher)
    assert first.manifest.num_rows == 1
    assert first.duplicates.to_pylist()[0]["first_source_id"] == "red.jpg"
    second = ingest(lake, H2, [_arrival("red_again.jpg", red), _arrival("blue.jpg", blue)], cipher)
    assert second.manifest.column("source_id").to_pylist() == ["blue.jpg"]
    dup = second.duplicates.to_pylist()[0]
    assert (dup["source_id"], dup["first_partition"]) == ("red_again.jpg", H1)
    assert len([k for k in lake.list("objects/") if not k.endswith(".json")]) == 2


def test_rerunning_an_hour_gives_the_same_manifest(lake, cipher):
    arrivals = [_arrival("red.jpg", _jpeg("red")), _arrival("blue.jpg", _jpeg("blue"))]
    one = ingest(lake, H1, arrivals, cipher)
    ingest(lake, H2, [_arrival("late_red.jpg", _jpeg("red"))], cipher)
    two = ingest(lake, H1, arrivals, cipher)
    drop = ["owner_enc", "owner_id_enc", "source_latlon_enc"]  # Fernet tokens are salted
    assert one.manifest.drop(drop).equals(two.manifest.drop(drop))
    assert two.duplicates.num_rows == 0


def test_sensitive_source_metadata_is_encrypted_in_the_file(lake, cipher):
    meta = {"owner": "Jane Privacy", "owner_id": "u-777", "lat": 40.758012, "lon": -73.985512, "title": "Times Square"}
    result = ingest(lake, H1, [_arrival("p.jpg", _jpeg("green"), **meta)], cipher)
    raw = lake.get(table_key("manifest", H1))
    for secret in (b"Jane Privacy", b"u-777", b"40.758012", b"-73.985512"):
        assert secret not in raw
    row = pq.read_table(io.BytesIO(raw)).to_pylist()[0]
    assert cipher.decrypt_str(row["owner_enc"]) == "Jane Privacy"
    assert cipher.decrypt_str(row["source_latlon_enc"]) == "40.758012,-73.985512"
    assert (row["source_lat_coarse"], row["source_lon_coarse"]) == (40.76, -73.99)
    assert result.summary()["new_photos"] == 1


def test_unreadable_arrivals_are_listed_with_a_reason(lake, cipher):
    result = ingest(lake, H1, [_unreadable("locked.jpg"), _arrival("ok.jpg", _jpeg("red"))], cipher)
    assert result.manifest.num_rows == 1
    assert result.errors.to_pylist()[0]["reason"].startswith("unreadable: Permission denied")
    assert lake.read_table(table_key("ingest_errors", H1)).num_rows == 1


def test_source_failures_join_the_ingest_errors_table(lake, cipher):
    from photoatlas.sources.base import Failure

    failure = Failure("flickr", "5341", "http_404", "https://example.invalid/5341.jpg")
    result = ingest(lake, H1, [_arrival("ok.jpg", _jpeg("red"))], cipher, failures=[failure])
    rows = lake.read_table(table_key("ingest_errors", H1)).to_pylist()
    assert rows == [{"partition": H1, "source": "flickr", "source_id": "5341", "reason": failure.reason}]
    assert result.summary()["ingest_errors"] == 1
