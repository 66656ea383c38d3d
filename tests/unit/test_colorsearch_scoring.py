"""The colour-search scoring function and query model (photoatlas.colorsearch)."""

import numpy as np
import pytest

from photoatlas.color import lab_to_hex, parse_color, srgb8_to_lab
from photoatlas.color_difference import delta_e_2000
from photoatlas.colorsearch.query import ColorQuery, Filters, QueryError
from photoatlas.colorsearch.scoring import (
    MATCH_DELTA_E,
    color_class,
    palette_coverage,
    score_palettes,
    similarity,
    top_k,
)


def lab(hex_or_name: str) -> np.ndarray:
    return parse_color(hex_or_name)


def score(query: ColorQuery, *palette: tuple[str | np.ndarray, float]):
    """Score one photo whose palette is (colour, share) pairs, sorted by share as documents are."""
    colors = np.array([lab(c) if isinstance(c, str) else c for c, _ in palette])
    shares = np.array([[s for _, s in palette]])
    coverage = palette_coverage(colors[None], shares)
    min_share = np.array([c.min_share for c in query.colors])
    return score_palettes(query.labs, min_share, colors[None], coverage, np.ones(shares.shape, bool))


def test_similarity_is_one_at_zero_and_zero_from_the_cutoff():
    assert similarity(0.0) == 1.0
    assert similarity(MATCH_DELTA_E) == 0.0
    assert similarity(MATCH_DELTA_E * 3) == 0.0
    values = similarity(np.linspace(0, MATCH_DELTA_E, 50))
    assert (np.diff(values) < 0).all()


