"""Colour science shared by palettes and colour search: sRGB <-> CIELAB (D65) and CIEDE2000.

All functions are vectorised over the last axis (3 channels) and work on any leading shape.
"""

import math

import numpy as np
from numba import njit
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


def chroma(lab: np.ndarray) -> np.ndarray:
    lab = np.asarray(lab, dtype=np.float64)
    return np.hypot(lab[..., 1], lab[..., 2])


@njit(cache=True, nogil=True)
def delta_e_00(L1: float, a1: float, b1: float, L2: float, a2: float, b2: float) -> float:
    """CIEDE2000 colour difference (kL = kC = kH = 1) of two CIELAB colours: the one
    implementation, compiled; :func:`delta_e_2000` broadcasts it, colour search's scoring loop
    calls it directly."""
    C1 = math.hypot(a1, b1)
    C2 = math.hypot(a2, b2)
    C_bar7 = ((C1 + C2) / 2) ** 7
    G = 0.5 * (1 - math.sqrt(C_bar7 / (C_bar7 + 25.0**7)))
    a1p = (1 + G) * a1
    a2p = (1 + G) * a2
    C1p = math.hypot(a1p, b1)
    C2p = math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360.0

    dLp = L2 - L1
    dCp = C2p - C1p
    h_sum = h1p + h2p
    if C1p * C2p == 0:
        dhp = 0.0
        hp_bar = h_sum
    else:
        dhp = h2p - h1p
        if dhp > 180:
            dhp -= 360
        elif dhp < -180:
            dhp += 360
        if abs(h1p - h2p) > 180:
            hp_bar = (h_sum + 360) / 2 if h_sum < 360 else (h_sum - 360) / 2
        else:
            hp_bar = h_sum / 2
    dHp = 2 * math.sqrt(C1p * C2p) * math.sin(math.radians(dhp / 2))

    Lp_bar = (L1 + L2) / 2
    Cp_bar = (C1p + C2p) / 2
    T = (
        1
        - 0.17 * math.cos(math.radians(hp_bar - 30))
        + 0.24 * math.cos(math.radians(2 * hp_bar))
        + 0.32 * math.cos(math.radians(3 * hp_bar + 6))
        - 0.20 * math.cos(math.radians(4 * hp_bar - 63))
    )
    d_theta = 30 * math.exp(-(((hp_bar - 275) / 25) ** 2))
    Cp_bar7 = Cp_bar**7
    R_C = 2 * math.sqrt(Cp_bar7 / (Cp_bar7 + 25.0**7))
    S_L = 1 + (0.015 * (Lp_bar - 50) ** 2) / math.sqrt(20 + (Lp_bar - 50) ** 2)
    S_C = 1 + 0.045 * Cp_bar
    S_H = 1 + 0.015 * Cp_bar * T
    R_T = -math.sin(math.radians(2 * d_theta)) * R_C
    return math.sqrt((dLp / S_L) ** 2 + (dCp / S_C) ** 2 + (dHp / S_H) ** 2 + R_T * (dCp / S_C) * (dHp / S_H))


@njit(cache=True, nogil=True)
def _delta_e_pairs(lab1, lab2):  # pragma: no cover - compiled
    out = np.empty(len(lab1))
    for i in range(len(lab1)):
        out[i] = delta_e_00(lab1[i, 0], lab1[i, 1], lab1[i, 2], lab2[i, 0], lab2[i, 1], lab2[i, 2])
    return out


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1), broadcasting over leading axes."""
    lab1, lab2 = np.broadcast_arrays(np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64))
    shape = lab1.shape[:-1]
    flat = lambda lab: np.ascontiguousarray(lab.reshape(-1, 3))  # noqa: E731
    return _delta_e_pairs(flat(lab1), flat(lab2)).reshape(shape)
