"""Benchmark corpus: realistic camera-like JPEGs built from the real photos shipped in packages.

Each file is a random crop of a real photo (scikit-image / scikit-learn samples), scaled to
1-12 Mpix, with mild luminance and chroma grain so that it compresses like a photo
(~1-3 bits per pixel), saved at quality 75-95 with camera-like EXIF (some with GPS, some
rotated by the Orientation tag). Files are cached by index and generator version, so the
first ``n`` files are the same whichever corpus size asks for them.
"""

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

CORPUS_VERSION = 1
MIN_MPIX, MAX_MPIX = 1.0, 12.0
_ASPECTS = (4 / 3, 3 / 2, 16 / 9, 1.0)
_NOISE_TILE_PX = 1024


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "photoatlas" / "bench" / f"corpus-v{CORPUS_VERSION}"


def source_photos() -> dict[str, np.ndarray]:
    """The real RGB photos every corpus file is cut from."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = {
        name: getattr(skimage.data, name)()
        for name in ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field")
    }
    for path, image in zip(load_sample_images().filenames, load_sample_images().images):
        photos[Path(path).stem] = image
    return photos


def _noise_tile(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((_NOISE_TILE_PX, _NOISE_TILE_PX, 4), dtype=np.float32)


def _camera_exif(rng: np.random.Generator, index: int) -> Image.Exif:
    exif = Image.Exif()
    make, model = [("Canon", "Canon EOS 80D"), ("NIKON CORPORATION", "NIKON D750"), ("Apple", "iPhone 13")][index % 3]
    exif[0x010F], exif[0x0110] = make, model
    exif[0x0112] = int(rng.choice([1, 1, 1, 1, 1, 1, 6, 6, 8, 3]))
    day = 1 + index % 28
    exif[0x0132] = f"2024:05:{day:02d} 10:{index % 60:02d}:00"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = f"2024:05:{day:02d} 10:{index % 60:02d}:00"
    ifd[0x9011] = "+02:00"
    ifd[0x829A] = 1 / 250
    ifd[0x829D] = 4.0
    ifd[0x8827] = 200
    ifd[0x920A] = 35.0
    if rng.random() < 0.5:
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = "N", (48.0, 51.0, 24.0)
        gps[3], gps[4] = "E", (2.0, 21.0, 7.0)
    return exif


def make_photo(index: int, photos: dict[str, np.ndarray]) -> bytes:
    """The corpus file number ``index`` (deterministic)."""
    import cv2

    rng = np.random.default_rng(1000 + index)
    names = sorted(photos)
    src = photos[names[index % len(names)]]
    aspect = float(rng.choice(_ASPECTS))
    if rng.random() < 0.3:
        aspect = 1 / aspect
    mpix = rng.uniform(MIN_MPIX, MAX_MPIX)
    width = int(round((mpix * 1e6 * aspect) ** 0.5))
    height = int(round(width / aspect))

    # Random crop of the source with the target aspect, 50-100 % of the largest such crop.
    sh, sw = src.shape[:2]
    cw = min(sw, int(sh * aspect))
    ch = int(cw / aspect)
    frac = rng.uniform(0.5, 1.0)
    cw, ch = max(8, int(cw * frac)), max(8, int(ch * frac))
    x0 = int(rng.integers(0, sw - cw + 1))
    y0 = int(rng.integers(0, sh - ch + 1))
    crop = np.ascontiguousarray(src[y0 : y0 + ch, x0 : x0 + cw])
    big = cv2.resize(crop, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)

    # Grain: luminance noise on every channel plus weaker independent chroma noise.
    tile = _noise_tile(np.random.default_rng(index))
    reps = (-(-height // _NOISE_TILE_PX), -(-width // _NOISE_TILE_PX), 1)
    noise = np.tile(tile, reps)[:height, :width]
    luma_sigma = rng.uniform(3.0, 7.0)
    big += noise[..., :1] * luma_sigma + noise[..., 1:] * (luma_sigma * 0.4)
    pixels = np.clip(big, 0, 255).astype(np.uint8)

    quality = int(rng.integers(75, 96))
    subsampling = 0 if (quality >= 92 and rng.random() < 0.5) else 2
    buf = io.BytesIO()
    Image.fromarray(pixels).save(
        buf,
        "JPEG",
        quality=quality,
        subsampling=subsampling,
        progressive=bool(rng.random() < 0.1),
        exif=_camera_exif(rng, index),
    )
    return buf.getvalue()


def build_corpus(n: int, cache_dir: Path | None = None, log=print) -> list[Path]:
    """Paths of the first ``n`` corpus files, generating the ones not cached yet."""
    cache_dir = Path(cache_dir or default_cache_dir())
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths = [cache_dir / f"photo-{i:04d}.jpg" for i in range(n)]
    missing = [i for i, p in enumerate(paths) if not p.exists()]
    if missing:
        log(f"building {len(missing)} corpus JPEGs in {cache_dir} (cached for next time)")
        photos = source_photos()
        for done, i in enumerate(missing, 1):
            tmp = paths[i].with_suffix(".tmp")
            tmp.write_bytes(make_photo(i, photos))
            tmp.replace(paths[i])
            if done % 100 == 0:
                log(f"  {done}/{len(missing)}")
    return paths
