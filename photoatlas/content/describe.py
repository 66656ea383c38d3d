"""One pass of the content models over a batch of decoded photos, behind on/off flags.

``ContentModels`` loads what ``ContentSettings`` enables, once per process
(``get_content_models``), and ``describe`` returns the record fields (``CONTENT_FIELDS``) for
each photo plus the raw embeddings, so the ``embeddings`` partition is written from the
same forward pass.
"""

import functools
from dataclasses import dataclass

import pyarrow as pa

from photoatlas.content.concepts import Concepts
from photoatlas.content.embedder import Embeddings, get_embedder
from photoatlas.content.faces import detect_faces
from photoatlas.content.images import as_rgb
from photoatlas.content.labels import top_labels
from photoatlas.content.objects import ObjectDetector

# Fields the enriched record gains (null where the model is switched off).
CONTENT_FIELDS = [
    pa.field("labels", pa.list_(pa.struct([("class_id", pa.int16()), ("name", pa.string()), ("score", pa.float32())]))),
    pa.field("concepts", pa.list_(pa.struct([("name", pa.string()), ("score", pa.float32())]))),
    pa.field(
        "objects",
        pa.list_(
            pa.struct(
                [
                    ("label", pa.string()),
                    ("class_id", pa.int16()),
                    ("score", pa.float32()),
                    ("box", pa.list_(pa.float32(), 4)),
                ]
            )
        ),
    ),
    pa.field("face_count", pa.int16()),
    pa.field("faces", pa.list_(pa.list_(pa.int32(), 4))),
]


@dataclass(frozen=True)
class ContentSettings:
    embeddings: bool = True  # EfficientNet-Lite0: embeddings, labels, concepts (~10 ms/photo/core)
    faces: bool = True  # OpenCV Haar cascade (~20-60 ms/photo/core at 640 px)
    objects: bool = False  # YOLO (~60-150 ms/photo/core for a nano model); needs objects_weights
    objects_weights: str | None = None  # e.g. yolo11n.pt (ultralytics) or yolo11n.onnx
    objects_backend: str = "auto"
    objects_min_score: float = 0.25
    concepts_path: str | None = None  # a user concepts JSON, added to the defaults
    top_k: int = 5
    min_concept_score: float = 0.01
    threads: int = 1


@dataclass
class ContentBatch:
    records: list[dict]  # CONTENT_FIELDS per photo
    embeddings: Embeddings | None


class ContentModels:
    def __init__(self, settings: ContentSettings):
        self.settings = settings
        self.embedder = get_embedder(threads=settings.threads) if settings.embeddings else None
        self.concepts = Concepts.load(settings.concepts_path) if settings.embeddings else None
        self.detector = None
        if settings.objects:
            if not settings.objects_weights:
                raise ValueError("objects are enabled but no objects_weights path is configured")
            self.detector = ObjectDetector(
                settings.objects_weights,
                settings.objects_backend,
                conf=settings.objects_min_score,
                threads=settings.threads,
            )

    def metadata(self) -> dict[str, str]:
        """Model names and versions, for asset metadata."""
        meta = {}
        if self.embedder:
            meta.update({"embedding_model": self.embedder.name, "embedding_model_version": self.embedder.version})
            meta["concepts"] = ", ".join(self.concepts.names)
        if self.detector:
            meta.update({"object_model": self.detector.name, "object_model_version": self.detector.version})
        if self.settings.faces:
            meta["face_model"] = "opencv-haar-frontalface-default"
        return meta

    def describe(self, images: list) -> ContentBatch:
        rgbs = [as_rgb(im) for im in images]
        out = self.embedder.embed(rgbs) if self.embedder else None
        records = []
        for i, rgb in enumerate(rgbs):
            rec: dict = {"labels": None, "concepts": None, "objects": None, "face_count": None, "faces": None}
            if out is not None:
                probs = out.probs[i]
                rec["labels"] = [
                    {"class_id": lb.class_id, "name": lb.name, "score": lb.score}
                    for lb in top_labels(probs, self.settings.top_k)
                ]
                scores = self.concepts.as_dict(probs, self.settings.min_concept_score)
                rec["concepts"] = [{"name": n, "score": s} for n, s in sorted(scores.items(), key=lambda x: -x[1])]
            if self.detector:
                rec["objects"] = [
                    {"label": d.label, "class_id": d.class_id, "score": d.score, "box": list(d.box)}
                    for d in self.detector.detect(rgb)
                ]
            if self.settings.faces:
                boxes = detect_faces(rgb)
                rec["face_count"], rec["faces"] = len(boxes), [list(b) for b in boxes]
            records.append(rec)
        return ContentBatch(records, out)


@functools.lru_cache(maxsize=4)
def get_content_models(settings: ContentSettings = ContentSettings()) -> ContentModels:
    """The process's models for these settings, loaded once."""
    return ContentModels(settings)


def content_table(records: list[dict]) -> pa.Table:
    """The ``CONTENT_FIELDS`` columns for a list of ``describe`` records."""
    return pa.Table.from_pylist(records, schema=pa.schema(CONTENT_FIELDS))


__all__ = ["CONTENT_FIELDS", "ContentBatch", "ContentModels", "ContentSettings", "content_table", "get_content_models"]
