"""The ``photoatlas`` query commands: answers read from the serving stores the pipeline fills.

counts        photo counts per place for a period (the counts store)
similar       exact duplicates, copies and visually similar photos of an image (the similarity index)
labels        photos whose concept score passes a threshold (the content tables in the lake)
search-color  photos whose palette holds these colours, ranked perceptually (the colour index)

``pipelines/cli.py`` registers these beside the orchestrating commands; each store comes from the
environment's resources (``pipelines.environment``).
"""

import json
import sys
from pathlib import Path


def _answer(args, payload, lines: list[str]) -> int:
    """Print the answer: ``payload`` as JSON with ``--json``, else the human-readable lines."""
    print(json.dumps(payload, indent=2, default=float) if args.json else "\n".join(lines))
    return 0


def cmd_counts(args) -> int:
    from pipelines.environment import resource

    store = resource("counts").store()
    try:
        period = args.period or "all"
        frame = store.top(args.level, period, args.top) if args.top else store.by_period(args.level, period)
        frame = frame[frame["count"] > 0] if "count" in frame else frame
        rows = [{"place": str(p), "count": int(n)} for p, n in zip(frame["place"], frame["count"])]
        total = int(store.total(args.level, period))
    finally:
        store.close()
    lines = ([f"{args.level} counts for {period} ({total} photos; '~unknown' = no location)"]
             + [f"  {row['place']:<28} {row['count']:>8}" for row in rows]) if rows else \
        [f"no photos counted at level {args.level} for {period} (has county_counts been materialised?)"]
    return _answer(args, {"level": args.level, "period": period, "total": total, "places": rows}, lines)


def cmd_similar(args) -> int:
    from photoatlas.similarity.search import find_similar
    from pipelines.environment import resource

    path = Path(args.image)
    if not path.is_file():
        print(f"photoatlas similar: no such file: {path}", file=sys.stderr)
        return 2
    index = resource("similarity").index()
    if len(index) == 0:
        print("the similarity index is empty: materialise embeddings and similarity_index first (photoatlas demo)", file=sys.stderr)
        return 1
    found = find_similar(path.read_bytes(), index, limit=args.limit)
    lines = [f"exact duplicates: {', '.join(f['photo_id'][:16] for f in found['exact']) or 'none'}",
             "copies:" if found["copies"] else "copies: none"]
    lines += [f"  {c['photo_id'][:16]}  {c['verdict']:<9} hash distance {c['distance']:>2}  cosine {c.get('cosine') or float('nan'):.3f}"
              for c in found["copies"]]
    lines.append("visually similar:" if found["similar"] else "visually similar: none")
    lines += [f"  {s['photo_id'][:16]}  cosine {s['cosine']:.3f}" for s in found["similar"]]
    return _answer(args, found, lines)


def cmd_labels(args) -> int:
    from photoatlas.content.concepts import default_concepts, photos_with_concept
    from photoatlas.lake import table_key, table_partitions
    from pipelines.environment import resource

    if args.concept not in default_concepts().names:
        print(f"photoatlas labels: unknown concept {args.concept!r}; known: {', '.join(default_concepts().names)}", file=sys.stderr)
        return 2
    lake = resource("lake").lake()
    tables = [lake.read_table(table_key("content", h)).select(["photo_id", "partition", "concepts", "labels"])
              for h in table_partitions(lake, "content")]
    rows = {r["photo_id"]: r for t in tables for r in t.to_pylist()}
    hits = [{**h, "partition": rows[h["photo_id"]]["partition"], "top_label": ((rows[h["photo_id"]]["labels"] or [{}])[0]).get("name")}
            for h in photos_with_concept(list(rows.values()), args.concept, args.min_score)]
    return _answer(args, hits, [f"{len(hits)} photo(s) with concept {args.concept!r} >= {args.min_score}"]
                   + [f"  {h['photo_id'][:16]}  {h['score']:.3f}  (top label: {h['top_label']}, hour {h['partition']})"
                      for h in hits])


def cmd_search_color(args) -> int:
    from photoatlas.colorsearch import ColorQuery, QueryError
    from pipelines.environment import resource

    filters = {}
    if args.place:
        level, _, value = args.place.partition("=")
        filters["place"] = {level: value}
    try:
        query = ColorQuery.of(*args.colors, min_share=args.min_share, **filters)
    except QueryError as e:
        print(f"photoatlas search-color: {e}", file=sys.stderr)
        return 2
    hits = resource("colors").index().search(query, limit=args.limit)
    payload = [{"photo_id": h.photo_id, "score": round(h.score, 4),
                "matches": [{"query": m.query, "palette_hex": m.palette_hex, "delta_e": round(m.delta_e, 2),
                             "share": round(m.share, 3)} for m in h.matches]} for h in hits]
    lines = [f"{len(hits)} photo(s) for {' + '.join(c.hex for c in query.colors)}"
             + (f" (min share {args.min_share})" if args.min_share else "")]
    lines += [f"  {h.photo_id[:16]}  score {h.score:.3f}  "
              + ", ".join(f"{m.query}→{m.palette_hex} ΔE {m.delta_e:.1f} share {m.share:.0%}" for m in h.matches)
              for h in hits]
    return _answer(args, payload, lines)


def add_query_parsers(sub) -> None:
    """``counts``, ``similar``, ``labels`` and ``search-color`` under the ``photoatlas`` command's sub-parsers."""
    p = sub.add_parser("counts", help="photo counts per place for a period, from the counts store")
    p.add_argument("--level", default="county", choices=["country", "admin1", "county", "city", "geohash"])
    p.add_argument("--period", help="YYYY-MM, YYYY or all (default all)")
    p.add_argument("--top", type=int, help="only the N places with the most photos")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_counts)
    p = sub.add_parser("similar", help="exact duplicates, copies and visually similar photos of an image")
    p.add_argument("image")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_similar)
    p = sub.add_parser("labels", help="photos whose concept score passes a threshold (e.g. --concept dog)")
    p.add_argument("--concept", required=True)
    p.add_argument("--min-score", type=float, default=0.5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_labels)
    p = sub.add_parser("search-color", help="photos whose palette holds these colours, ranked perceptually")
    p.add_argument("colors", nargs="+", help="1-3 colours: hex (#ff7f00) or CSS names (teal)")
    p.add_argument("--min-share", type=float, default=0.0, help="least share of the photo each colour must cover")
    p.add_argument("--place", help="a place filter, e.g. county=06075 or country=US")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search_color)
