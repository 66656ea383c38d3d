"""Where the objects that Kafka messages name are read from: an S3 bucket (and prefix) or a folder.

A message names an object by a bare key (``{"key": "landing/1.jpg"}``) or an ``s3://`` URL.
:func:`objects_getter` turns the ``kafka_objects`` setting into KafkaSource's ``object_getter``:
``s3://bucket[/prefix]`` reads bare keys under the prefix and any ``s3://`` URL (another bucket
too) with one client, configured like the lake's (``photoatlas.s3lake.s3_client``); a folder reads
bare keys as files under it and refuses names that lead out of it. A missing object raises
KeyError/FileNotFoundError, a refused name :class:`ObjectNameRefused`; anything else is the store's
trouble, worth another try.
"""

import threading
from collections.abc import Callable
from pathlib import Path


class ObjectNameRefused(ValueError):
    """The message names an object this store will not read (outside its folder, or the wrong kind)."""


def objects_getter(location: str, endpoint_url: str | None = None,
                   region: str | None = None) -> Callable[[str], bytes]:
    """An object_getter for ``s3://bucket[/prefix]`` (S3 endpoint and region as the lake's) or a folder."""
    if location.startswith("s3://"):
        bucket, _, prefix = location[5:].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {location!r} (s3://bucket[/prefix])")
        from photoatlas.s3lake import s3_client

        client = _once(lambda: s3_client(endpoint_url, region))  # built at the first read, not per sensor tick
        return lambda name: s3_getter(client(), bucket, prefix.strip("/"))(name)
    return folder_getter(location.removeprefix("file://"))


def s3_getter(client, default_bucket: str | None = None, prefix: str = "") -> Callable[[str], bytes]:
    """An object_getter over a boto3 S3 client: takes 's3://bucket/key', or a key under ``prefix`` in
    ``default_bucket``."""

    def get(name: str) -> bytes:
        if name.startswith("s3://"):
            bucket, _, key = name[5:].partition("/")
        elif default_bucket:
            bucket, key = default_bucket, f"{prefix}/{name}" if prefix else name
        else:
            raise KeyError(f"{name}: a bare key needs a default bucket")
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey as e:
            raise KeyError(name) from e

    return get


def folder_getter(root: str | Path) -> Callable[[str], bytes]:
    """An object_getter reading bare keys as files under ``root``; a name leading out of it is refused."""
    base = Path(root).expanduser().resolve()

    def get(name: str) -> bytes:
        if name.startswith("s3://"):
            raise ObjectNameRefused(f"an s3:// URL, but objects are read from the folder {base}")
        path = (base / name).resolve()
        if not path.is_relative_to(base) or path == base:
            raise ObjectNameRefused(f"the key leads out of {base}")
        if not base.is_dir():  # unmounted or not created yet: the store's trouble, not the message's
            raise OSError(f"the objects folder {base} is missing")
        if not path.is_file():
            raise FileNotFoundError(f"no file {path}")
        return path.read_bytes()

    return get


def _once(make: Callable):
    """``make()`` called once, at the first use, even when the fetch threads ask together."""
    lock, made = threading.Lock(), []

    def get():
        with lock:
            if not made:
                made.append(make())
            return made[0]

    return get
