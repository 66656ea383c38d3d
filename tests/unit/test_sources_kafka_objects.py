"""Where Kafka messages' objects are read: a folder (names leading out of it refused) or S3, from one setting."""

import json
import shutil

import pytest

from photoatlas.ingest import Arrival
from photoatlas.sources.base import Failure
from photoatlas.sources.kafka_objects import ObjectNameRefused, folder_getter, objects_getter, s3_getter
from resources.sources import sources_from_env
from tests.servers.http_fakes import jpeg

PHOTO = jpeg("landed")


@pytest.fixture
def objects(tmp_path):
    """tmp/objects/landing/1.jpg, with tmp/secret.txt beside the folder and a link out of it."""
    root = tmp_path / "objects"
    (root / "landing").mkdir(parents=True)
    (root / "landing" / "1.jpg").write_bytes(PHOTO)
    (tmp_path / "secret.txt").write_text("not for messages")
    (root / "out").symlink_to(tmp_path / "secret.txt")
    return root


def test_a_folder_reads_bare_keys_and_refuses_names_leading_out_of_it(objects, tmp_path):
    get = folder_getter(objects)
    assert get("landing/1.jpg") == PHOTO
    assert get("landing/./1.jpg") == PHOTO
    for name in ("../secret.txt", "landing/../../secret.txt", str(tmp_path / "secret.txt"), "out", "", ".",
                 "s3://bucket/landing/1.jpg"):
        with pytest.raises(ObjectNameRefused):
            get(name)
    with pytest.raises(FileNotFoundError):
        get("landing/none.jpg")
    with pytest.raises(FileNotFoundError):
        get("landing")  # a folder is not an object


def kafka_source(monkeypatch, objects_setting=None):
    monkeypatch.setenv("PHOTOATLAS_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # fetch() never talks to the broker
    monkeypatch.setenv("PHOTOATLAS_KAFKA_TOPIC", "photos")
    if objects_setting is None:
        monkeypatch.delenv("PHOTOATLAS_KAFKA_OBJECTS", raising=False)
    else:
        monkeypatch.setenv("PHOTOATLAS_KAFKA_OBJECTS", objects_setting)
    return sources_from_env().build("kafka")


def message(offset: int, **body) -> dict:
    return {"ref": f"photos/0@{offset}", "value": json.dumps(body)}


def test_the_kafka_objects_setting_gives_the_source_a_folder_to_read_keys_from(objects, monkeypatch):
    source = kafka_source(monkeypatch, str(objects))
    landed = source.fetch(message(0, id="a", key="landing/1.jpg", title="Quay"))
    assert isinstance(landed, Arrival) and landed.read() == PHOTO and landed.original_name == "1.jpg"
    assert landed.meta["title"] == "Quay"
    outcomes = {pid: source.fetch(message(i, id=pid, **ref)) for i, (pid, ref) in enumerate([
        ("up", {"key": "../secret.txt"}), ("link", {"key": "out"}), ("none", {"key": "landing/none.jpg"}),
        ("s3", {"url": "s3://elsewhere/landing/1.jpg"})], start=1)}
    assert all(isinstance(f, Failure) for f in outcomes.values())
    assert {pid: (f.code, f.retryable) for pid, f in outcomes.items()} == {
        "up": ("object_refused", False), "link": ("object_refused", False), "none": ("object_missing", False),
        "s3": ("object_refused", False)}
    assert "not for messages" not in outcomes["up"].detail

    shutil.rmtree(objects)  # unmounted: the store's trouble, tried again later
    gone = source.fetch(message(9, id="a", key="landing/1.jpg"))
    assert (gone.code, gone.retryable) == ("object_error", True)


def test_without_the_setting_an_object_key_is_refused_as_before(monkeypatch):
    failure = kafka_source(monkeypatch).fetch(message(0, id="a", key="landing/1.jpg"))
    assert (failure.code, failure.retryable) == ("no_object_store", False)


class FakeS3:
    class exceptions:  # boto3's spelling
        class NoSuchKey(Exception):
            pass

    def __init__(self, objects: dict):
        self.objects, self.asked = objects, []

    def get_object(self, Bucket, Key):
        self.asked.append((Bucket, Key))
        if (Bucket, Key) not in self.objects:
            raise self.exceptions.NoSuchKey(Key)

        class Body:
            def read(_):
                return self.objects[(Bucket, Key)]

        return {"Body": Body()}


def test_s3_reads_bare_keys_under_the_prefix_and_urls_of_any_bucket_with_one_client(monkeypatch):
    client = FakeS3({("landing", "kafka/1.jpg"): b"one", ("other", "x/2.jpg"): b"two"})
    made = []
    monkeypatch.setattr("photoatlas.s3lake.s3_client", lambda endpoint, region: made.append((endpoint, region)) or client)
    get = objects_getter("s3://landing/kafka/", "http://127.0.0.1:8333", "eu-west-1")
    assert made == [], "no client until the first read (the sensor builds the source every tick)"
    assert get("1.jpg") == b"one" and get("s3://other/x/2.jpg") == b"two"
    with pytest.raises(KeyError):
        get("missing.jpg")
    assert made == [("http://127.0.0.1:8333", "eu-west-1")]
    assert client.asked == [("landing", "kafka/1.jpg"), ("other", "x/2.jpg"), ("landing", "kafka/missing.jpg")]
    assert s3_getter(client, "landing")("kafka/1.jpg") == b"one"  # no prefix: the key as given
    with pytest.raises(ValueError, match="bucket"):
        objects_getter("s3://")
