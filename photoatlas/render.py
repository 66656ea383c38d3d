"""Small pictures for people: the hour's palette swatch (PNG bytes), as markdown for the UI."""

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

SWATCH_WIDTH_PX = 480
SWATCH_ROW_PX = 18
SWATCH_MAX_PHOTOS = 24


def palette_swatch_png(palettes: list[list[dict]]) -> bytes:
    """One row per photo (up to SWATCH_MAX_PHOTOS), each colour as wide as its share."""
    rows = [p for p in palettes if p][:SWATCH_MAX_PHOTOS]
    height = max(1, len(rows)) * SWATCH_ROW_PX
    img = Image.new("RGB", (SWATCH_WIDTH_PX, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    for y, palette in enumerate(rows):
        x = 0.0
        for colour in palette:
            width = colour["share"] * SWATCH_WIDTH_PX
            rgb = tuple(int(colour["hex"][i : i + 2], 16) for i in (1, 3, 5))
            draw.rectangle([int(round(x)), y * SWATCH_ROW_PX, int(round(x + width)), (y + 1) * SWATCH_ROW_PX - 2], fill=rgb)
            x += width
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def png_markdown(png: bytes, alt: str) -> str:
    """Inline markdown image (the Dagster UI renders markdown metadata)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def hour_palette_markdown(palettes: list[list[dict]]) -> str:
    if not any(palettes):
        return "_no ok photos this hour_"
    shown = min(SWATCH_MAX_PHOTOS, sum(1 for p in palettes if p))
    return png_markdown(palette_swatch_png(palettes), "palettes") + f"\n\n{shown} of {sum(1 for p in palettes if p)} photos, colours as wide as their share"
