"""The rows the similarity index is built from: one hour's ``embeddings`` partition."""

import numpy as np
import pyarrow as pa

from photoatlas.content.embedder import Embedder, Embeddings
from photoatlas.content.images import as_rgb, to_grey
from photoatlas.imaging.hashes import to_int64
from photoatlas.similarity.hashes import copy_hashes

EMBEDDING_DIM = 1280
NUM_CLASSES = 1000

EMBEDDINGS_SCHEMA = pa.schema(
    [
        ("photo_id", pa.string()),
        ("copy_phash", pa.int64()),  # pHash of the border-trimmed picture, int64 bit pattern
        ("copy_phash_mirror", pa.int64()),  # the same of its mirror image
        ("embedding", pa.list_(pa.float32(), EMBEDDING_DIM)),  # unit length; null when the model is off
        ("class_probs", pa.list_(pa.float32(), NUM_CLASSES)),  # ImageNet-1k; concepts are scored from it
        ("embedding_model", pa.string()),  # "efficientnet-lite0/<version>"; null when the model is off
    ]
)


def model_tag(embedder: Embedder) -> str:
    return f"{embedder.name}/{embedder.version}"


def embedding_rows(
    photo_ids: list[str], images: list, embedder: Embedder | None, embeddings: Embeddings | None = None
) -> pa.Table:
    """An ``EMBEDDINGS_SCHEMA`` table for decoded photos (RGB arrays or bytes); hashes only
    when ``embedder`` is None. ``embeddings``: the embedder's output for these images, when the
    caller already has it (``ContentModels.describe``)."""
    rgbs = [as_rgb(im) for im in images]
    hashes = [copy_hashes(to_grey(rgb)) for rgb in rgbs]
    n = len(rgbs)
    if embedder is not None and n:
        out = embeddings if embeddings is not None else embedder.embed(rgbs)
        embedding = pa.FixedSizeListArray.from_arrays(pa.array(out.features.ravel(), pa.float32()), EMBEDDING_DIM)
        probs = pa.FixedSizeListArray.from_arrays(pa.array(out.probs.ravel(), pa.float32()), NUM_CLASSES)
        model = pa.array([model_tag(embedder)] * n, pa.string())
    else:
        embedding = pa.nulls(n, EMBEDDINGS_SCHEMA.field("embedding").type)
        probs = pa.nulls(n, EMBEDDINGS_SCHEMA.field("class_probs").type)
        model = pa.nulls(n, pa.string())
    return pa.Table.from_arrays(
        [
            pa.array(photo_ids, pa.string()),
            pa.array([to_int64(h) for h, _ in hashes], pa.int64()),
            pa.array([to_int64(m) for _, m in hashes], pa.int64()),
            embedding,
            probs,
            model,
        ],
        schema=EMBEDDINGS_SCHEMA,
    )


def embedding_matrix(column: pa.ChunkedArray | pa.Array, dim: int = EMBEDDING_DIM) -> tuple[np.ndarray, np.ndarray]:
    """(float32 (n, dim) with zero rows for nulls, bool (n,) present) from an embedding column."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    n = len(column)
    present = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool) if n else np.zeros(0, bool)
    out = np.zeros((n, dim), dtype=np.float32)
    if present.any():
        flat = column.filter(pa.array(present)).flatten().to_numpy(zero_copy_only=False)
        out[present] = np.asarray(flat, dtype=np.float32).reshape(-1, dim)
    return out, present
