"""Content models (embeddings, labels, concepts, faces, objects) and the similarity index location."""

from dagster import ConfigurableResource
from pydantic import Field

from photoatlas.content.describe import ContentSettings


class ContentModelsResource(ConfigurableResource):
    """Which models run. Heavy ones (objects) only when switched on and given weights."""

    embeddings: bool = Field(default=True, description="EfficientNet-Lite0 features, ImageNet labels, concepts")
    faces: bool = Field(default=True, description="OpenCV Haar frontal faces")
    objects: bool = Field(default=False, description="YOLO objects; needs objects_weights")
    objects_weights: str | None = Field(default=None, description="e.g. /models/yolo11n.onnx (COCO)")
    concepts_path: str | None = Field(default=None, description="a JSON file of extra concepts")
    top_k: int = Field(default=5, ge=1, le=50)

    def settings(self) -> ContentSettings:
        return ContentSettings(embeddings=self.embeddings, faces=self.faces, objects=self.objects,
                               objects_weights=self.objects_weights, concepts_path=self.concepts_path, top_k=self.top_k)


class SimilarityIndexResource(ConfigurableResource):
    """A folder on the serving host that holds the copy-detection and vector index."""

    path: str

    def index(self):
        from photoatlas.similarity.index import SimilarityIndex

        return SimilarityIndex(self.path)
