"""Perceptual hashes: golden values on real photos, agreement with an independent pHash,
robustness to resizing and recompression, and the exact int64 storage form."""

import io

import numpy as np
import pytest
import scipy.fft
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from photoatlas.imaging.analyse import analyse
from photoatlas.imaging.hashes import ahash, dhash, from_int64, hamming, phash, to_int64
from tests.unit.imaging_corpus import HUBBLE_JPEG, encode, photo, read

U64 = st.integers(min_value=0, max_value=2**64 - 1)

# (phash, dhash, ahash) of each photo, analysed from a lossless PNG of the package's pixels.
GOLDEN = {
    "astronaut": (0xC2924C5532BDDFC8, 0xDD8DBD0D9D3295A6, 0x7F775FC744F8A060),
    "chelsea": (0xB15FE6465121175E, 0x54145A9AA94B878F, 0xC2C08E4B08A37767),
    "coffee": (0xBB8320376C0F3637, 0xF3F95B331E2B0F16, 0x3F7F3FBB838180C3),
    "rocket": (0xC0371BEC1BE51267, 0xE0C0C0D0909090D1, 0x00002078F8FCFC7C),
    "china": (0x9DB8C2C7465D3B24, 0xBF3F3E3E38387020, 0xFFFF8F8E0E0E0000),
    "flower": (0x9B64386633CDC96C, 0x31B4626868687339, 0x0010383C3C3C181C),
}
HUBBLE = (0x84CC4B96BA4D333E, 0x60D2A28435546059, 0x307262D00D361A0C)


def hashes_of(result) -> tuple[int, int, int]:
    return result.phash, result.dhash, result.ahash


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_hashes(name):
    assert hashes_of(analyse(encode(photo(name), "PNG"))) == GOLDEN[name]


def test_golden_hashes_hubble_jpeg_as_shipped():
    assert hashes_of(analyse(read(HUBBLE_JPEG))) == HUBBLE


def _imagehash_style_phash(rgb: np.ndarray) -> int:
    """pHash the way the imagehash library computes it (Pillow Lanczos to 32x32, SciPy DCT)."""
    grey = Image.fromarray(rgb).convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    dct = scipy.fft.dct(scipy.fft.dct(np.asarray(grey, dtype=np.float64), axis=0), axis=1)[:8, :8]
    return int("".join("1" if bit else "0" for bit in (dct > np.median(dct)).ravel()), 2)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_phash_agrees_with_an_independent_implementation(name):
    assert hamming(GOLDEN[name][0], _imagehash_style_phash(photo(name))) <= 4


def test_different_photos_are_far_apart():
    names = sorted(GOLDEN)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            distances = [hamming(x, y) for x, y in zip(GOLDEN[a], GOLDEN[b])]
            assert min(distances) >= 15, (a, b, distances)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(GOLDEN)),
    scale=st.floats(min_value=0.3, max_value=1.6),
    quality=st.integers(min_value=30, max_value=95),
)
def test_resized_recompressed_copy_stays_close(name, scale, quality):
    image = Image.fromarray(photo(name))
    size = (max(16, round(image.width * scale)), max(16, round(image.height * scale)))
    copy = analyse(encode(image.resize(size, Image.Resampling.BICUBIC), "JPEG", quality=quality))
    p, d, a = (hamming(x, y) for x, y in zip(hashes_of(copy), GOLDEN[name]))
    assert p <= 6 and d <= 8 and a <= 8, (p, d, a)


def test_hashes_are_64_bit_unsigned_and_first_bit_is_most_significant():
    grey = np.zeros((64, 64), np.uint8)
    grey[:32, :32] = 255  # only the top-left is bright
    assert ahash(grey) == 0xF0F0F0F000000000
    grey = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (8, 1))  # brighter to the right everywhere
    assert dhash(grey) == 2**64 - 1
    assert 0 <= phash(photo("coffee")[:, :, 1]) < 2**64


@given(U64)
def test_int64_round_trip_is_exact(h):
    v = to_int64(h)
    assert -(2**63) <= v < 2**63
    assert from_int64(v) == h
    # The same bits as a numpy uint64 -> int64 view, the way Parquet/Arrow/Spark store them.
    assert np.array([h], dtype=np.uint64).view(np.int64)[0] == v


@given(U64, U64)
def test_hamming_is_a_metric_on_either_form(a, b):
    assert hamming(a, b) == bin(a ^ b).count("1")
    assert hamming(to_int64(a), to_int64(b)) == hamming(a, b)
    assert hamming(a, a) == 0 and hamming(a, b) == hamming(b, a)


@pytest.mark.parametrize("bad", [-1, 2**64])
def test_to_int64_refuses_values_that_are_not_64_bit(bad):
    with pytest.raises(ValueError):
        to_int64(bad)


def test_edge_values():
    assert to_int64(2**63) == -(2**63) and to_int64(2**64 - 1) == -1 and to_int64(2**63 - 1) == 2**63 - 1
    with pytest.raises(ValueError):
        from_int64(2**63)


def test_hash_is_computed_on_the_upright_picture():
    upright = analyse(encode(photo("astronaut"), "PNG"))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned left, displayed turned right
    stored = Image.fromarray(photo("astronaut")).transpose(Image.Transpose.ROTATE_90)
    turned = analyse(encode(stored, "PNG", exif=exif))
    assert hashes_of(turned) == hashes_of(upright)


def test_thumbnail_decodes_to_the_same_phash_neighbourhood():
    result = analyse(encode(photo("coffee"), "JPEG", quality=90))
    thumb = np.asarray(Image.open(io.BytesIO(result.thumbnail_jpeg)).convert("L"))
    assert hamming(phash(thumb), result.phash) <= 4
