"""Multi-index hashing returns exactly the brute-force result set, duplicates included."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photoatlas.similarity.mih import MultiIndexHash, as_uint64, brute_force

U64 = st.integers(min_value=0, max_value=2**64 - 1)


def _flip_bits(h: int, rng: np.random.Generator, k: int) -> int:
    for bit in rng.choice(64, size=k, replace=False):
        h ^= 1 << int(bit)
    return h


@settings(max_examples=200, deadline=None)
@given(
    base=st.lists(U64, min_size=1, max_size=60),
    repeats=st.lists(st.integers(0, 59), max_size=20),
    seed=st.integers(0, 2**32 - 1),
    radius=st.integers(0, 24),
)
def test_mih_equals_brute_force_with_near_and_identical_hashes(base, repeats, seed, radius):
    rng = np.random.default_rng(seed)
    # Identical hashes (several photos, one hash) and hashes a few bits away from each other.
    hashes = base + [base[i % len(base)] for i in repeats]
    hashes += [_flip_bits(h, rng, int(rng.integers(0, 20))) for h in base]
    arr = np.array(hashes, dtype=np.uint64)
    index = MultiIndexHash(arr)
    queries = [_flip_bits(int(arr[int(rng.integers(len(arr)))]), rng, int(rng.integers(0, 16))) for _ in range(5)]
    queries.append(int(rng.integers(0, 2**64, dtype=np.uint64)))
    for q in queries:
        rows, dist = index.search(q, radius, "tables")
        want_rows, want_dist = brute_force(arr, q, radius)
        assert rows.tolist() == want_rows.tolist()
        assert dist.tolist() == want_dist.tolist()
        assert all((int(arr[r]) ^ q).bit_count() == d for r, d in zip(rows, dist))


def test_every_photo_sharing_a_hash_is_returned():
    arr = np.array([7, 7, 7, 2**63 + 1, 7], dtype=np.uint64)
    rows, dist = MultiIndexHash(arr).search(7, 0, "tables")
    assert rows.tolist() == [0, 1, 2, 4]
    assert dist.tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("radius", [0, 3, 7, 11, 15, 19])
def test_large_random_set_matches_brute_force(radius):
    rng = np.random.default_rng(radius)
    arr = rng.integers(0, 2**64, 200_000, dtype=np.uint64)
    arr[:1000] = arr[1000:2000]  # duplicates
    index = MultiIndexHash(arr)
    for q in list(arr[rng.integers(0, len(arr), 10)]) + list(rng.integers(0, 2**64, 5, dtype=np.uint64)):
        q = _flip_bits(int(q), rng, radius // 2)
        got, want = index.search(q, radius, "tables"), brute_force(arr, q, radius)
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()


def test_int64_columns_and_python_ints_are_the_same_bits():
    unsigned = [0, 1, 2**63, 2**64 - 1, 0x8000_0000_0000_0001]
    signed = [u - 2**64 if u >= 2**63 else u for u in unsigned]
    assert as_uint64(np.array(signed, dtype=np.int64)).tolist() == unsigned
    assert as_uint64(unsigned).tolist() == unsigned
    index = MultiIndexHash(np.array(signed, dtype=np.int64))
    assert index.search(2**64 - 1, 0, "tables")[0].tolist() == [3]


def test_empty_index_and_negative_radius():
    assert MultiIndexHash(np.zeros(0, np.uint64)).search(5, 10)[0].size == 0
    assert MultiIndexHash(np.array([5], np.uint64)).search(5, -1)[0].size == 0


def test_float_hashes_are_refused():
    with pytest.raises(TypeError):
        as_uint64(np.array([1.0, 2.0]))


def test_search_any_takes_the_nearer_of_hash_and_mirror():
    from photoatlas.similarity.mih import brute_force_any

    rng = np.random.default_rng(3)
    arr = rng.integers(0, 2**64, 5000, dtype=np.uint64)
    index = MultiIndexHash(arr)
    for i in range(20):
        q, m = _flip_bits(int(arr[i]), rng, 3), _flip_bits(int(arr[i + 1]), rng, 9)
        got, want = index.search_any([q, m], 12, "tables"), brute_force_any(arr, [q, m], 12)
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
        assert got[1][got[0].tolist().index(i)] <= 3


def test_auto_scans_small_sets_and_uses_tables_at_a_million():
    rng = np.random.default_rng(1)
    assert MultiIndexHash(rng.integers(0, 2**64, 1000, dtype=np.uint64)).prefers_scan(14)
    big = MultiIndexHash(rng.integers(0, 2**64, 1_000_000, dtype=np.uint64))
    assert not big.prefers_scan(14) and big.prefers_scan(24)
    with pytest.raises(ValueError):
        big.search(1, 3, "guess")
