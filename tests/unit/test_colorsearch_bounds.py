"""The ΔE00 lower bound over CIELCh cells: the guarantee that candidate retrieval loses nothing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photoatlas.color import srgb8_to_lab
from photoatlas.color_difference import delta_e_2000
from photoatlas.colorsearch.bounds import (
    GRID_SHAPE,
    H_STEP,
    T_MAX,
    Cells,
    cell_boxes,
    cell_of,
    delta_e_lower_bound,
    lch,
    support_cells,
    support_range,
)
from photoatlas.colorsearch.scoring import MATCH_DELTA_E, color_class, compatible

N_CELLS = int(np.prod(GRID_SHAPE))


def lab_from_lch(p: np.ndarray) -> np.ndarray:
    h = np.radians(p[..., 2])
    return np.stack([p[..., 0], p[..., 1] * np.cos(h), p[..., 1] * np.sin(h)], axis=-1)


def random_queries(rng, n):
    """sRGB colours plus the awkward ones: greys, near-blacks, saturated blues near h = 275°."""
    qs = list(srgb8_to_lab(rng.integers(0, 256, (n, 3), dtype=np.uint8)))
    qs += [np.array([50.0, 0.0, 0.0]), np.array([3.0, 0.5, -0.5]), np.array([30.0, 5.0, -60.0]),
           np.array([32.3, 79.2, -107.9]), np.array([100.0, 0.0, 0.0])]
    return qs


def test_bound_never_exceeds_delta_e_inside_random_cells():
    rng = np.random.default_rng(7)
    worst = 0.0
    for q in random_queries(rng, 60):
        cells = rng.integers(0, N_CELLS, 300)
        lo, hi = cell_boxes(cells)
        u = rng.random((len(cells), 40, 3))
        u[:, :8] = np.stack(np.meshgrid([0, 1], [0, 1], [0, 1], indexing="ij"), -1).reshape(8, 3)  # corners
        points = lab_from_lch(lo[:, None, :] + u * (hi - lo)[:, None, :])
        gap = delta_e_lower_bound(q, lo, hi) - delta_e_2000(q, points).min(axis=1)
        worst = max(worst, float(gap.max()))
    assert worst <= 1e-9


@settings(max_examples=200, deadline=None)
@given(
    q=st.tuples(st.floats(0, 100), st.floats(-100, 100), st.floats(-110, 100)),
    c=st.tuples(st.floats(0, 100), st.floats(0, 140), st.floats(0, 359.999)),
)
def test_bound_holds_for_the_cell_of_any_colour(q, c):
    point = lab_from_lch(np.array(c))
    cell = cell_of(point)
    lo, hi = cell_boxes(np.array([cell]))
    assert delta_e_lower_bound(np.array(q), lo, hi)[0] <= delta_e_2000(np.array(q), point) + 1e-9


def test_support_cells_hold_every_colour_that_can_match():
    rng = np.random.default_rng(11)
    colours = srgb8_to_lab(rng.integers(0, 256, (30_000, 3), dtype=np.uint8))
    cells = cell_of(colours)
    for q in random_queries(rng, 20):
        qc = int(color_class(q))
        support, bound = support_cells(q, qc)
        matches = (delta_e_2000(q, colours) < MATCH_DELTA_E) & compatible(qc, color_class(colours))
        assert np.isin(cells[matches], support).all()
        assert (bound < MATCH_DELTA_E).all()


def test_support_is_much_smaller_than_the_grid():
    q = srgb8_to_lab(np.array([255, 128, 0], np.uint8))
    support, _ = support_cells(q, int(color_class(q)))
    assert 0 < len(support) < N_CELLS // 10


def test_support_range_holds_every_colour_that_can_match():
    rng = np.random.default_rng(3)
    colours = srgb8_to_lab(rng.integers(0, 256, (30_000, 3), dtype=np.uint8))
    polar = lch(colours)
    for q in random_queries(rng, 20):
        qc = int(color_class(q))
        matches = (delta_e_2000(q, colours) < MATCH_DELTA_E) & compatible(qc, color_class(colours))
        l_lo, l_hi, c_lo, c_hi, arc = support_range(q, qc)
        p = polar[matches]
        assert ((p[:, 0] >= l_lo) & (p[:, 0] <= l_hi) & (p[:, 1] >= c_lo) & (p[:, 1] <= c_hi)).all()
        if arc is not None:
            start, end = arc
            inside = (p[:, 2] >= start) & (p[:, 2] <= end) if start <= end else (p[:, 2] >= start) | (p[:, 2] <= end)
            assert inside.all()


def test_t_max_bounds_the_hue_weighting():
    h = np.radians(np.arange(0, 360, 0.001))
    t = (1 - 0.17 * np.cos(h - np.radians(30)) + 0.24 * np.cos(2 * h) + 0.32 * np.cos(3 * h + np.radians(6))
         - 0.20 * np.cos(4 * h - np.radians(63)))
    assert t.max() + 1e-3 <= T_MAX


def test_cells_must_not_straddle_a_hue_quadrant():
    assert 90.0 % H_STEP == 0
    with pytest.raises(ValueError, match="quadrant"):
        Cells(np.array([[0.0, 0.0, 80.0]]), np.array([[4.0, 4.0, 100.0]]))
