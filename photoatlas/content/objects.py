"""Objects (class, score, box) from a YOLO detector whose weights path is configuration.

Two backends behind one interface:

- ``onnx`` (CPU, small): onnxruntime runs a detection model exported by ultralytics
  (``yolo export model=yolo11n.pt format=onnx``): letterbox, one forward pass, class-wise
  NMS in numpy. Tested offline with the YOLOv8n that PyPI ``nudenet`` ships (``320n.onnx``).
- ``ultralytics``: ``ultralytics.YOLO(weights, task="detect")`` for ``.pt`` weights such as
  yolo11n.pt (COCO). It needs torch *and* a torchvision built for it; on x86_64 PyPI only
  pairs them as multi-GB CUDA builds, so CPU workers export to ONNX instead.

``backend="auto"`` picks ``onnx`` for ``.onnx`` files and ``ultralytics`` otherwise.
"""

import ast
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from photoatlas.content.errors import ModelUnavailable
from photoatlas.content.images import as_rgb

_ORT_INSTALL = "pip install onnxruntime"
_ULTRALYTICS_INSTALL = (
    "pip install ultralytics (with a torch + torchvision pair that import together; "
    "or export the weights to ONNX and use backend='onnx')"
)
_LETTERBOX_GREY = 114


@dataclass(frozen=True)
class Detection:
    label: str
    class_id: int
    score: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the input image's pixels


def _letterbox(rgb: np.ndarray, size: int, stride: int | None) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize to fit ``size`` keeping the aspect, pad with grey; as ultralytics' LetterBox does.

    With ``stride`` (a model with dynamic input) pad only up to a multiple of it, not to a square.
    """
    h, w = rgb.shape[:2]
    scale = min(size / h, size / w)
    nh, nw = round(h * scale), round(w * scale)
    dw, dh = size - nw, size - nh
    if stride:
        dw, dh = dw % stride, dh % stride
    top, bottom = round(dh / 2 - 0.1), round(dh / 2 + 0.1)
    left, right = round(dw / 2 - 0.1), round(dw / 2 + 0.1)
    resized = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nh, nw) != (h, w) else rgb
    grey = (_LETTERBOX_GREY,) * 3
    canvas = cv2.copyMakeBorder(resized, top, bottom, left, right, cv2.BORDER_CONSTANT, value=grey)
    return canvas, scale, (left, top)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first (boxes x1,y1,x2,y2)."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while len(order):
        i, rest = order[0], order[1:]
        keep.append(i)
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.array(keep, dtype=np.int64)


class _OnnxYolo:
    def __init__(self, weights: Path, threads: int, imgsz: int | None):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelUnavailable(f"YOLO {weights.name}", "onnxruntime is not installed", _ORT_INSTALL) from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(weights), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("task", "detect") != "detect":
            raise ValueError(f"{weights} is a {meta['task']} model, not a detector")
        self.names = {int(k): str(v) for k, v in ast.literal_eval(meta["names"]).items()} if "names" in meta else {}
        shape = self.session.get_inputs()[0].shape
        fixed = shape[2] if isinstance(shape[2], int) else None
        self.imgsz = fixed or imgsz or (ast.literal_eval(meta["imgsz"])[0] if "imgsz" in meta else 640)
        self.stride = None if fixed else int(meta.get("stride", 32))
        self.input_name = self.session.get_inputs()[0].name

    def detect(self, rgb: np.ndarray, conf: float, iou: float, max_det: int) -> list[Detection]:
        canvas, scale, (left, top) = _letterbox(rgb, self.imgsz, self.stride)
        x = (canvas.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        out = self.session.run(None, {self.input_name: x})[0][0].T  # (anchors, 4 + classes)
        scores_all = out[:, 4:]
        cls = scores_all.argmax(axis=1)
        score = scores_all[np.arange(len(cls)), cls]
        sel = score >= conf
        if not sel.any():
            return []
        cx, cy, bw, bh = out[sel, 0], out[sel, 1], out[sel, 2], out[sel, 3]
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        cls, score = cls[sel], score[sel]
        offset = cls[:, None].astype(np.float32) * 7680.0  # class-wise NMS in one pass
        keep = nms(boxes + offset, score, iou)[:max_det]
        h, w = rgb.shape[:2]
        boxes = (boxes[keep] - [left, top, left, top]) / scale
        boxes = np.clip(boxes, 0, [w, h, w, h])
        return [
            Detection(self.names.get(int(c), str(int(c))), int(c), float(s), tuple(float(v) for v in b))
            for c, s, b in zip(cls[keep], score[keep], boxes)
        ]


class _UltralyticsYolo:
    def __init__(self, weights: Path, imgsz: int | None):
        os.environ.setdefault("YOLO_OFFLINE", "1")  # never pip-install or download at run time
        os.environ.setdefault("YOLO_VERBOSE", "False")
        try:
            from ultralytics import YOLO
        except ImportError as exc:  # includes "No package metadata was found for torchvision"
            raise ModelUnavailable(
                f"YOLO {weights.name}", f"ultralytics does not import ({exc})", _ULTRALYTICS_INSTALL
            ) from exc
        self.model = YOLO(str(weights), task="detect")
        self.names = {int(k): str(v) for k, v in self.model.names.items()}
        self.imgsz = imgsz or 640

    def detect(self, rgb: np.ndarray, conf: float, iou: float, max_det: int) -> list[Detection]:
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # ultralytics reads numpy arrays as BGR
        result = self.model.predict(
            bgr, imgsz=self.imgsz, conf=conf, iou=iou, max_det=max_det, device="cpu", verbose=False
        )[0]
        boxes = result.boxes
        return [
            Detection(self.names.get(int(c), str(int(c))), int(c), float(s), tuple(float(v) for v in b))
            for c, s, b in zip(boxes.cls.tolist(), boxes.conf.tolist(), boxes.xyxy.tolist())
        ]


class ObjectDetector:
    """A YOLO detector; ``name``/``version`` (file name, sha256 prefix) go into asset metadata."""

    def __init__(
        self,
        weights: str | Path,
        backend: str = "auto",
        conf: float = 0.25,
        iou: float = 0.45,
        max_det: int = 100,
        imgsz: int | None = None,
        threads: int = 1,
    ):
        path = Path(weights)
        if not path.is_file():
            raise ModelUnavailable(
                f"YOLO {path.name}",
                f"weights file {path} not found",
                "set the objects weights path in the models resource",
            )
        if backend == "auto":
            backend = "onnx" if path.suffix == ".onnx" else "ultralytics"
        if backend == "onnx":
            self._impl = _OnnxYolo(path, threads, imgsz)
        elif backend == "ultralytics":
            self._impl = _UltralyticsYolo(path, imgsz)
        else:
            raise ValueError(f"backend must be auto, onnx or ultralytics, not {backend!r}")
        self.backend, self.conf, self.iou, self.max_det = backend, conf, iou, max_det
        self.name = path.name
        with open(path, "rb") as fh:
            self.version = hashlib.file_digest(fh, "sha256").hexdigest()[:12]

    @property
    def names(self) -> dict[int, str]:
        return self._impl.names

    def detect(self, image: "np.ndarray | bytes") -> list[Detection]:
        """Detections in one RGB image (or encoded bytes), best first."""
        return self._impl.detect(as_rgb(image), self.conf, self.iou, self.max_det)
