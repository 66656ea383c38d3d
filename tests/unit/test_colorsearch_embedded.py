"""The embedded colour index: exact against brute force, and honest partition writes."""

from datetime import datetime, timezone

import numpy as np
import pytest

from photoatlas.colorsearch import (BulkIndexError, ColorIndex, ColorQuery, DocumentError, EmbeddedColorIndex,
                                   to_document)
from photoatlas.colorsearch.grid import PaletteGrid
from photoatlas.colorsearch.scoring import palette_coverage
from photoatlas.colorsearch.synthetic import random_palettes, random_records

HOUR_A, HOUR_B = "2024-05-01-12:00", "2024-05-01-13:00"
QUERY_COLOURS = ["orange", "teal", "grey", "white", "black", "#3050a0", "#a0522d", "pink", "#e0c0a0", "gold",
                 "navy", "#26ff30", "darkgreen", "#c8a2c8", "crimson", "#404040"]


@pytest.fixture(scope="module")
def grid():
    lab, share = random_palettes(12_000, 5, seed=5)
    coverage = palette_coverage(lab, share)
    rng = np.random.default_rng(5)
    ids = np.array([f"{x:016x}" for x in rng.integers(0, 2**63, len(share))], dtype=bytes)
    valid = np.ones(share.shape, dtype=bool)
    valid[rng.random(len(share)) < 0.1, 4] = False  # some palettes have fewer colours
    return PaletteGrid.build(ids, lab, np.where(valid, coverage, 0.0), valid)


def random_queries(seed: int, n: int):
    rng = np.random.default_rng(seed)
    for i in range(n):
        k = [1, 1, 1, 2, 2, 3][i % 6]
        colours = list(rng.choice(QUERY_COLOURS, k, replace=False))
        if i % 4 == 3:
            colours[0] = "#%02x%02x%02x" % tuple(rng.integers(0, 256, 3))
        min_share = {colours[0]: float(rng.choice([0.0, 0.1, 0.3]))}
        yield ColorQuery.of(*dict.fromkeys(colours), min_share=min_share)


@pytest.mark.parametrize("limit, n_queries", [(10, 24), (1, 8), (60, 8)])
def test_grid_search_equals_brute_force(grid, limit, n_queries):
    for query in random_queries(seed=limit, n=n_queries):
        min_share = np.array([c.min_share for c in query.colors])
        rows, scored = grid.search(query.labs, min_share, limit)
        brute_rows, brute = grid.brute_force(query.labs, min_share, limit)
        assert list(grid.photo_ids[rows]) == list(grid.photo_ids[brute_rows]), [c.text for c in query.colors]
        assert np.array_equal(scored.score, brute.score)
        assert (scored.score > 0).all()


def test_entries_hold_every_photo_that_can_reach_the_threshold(grid):
    """The candidate invariant itself: a palette colour with simmax·coverage ≥ τ is never left out."""
    from photoatlas.colorsearch.bounds import support_cells
    from photoatlas.colorsearch.grid import COVERAGE_LEVELS
    from photoatlas.colorsearch.kernels import join_list
    from photoatlas.colorsearch.scoring import color_class, similarity

    for query in random_queries(seed=3, n=12):
        q = query.labs[0]
        cells, bound = support_cells(q, int(color_class(q)))
        simmax = similarity(bound)
        by_cell = np.zeros(len(grid.cell_max_cov) + 1)
        by_cell[cells] = simmax
        for tau in (0.05, 0.2, 0.37, 0.6):
            reach = ((grid.coverage * by_cell[grid.cells]) >= tau).any(axis=1)
            taken = join_list(grid.ent_photo, grid.cell_start, grid.level_count, COVERAGE_LEVELS, cells, simmax, tau,
                              0.0, np.zeros(len(cells), dtype=np.int64), np.uint8(1), np.uint8(1),
                              np.zeros(len(grid), dtype=np.uint8))
            assert len(np.unique(taken)) == len(taken)  # each photo once
            assert set(np.flatnonzero(reach)) <= set(taken.tolist())


