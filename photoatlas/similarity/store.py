"""The similarity index on disk: immutable per-partition segments under a manifest.

    <dir>/manifest.json            which rows of which segment each partition holds, + digests
    <dir>/segments/<n>/ids.npy     photo ids (fixed-width bytes)
                       phash.npy, phash_mirror.npy   uint64 copy hashes
                       embeddings.npy                float32 (rows, 1280), zero where absent
                       has_embedding.npy             bool

Adding a partition writes a new segment, then swaps the manifest atomically (write a temp
file, ``os.replace``); a segment is deleted only once no partition refers to it. Adding the
same rows again is recognised by their digest and changes nothing. ``compact`` merges all
live rows into one segment (hourly partitions otherwise leave ~8760 small segments a year).
Rows are never keyed by hash: photos that share a hash are separate rows.
"""

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from photoatlas.similarity.mih import as_uint64
from photoatlas.similarity.table import EMBEDDING_DIM, embedding_matrix

FORMAT_VERSION = 1
_ARRAYS = ("ids", "phash", "phash_mirror", "embeddings", "has_embedding")


@dataclass
class Segment:
    """Arrays of one segment (memory-mapped when read from disk)."""

    ids: np.ndarray
    phash: np.ndarray
    phash_mirror: np.ndarray
    embeddings: np.ndarray
    has_embedding: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def segment_from_table(table: pa.Table) -> tuple[Segment, str | None]:
    """Normalise an embeddings partition: one row per photo id, ordered by id; and its model tag."""
    ids = table.column("photo_id").to_pylist()
    for column in ("photo_id", "copy_phash", "copy_phash_mirror"):
        if table.column(column).null_count:
            raise ValueError(f"{column} must not be null (quarantined photos have no place in the index)")
    order = sorted(range(len(ids)), key=ids.__getitem__)
    keep = [i for k, i in enumerate(order) if k == 0 or ids[i] != ids[order[k - 1]]]
    t = table.take(pa.array(keep, pa.int64())) if keep != list(range(len(ids))) else table
    emb, present = embedding_matrix(t.column("embedding"))
    models = (
        {m for m in t.column("embedding_model").to_pylist() if m is not None}
        if "embedding_model" in t.column_names
        else set()
    )
    if len(models) > 1:
        raise ValueError(f"one partition holds embeddings of several models: {sorted(models)}")
    sorted_ids = [ids[i] for i in keep]
    width = max((len(i.encode()) for i in sorted_ids), default=1)
    seg = Segment(
        ids=np.array([i.encode() for i in sorted_ids], dtype=f"S{width}"),
        phash=as_uint64(t.column("copy_phash").to_numpy().astype(np.int64)),
        phash_mirror=as_uint64(t.column("copy_phash_mirror").to_numpy().astype(np.int64)),
        embeddings=emb,
        has_embedding=present,
    )
    return seg, (models.pop() if models else None)


def digest(seg: Segment, model: str | None) -> str:
    h = hashlib.sha256(f"{FORMAT_VERSION}|{model}|".encode())
    for name in _ARRAYS:
        arr = np.ascontiguousarray(getattr(seg, name))
        h.update(f"{name}:{arr.dtype.str}:{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


class SegmentStore:
    """Reads and writes the manifest and the segments of one index directory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.manifest_path = self.root / "manifest.json"

    def read_manifest(self) -> dict:
        if not self.manifest_path.exists():
            return {"format": FORMAT_VERSION, "model": None, "dim": EMBEDDING_DIM, "partitions": {}, "next_segment": 0}
        manifest = json.loads(self.manifest_path.read_text())
        if manifest.get("format") != FORMAT_VERSION:
            raise ValueError(f"{self.manifest_path}: index format {manifest.get('format')}, expected {FORMAT_VERSION}")
        return manifest

    def write_manifest(self, manifest: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.manifest_path)

    def segment_dir(self, name: str) -> Path:
        return self.root / "segments" / name

    def write_segment(self, name: str, seg: Segment) -> None:
        final = self.segment_dir(name)
        tmp = final.with_name(final.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for array in _ARRAYS:
            np.save(tmp / f"{array}.npy", np.ascontiguousarray(getattr(seg, array)))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)

    def read_segment(self, name: str) -> Segment:
        d = self.segment_dir(name)
        return Segment(**{a: np.load(d / f"{a}.npy", mmap_mode="r") for a in _ARRAYS})

    def delete_unreferenced(self, manifest: dict) -> None:
        live = {p["segment"] for p in manifest["partitions"].values()}
        base = self.root / "segments"
        if base.exists():
            for d in base.iterdir():
                if d.name not in live:
                    shutil.rmtree(d, ignore_errors=True)
