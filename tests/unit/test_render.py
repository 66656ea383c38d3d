import io

from PIL import Image

from photoatlas.render import SWATCH_ROW_PX, SWATCH_WIDTH_PX, hour_palette_markdown, palette_swatch_png


def test_swatch_colours_are_as_wide_as_their_share():
    png = palette_swatch_png([[{"hex": "#ff0000", "share": 0.75}, {"hex": "#0000ff", "share": 0.25}], []])
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.size == (SWATCH_WIDTH_PX, SWATCH_ROW_PX)  # the empty palette gets no row
    row = [img.getpixel((x, SWATCH_ROW_PX // 2)) for x in range(SWATCH_WIDTH_PX)]
    assert abs(row.count((255, 0, 0)) / SWATCH_WIDTH_PX - 0.75) < 0.01
    assert abs(row.count((0, 0, 255)) / SWATCH_WIDTH_PX - 0.25) < 0.01


def test_markdown_embeds_a_png_or_says_there_is_nothing():
    assert hour_palette_markdown([[], []]) == "_no ok photos this hour_"
    assert hour_palette_markdown([[{"hex": "#102030", "share": 1.0}]]).startswith("![palettes](data:image/png;base64,iVBOR")
