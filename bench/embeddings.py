"""Embedding throughput and nearest-neighbour search on one core: why exact numpy for small
collections and usearch HNSW above ``EXACT_MAX_ROWS``.

    .venv/bin/python bench/embeddings.py            # 20 k vectors
    .venv/bin/python bench/embeddings.py --quick    # 5 k vectors, under a minute

Embeddings: EfficientNet-Lite0 in onnxruntime (1 thread) at batch 1, 8 and 32, end to end
from a decoded RGB photo, and the model's share of the time.

Neighbours: synthetic 1280-d unit vectors in clusters (real embeddings are clustered; pure
noise is the worst case for HNSW). Queries are perturbed copies of indexed vectors (a copy's
embedding sits at cosine ~0.9-1.0 of its original). Exact search is one float32 matrix-vector
product; HNSW is usearch (float16 vectors, M=16, ef_add=128, ef_search=64). Reported: build
rate, query p50/p95, recall@1 of the source vector, and recall@10 against exact search.

The last line is the result:
RESULT embed_imgs_per_s=... model_share=... exact_ms=... hnsw_ms=... hnsw_recall_at_1=... hnsw_recall_at_10=... hnsw_adds_per_s=...
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _onecore import pin_one_core  # noqa: E402

pin_one_core()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from photoatlas.content.embedder import get_embedder, preprocess  # noqa: E402
from photoatlas.similarity.samples import sample_photos  # noqa: E402
from photoatlas.similarity.vectors import ExactVectors, HnswVectors  # noqa: E402

DIM = 1280


def embed_rates(images: list[np.ndarray]) -> dict[int, tuple[float, float]]:
    embedder = get_embedder()
    embedder.embed(images[:2])
    out = {}
    for batch in (1, 8, 32):
        total = model = 0.0
        for i in range(0, len(images), batch):
            t0 = time.perf_counter()
            x = np.stack([preprocess(im) for im in images[i : i + batch]])
            t1 = time.perf_counter()
            embedder.run(x)
            t2 = time.perf_counter()
            total += t2 - t0
            model += t2 - t1
        out[batch] = (len(images) / total, model / total)
    return out


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((max(1, n // 50), DIM)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.8 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, n_img, n_q = (5_000, 32, 100) if args.quick else (20_000, 96, 300)
    photos = list(sample_photos().values())
    rates = embed_rates((photos * 8)[:n_img])
    for batch, (rate, share) in rates.items():
        print(f"embedding batch {batch:>2}: {rate:6.1f} img/s, model {share:.0%} of the time")

    rng = np.random.default_rng(0)
    x = clustered(n, rng)
    src = rng.integers(0, n, n_q)
    noise = rng.standard_normal((n_q, DIM)).astype(np.float32)
    q = x[src] + 0.012 * noise  # cosine to the source ~0.9
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    print(f"queries: cosine to their source p50 {np.median(np.sum(q * x[src], axis=1)):.3f}")

    exact = ExactVectors(x, np.ones(n, bool))
    ex_ms, truth = [], []
    for v in q:
        t = time.perf_counter()
        rows, _ = exact.search(v, 10)
        ex_ms.append((time.perf_counter() - t) * 1000)
        truth.append(rows)
    hnsw = HnswVectors(DIM)
    t = time.perf_counter()
    hnsw.sync(np.arange(n, dtype=np.uint64), lambda keys: x[keys.astype(np.int64)])
    adds_per_s = n / (time.perf_counter() - t)
    hn_ms, at1, at10 = [], 0, 0
    for i, v in enumerate(q):
        t = time.perf_counter()
        keys, _ = hnsw.search(v, 10)
        hn_ms.append((time.perf_counter() - t) * 1000)
        keys = keys.astype(np.int64)
        at1 += bool(len(keys)) and keys[0] == src[i]
        at10 += len(set(keys.tolist()) & set(truth[i].tolist()))
    print(
        f"{n:,} vectors: exact p50 {np.median(ex_ms):.2f} ms p95 {np.percentile(ex_ms, 95):.2f} ms "
        f"(x{1_000_000 // n} at 1 M: ~{np.median(ex_ms) * 1_000_000 / n:.0f} ms and {1_000_000 * DIM * 4 / 1e9:.1f} GB)"
    )
    print(
        f"{n:,} vectors: HNSW p50 {np.median(hn_ms):.2f} ms p95 {np.percentile(hn_ms, 95):.2f} ms, "
        f"recall@1 {at1 / n_q:.3f}, recall@10 vs exact {at10 / (10 * n_q):.3f}, {adds_per_s:.0f} adds/s"
    )
    print(
        f"RESULT embed_imgs_per_s={rates[8][0]:.1f} model_share={rates[8][1]:.2f} exact_ms={np.median(ex_ms):.2f} "
        f"hnsw_ms={np.median(hn_ms):.2f} hnsw_recall_at_1={at1 / n_q:.3f} hnsw_recall_at_10={at10 / (10 * n_q):.3f} "
        f"hnsw_adds_per_s={adds_per_s:.0f}"
    )


if __name__ == "__main__":
    main()
