"""Nearest neighbours by cosine over unit-length embeddings: exact numpy, or usearch HNSW.

Exact search is one matrix-vector product, memory-bound on 5 KB per photo: ~5 ms per query
at 10 k photos, ~7-20 ms at 20 k and ~45 ms at 100 k on one core (``bench/embeddings.py``),
~1 s and 5 GB at 1 M. It serves small collections and is the reference the approximate
index is measured against. Above ``EXACT_MAX_ROWS`` the index uses usearch (HNSW, float16
vectors): ~0.7 ms per query at 20 k with recall@1 1.0 on perturbed copies, ~400-600
inserts/s/core to build (an hour's partition of a few thousand photos: seconds).
"""

from pathlib import Path

import numpy as np

EXACT_MAX_ROWS = 20_000
_INSTALL = "pip install usearch==2.26.6"


class ExactVectors:
    """Brute-force cosine search over a (rows, dim) float32 matrix; absent rows never match."""

    kind = "exact"

    def __init__(self, matrix: np.ndarray, present: np.ndarray):
        self.matrix, self.present = matrix, np.asarray(present, dtype=bool)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the k most similar rows, best first."""
        if k <= 0 or not self.present.any():
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores = np.asarray(self.matrix @ np.asarray(query, dtype=np.float32), dtype=np.float32)
        scores[~self.present] = -np.inf
        k = min(k, int(self.present.sum()))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return top.astype(np.int64), scores[top]


class HnswVectors:
    """usearch HNSW keyed by a stable 64-bit row key; saved beside the segments and synced on open."""

    kind = "hnsw"

    def __init__(self, dim: int, path: Path | None = None):
        try:
            from usearch.index import Index
        except ImportError as exc:
            raise RuntimeError(f"usearch is needed for collections over {EXACT_MAX_ROWS} photos: {_INSTALL}") from exc
        self.path = path
        self.index = Index(ndim=dim, metric="cos", dtype="f16", connectivity=16, expansion_add=128, expansion_search=64)
        if path is not None and path.exists():
            self.index.load(str(path))

    def keys(self) -> np.ndarray:
        return np.asarray(self.index.keys, dtype=np.uint64) if len(self.index) else np.zeros(0, np.uint64)

    def sync(self, keys: np.ndarray, vectors_of) -> bool:
        """Make the index hold exactly ``keys``; ``vectors_of(keys)`` gives missing rows' vectors."""
        have = self.keys()
        stale = np.setdiff1d(have, keys)
        missing = np.setdiff1d(keys, have)
        if len(stale):
            self.index.remove(stale)
        for i in range(0, len(missing), 4096):
            batch = missing[i : i + 4096]
            self.index.add(batch, vectors_of(batch), threads=1)
        return bool(len(stale) or len(missing))

    def save(self) -> None:
        if self.path is not None:
            tmp = self.path.with_name(self.path.name + ".tmp")
            self.index.save(str(tmp))
            tmp.replace(self.path)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(keys, cosines) of about the k most similar rows, best first."""
        if k <= 0 or len(self.index) == 0:
            return np.zeros(0, np.uint64), np.zeros(0, np.float32)
        found = self.index.search(np.asarray(query, dtype=np.float32), k, threads=1)
        return np.asarray(found.keys, dtype=np.uint64), (1.0 - np.asarray(found.distances, dtype=np.float32))