def test_grid_search_scores_small_batches_in_bound_order(grid, monkeypatch):
    """With tiny batches the stop rule must also wait for the next candidate's upper bound."""
    import photoatlas.colorsearch.grid as grid_module

    monkeypatch.setattr(grid_module, "SCORE_BATCH", 2)
    for query in random_queries(seed=4, n=12):
        min_share = np.array([c.min_share for c in query.colors])
        rows, _ = grid.search(query.labs, min_share, 10)
        brute_rows, _ = grid.brute_force(query.labs, min_share, 10)
        assert list(rows) == list(brute_rows), [c.text for c in query.colors]


def test_grid_search_with_a_filter_mask_equals_brute_force(grid):
    mask = np.random.default_rng(2).random(len(grid)) < 0.05
    for query in random_queries(seed=2, n=12):
        min_share = np.array([c.min_share for c in query.colors])
        rows, _ = grid.search(query.labs, min_share, 10, mask)
        brute_rows, _ = grid.brute_force(query.labs, min_share, 10, mask)
        assert list(rows) == list(brute_rows)
        assert mask[rows].all()


def test_a_filter_function_is_asked_about_candidates_only(grid):
    mask = np.random.default_rng(7).random(len(grid)) < 0.3
    asked = []

    def keep(rows):
        asked.append(len(rows))
        return mask[rows]

    for query in random_queries(seed=9, n=12):
        min_share = np.array([c.min_share for c in query.colors])
        asked.clear()
        rows, _ = grid.search(query.labs, min_share, 10, keep)
        brute_rows, _ = grid.brute_force(query.labs, min_share, 10, mask)
        assert list(rows) == list(brute_rows)
        assert sum(asked) < len(grid) // 2  # never a pass over every photo


def test_searches_in_threads_equal_searches_one_by_one(grid, monkeypatch):
    """The compiled loops release the GIL and the support cache is shared: threads searching at
    once (with a cache small enough to evict all the time) get the answers of one by one."""
    from concurrent.futures import ThreadPoolExecutor

    import photoatlas.colorsearch.grid as grid_module
    from photoatlas.colorsearch.bounds import SupportCache

    monkeypatch.setattr(grid_module, "SUPPORTS", SupportCache(3))
    queries = [(q.labs, np.array([c.min_share for c in q.colors])) for q in random_queries(seed=21, n=48)]
    expected = [list(grid.search(labs, share, 10)[0]) for labs, share in queries]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda q: list(grid.search(q[0], q[1], 10)[0]), queries * 3))
    assert got == expected * 3


def test_grid_returns_fewer_when_few_photos_match(grid):
    query = ColorQuery.of("#ff0000", "#00ff00", "#0000ff", min_share=0.3)
    rows, scored = grid.search(query.labs, np.full(3, 0.3), 10)
    brute_rows, _ = grid.brute_force(query.labs, np.full(3, 0.3), 10)
    assert list(rows) == list(brute_rows) and len(rows) < 10


@pytest.fixture(scope="module")
def docs():
    return ([to_document(r) for r in random_records(300, seed=1, partition=HOUR_A)]
            + [to_document(r) for r in random_records(200, seed=2, partition=HOUR_B)])


@pytest.fixture
def index(tmp_path, docs):
    idx = EmbeddedColorIndex(tmp_path / "colors")
    idx.ensure()
    idx.upsert(docs)
    return idx


def test_is_a_color_index(tmp_path):
    assert isinstance(EmbeddedColorIndex(tmp_path), ColorIndex)


def test_count_and_ids_per_partition(index, docs):
    assert index.count() == 500 and index.count(HOUR_A) == 300 and index.count("2020-01-01-00:00") == 0
    assert index.ids(HOUR_B) == {d["photo_id"] for d in docs if d["partition"] == HOUR_B}


def test_upsert_is_idempotent_by_photo_id(index, docs):
    index.upsert(docs[:50])
    index.upsert(docs)
    assert index.count() == 500
    assert len(index.ids(HOUR_A)) == index.count(HOUR_A)


