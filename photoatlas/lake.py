"""The lake: one interface, a local folder or an S3 bucket behind it.

Keys are '/'-separated paths relative to the lake root. Layout:

- ``objects/<aa>/<sha256>``            original bytes, content-addressed (the photo id)
- ``objects/<aa>/<sha256>.first.json`` which partition first brought the photo in
- ``thumbs/<aa>/<sha256>.jpg``          256-px thumbnails, metadata stripped
- ``tables/<table>/<partition>.parquet`` one file per table and hour, replaced atomically

Writes of a whole object are atomic on both lakes (rename on a local disk; a single PUT on
S3), so readers never see a half-written table.
"""

import io
import json
import os
import tempfile
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def object_key(photo_id: str) -> str:
    return f"objects/{photo_id[:2]}/{photo_id}"


def first_seen_key(photo_id: str) -> str:
    return f"objects/{photo_id[:2]}/{photo_id}.first.json"


def thumbnail_key(photo_id: str) -> str:
    return f"thumbs/{photo_id[:2]}/{photo_id}.jpg"


def table_key(table: str, partition: str) -> str:
    return f"tables/{table}/{partition.replace(':', '')}.parquet"


class Lake(ABC):
    """Bytes and tables by key. Implementations are small, picklable and cheap to rebuild
    from :meth:`spec` (so Spark executors can open the same lake)."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Write unless the key exists; True when this call wrote it."""

    @abstractmethod
    def get(self, key: str) -> bytes: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def uri(self, key: str = "") -> str: ...

    @abstractmethod
    def spec(self) -> dict: ...

    def write_table(self, key: str, table: pa.Table) -> None:
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        self.put(key, buf.getvalue())

    def read_table(self, key: str, schema: pa.Schema | None = None) -> pa.Table:
        table = pq.read_table(io.BytesIO(self.get(key)))
        return table.cast(schema) if schema is not None else table

    def get_json(self, key: str) -> dict:
        return json.loads(self.get(key))

    def put_json_if_absent(self, key: str, value: dict) -> bool:
        return self.put_if_absent(key, json.dumps(value, sort_keys=True).encode())


@dataclass(frozen=True)
class LocalLake(Lake):
    root: str

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"bad lake key: {key!r}")
        return Path(self.root) / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            os.link(tmp, path)  # atomic create-if-absent: fails when another writer won
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyNotFound(self.uri(key)) from None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def list(self, prefix: str) -> list[str]:
        base = Path(self.root)
        start = self._path(prefix)
        folder = start if start.is_dir() else start.parent
        if not folder.exists():
            return []
        keys = []
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def uri(self, key: str = "") -> str:
        return str(Path(self.root) / key)

    def spec(self) -> dict:
        return {"kind": "local", **asdict(self)}


class KeyNotFound(FileNotFoundError):
    pass


def lake_from_spec(spec: dict) -> Lake:
    kind = spec.get("kind")
    params = {k: v for k, v in spec.items() if k != "kind"}
    if kind == "local":
        return LocalLake(**params)
    if kind == "s3":
        from photoatlas.s3lake import S3Lake

        return S3Lake(**params)
    raise ValueError(f"unknown lake kind {kind!r}")


def lake_from_url(url: str, **s3_options) -> Lake:
    """``/path`` or ``file:///path`` → LocalLake; ``s3://bucket/prefix`` → S3Lake."""
    if url.startswith("s3://"):
        from photoatlas.s3lake import S3Lake

        bucket, _, prefix = url[5:].partition("/")
        return S3Lake(bucket=bucket, prefix=prefix.strip("/"), **s3_options)
    if url.startswith("file://"):
        url = url[7:]
    return LocalLake(str(Path(url).expanduser().resolve()))


def table_partitions(lake: Lake, table: str) -> list[str]:
    """The partition keys that have a file of ``table`` (the inverse of :func:`table_key`)."""
    out = []
    for key in lake.list(f"tables/{table}/"):
        stem = key.rsplit("/", 1)[1].removesuffix(".parquet")
        out.append(f"{stem[:-2]}:{stem[-2:]}")
    return sorted(out)
