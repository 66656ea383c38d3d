"""``find_similar``: exact duplicates, copies and similar photos of a query image.

This is the function the CLI and the API call. The index is opened by the caller once per
process and passed in; nothing is loaded per query.
"""

import hashlib
import math

import numpy as np

from photoatlas.content.embedder import Embedder, get_embedder
from photoatlas.content.images import decode_rgb, to_grey
from photoatlas.similarity.hashes import copy_hashes
from photoatlas.similarity.index import SimilarityIndex
from photoatlas.similarity.table import model_tag
from photoatlas.similarity.verdict import COPY, DEFAULT_THRESHOLDS, EXACT, NEAR_MISS, Thresholds, verdict

SEMANTIC_CANDIDATES = 20  # neighbours checked as copy candidates besides the hash candidates


def find_similar(
    image_bytes: bytes,
    index: SimilarityIndex,
    limit: int = 10,
    embedder: Embedder | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> dict:
    """{exact: [{photo_id}], copies: [{photo_id, distance, cosine, verdict}], similar: [{photo_id, cosine}]}.

    ``exact``: the same bytes (sha256) are in the collection. ``copies``: copy and near-miss
    verdicts, copies first, then by distance. ``similar``: the nearest other photos by
    embedding cosine. Each list holds at most ``limit`` photos and a photo appears once.
    """
    sha = hashlib.sha256(image_bytes).hexdigest()
    rgb = decode_rgb(image_bytes)
    query, mirror = copy_hashes(to_grey(rgb))
    return find_similar_features(sha, query, mirror, _embedding(rgb, index, embedder), index, limit, thresholds)


def _embedding(rgb: np.ndarray, index: SimilarityIndex, embedder: Embedder | None) -> np.ndarray | None:
    if not index.has_embeddings:
        return None
    embedder = embedder or get_embedder()
    if index.model is not None and index.model != model_tag(embedder):
        raise ValueError(f"index embeddings are {index.model}, the query model is {model_tag(embedder)}")
    return embedder.embed_one(rgb)[0]


def find_similar_features(
    sha256: str | None,
    query: int,
    mirror: int | None,
    embedding: np.ndarray | None,
    index: SimilarityIndex,
    limit: int = 10,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> dict:
    """``find_similar`` for a query already reduced to its sha256, copy hashes and embedding."""
    rows, dist = index.hash_search(query, mirror, thresholds.hash_radius)
    cos_by_row: dict[int, float] = {}
    similar_rows: list[int] = []
    if embedding is not None and len(index):
        near, near_cos = index.neighbours(embedding, max(limit, SEMANTIC_CANDIDATES) + limit)
        cos_by_row.update(zip(near.tolist(), near_cos.tolist()))
        similar_rows = near.tolist()
        extra = np.setdiff1d(near[near_cos >= thresholds.near_cosine], rows)
        rows = np.concatenate([rows, extra])
        dist = np.concatenate([dist, index.hamming(extra, query, mirror)])
    if embedding is not None and len(rows):
        vecs, present = index.embeddings(rows)
        cos = np.where(present, vecs @ np.asarray(embedding, np.float32), np.nan)
    else:
        cos = np.full(len(rows), np.nan)
    ids = index.photo_ids(rows)
    seen: set[str] = set()
    exact, copies = [], []
    for pid, d, c in sorted(zip(ids, dist.tolist(), cos.tolist()), key=lambda x: (x[1], -_nz(x[2]), x[0])):
        if pid in seen:
            continue
        if sha256 is not None and pid == sha256:
            seen.add(pid)
            exact.append({"photo_id": pid, "verdict": EXACT})
            continue
        v = verdict(d, c, thresholds)
        if v is not None:
            seen.add(pid)
            copies.append(
                {"photo_id": pid, "distance": int(d), "cosine": None if math.isnan(c) else round(c, 4), "verdict": v}
            )
    copies.sort(key=lambda x: (x["verdict"] != COPY, x["distance"], -(x["cosine"] or 0.0)))
    similar = []
    for row, pid in zip(similar_rows, index.photo_ids(similar_rows)):
        if pid not in seen and len(similar) < limit:
            seen.add(pid)
            similar.append({"photo_id": pid, "cosine": round(cos_by_row[row], 4)})
    return {"exact": exact[:limit], "copies": copies[:limit], "similar": similar}


def _nz(x: float) -> float:
    return 0.0 if math.isnan(x) else x


__all__ = ["COPY", "EXACT", "NEAR_MISS", "find_similar", "find_similar_features"]