def test_replace_partition_is_exact(index, docs):
    hour_b = [d for d in docs if d["partition"] == HOUR_B]
    index.replace_partition(HOUR_B, hour_b[:120])
    assert index.ids(HOUR_B) == {d["photo_id"] for d in hour_b[:120]}
    index.replace_partition(HOUR_B, hour_b[:120])
    assert index.count() == 420
    with pytest.raises(DocumentError, match="partitions"):
        index.replace_partition(HOUR_B, docs[:1])


def test_a_photo_lives_in_one_partition(index, docs):
    moved = dict(docs[0], partition=HOUR_B)
    index.upsert([moved])
    assert index.count() == 500
    assert moved["photo_id"] in index.ids(HOUR_B) and moved["photo_id"] not in index.ids(HOUR_A)


def test_delete_partition(index):
    assert index.delete_partition(HOUR_A) == 300
    assert index.count() == 200 and index.ids(HOUR_A) == set()


def test_partial_failure_names_the_failing_ids_and_writes_the_rest(index, docs):
    bad = [dict(docs[0], photo_id="bad-time", captured_at="yesterday"),
           dict(docs[1], photo_id="bad-palette", palette=[{"l": "light"}])]
    fresh = [to_document(r) for r in random_records(5, seed=9, partition=HOUR_A, prefix="new")]
    with pytest.raises(BulkIndexError) as err:
        index.upsert(bad + fresh)
    assert set(err.value.failed) == {"bad-time", "bad-palette"}
    assert "bad-time" in str(err.value)
    assert index.count() == 505


def test_search_returns_matches_and_respects_filters(index, docs):
    hits = index.search(ColorQuery.of("orange"), 5)
    assert len(hits) == 5 and hits[0].score >= hits[-1].score > 0
    match = hits[0].matches[0]
    assert match.query == "orange" and match.palette_hex.startswith("#") and 0 <= match.delta_e < 12
    by_id = {d["photo_id"]: d for d in docs}
    assert match.palette_hex in [c["hex"] for c in by_id[hits[0].photo_id]["palette"]]

    start, end = datetime(2023, 11, 14, tzinfo=timezone.utc), datetime(2024, 3, 1, tzinfo=timezone.utc)
    query = ColorQuery.of("orange", place={"country": "US"}, labels=("dog",), sources=("flickr", "inbox"),
                          captured_from=start, captured_to=end)
    for hit in index.search(query, 50):
        doc = by_id[hit.photo_id]
        assert doc["place_country"] == "US" and doc["source"] in ("flickr", "inbox")
        assert any(label["label"] == "dog" for label in doc["labels"])
        assert start.timestamp() * 1000 <= doc["captured_at"] < end.timestamp() * 1000
    assert index.search(ColorQuery.of("orange", place={"country": "XX"}), 5) == []


def test_search_on_an_empty_index(tmp_path):
    idx = EmbeddedColorIndex(tmp_path / "empty")
    idx.ensure()
    assert idx.search(ColorQuery.of("red"), 10) == [] and idx.count() == 0


def test_a_second_process_reuses_the_cached_grid(index, tmp_path):
    first = index.search(ColorQuery.of("teal", "white"), 10)
    reopened = EmbeddedColorIndex(index.root)
    assert reopened.search(ColorQuery.of("teal", "white"), 10) == first
    assert len(list((index.root / ".grid").iterdir())) == 1
    index.upsert([dict(to_document(random_records(1, seed=77, partition=HOUR_A, prefix="z")[0]))])
    index.search(ColorQuery.of("teal"), 1)
    assert len(list((index.root / ".grid").iterdir())) == 1  # the stale cache is gone


