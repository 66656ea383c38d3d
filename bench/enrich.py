"""One-core enrichment throughput of photoatlas.imaging.analyse, as ratios to references
measured in the same run on the same files.

    .venv/bin/python bench/enrich.py            # 500 JPEGs, 1-12 Mpix (corpus cached)
    .venv/bin/python bench/enrich.py --quick    # smaller corpus and subsets, under a minute

References:
- floor: DCT-scaled decode alone (Pillow ``draft`` and OpenCV ``IMREAD_REDUCED_*`` at the
  same scale analyse() uses; the faster of the two counts), i.e. what any pipeline that
  opens every photo must pay.
- naive: full-resolution decode + scikit-learn KMeans (k=5, one k-means++ init) on every
  pixel in CIELAB, on a small subset.
- full-resolution palette (for ``palette_de00``): every full-resolution pixel, clustered by
  scikit-learn KMeans (k=5, 4 inits like analyse) on the distinct colours weighted by their
  pixel counts, which is the same objective as clustering every pixel, only faster. An
  independent implementation, so it checks the reduction and our k-means at once.

Timing interleaves floor and analyse() file by file (alternating which goes first), so
load from other processes on the machine hits both alike. The last line is the result:
RESULT floor_ratio=... naive_speedup=... palette_de00=... imgs_per_s=... floor_imgs_per_s=...
"""

import os
import sys

# One core, one thread per library (bench/_onecore.py), before numpy / OpenCV / scikit-learn load.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _onecore import pin_one_core  # noqa: E402

_CORE = pin_one_core()

import argparse  # noqa: E402
import io  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import _corpus  # noqa: E402
from photoatlas.color import lab_to_hex, srgb8_to_lab  # noqa: E402
from photoatlas.imaging.analyse import THUMB_EDGE_PX, analyse  # noqa: E402
from photoatlas.imaging.palette import PaletteColor, palette_delta_e  # noqa: E402

cv2.setNumThreads(1)
K = 5
_CV2_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def floor_pillow(data: bytes, scale: int) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    w, h = image.size
    long_edge = max(w, h)
    image.draft(image.mode, (max(1, w * THUMB_EDGE_PX // long_edge), max(1, h * THUMB_EDGE_PX // long_edge)))
    image.load()
    return np.asarray(image)


def floor_cv2(data: bytes, scale: int) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), _CV2_REDUCED[scale] | cv2.IMREAD_IGNORE_ORIENTATION)


def _palette(centres: np.ndarray, mass: np.ndarray) -> tuple[PaletteColor, ...]:
    share = mass / mass.sum()
    order = np.argsort(-share)
    return tuple(PaletteColor(*map(float, centres[i]), lab_to_hex(centres[i]), float(share[i])) for i in order)


def naive_palette(data: bytes) -> tuple[PaletteColor, ...]:
    """The naive approach: full-resolution decode, every pixel to CIELAB, scikit-learn KMeans."""
    from sklearn.cluster import KMeans

    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).reshape(-1, 3)
    km = KMeans(n_clusters=K, n_init=1, random_state=0).fit(srgb8_to_lab(pixels))
    return _palette(km.cluster_centers_, np.bincount(km.labels_, minlength=K).astype(float))


def full_resolution_palette(data: bytes) -> tuple[PaletteColor, ...]:
    """k-means over every full-resolution pixel, computed on distinct colours weighted by count."""
    from sklearn.cluster import KMeans

    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).reshape(-1, 3).astype(np.uint32)
    counts = np.bincount(pixels[:, 0] << 16 | pixels[:, 1] << 8 | pixels[:, 2], minlength=1 << 24)
    codes = np.flatnonzero(counts)
    colours = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=1).astype(np.uint8)
    weights = counts[codes].astype(float)
    km = KMeans(n_clusters=K, n_init=4, random_state=0).fit(srgb8_to_lab(colours), sample_weight=weights)
    return _palette(km.cluster_centers_, np.bincount(km.labels_, weights=weights, minlength=K))


