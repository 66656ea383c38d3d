"""Colour science shared by palettes and colour search: sRGB <-> CIELAB (D65). CIEDE2000 is in
:mod:`photoatlas.color_difference` (compiled; kept apart so that the photo decoders on Spark
workers never import numba).

All functions are vectorised over the last axis (3 channels) and work on any leading shape.
"""

import numpy as np
from PIL import ImageColor

# D65 reference white, CIE 1931 2° observer, XYZ scaled so Y = 1.
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_EPS = 216 / 24389
_KAPPA = 24389 / 27

# Lookup table: 8-bit sRGB value -> linear light, so per-pixel conversion is a gather.
_SRGB8_TO_LINEAR = np.where(
    (np.arange(256) / 255.0) <= 0.04045,
    (np.arange(256) / 255.0) / 12.92,
    (((np.arange(256) / 255.0) + 0.055) / 1.055) ** 2.4,
)


def _f(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPS, np.cbrt(t), (_KAPPA * t + 16) / 116)


def _f_inv(f: np.ndarray) -> np.ndarray:
    f3 = f**3
    return np.where(f3 > _EPS, f3, (116 * f - 16) / _KAPPA)


def srgb8_to_lab(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB (uint8, ``[..., 3]``) to CIELAB (float64, ``[..., 3]``)."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        raise TypeError(f"srgb8_to_lab expects uint8, got {rgb.dtype}")
    linear = _SRGB8_TO_LINEAR[rgb]
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE_D65
    f = _f(xyz)
    L = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


def lab_to_srgb8(lab: np.ndarray) -> np.ndarray:
    """CIELAB to 8-bit sRGB, clipping out-of-gamut colours."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    fx = fy + lab[..., 1] / 500
    fz = fy - lab[..., 2] / 200
    xyz = np.stack([_f_inv(fx), _f_inv(fy), _f_inv(fz)], axis=-1) * _WHITE_D65
    linear = np.clip(xyz @ _XYZ_TO_RGB.T, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(srgb * 255), 0, 255).astype(np.uint8)


def lab_to_hex(lab) -> str:
    r, g, b = (int(v) for v in lab_to_srgb8(np.asarray(lab)))
    return f"#{r:02x}{g:02x}{b:02x}"


def parse_color(text: str) -> np.ndarray:
    """A hex code ('#ff7f00', 'ff7f00', '#f70') or a CSS colour name to CIELAB.

    Raises ValueError with the offending text when it is neither.
    """
    value = text.strip()
    if value and value[0] != "#" and all(c in "0123456789abcdefABCDEF" for c in value) and len(value) in (3, 6):
        value = "#" + value
    try:
        rgb = ImageColor.getrgb(value)
    except ValueError:
        raise ValueError(f"not a colour: {text!r} (use a hex code such as '#ff7f00' or a CSS name such as 'teal')") from None
    return srgb8_to_lab(np.array(rgb[:3], dtype=np.uint8))
