"""The compiled loops of the embedded colour search, each against a plain numpy statement of
what it must return."""

import numpy as np
import pytest

from photoatlas.colorsearch import ColorQuery
from photoatlas.colorsearch.bounds import support_cells
from photoatlas.colorsearch.grid import COVERAGE_LEVELS, N_CELLS, PaletteGrid
from photoatlas.colorsearch.kernels import join_list, list_counts, upper_bounds
from photoatlas.colorsearch.scoring import color_class, palette_coverage, score_palettes, similarity
from photoatlas.colorsearch.synthetic import random_palettes

QUERIES = [("orange",), ("teal", "#a0522d"), ("grey", "black", "white"), ("#3050a0", "#e0c0a0"), ("gold",),
           ("grey", "white")]  # each matched by 18 to 250 of the random palettes


@pytest.fixture(scope="module")
def grid():
    lab, share = random_palettes(4_000, 5, seed=11)
    valid = np.ones(share.shape, dtype=bool)
    valid[::7, 4] = False
    coverage = np.where(valid, palette_coverage(lab, share, valid), 0.0)
    ids = np.array([f"{i:08x}" for i in range(len(share))], dtype=bytes)
    return PaletteGrid.build(ids, lab, coverage, valid)


def supports(query: ColorQuery):
    out, by_cell = [], np.zeros((len(query.labs), N_CELLS + 1), dtype=np.float32)
    for j, lab in enumerate(query.labs):
        cells, bound = support_cells(lab, int(color_class(lab)))
        out.append((cells, similarity(bound)))
        by_cell[j, cells] = out[-1][1]
    return out, by_cell


def entries(grid, cells, simmax, tau):
    counts = list_counts(grid.level_count, COVERAGE_LEVELS, cells, simmax, tau, 0.0)
    return {int(r) for c, n in zip(cells, counts) for r in grid.ent_photo[grid.cell_start[c]:grid.cell_start[c] + n]}


@pytest.mark.parametrize("names", [q for q in QUERIES if len(q) > 1])
def test_joined_lists_give_each_photo_in_all_of_them_once(grid, names):
    query = ColorQuery.of(*names)
    lists, _ = supports(query)
    every = np.uint8((1 << len(lists)) - 1)
    flags = np.zeros(len(grid), dtype=np.uint8)
    done = [np.zeros(len(cells), dtype=np.int64) for cells, _ in lists]
    taken = []
    for tau in (0.5, 0.2, 0.05):  # level by level, as the search takes them
        for i, (cells, simmax) in enumerate(lists):
            taken.extend(join_list(grid.ent_photo, grid.cell_start, grid.level_count, COVERAGE_LEVELS, cells,
                                   simmax, tau, 0.0, done[i], np.uint8(1 << i), every, flags).tolist())
    expected = set.intersection(*(entries(grid, cells, simmax, 0.05) for cells, simmax in lists))
    assert len(taken) == len(set(taken))
    assert set(taken) == expected and expected


@pytest.mark.parametrize("names", QUERIES)
def test_upper_bounds_are_never_below_the_score(grid, names):
    query = ColorQuery.of(*names, min_share={names[0]: 0.1})
    min_share = np.array([c.min_share for c in query.colors])
    _, by_cell = supports(query)
    rows = np.arange(len(grid))
    k = grid.packed.shape[1] // 2
    bound = upper_bounds(grid.packed[:, :k].view(np.float32), grid.cells, rows, by_cell, min_share)
    score = score_palettes(query.labs, min_share, grid.lab, grid.coverage, grid.valid).score
    assert (bound >= score).all()
    assert not (score[bound == 0] > 0).any()
    tenth = np.sort(score)[-10]
    assert tenth > 0 and (bound >= tenth).mean() < 0.2  # tight enough to leave most photos unscored


@pytest.mark.parametrize("names", QUERIES)
def test_support_and_floor_change_no_score_that_counts(grid, names):
    query = ColorQuery.of(*names)
    min_share = np.zeros(len(names))
    _, by_cell = supports(query)
    plain = score_palettes(query.labs, min_share, grid.lab, grid.coverage, grid.valid)
    matched = plain.score > 0
    assert matched.any()
    with_support = score_palettes(query.labs, min_share, grid.lab, grid.coverage, grid.valid,
                                  support=(by_cell, grid.cells))
    assert np.array_equal(with_support.score, plain.score)
    for field in ("best", "delta_e", "similarity"):
        assert np.array_equal(getattr(with_support, field)[matched], getattr(plain, field)[matched])
    floor = float(np.quantile(plain.score[matched], 0.9)) - 1e-9  # as the search sets it: a hair under a score
    floored = score_palettes(query.labs, min_share, grid.lab, grid.coverage, grid.valid,
                             support=(by_cell, grid.cells), floor=floor)
    above = plain.score >= floor
    assert np.array_equal(floored.score[above], plain.score[above])
    below = floored.score[~above]
    assert ((below == 0) | (below == plain.score[~above])).all()
    assert ((below == 0) & matched[~above]).any()  # some matching photos were cut short
