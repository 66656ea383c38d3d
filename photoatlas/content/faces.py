"""Faces: count and boxes, with OpenCV's Haar cascade (shipped by opencv-python(-headless) < 5).

The cascade needs no weights download and runs in a few ms on a 640 px image; it finds
frontal faces and misses profiles. Where a YOLO model with face classes is configured
(``faces_from_detections``), its boxes can be used instead.
"""

import functools
from collections.abc import Iterable

import cv2
import numpy as np

from photoatlas.content.errors import ModelUnavailable
from photoatlas.content.images import as_rgb, to_grey
from photoatlas.content.objects import Detection

CASCADE_FILE = "haarcascade_frontalface_default.xml"
DETECT_EDGE_PX = 640  # faces are searched on a copy at most this large
MIN_FACE_FRACTION = 0.04  # ignore faces narrower than 4 % of the shorter edge


@functools.cache
def _cascade() -> "cv2.CascadeClassifier":
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not folder:
        raise ModelUnavailable(
            "Haar face cascade", "this OpenCV ships no cascades (OpenCV >= 5)", 'pip install "opencv-python-headless<5"'
        )
    cascade = cv2.CascadeClassifier(folder + CASCADE_FILE)
    if cascade.empty():
        raise ModelUnavailable(
            "Haar face cascade", f"{folder}{CASCADE_FILE} did not load", 'pip install "opencv-python-headless<5"'
        )
    return cascade


def detect_faces(image: "np.ndarray | bytes") -> list[tuple[int, int, int, int]]:
    """Face boxes (x1, y1, x2, y2) in the input image's pixels, largest first."""
    grey = to_grey(as_rgb(image))
    h, w = grey.shape
    scale = min(1.0, DETECT_EDGE_PX / max(h, w))
    small = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else grey
    small = cv2.equalizeHist(small)
    min_side = max(20, round(min(small.shape) * MIN_FACE_FRACTION))
    found = _cascade().detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    boxes = [
        (round(x / scale), round(y / scale), round((x + fw) / scale), round((y + fh) / scale))
        for x, y, fw, fh in (found if len(found) else [])
    ]
    return sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))


def faces_from_detections(
    detections: Iterable[Detection], face_labels: frozenset[str]
) -> list[tuple[int, int, int, int]]:
    """Face boxes from a detector's output, for the classes named in ``face_labels`` (exact names)."""
    return [tuple(round(v) for v in d.box) for d in detections if d.label in face_labels]
