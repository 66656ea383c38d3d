"""What is in a photo: embeddings and ImageNet labels (EfficientNet-Lite0 in onnxruntime),
concepts scored from the labels, objects (YOLO) and faces (OpenCV Haar cascade).

Heavy models are imported only when used; a missing package raises ``ModelUnavailable``
naming the pip command to run.
"""

from photoatlas.content.errors import ModelUnavailable

__all__ = ["ModelUnavailable"]
