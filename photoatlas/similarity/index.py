"""The similarity index: copy hashes (exact multi-index search) + embeddings (neighbours).

Not partitioned; built incrementally from the hourly ``embeddings`` partitions. Open it once
per process (``SimilarityIndex(path)``; structures are built on first use and kept) and
query it many times. Writes go through ``add_partition`` / ``remove_partition`` /
``compact``; see ``store.py`` for the on-disk layout.
"""

import threading
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pyarrow as pa

from photoatlas.similarity.mih import MultiIndexHash
from photoatlas.similarity.store import Segment, SegmentStore, digest, segment_from_table
from photoatlas.similarity.table import EMBEDDING_DIM
from photoatlas.similarity.vectors import EXACT_MAX_ROWS, ExactVectors, HnswVectors

_VECTORS_FILE = "vectors.usearch"


@dataclass
class _Loaded:
    manifest: dict
    ids: np.ndarray  # bytes per row
    phash: np.ndarray  # uint64
    phash_mirror: np.ndarray
    has_embedding: np.ndarray
    keys: np.ndarray  # stable uint64 row keys (HNSW labels)
    block_starts: np.ndarray  # first global row of each block
    blocks: list  # (Segment, start row in segment)
    mih: MultiIndexHash


class SimilarityIndex:
    def __init__(self, root: str | Path, vectors: str = "auto"):
        """``vectors``: "auto" (exact up to EXACT_MAX_ROWS, then HNSW), "exact" or "hnsw"."""
        if vectors not in ("auto", "exact", "hnsw"):
            raise ValueError(f"vectors must be auto, exact or hnsw, not {vectors!r}")
        self.store = SegmentStore(root)
        self.vector_mode = vectors
        self._loaded: _Loaded | None = None
        self._vectors = None
        self._lock = threading.RLock()  # API threads share one index; structures are built once

    # ---- writes -------------------------------------------------------------------------

    def add_partition(self, key: str, table: pa.Table) -> bool:
        """Make partition ``key`` hold exactly ``table``'s rows; False when it already did."""
        seg, model = segment_from_table(table)
        dg = digest(seg, model)
        manifest = self.store.read_manifest()
        entry = manifest["partitions"].get(key)
        if entry is not None and entry["digest"] == dg:
            return False
        if model is not None:
            if manifest["model"] not in (None, model):
                raise ValueError(
                    f"index holds embeddings of {manifest['model']}, partition {key} has {model}: "
                    "rebuild the index in a new directory from re-embedded partitions"
                )
            manifest["model"] = model
        name = f"{manifest['next_segment']:08d}"
        self.store.write_segment(name, seg)
        manifest["partitions"][key] = {
            "segment": name,
            "start": 0,
            "stop": len(seg),
            "first_key": manifest.get("next_key", 0),
            "digest": dg,
        }
        manifest["next_segment"] += 1
        manifest["next_key"] = manifest.get("next_key", 0) + len(seg)
        self._commit(manifest)
        return True

    def remove_partition(self, key: str) -> bool:
        manifest = self.store.read_manifest()
        if manifest["partitions"].pop(key, None) is None:
            return False
        self._commit(manifest)
        return True

    def compact(self) -> None:
        """Merge every live row into one segment; row keys (and so the HNSW graph) are kept."""
        manifest = self.store.read_manifest()
        entries = sorted(manifest["partitions"].items())
        if len({e["segment"] for _, e in entries}) <= 1:
            return
        names = [f.name for f in fields(Segment)]
        parts, new_entries, row = [], {}, 0
        for key, e in entries:
            seg = self.store.read_segment(e["segment"])
            parts.append({a: np.asarray(getattr(seg, a)[e["start"] : e["stop"]]) for a in names})
            n = e["stop"] - e["start"]
            new_entries[key] = {**e, "start": row, "stop": row + n}
            row += n
        merged = Segment(**{a: np.concatenate([p[a] for p in parts]) for a in names})
        name = f"{manifest['next_segment']:08d}"
        self.store.write_segment(name, merged)
        for e in new_entries.values():
            e["segment"] = name
        manifest["partitions"] = new_entries
        manifest["next_segment"] += 1
        self._commit(manifest)

    def _commit(self, manifest: dict) -> None:
        with self._lock:
            self.store.write_manifest(manifest)
            self.store.delete_unreferenced(manifest)
            self._loaded, self._vectors = None, None
            if self._use_hnsw():
                self._vector_index().save()

    # ---- reads --------------------------------------------------------------------------

    def _load(self) -> _Loaded:
        if self._loaded is not None:
            return self._loaded
        with self._lock:
            if self._loaded is None:
                try:
                    self._loaded = self._read()
                except FileNotFoundError:  # a writer replaced a segment between manifest and read
                    self._loaded = self._read()
            return self._loaded

    def _read(self) -> _Loaded:
        manifest = self.store.read_manifest()
        segments: dict[str, Segment] = {}
        blocks, ids, ph, pm, has, keys, starts, row = [], [], [], [], [], [], [], 0
        for _key, e in sorted(manifest["partitions"].items()):
            if e["segment"] not in segments:
                segments[e["segment"]] = self.store.read_segment(e["segment"])
            seg = segments[e["segment"]]
            s, t = e["start"], e["stop"]
            blocks.append((seg, s))
            starts.append(row)
            ids.append(seg.ids[s:t])
            ph.append(seg.phash[s:t])
            pm.append(seg.phash_mirror[s:t])
            has.append(seg.has_embedding[s:t])
            keys.append(np.arange(e["first_key"], e["first_key"] + t - s, dtype=np.uint64))
            row += t - s

        def cat(arrays, dtype):
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype)

        phash = cat(ph, np.uint64)
        return _Loaded(
            manifest=manifest,
            ids=cat(ids, "S1"),
            phash=phash,
            phash_mirror=cat(pm, np.uint64),
            has_embedding=cat(has, bool),
            keys=cat(keys, np.uint64),
            block_starts=np.array(starts, dtype=np.int64),
            blocks=blocks,
            mih=MultiIndexHash(phash),
        )

    def refresh(self) -> bool:
        """Pick up partitions another process (the asset) added since this one loaded; True if any."""
        with self._lock:
            if self._loaded is not None and self.store.read_manifest() != self._loaded.manifest:
                self._loaded, self._vectors = None, None
                return True
            return False

    def __len__(self) -> int:
        return len(self._load().ids)

    @property
    def model(self) -> str | None:
        return self._load().manifest["model"]

    @property
    def partitions(self) -> list[str]:
        return sorted(self._load().manifest["partitions"])

    @property
    def has_embeddings(self) -> bool:
        return bool(self._load().has_embedding.any())

    def photo_ids(self, rows) -> list[str]:
        return [b.decode() for b in self._load().ids[np.asarray(rows, dtype=np.int64)]]

    def embeddings(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """(float32 (n, 1280), present (n,)) for global rows."""
        st = self._load()
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), EMBEDDING_DIM), np.float32)
        block = np.searchsorted(st.block_starts, rows, side="right") - 1
        for b in np.unique(block):
            sel = block == b
            seg, first = st.blocks[b]
            out[sel] = seg.embeddings[first + rows[sel] - st.block_starts[b]]
        return out, st.has_embedding[rows]

    def hash_search(self, query: int, query_mirror: int | None, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact: every row whose copy hash is within ``radius`` of the query or of its mirror."""
        queries = [query] if query_mirror is None else [query, query_mirror]
        return self._load().mih.search_any(queries, radius)

    def hamming(self, rows, query: int, query_mirror: int | None) -> np.ndarray:
        ph = self._load().phash[np.asarray(rows, dtype=np.int64)]
        d = np.bitwise_count(ph ^ np.uint64(query)).astype(np.int64)
        if query_mirror is not None:
            d = np.minimum(d, np.bitwise_count(ph ^ np.uint64(query_mirror)))
        return d

    def _use_hnsw(self) -> bool:
        if self.vector_mode != "auto":
            return self.vector_mode == "hnsw"
        return len(self._load().ids) > EXACT_MAX_ROWS or (self.store.root / _VECTORS_FILE).exists()

    def _vector_index(self):
        if self._vectors is not None:
            return self._vectors
        with self._lock:
            if self._vectors is None:
                self._vectors = self._build_vectors()
            return self._vectors

    def _build_vectors(self):
        st = self._load()
        if self._use_hnsw():
            vectors = HnswVectors(EMBEDDING_DIM, self.store.root / _VECTORS_FILE)
            live = st.keys[st.has_embedding]
            order = np.argsort(st.keys)

            def vectors_of(keys):
                return self.embeddings(order[np.searchsorted(st.keys[order], keys)])[0]

            vectors.sync(live, vectors_of)
            self._key_order = order
        else:
            matrix, present = self.embeddings(np.arange(len(st.ids)))
            vectors = ExactVectors(matrix, present)
        return vectors

    def neighbours(self, embedding: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the k nearest embeddings, best first (approximate above EXACT_MAX_ROWS)."""
        vectors = self._vector_index()
        if vectors.kind == "exact":
            return vectors.search(embedding, k)
        st = self._load()
        keys, cos = vectors.search(embedding, k)
        rows = self._key_order[np.searchsorted(st.keys[self._key_order], keys)]
        return rows.astype(np.int64), cos