def test_exact_colour_scores_its_share():
    result = score(ColorQuery.of("#e07020"), ("#e07020", 0.6), ("#2040a0", 0.4))
    assert result.score[0] == pytest.approx(0.6)
    assert result.delta_e[0, 0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("position", [1, 2])
def test_second_and_third_palette_colours_match(position):
    others = [("#1f3b73", 0.5), ("#d9d4c7", 0.3), ("#2e5e2a", 0.2)]
    palette = others[:position] + [("#ff8c00", 0.2 if position == 1 else 0.1)] + others[position:]
    palette.sort(key=lambda c: -c[1])
    result = score(ColorQuery.of("darkorange"), *palette)
    matched = [c for c, _ in palette][result.best[0, 0]]
    assert matched == "#ff8c00"
    assert result.score[0] > 0.09


def test_more_of_the_colour_ranks_higher():
    little = score(ColorQuery.of("teal"), ("#f0f0f0", 0.9), ("#008080", 0.1)).score[0]
    much = score(ColorQuery.of("teal"), ("#008080", 0.6), ("#f0f0f0", 0.4)).score[0]
    near = score(ColorQuery.of("teal"), ("#0a7a85", 0.6), ("#f0f0f0", 0.4)).score[0]
    assert much > near > little > 0


def test_near_grey_does_not_match_a_saturated_query_even_when_delta_e_is_small():
    query_lab = np.array([60.0, 13.0, 9.0])  # a muted but clearly chromatic pink-brown (C* ~ 15.8)
    grey = np.array([60.0, 3.0, 2.0])  # C* ~ 3.6: a grey
    assert delta_e_2000(query_lab, grey) < MATCH_DELTA_E  # ΔE00 alone would call it a match
    assert color_class(query_lab) == 2 and color_class(grey) == 0
    query = ColorQuery.of(lab_to_hex(query_lab))
    assert score(query, (grey, 1.0)).score[0] == 0.0
    assert score(ColorQuery.of("orange"), ("#8a8a8a", 0.7), ("#303030", 0.3)).score[0] == 0.0


def test_grey_query_matches_greys_and_not_hues():
    query = ColorQuery.of("grey")
    assert score(query, ("#7b7b7b", 0.8), ("#ff0000", 0.2)).score[0] > 0.7
    assert score(query, ("#ff0000", 0.5), ("#00a0ff", 0.5)).score[0] == 0.0
    assert score(query, ("#808070", 1.0)).score[0] > 0  # a slightly warm grey is still grey


def test_min_share_is_respected():
    palette = [("#2040a0", 0.85), ("#ffa500", 0.15)]
    assert score(ColorQuery.of("orange", min_share=0.2), *palette).score[0] == 0.0
    assert score(ColorQuery.of("orange", min_share=0.1), *palette).score[0] > 0.0


def test_min_share_counts_the_shades_of_a_split_colour():
    # k-means split one orange wall into two close oranges of 12% each: 24% of the photo is orange
    palette = [("#1a1a40", 0.76), ("#ff8c1a", 0.12), ("#f58220", 0.12)]
    result = score(ColorQuery.of("#ff8c1a", min_share=0.2), *palette)
    assert result.score[0] > 0.2


def test_every_colour_of_the_query_must_match_and_balance_wins():
    query = ColorQuery.of("orange", "teal")
    assert score(query, ("#ffa500", 1.0)).score[0] == 0.0
    lopsided = score(query, ("#ffa500", 0.8), ("#008080", 0.05), ("#ffffff", 0.15)).score[0]
    balanced = score(query, ("#ffa500", 0.3), ("#008080", 0.3), ("#ffffff", 0.4)).score[0]
    assert balanced == pytest.approx(0.3)
    assert lopsided == pytest.approx(2 / (1 / 0.8 + 1 / 0.05), rel=1e-6)
    assert balanced > lopsided


def test_css_names_and_hex_codes_parse_to_the_same_colour():
    assert ColorQuery.of("teal").colors[0].lab == pytest.approx(tuple(srgb8_to_lab(np.array([0, 128, 128], np.uint8))))
    assert ColorQuery.of("#008080").colors[0].lab == ColorQuery.of("008080").colors[0].lab
    assert ColorQuery.of("RebeccaPurple").colors[0].hex == "#663399"


@pytest.mark.parametrize("text", ["notacolour", "#12345", "", "#gggggg", "rgb(1,2)"])
def test_bad_colours_raise_a_query_error_naming_them(text):
    with pytest.raises(QueryError, match="not a colour"):
        ColorQuery.of(text)


def test_query_shape_errors():
    with pytest.raises(QueryError, match="1 to 3"):
        ColorQuery.of("red", "green", "blue", "white")
    with pytest.raises(QueryError, match="1 to 3"):
        ColorQuery.of()
    with pytest.raises(QueryError, match="min_share"):
        ColorQuery.of("red", min_share=1.5)
    with pytest.raises(QueryError, match="not in the query"):
        ColorQuery.of("red", min_share={"blue": 0.1})
    with pytest.raises(QueryError, match="place level"):
        Filters(place=(("planet", "earth"),))
    with pytest.raises(QueryError, match="earlier"):
        ColorQuery.of("red", captured_from="2024-02-01T00:00:00Z", captured_to="2024-01-01T00:00:00Z")


def test_coverage_adds_close_shades_and_never_exceeds_one():
    colors = np.array([[lab("#ff8c1a"), lab("#f58220"), lab("#1a1a40")]])
    coverage = palette_coverage(colors, np.array([[0.5, 0.45, 0.05]]))
    assert coverage[0, 0] > 0.5 + 0.3 and coverage[0, 2] == pytest.approx(0.05)
    same = palette_coverage(np.repeat(colors[:, :1], 3, axis=1), np.array([[0.5, 0.3, 0.2 + 1e-9]]))
    assert (same <= 1.0).all() and same[0, 0] == pytest.approx(1.0)


def test_top_k_breaks_ties_by_photo_id():
    scores = np.array([0.5, 0.9, 0.5, 0.0, 0.5])
    ids = np.array(["d", "z", "b", "a", "c"])
    assert list(ids[top_k(scores, ids, 3)]) == ["z", "b", "c"]
    assert len(top_k(scores, ids, 10)) == 4  # zero scores never come back
