"""CIEDE2000, the perceptual colour difference of palettes and colour search: one compiled
implementation (numba). :mod:`photoatlas.color` holds the conversions without it, so the photo
decoders on Spark workers never pay numba's import.
"""

import math

import numpy as np
from numba import njit


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
