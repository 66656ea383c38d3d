"""Any decoded Pillow image -> 8-bit sRGB pixels (+ alpha), scaled, not clipped.

- 16-bit samples are scaled to 8 bits (v * 255 / 65535, rounded). Pillow's own
  ``convert('L')`` clips 16-bit greys at 255, which would turn most photos white.
- 32-bit integer samples ('I') are read as 16-bit unless the TIFF says 32 bits per sample;
  float samples ('F') are read as 0..1. Both are rare (scientific TIFFs) and warned about.
- Transparency (alpha channel, or a palette / colour key marked transparent) comes back
  as a separate alpha plane so that transparent pixels can be left out of palettes.
- Embedded ICC profiles other than sRGB are converted to sRGB (LittleCMS, perceptual
  intent); CMYK without a profile falls back to Pillow's naive conversion, with a warning.
"""

import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}
_SRGB = ImageCms.createProfile("sRGB")


def _scale_to_8bit(values: np.ndarray, max_value: int) -> np.ndarray:
    values = np.clip(values.astype(np.int64), 0, max_value)
    return ((values * 255 + max_value // 2) // max_value).astype(np.uint8)


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2)


@lru_cache(maxsize=32)
def _icc_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """Cached transform from the embedded profile to sRGB; None when the profile is sRGB already."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if mode == "RGB" and "srgb" in ImageCms.getProfileDescription(profile).lower():
        return None
    return ImageCms.buildTransform(profile, _SRGB, mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL)


def icc_to_srgb(image: Image.Image, icc: bytes | None, warnings: list[str]) -> Image.Image | None:
    """``image`` (RGB or CMYK) converted to sRGB through its profile; None when nothing to do
    (no profile, or sRGB already) or when the profile is unusable (warned)."""
    if not icc or image.mode not in ("RGB", "CMYK"):
        return None
    try:
        transform = _icc_transform(bytes(icc), image.mode)
        return None if transform is None else ImageCms.applyTransform(image, transform)
    except Exception as exc:  # a bad profile costs colour accuracy, never the photo
        warnings.append(f"icc_profile_ignored: {type(exc).__name__}: {exc}")
        return None


def to_srgb8(image: Image.Image, warnings: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """(rgb uint8 HxWx3, alpha uint8 HxW or None when fully opaque) of a loaded image.

    RGB images keep their embedded profile unapplied (``icc_to_srgb`` later, on fewer pixels);
    CMYK is converted here, through its profile when it has one.
    """
    mode = image.mode
    alpha = None
    if mode in _SIXTEEN_BIT_MODES:
        rgb = _grey_to_rgb(_scale_to_8bit(np.asarray(image), 65535))
    elif mode == "I":
        bits = 16
        tags = getattr(image, "tag_v2", None)
        if tags is not None and tags.get(258) in (32, (32,)):
            bits = 32
        warnings.append(f"int32_samples_read_as_{bits}bit")
        rgb = _grey_to_rgb(_scale_to_8bit(np.asarray(image), (1 << bits) - 1))
    elif mode == "F":
        warnings.append("float_samples_read_as_0_to_1")
        grey = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0)
        rgb = _grey_to_rgb(np.rint(np.clip(grey, 0.0, 1.0) * 255).astype(np.uint8))
    elif mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"))
        rgb, alpha = rgba[:, :, :3], rgba[:, :, 3]
        if alpha.min() == 255:
            alpha = None
    elif mode == "RGB":
        rgb = np.asarray(image)
    elif mode == "CMYK":
        converted = icc_to_srgb(image, image.info.get("icc_profile"), warnings)
        if converted is None:
            warnings.append("cmyk_naive_conversion")
            converted = image.convert("RGB")
        rgb = np.asarray(converted)
    else:
        rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb), alpha
