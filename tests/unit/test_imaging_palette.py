"""Palettes and colour histograms: golden colours of real photos, agreement with the
full-resolution palette, the histogram layout, neutrals, weights and invariants."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageColor
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from photoatlas.color import lab_to_hex, srgb8_to_lab
from photoatlas.color_difference import delta_e_2000
from photoatlas.imaging.analyse import analyse
from photoatlas.imaging.palette import (
    HIST_BINS,
    HIST_LABELS,
    PaletteColor,
    hist_bin,
    palette_and_hist,
    palette_delta_e,
    weighted_kmeans,
)
from tests.unit.imaging_corpus import HUBBLE_JPEG, encode, photo, read, upscaled

# Dominant colours (CIELAB, share) of real photos, and the heaviest histogram bin.
GOLDEN = {
    "astronaut": ((77.7, 3.1, 3.4), 0.370, "light_grey"),
    "chelsea": ((57.3, 10.9, 20.5), 0.305, "orange_mid"),  # a tabby cat
    "coffee": ((55.2, 26.1, 40.7), 0.409, "orange_mid"),
    "rocket": ((19.9, 3.7, -19.3), 0.463, "azure_dark"),  # dusk sky
    "china": ((89.2, -1.2, -6.7), 0.456, "white"),
    "flower": ((26.2, -17.1, -7.7), 0.335, "cyan_dark"),  # teal background
}


def lab_of(name: str) -> np.ndarray:
    return srgb8_to_lab(np.array(ImageColor.getrgb(name)[:3], np.uint8))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_dominant_colour_and_hist_bin(name):
    lab, share, top_bin = GOLDEN[name]
    result = analyse(encode(photo(name), "PNG"))
    first = result.palette[0]
    assert delta_e_2000(np.array([first.l, first.a, first.b]), np.array(lab)) < 1.0
    assert first.share == pytest.approx(share, abs=0.02)
    assert HIST_LABELS[int(np.argmax(result.color_hist))] == top_bin


def test_golden_hubble_is_black_space():
    result = analyse(read(HUBBLE_JPEG))
    assert result.palette[0].l < 6 and result.palette[0].share > 0.85
    assert result.color_hist[HIST_LABELS.index("black")] > 0.9


def _full_resolution_palette(data: bytes, k: int = 5) -> tuple[PaletteColor, ...]:
    """Independent reference: scikit-learn k-means over every full-resolution pixel (as distinct
    colours weighted by count: the same objective, faster)."""
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).reshape(-1, 3).astype(np.uint32)
    counts = np.bincount(pixels[:, 0] << 16 | pixels[:, 1] << 8 | pixels[:, 2], minlength=1 << 24)
    codes = np.flatnonzero(counts)
    lab = srgb8_to_lab(np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], 1).astype(np.uint8))
    with threadpool_limits(1):  # OpenMP threads only fight each other on a busy small machine
        km = KMeans(n_clusters=k, n_init=4, random_state=0).fit(lab, sample_weight=counts[codes])
    mass = np.bincount(km.labels_, weights=counts[codes], minlength=k)
    return tuple(PaletteColor(*c, lab_to_hex(c), s) for c, s in zip(km.cluster_centers_, mass / mass.sum()))


def test_reduced_decode_palette_matches_full_resolution():
    """The acceptance bar: within 3 ΔE00 of the full-resolution palette on average. Single
    photos whose colours form a continuum (china) can settle in a neighbouring k-means
    optimum, so the per-photo bound is looser."""
    distances = {}
    for name in sorted(GOLDEN):
        data = encode(upscaled(name, 1200, noise_sigma=2), "JPEG", quality=90)
        result = analyse(data)
        assert result.decode_scale == 4
        distances[name] = palette_delta_e(result.palette, _full_resolution_palette(data))
    assert np.mean(list(distances.values())) < 3.0, distances
    assert max(distances.values()) < 5.0, distances


def test_hist_layout():
    assert HIST_BINS == len(HIST_LABELS) == 40 and len(set(HIST_LABELS)) == 40
    assert HIST_LABELS[:3] == ("red_dark", "red_mid", "red_light")
    assert HIST_LABELS[-4:] == ("black", "dark_grey", "light_grey", "white")


@pytest.mark.parametrize(
    "colour, label",
    [
        ("#ff0000", "red_mid"),
        ("orange", "orange_light"),
        ("yellow", "yellow_light"),
        ("#008000", "green_mid"),
        ("#00ff00", "green_light"),
        ("teal", "cyan_mid"),
        ("skyblue", "sky_light"),
        ("#0000ff", "blue_dark"),
        ("purple", "purple_dark"),
        ("magenta", "purple_mid"),
        ("deeppink", "pink_mid"),
        ("#808080", "light_grey"),
        ("#333333", "dark_grey"),
        ("#300000", "black"),  # dark red: L* 7, near-black is not a hue
        ("#8a8f94", "light_grey"),  # bluish grey: chroma 4, grey is not a hue
        ("white", "white"),
    ],
)
def test_hist_bin_of_named_colours(colour, label):
    assert HIST_LABELS[int(hist_bin(lab_of(colour)))] == label


def test_neutrals_stay_in_the_palette_but_not_in_hue_bins():
    card = np.zeros((60, 90, 3), np.uint8)
    card[:, :30] = (128, 128, 128)
    card[:, 30:60] = (10, 10, 10)
    card[:, 60:] = (220, 30, 30)
    palette, hist = palette_and_hist(card, k=3)
    assert sorted(c.hex for c in palette) == ["#0a0a0a", "#808080", "#dc1e1e"]
    assert all(c.share == pytest.approx(1 / 3) for c in palette)
    shares = {HIST_LABELS[i]: float(v) for i, v in enumerate(hist) if v}
    third = pytest.approx(1 / 3)
    assert shares == {"black": third, "light_grey": third, "red_mid": third}


def test_weights_zero_pixels_do_not_count():
    card = np.zeros((40, 40, 3), np.uint8)
    card[:, :10] = (20, 200, 20)
    card[:, 10:] = (200, 20, 200)
    weights = np.ones((40, 40), np.float32)
    weights[:, 10:] = 0.0
    palette, hist = palette_and_hist(card, weights, k=5)
    assert [c.hex for c in palette] == ["#14c814"] and palette[0].share == 1.0
    assert hist[HIST_LABELS.index("green_light")] == pytest.approx(1.0)  # L* 70.5


def test_k_is_configurable():
    image = photo("coffee")
    for k in (1, 3, 8):
        palette, _ = palette_and_hist(image, k=k)
        assert len(palette) == k
    assert len(analyse(encode(image, "PNG"), k=8).palette) == 8
    with pytest.raises(ValueError):
        palette_and_hist(image, k=0)


def test_single_colour_gives_one_entry():
    palette, hist = palette_and_hist(np.full((20, 30, 3), (30, 60, 200), np.uint8), k=5)
    assert [(c.hex, c.share) for c in palette] == [("#1e3cc8", 1.0)]
    assert hist.sum() == pytest.approx(1.0)


images = st.builds(
    lambda seed, h, w, colours, noise: _random_image(seed, h, w, colours, noise),
    st.integers(0, 2**32 - 1),
    st.integers(1, 48),
    st.integers(1, 48),
    st.integers(1, 12),
    st.floats(0, 40),
)


def _random_image(seed: int, h: int, w: int, colours: int, noise: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (colours, 3))
    picture = palette[rng.integers(0, colours, (h, w))] + rng.normal(0, noise, (h, w, 3))
    return np.clip(picture, 0, 255).astype(np.uint8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image=images, k=st.integers(1, 8), seed=st.integers(0, 2**31))
def test_palette_invariants(image, k, seed):
    palette, hist = palette_and_hist(image, k=k, seed=seed)
    shares = [c.share for c in palette]
    assert 1 <= len(palette) <= k
    assert abs(sum(shares) - 1.0) <= 1e-9
    assert shares == sorted(shares, reverse=True) and min(shares) > 0
    assert all(len(c.hex) == 7 and c.hex.startswith("#") and 0 <= c.l <= 100 for c in palette)
    assert hist.dtype == np.float32 and hist.shape == (HIST_BINS,) and hist.min() >= 0
    assert abs(float(hist.sum()) - 1.0) < 1e-5
    again = palette_and_hist(image.copy(), k=k, seed=seed)
    assert again[0] == palette and np.array_equal(again[1], hist)  # deterministic


@settings(max_examples=30, deadline=None)
@given(image=images)
def test_palette_delta_e_is_zero_to_itself_and_symmetric(image):
    p, _ = palette_and_hist(image, k=4, seed=1)
    q, _ = palette_and_hist(image, k=4, seed=2)
    assert palette_delta_e(p, p) == 0.0
    assert palette_delta_e(p, q) == pytest.approx(palette_delta_e(q, p))
    assert palette_delta_e(p, tuple(reversed(p))) == 0.0


def test_weighted_kmeans_finds_separated_clusters_exactly():
    rng = np.random.default_rng(3)
    centres = np.array([[20.0, 0, 0], [50, 40, 40], [80, -30, 60]])
    points = np.concatenate([c + rng.normal(0, 1, (200, 3)) for c in centres])
    weights = np.concatenate([np.full(200, 1.0), np.full(200, 2.0), np.full(200, 3.0)])
    found, mass = weighted_kmeans(points, weights, 3, seed=0)
    order = np.argsort(found[:, 0])
    assert np.abs(found[order] - centres).max() < 0.3
    assert mass[order] == pytest.approx([200, 400, 600])
