"""Objects (YOLO through onnxruntime or ultralytics) and faces (Haar cascade) on real photos."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from photoatlas.content.errors import ModelUnavailable
from photoatlas.content.faces import detect_faces, faces_from_detections
from photoatlas.content.objects import Detection, ObjectDetector, nms
from photoatlas.similarity.samples import sample_photos


def _nudenet_onnx() -> Path:
    spec = importlib.util.find_spec("nudenet")
    if spec is None or importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("the offline YOLOv8n test model ships in PyPI nudenet: pip install nudenet onnxruntime")
    return Path(spec.origin).parent / "320n.onnx"


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


ASTRONAUT_FACE = (177, 67, 270, 160)  # Haar box, checked by eye


def test_yolo_onnx_loads_offline_and_finds_the_astronauts_face():
    detector = ObjectDetector(_nudenet_onnx())
    assert detector.backend == "onnx" and detector.names[1] == "FACE_FEMALE"
    found = detector.detect(sample_photos()["astronaut"])
    assert [d.label for d in found] == ["FACE_FEMALE"]
    # the same numbers ultralytics 8.4.190 gives for this model and photo (checked once, torch 2.13 CPU)
    assert found[0].score == pytest.approx(0.8105, abs=2e-3)
    np.testing.assert_allclose(found[0].box, (173.2, 82.8, 274.0, 180.2), atol=1.0)
    assert _iou(found[0].box, ASTRONAUT_FACE) > 0.5


def test_yolo_finds_nothing_in_a_cup_of_coffee():
    assert ObjectDetector(_nudenet_onnx()).detect(sample_photos()["coffee"]) == []


def test_ultralytics_backend_agrees_with_the_onnx_backend():
    path = _nudenet_onnx()
    try:
        ultra = ObjectDetector(path, backend="ultralytics", imgsz=320)
    except ModelUnavailable as exc:
        pytest.skip(f"ultralytics backend unavailable here: {exc.reason}")
    photo = sample_photos()["astronaut"]
    a, b = ObjectDetector(path).detect(photo), ultra.detect(photo)
    assert [d.label for d in a] == [d.label for d in b]
    np.testing.assert_allclose([d.box for d in a], [d.box for d in b], atol=1.0)


def test_missing_weights_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailable, match="not found"):
        ObjectDetector(tmp_path / "yolo11n.pt")


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
    assert nms(boxes, np.array([0.5, 0.9, 0.3], np.float32), 0.5).tolist() == [1, 2]


def test_faces_on_the_astronaut_and_none_on_coffee():
    boxes = detect_faces(sample_photos()["astronaut"])
    assert len(boxes) == 1 and _iou(boxes[0], ASTRONAUT_FACE) > 0.8
    assert detect_faces(sample_photos()["coffee"]) == []


def test_faces_from_yolo_face_classes_by_exact_name():
    dets = [Detection("FACE_MALE", 12, 0.9, (1, 2, 3, 4)), Detection("FACE_MALE_PROFILE", 99, 0.9, (5, 6, 7, 8))]
    assert faces_from_detections(dets, frozenset({"FACE_MALE", "FACE_FEMALE"})) == [(1, 2, 3, 4)]
