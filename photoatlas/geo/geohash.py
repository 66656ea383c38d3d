"""Vectorised geohash: one numpy pass for any number of points, no per-point loop."""

import numpy as np

BASE32 = np.frombuffer(b"0123456789bcdefghjkmnpqrstuvwxyz", dtype=np.uint8)
MAX_PRECISION = 12
_BITS_PER_AXIS = 30  # 60-bit codes: precision 12 (5 bits per character)


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Move bit i of each value to bit 2i (Morton interleave helper)."""
    v = v.astype(np.uint64)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def _quantize(v: np.ndarray, half_span: float) -> np.ndarray:
    """Index of the 2**30-cell bisection interval holding v, exactly as bisection finds it.

    Cell edges -half_span + q * step are exact in float64 (step is 45 * 2**-k), so the
    estimate from one division is corrected by comparing v with its two edges.
    """
    top = (1 << _BITS_PER_AXIS) - 1
    step = 2.0 * half_span / (1 << _BITS_PER_AXIS)
    v = np.nan_to_num(np.asarray(v, dtype=np.float64))
    q = np.clip(np.floor((v + half_span) / step), 0, top)

    def edge(k):
        return (k - (1 << (_BITS_PER_AXIS - 1))) * step

    q -= (v < edge(q)) & (q > 0)
    q += (v >= edge(q + 1)) & (q < top)
    return q.astype(np.uint64)


def geohash_codes(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """60-bit geohash integers (precision 12); nearby points get nearby codes (Z-order)."""
    lon_bits = _spread_bits(_quantize(lon, 180.0))
    lat_bits = _spread_bits(_quantize(lat, 90.0))
    return (lon_bits << np.uint64(1)) | lat_bits  # geohash starts with a longitude bit


def codes_to_strings(codes: np.ndarray, precision: int) -> np.ndarray:
    """Geohash strings ('U<precision>' array) from 60-bit codes."""
    if not 1 <= precision <= MAX_PRECISION:
        raise ValueError(f"geohash precision must be 1..{MAX_PRECISION}, got {precision}")
    codes = np.asarray(codes, dtype=np.uint64)
    shifts = np.arange(MAX_PRECISION - 1, MAX_PRECISION - 1 - precision, -1, dtype=np.uint64) * np.uint64(5)
    digits = (codes[:, None] >> shifts[None, :]) & np.uint64(31)
    chars = BASE32[digits.astype(np.intp)]
    return np.ascontiguousarray(chars).view(f"S{precision}").ravel().astype(f"U{precision}")


def geohash_encode(lat, lon, precision: int = 5) -> np.ndarray:
    """Geohash strings for arrays of coordinates (no validity check: see valid_coords)."""
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    return codes_to_strings(geohash_codes(lat, lon), precision)
