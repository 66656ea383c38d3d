"""The edits a copy survives: what copy detection must see through, for tests and benchmarks.

Each transform takes an RGB uint8 image and a numpy Generator and returns an RGB uint8
image; ``TRANSFORMS`` names them all. Parameters are drawn in the ranges the copy-detection
benchmark promises (JPEG q30-70, crops of 5-10 %, ...).
"""

from collections.abc import Callable

import cv2
import numpy as np

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def resize(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    scale = rng.uniform(0.35, 0.75) if rng.random() < 0.7 else rng.uniform(1.3, 1.8)
    h, w = img.shape[:2]
    size = (max(32, round(w * scale)), max(32, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    quality = int(rng.integers(30, 71))
    ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


def crop(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Remove 5-10 % of the area, split at random between the four sides."""
    h, w = img.shape[:2]
    keep = np.sqrt(1 - rng.uniform(0.05, 0.10))
    ch, cw = round(h * keep), round(w * keep)
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return img[y : y + ch, x : x + cw].copy()


def _lut(img: np.ndarray, table: np.ndarray) -> np.ndarray:
    return cv2.LUT(img, np.clip(table, 0, 255).astype(np.uint8))


def brightness(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _lut(img, np.arange(256) + rng.choice([-1, 1]) * rng.uniform(15, 40))


def contrast(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    factor = rng.uniform(0.6, 0.85) if rng.random() < 0.5 else rng.uniform(1.15, 1.4)
    return _lut(img, (np.arange(256) - 128.0) * factor + 128.0)


def gamma(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    g = rng.uniform(0.6, 0.8) if rng.random() < 0.5 else rng.uniform(1.25, 1.6)
    return _lut(img, 255.0 * (np.arange(256) / 255.0) ** g)


def text_overlay(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A caption or watermark line in white with a dark outline, as meme and stock sites add."""
    out = img.copy()
    h, w = out.shape[:2]
    words = ["(c) PhotoAtlas", "stock photo", "SAMPLE", "@someone", "shared 2024"]
    text = str(rng.choice(words))
    scale = w / 600 * rng.uniform(0.8, 1.4)
    thickness = max(1, round(scale * 2))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x = int(rng.integers(0, max(1, w - tw)))
    y = int(rng.integers(th + 1, max(th + 2, h - 2)))
    cv2.putText(out, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(out, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def logo_overlay(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A semi-transparent badge covering ~2-4 % of the picture in a corner."""
    out = img.astype(np.float32)
    h, w = img.shape[:2]
    side = int(np.sqrt(h * w * rng.uniform(0.02, 0.04)))
    y = 0 if rng.random() < 0.5 else h - side
    x = 0 if rng.random() < 0.5 else w - side
    colour = rng.integers(0, 256, 3).astype(np.float32)
    alpha = rng.uniform(0.5, 0.8)
    out[y : y + side, x : x + side] = (1 - alpha) * out[y : y + side, x : x + side] + alpha * colour
    return out.round().astype(np.uint8)


def border(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A solid frame of 3-6 % of the edge on every side (a letterbox or passe-partout)."""
    h, w = img.shape[:2]
    pad = max(1, round(min(h, w) * rng.uniform(0.03, 0.06)))
    colour = [int(v) for v in (rng.integers(0, 256, 3) if rng.random() < 0.5 else [255, 255, 255])]
    return cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=colour)


def hflip(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.ascontiguousarray(img[:, ::-1])


def combined(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What a repost usually does: crop a little, shrink, recompress."""
    return jpeg(resize(crop(img, rng), rng), rng)


TRANSFORMS: dict[str, Transform] = {
    "resize": resize,
    "jpeg": jpeg,
    "crop": crop,
    "brightness": brightness,
    "contrast": contrast,
    "gamma": gamma,
    "text": text_overlay,
    "logo": logo_overlay,
    "border": border,
    "hflip": hflip,
    "combined": combined,
}
