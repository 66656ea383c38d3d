"""64-bit perceptual hashes (pHash, dHash, aHash) and their lossless int64 storage form.

All three hash a greyscale image (ITU-R 601 luma, as Pillow's 'L') reduced by area
averaging. Bits are read row-major and the first bit is the most significant, the order
``imagehash`` prints in, so ``f"{h:016x}"`` reads like an imagehash hex string. Hashes are
unsigned Python ints in [0, 2**64); columns that hold int64 store ``to_int64(h)``, the same
bit pattern, never a float.
"""

import cv2
import numpy as np

HASH_BITS = 64
_PHASH_SIZE_PX = 32
_BIT_WEIGHTS = np.array([1 << (63 - i) for i in range(64)], dtype=np.uint64)
_U64 = (1 << 64) - 1


def _bits_to_int(bits: np.ndarray) -> int:
    """Row-major booleans (64) to an unsigned int, first bit most significant."""
    return int(np.bitwise_or.reduce(_BIT_WEIGHTS[bits.ravel()], initial=np.uint64(0)))


def _shrink(grey: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)


def phash(grey: np.ndarray) -> int:
    """DCT hash: 32x32 area-averaged luma, top-left 8x8 DCT coefficients above their median."""
    dct = cv2.dct(_shrink(grey, _PHASH_SIZE_PX, _PHASH_SIZE_PX))[:8, :8]
    return _bits_to_int(dct > np.median(dct))


def dhash(grey: np.ndarray) -> int:
    """Gradient hash: 9x8 area-averaged luma, bit set where a pixel is brighter than its left neighbour."""
    px = _shrink(grey, 9, 8)
    return _bits_to_int(px[:, 1:] > px[:, :-1])


def ahash(grey: np.ndarray) -> int:
    """Average hash: 8x8 area-averaged luma, bit set where a pixel is brighter than the mean."""
    px = _shrink(grey, 8, 8)
    return _bits_to_int(px > px.mean())


def to_int64(h: int) -> int:
    """Unsigned 64-bit hash -> signed int64 with the same bits (for int64 columns)."""
    if not 0 <= h <= _U64:
        raise ValueError(f"not an unsigned 64-bit value: {h}")
    return h - (1 << 64) if h >= 1 << 63 else h


def from_int64(v: int) -> int:
    """Signed int64 from a column -> the unsigned 64-bit hash with the same bits."""
    if not -(1 << 63) <= v < 1 << 63:
        raise ValueError(f"not a signed 64-bit value: {v}")
    return v & _U64


def hamming(a: int, b: int) -> int:
    """Number of differing bits; accepts unsigned hashes or their int64 forms alike."""
    return ((a ^ b) & _U64).bit_count()
