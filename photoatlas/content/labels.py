"""ImageNet-1k class names and the top-k labels of a probability vector."""

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class Label:
    class_id: int
    name: str
    score: float


@dataclass(frozen=True)
class ImageNetClass:
    class_id: int
    wnid: str  # WordNet id, e.g. n02123045 (tabby)
    name: str


@functools.cache
def imagenet_classes() -> tuple[ImageNetClass, ...]:
    """The 1000 classes in model output order."""
    doc = json.loads(resources.files("photoatlas.content").joinpath("imagenet_classes.json").read_text())
    classes = tuple(ImageNetClass(c["id"], c["wnid"], c["name"]) for c in doc["classes"])
    assert [c.class_id for c in classes] == list(range(1000))
    return classes


def top_labels(probs: np.ndarray, k: int = 5, min_score: float = 0.0) -> list[Label]:
    """The k most probable classes of one probability vector, best first."""
    probs = np.asarray(probs, dtype=np.float32)
    order = np.argsort(-probs, kind="stable")[:k]
    classes = imagenet_classes()
    return [Label(int(i), classes[i].name, float(probs[i])) for i in order if probs[i] >= min_score]
