"""Concepts: named sets of ImageNet classes, scored as the sum of their classes' probabilities.

"dog" is the 118 dog breeds, "monkey" the primate classes: a photo's "dog" score is the
probability mass the model puts on any dog. Members are given by class id, id range
("151-268") or WordNet id, never by matching words in label names ("hot dog" is not a dog,
"tiger cat" is a cat and "tiger" is not). The default set ships as ``concepts.json``; a user
file of the same shape adds to it or replaces it.
"""

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from photoatlas.content.labels import imagenet_classes

_RANGE = re.compile(r"^(\d+)-(\d+)$")
_WNID = re.compile(r"^n\d{8}$")


@dataclass(frozen=True)
class Concept:
    name: str
    class_ids: frozenset[int]
    description: str = ""


def _member_ids(concept: str, spec: object) -> set[int]:
    by_wnid = {c.wnid: c.class_id for c in imagenet_classes()}
    if isinstance(spec, bool):
        raise TypeError(f"concept {concept!r}: member {spec!r} is not a class id, range or WordNet id")
    if isinstance(spec, int):
        ids = {spec}
    elif isinstance(spec, str) and (m := _RANGE.match(spec)):
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo > hi:
            raise ValueError(f"concept {concept!r}: empty range {spec!r}")
        ids = set(range(lo, hi + 1))
    elif isinstance(spec, str) and _WNID.match(spec):
        if spec not in by_wnid:
            raise ValueError(f"concept {concept!r}: {spec} is not an ImageNet-1k WordNet id")
        ids = {by_wnid[spec]}
    else:
        raise ValueError(f"concept {concept!r}: member {spec!r} is not a class id, 'lo-hi' range or WordNet id")
    if not all(0 <= i < 1000 for i in ids):
        raise ValueError(f"concept {concept!r}: {spec!r} is outside the class ids 0-999")
    return ids


class Concepts:
    """An ordered set of concepts with a (concepts x 1000) membership matrix for fast scoring."""

    def __init__(self, concepts: Iterable[Concept]):
        self.concepts = {c.name: c for c in concepts}
        self.names = list(self.concepts)
        self._matrix = np.zeros((len(self.names), 1000), dtype=np.float32)
        for row, name in enumerate(self.names):
            self._matrix[row, sorted(self.concepts[name].class_ids)] = 1.0

    @classmethod
    def from_mapping(cls, doc: Mapping) -> "Concepts":
        entries = doc.get("concepts")
        if not isinstance(entries, Mapping) or not entries:
            raise ValueError("a concepts file needs a non-empty 'concepts' object")
        out = []
        for name, entry in entries.items():
            members = entry.get("classes") if isinstance(entry, Mapping) else entry
            if not isinstance(members, list) or not members:
                raise ValueError(f"concept {name!r} needs a non-empty list of classes")
            ids = set().union(*(_member_ids(name, m) for m in members))
            out.append(
                Concept(name, frozenset(ids), entry.get("description", "") if isinstance(entry, Mapping) else "")
            )
        return cls(out)

    @classmethod
    def load(cls, path: str | Path | None = None, include_defaults: bool = True) -> "Concepts":
        """The default concepts, with a user file's concepts added (same name: the user's wins)."""
        concepts = dict(default_concepts().concepts) if include_defaults or path is None else {}
        if path is not None:
            concepts.update(cls.from_mapping(json.loads(Path(path).read_text())).concepts)
        return cls(concepts.values())

    def __contains__(self, name: str) -> bool:
        return name in self.concepts

    def scores(self, probs: np.ndarray) -> np.ndarray:
        """(n, concepts) scores for (n, 1000) probabilities (or (concepts,) for one vector)."""
        probs = np.asarray(probs, dtype=np.float32)
        return probs @ self._matrix.T

    def score(self, probs: np.ndarray, name: str) -> np.ndarray | float:
        """One concept's score for one probability vector (float) or many (array)."""
        if name not in self.concepts:
            raise KeyError(f"unknown concept {name!r}; known: {', '.join(self.names)}")
        row = self._matrix[self.names.index(name)]
        out = np.asarray(probs, dtype=np.float32) @ row
        return float(out) if out.ndim == 0 else out

    def as_dict(self, probs: np.ndarray, min_score: float = 0.0) -> dict[str, float]:
        """Concept name -> score for one probability vector, dropping scores below ``min_score``."""
        return {n: float(s) for n, s in zip(self.names, self.scores(probs)) if s >= min_score}


@functools.cache
def default_concepts() -> Concepts:
    doc = json.loads(resources.files("photoatlas.content").joinpath("concepts.json").read_text())
    return Concepts.from_mapping(doc)


def _field(record, name):
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def photos_with_concept(records, concept: str, min_score: float = 0.5, concepts: Concepts | None = None) -> list[dict]:
    """Photos whose score for ``concept`` is at least ``min_score``, best first: [{photo_id, score}].

    ``records`` is a pyarrow Table or an iterable of mappings with ``photo_id`` and either
    ``class_probs`` (the 1000 probabilities: any concept can be scored) or ``concepts`` (a list
    of {name, score} computed at enrichment time).
    """
    concepts = concepts or default_concepts()
    if hasattr(records, "to_pylist"):
        records = records.to_pylist()
    hits = []
    for rec in records:
        probs = _field(rec, "class_probs")
        if probs is not None:
            if concept not in concepts:
                raise KeyError(f"unknown concept {concept!r}; known: {', '.join(concepts.names)}")
            score = concepts.score(np.asarray(probs, dtype=np.float32), concept)
        else:
            stored = {c["name"]: c["score"] for c in (_field(rec, "concepts") or [])}
            score = stored.get(concept)
            if score is None:
                continue
        if score >= min_score:
            hits.append({"photo_id": _field(rec, "photo_id"), "score": float(score)})
    return sorted(hits, key=lambda h: (-h["score"], h["photo_id"]))