def test_a_base_of_another_layout_is_rebuilt_in_colour_order(index, monkeypatch):
    """A grid format change (here: pretend the next release) never serves an old base, even to a
    small write's delta; the rebuilt base keeps its photos in colour order."""
    import photoatlas.colorsearch.embedded as embedded
    from photoatlas.colorsearch.grid import color_order

    query = ColorQuery.of("teal", "white")
    index.search(query, 10)
    old = [p.name for p in (index.root / ".grid").iterdir()]
    monkeypatch.setattr(embedded, "GRID_FORMAT", "grid-next")
    index.upsert([to_document(random_records(1, seed=78, partition=HOUR_A, prefix="y")[0])])
    reopened = EmbeddedColorIndex(index.root)
    assert reopened.search(query, 10) == reopened.brute_force(query, 10)
    (built,) = (index.root / ".grid").iterdir()
    assert built.name not in old and (built / "format").read_text() == "grid-next"
    (base,) = reopened._current().parts
    assert np.array_equal(color_order(base.grid.lab, base.grid.coverage), np.arange(len(base.grid)))


def test_searches_after_writes_equal_a_fresh_index(index, docs, tmp_path, monkeypatch):
    """Writes after the grid was built are searched through a delta over the rewritten files, the
    base's copies of them hidden: the answers must be those of an index built from scratch."""
    import shutil

    import photoatlas.colorsearch.embedded as embedded

    monkeypatch.setattr(embedded, "DELTA_MAX_SHARE", 10.0)  # this small index: every write stays a delta

    queries = [ColorQuery.of(*c) for c in (("orange",), ("teal", "white"), ("#3050a0",), ("grey", "pink"),
                                            ("navy", "gold", "#e0c0a0"))]
    index.search(queries[0], 10)  # the base grid
    base = sorted(p.name for p in (index.root / ".grid").iterdir())
    extra = [to_document(r) for r in random_records(40, seed=9, partition=HOUR_B, prefix="n")]
    index.upsert(extra)  # a partition rewritten
    index.upsert([dict(docs[3], partition=HOUR_B)])  # a photo moved between hours
    index.replace_partition("2024-05-02-00:00", [to_document(r) for r in random_records(5, seed=10, partition="2024-05-02-00:00", prefix="q")])
    for query in queries:
        fresh_root = tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(index.root / "partitions", fresh_root / "partitions")
        assert index.search(query, 20) == EmbeddedColorIndex(fresh_root).search(query, 20), [c.text for c in query.colors]
        assert index.search(query, 20) == index.brute_force(query, 20)  # base + delta, scored one by one
    assert sorted(p.name for p in (index.root / ".grid").iterdir()) == base  # no full rebuild for small writes
    index.delete_partition(HOUR_A)
    fresh = tmp_path / "after-delete"
    shutil.copytree(index.root / "partitions", fresh / "partitions")
    assert index.search(queries[1], 50) == EmbeddedColorIndex(fresh).search(queries[1], 50)
    assert all(h.photo_id not in {d["photo_id"] for d in docs if d["partition"] == HOUR_A} for h in index.search(queries[0], 500))


def test_a_large_write_rebuilds_the_base(index):
    """400 new photos on a base of 500 are over DELTA_MAX_SHARE: the base is rebuilt in full."""
    index.search(ColorQuery.of("red"), 1)
    before = sorted(p.name for p in (index.root / ".grid").iterdir())
    index.upsert([to_document(r) for r in random_records(400, seed=12, partition="2024-05-03-00:00", prefix="b")])
    assert len(index.search(ColorQuery.of("red"), 5)) == 5
    after = sorted(p.name for p in (index.root / ".grid").iterdir())
    assert after != before and len(after) == 1


def test_replace_partition_keeps_the_last_good_version_of_a_failing_document(index, docs):
    hour_a = [d for d in docs if d["partition"] == HOUR_A]
    broken = dict(hour_a[0], captured_at="yesterday")
    with pytest.raises(BulkIndexError) as err:
        index.replace_partition(HOUR_A, [broken] + hour_a[1:50])
    assert set(err.value.failed) == {hour_a[0]["photo_id"]}
    assert index.ids(HOUR_A) == {d["photo_id"] for d in hour_a[:50]}