def time_interleaved(datas: list[bytes], scales: list[int]) -> np.ndarray:
    """Seconds per file (files x [analyse, Pillow floor, OpenCV floor]), measured file by file
    in rotating order so that neither side gets the warm caches or the quiet moments."""
    fns = (lambda d, s: analyse(d), floor_pillow, floor_cv2)
    spent = np.zeros((len(datas), 3))
    for i, (data, scale) in enumerate(zip(datas, scales)):
        for j in range(3):
            which = (i + j) % 3
            t0 = time.perf_counter()
            fns[which](data, scale)
            spent[i, which] = time.perf_counter() - t0
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small corpus and subsets: the whole run under a minute")
    parser.add_argument("--n", type=int, help="corpus size (default 500, --quick 60)")
    parser.add_argument("--naive", type=int, help="files timed the naive way (default 8, --quick 2)")
    parser.add_argument(
        "--palette", type=int, help="files whose palette is checked at full resolution (default 24, --quick 4)"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="corpus cache (default ~/.cache/photoatlas/bench)")
    args = parser.parse_args()
    n = args.n or (60 if args.quick else 500)
    n_naive = args.naive or (2 if args.quick else 8)
    n_palette = args.palette or (4 if args.quick else 24)
    started = time.perf_counter()

    paths = _corpus.build_corpus(n, args.cache_dir)
    datas = [p.read_bytes() for p in paths]
    sizes = [Image.open(io.BytesIO(d)).size for d in datas]
    mpix = np.array([w * h / 1e6 for w, h in sizes])
    mb = np.array([len(d) / 1e6 for d in datas])
    print(
        f"{'QUICK run: ' if args.quick else ''}corpus {n} JPEGs, {mpix.min():.1f}-{mpix.max():.1f} Mpix "
        f"(mean {mpix.mean():.1f}), {mb.mean():.2f} MB mean; core {_CORE}, 1 thread"
    )

    # Warm up (imports, caches) and learn the DCT scale analyse() picks per file.
    scales = [analyse(d).decode_scale for d in datas]
    print(f"DCT scales used: {dict(zip(*np.unique(scales, return_counts=True)))}")

    per_file = time_interleaved(datas, scales)
    t_an, t_pil, t_cv = per_file.sum(0)
    t_floor = min(t_pil, t_cv)
    imgs_per_s = n / t_an
    floor_imgs_per_s = n / t_floor
    print(
        f"analyse: {imgs_per_s:.1f} img/s ({t_an / n * 1e3:.1f} ms/img); floor: Pillow draft {n / t_pil:.1f} img/s, "
        f"OpenCV reduced {n / t_cv:.1f} img/s"
    )

    # Naive reference on a few files (spread over the corpus; --quick: its smallest files).
    picks = np.argsort(mpix)[:n_naive] if args.quick else np.linspace(0, n - 1, n_naive).astype(int)
    t_naive = 0.0
    naive_des = []
    for i in picks:
        t0 = time.perf_counter()
        naive = naive_palette(datas[i])
        t_naive += time.perf_counter() - t0
        naive_des.append(palette_delta_e(analyse(datas[i], k=K).palette, naive))
    t_ours = per_file[picks, 0].sum()  # the same files' analyse() times from the timed pass
    naive_speedup = t_naive / t_ours
    print(
        f"naive: {t_naive / len(picks):.2f} s/img on {len(picks)} files ({mpix[picks].mean():.1f} Mpix mean) "
        f"vs analyse {t_ours / len(picks) * 1e3:.1f} ms/img; its single-init palette is "
        f"{np.mean(naive_des):.2f} ΔE00 from analyse's (max {max(naive_des):.2f})"
    )

    # Palette accuracy on a larger spread of files: single k-means solutions can differ a lot
    # on photos whose colours form a continuum (near-equal optima), so one file says little.
    picks = np.linspace(0, n - 1, n_palette).astype(int)
    des = np.array([palette_delta_e(analyse(datas[i], k=K).palette, full_resolution_palette(datas[i])) for i in picks])
    palette_de00 = float(des.mean())
    print(
        f"palette ΔE00 vs the full-resolution palette on {len(picks)} files: mean {palette_de00:.2f}, "
        f"median {np.median(des):.2f}, 90th pct {np.percentile(des, 90):.2f}, max {des.max():.2f}"
    )
    quick_note = " (QUICK: smaller corpus and subsets)" if args.quick else ""
    print(f"wall time {time.perf_counter() - started:.0f} s{quick_note}")
    print(
        f"RESULT floor_ratio={imgs_per_s / floor_imgs_per_s:.3f} naive_speedup={naive_speedup:.0f} "
        f"palette_de00={palette_de00:.2f} imgs_per_s={imgs_per_s:.1f} floor_imgs_per_s={floor_imgs_per_s:.1f}"
    )


if __name__ == "__main__":
    main()
