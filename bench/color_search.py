"""Colour search latency: the embedded backend at 100 k and 1 M synthetic palettes, on one core.

    python bench/color_search.py            # 100 k and 1 M photos, 200 queries each (~3-5 min)
    python bench/color_search.py --quick    # 100 k only, 60 queries (< 1 min): 1 M is skipped

Photos: 5-colour palettes with Dirichlet shares, shades of one or two themes plus scattered
colours, about a fifth near-greys/whites/blacks (photoatlas.colorsearch.synthetic). Queries:
60 % one colour, 30 % two, 10 % three; half CSS names, half colours taken from random photos;
a fifth with a minimum share, a tenth with a filter. Latency is wall-clock of
``EmbeddedColorIndex.search(query, 10)`` (grid already built); CPU time is printed beside it
because a shared machine inflates wall-clock. The reference is brute force — the same scoring
function (compiled, like the search's) over every photo — run in the same process, for speed
and for the top-10 check (ids and scores must be identical).
"""

import os

os.environ.update({v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")})
CORE = int(os.environ.get("BENCH_CORE", sorted(os.sched_getaffinity(0))[-1]))
os.sched_setaffinity(0, {CORE})

import argparse  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from photoatlas.colorsearch import ColorQuery, EmbeddedColorIndex, grid  # noqa: E402
from photoatlas.colorsearch.synthetic import hex_codes, synthetic_table  # noqa: E402

CSS = ["orange", "teal", "grey", "white", "black", "navy", "gold", "pink", "crimson", "olive", "tan", "beige",
       "skyblue", "forestgreen", "brown", "salmon", "purple", "khaki", "coral", "turquoise", "maroon", "silver",
       "darkorange", "steelblue", "lavender", "chocolate", "seagreen", "slategray", "tomato", "wheat"]


def make_queries(table, n: int, seed: int) -> list[ColorQuery]:
    rng = np.random.default_rng(seed)
    palettes = table.column("palette")
    queries = []
    for i in range(n):
        k = rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])
        colours = []
        while len(colours) < k:
            if rng.random() < 0.5:
                colours.append(str(rng.choice(CSS)))
            else:
                palette = palettes[int(rng.integers(len(table)))].as_py()
                c = palette[int(rng.integers(len(palette)))]
                lab = np.array([c["l"], c["a"], c["b"]]) + rng.normal(0, 2, 3)
                colours.append(hex_codes(lab).item().decode())
        colours = list(dict.fromkeys(colours))
        min_share = {colours[0]: float(rng.choice([0.1, 0.2, 0.3]))} if rng.random() < 0.2 else 0.0
        filters = {"sources": ("flickr", "inbox")} if rng.random() < 0.1 else {}
        queries.append(ColorQuery.of(*colours, min_share=min_share, **filters))
    return queries


def run_size(n: int, n_queries: int, n_brute: int, seed: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"colorsearch-bench-{n}-"))
    try:
        return _run_size(root, n, n_queries, n_brute, seed)
    finally:
        shutil.rmtree(root, ignore_errors=True)  # ~0.7 GB at 1 M


def _run_size(root: Path, n: int, n_queries: int, n_brute: int, seed: int) -> dict:
    t0 = time.perf_counter()
    table = synthetic_table(n, seed=seed)
    index = EmbeddedColorIndex(root)
    index.upsert_table(table)
    t1 = time.perf_counter()
    index.search(ColorQuery.of("red"), 10)  # builds and caches the grid
    t2 = time.perf_counter()
    print(f"[{n:>9,}] corpus + parquet {t1 - t0:5.1f} s, grid build {t2 - t1:5.1f} s", flush=True)
    queries = make_queries(table, n_queries, seed + 1)
    wall, cpu, results = [], [], []
    for q in queries:
        w, c = time.perf_counter(), time.thread_time()
        results.append(index.search(q, 10))
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    brute_wall, agree = [], 0
    for q, hits, i in zip(queries, results, range(n_brute)):
        t = time.perf_counter()
        expected = index.brute_force(q, 10)
        brute_wall.append(time.perf_counter() - t)
        agree += [(h.photo_id, h.score) for h in expected] == [(h.photo_id, h.score) for h in hits]
    wall_ms, cpu_ms = np.array(wall) * 1e3, np.array(cpu) * 1e3
    sizes = np.array([len(q.colors) for q in queries])
    pct = lambda a, q: float(np.percentile(a, q))  # noqa: E731
    print(f"[{n:>9,}] {len(queries)} queries: wall p50 {pct(wall_ms, 50):.2f} ms  p95 {pct(wall_ms, 95):.2f} ms"
          f"  max {wall_ms.max():.1f} ms | cpu p50 {pct(cpu_ms, 50):.2f} ms  p95 {pct(cpu_ms, 95):.2f} ms")
    for k in (1, 2, 3):
        if (sizes == k).any():
            w, c = wall_ms[sizes == k], cpu_ms[sizes == k]
            print(f"[{n:>9,}]   {k} colour(s): {len(w):3d} queries, wall p50 {pct(w, 50):.2f} p95 {pct(w, 95):.2f} ms"
                  f" | cpu p50 {pct(c, 50):.2f} p95 {pct(c, 95):.2f} ms")
    index_same = np.array(wall[: len(brute_wall)])
    speedup = float(np.median(brute_wall) / np.median(index_same))
    print(f"[{n:>9,}] brute force on {len(brute_wall)} queries: median {np.median(brute_wall) * 1e3:.0f} ms;"
          f" index median on the same {np.median(index_same) * 1e3:.2f} ms; speedup {speedup:.0f}x;"
          f" top-10 identical {agree}/{len(brute_wall)}", flush=True)
    return {"p50": np.percentile(wall_ms, 50), "p95": np.percentile(wall_ms, 95), "speedup": speedup,
            "agree": agree, "compared": len(brute_wall)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 k photos only, 60 queries (< 1 min)")
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-cache", action="store_true", help="prove every query colour's support afresh")
    args = parser.parse_args()
    if args.no_cache:
        grid.SUPPORTS.size = 0
    print(f"one core: {sorted(os.sched_getaffinity(0))}; load average {os.getloadavg()[0]:.1f}"
          f" on {os.cpu_count()} cores; support cache {'off' if args.no_cache else 'on'}", flush=True)
    if args.quick:
        small = run_size(100_000, args.queries or 60, 20, args.seed)
        big = None
    else:
        small = run_size(100_000, args.queries or 200, 40, args.seed)
        big = run_size(1_000_000, args.queries or 200, 12, args.seed)
    ref = big or small
    agree = (small["agree"] + (big["agree"] if big else 0)) / (small["compared"] + (big["compared"] if big else 0))
    fmt = lambda v: "NA" if v is None else f"{v:.2f}"  # noqa: E731
    if big is None:
        print("(--quick: 1 M skipped; speedup_vs_brute is at 100 k)")
    print(f"RESULT p95_ms_1m={fmt(big and big['p95'])} p50_ms_1m={fmt(big and big['p50'])}"
          f" p95_ms_100k={small['p95']:.2f} speedup_vs_brute={ref['speedup']:.0f} top10_agree={agree:.3f}")


if __name__ == "__main__":
    main()
