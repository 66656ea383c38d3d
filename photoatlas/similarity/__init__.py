"""Copy detection and similar photos: an exact multi-index hash search over copy hashes,
confirmed and extended by image embeddings. No Dagster here; the ``embeddings`` asset feeds
``SimilarityIndex.add_partition`` and the CLI/API call ``find_similar``."""

from photoatlas.content.concepts import photos_with_concept
from photoatlas.similarity.index import SimilarityIndex
from photoatlas.similarity.search import find_similar, find_similar_features
from photoatlas.similarity.table import EMBEDDINGS_SCHEMA, embedding_rows
from photoatlas.similarity.verdict import COPY, EXACT, NEAR_MISS, Thresholds

__all__ = [
    "COPY",
    "EMBEDDINGS_SCHEMA",
    "EXACT",
    "NEAR_MISS",
    "SimilarityIndex",
    "Thresholds",
    "embedding_rows",
    "find_similar",
    "find_similar_features",
    "photos_with_concept",
]
