"""The ``photoatlas`` command: the core's questions plus the orchestration commands.

demo    build the sample set, drop it into the inbox, materialise every stage, print a summary
ui      the Dagster webserver and daemon on 127.0.0.1
ingest  drop a folder of photos into the inbox, or pull Flickr / Unsplash / video frames into it
        in chunks with a resumable cursor (and with --run, materialise the hours landed)
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from photoatlas import cli as core_cli
from photoatlas.config import Home
from photoatlas.partitions import hour_key

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGSTER_YAML = REPO_ROOT / "dagster.yaml"


def prepare_instance(home: Home) -> Path:
    """DAGSTER_HOME under the installation's home, with the project's dagster.yaml."""
    home.ensure()
    target = home.dagster / "dagster.yaml"
    if DAGSTER_YAML.exists() and (not target.exists() or target.read_bytes() != DAGSTER_YAML.read_bytes()):
        shutil.copyfile(DAGSTER_YAML, target)
    os.environ["DAGSTER_HOME"] = str(home.dagster)
    return home.dagster


def _report(label: str, result, started: float) -> bool:
    failed_checks = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in result.get_asset_check_evaluations() if not e.passed]
    status = "ok" if result.success else "FAILED"
    note = f"  checks failing: {', '.join(failed_checks)}" if failed_checks else ""
    print(f"  {label:<18} {status}  run {result.run_id[:8]}  {time.monotonic() - started:.1f} s{note}", flush=True)
    return result.success


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the UI keeps the full logs


def materialise_hours(hours: list[str]) -> list[tuple[str, bool]]:
    """Every hourly stage for each hour, then the cube — in this process, recorded in the instance."""
    from dagster import DagsterInstance

    from pipelines.definitions import defs

    outcomes = []
    with DagsterInstance.get() as instance:
        for hour in hours:
            started = time.monotonic()
            result = defs.get_job_def("all_hourly_job").execute_in_process(partition_key=hour, instance=instance, raise_on_error=False, run_config=QUIET)
            outcomes.append((hour, _report(hour, result, started)))
        started = time.monotonic()
        result = defs.get_job_def("serving_job").execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET)
        outcomes.append(("serving views", _report("cube + similarity", result, started)))
    return outcomes


def cmd_backfill(args) -> int:
    """A range of hours through every hourly stage in one run (the assets' single-run policy),
    then the serving views; recorded in the instance, so the UI shows the run and its checks."""
    from dagster import DagsterInstance

    from photoatlas.partitions import hour_window
    from pipelines.definitions import defs

    home = Home.from_env()
    prepare_instance(home)
    try:
        start, end = hour_window(args.start)[0], hour_window(args.end)[0]
    except ValueError as e:
        print(f"photoatlas backfill: {e} (hours look like 2026-06-01-10:00)", file=sys.stderr)
        return 2
    if end < start:
        print("photoatlas backfill: --to is before --from", file=sys.stderr)
        return 2
    _check_java()
    tags = {"dagster/asset_partition_range_start": args.start, "dagster/asset_partition_range_end": args.end}
    hours = int((end - start).total_seconds() // 3600) + 1
    print(f"backfilling {hours} hour(s) {args.start} .. {args.end} in one run")
    outcomes = []
    with DagsterInstance.get() as instance:
        started = time.monotonic()
        result = defs.get_job_def("all_hourly_job").execute_in_process(instance=instance, tags=tags, raise_on_error=False, run_config=QUIET)
        outcomes.append(_report(f"{hours} hours", result, started))
        started = time.monotonic()
        result = defs.get_job_def("serving_job").execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET)
        outcomes.append(_report("cube + similarity", result, started))
    return 0 if all(outcomes) else 1


def drop_into_inbox(files: list[Path], inbox: Path, subdir: str, arrived: datetime | None = None) -> list[Path]:
    """Copy photos (and sidecars) into the inbox; their arrival time is now, or ``arrived``."""
    target = inbox / subdir
    target.mkdir(parents=True, exist_ok=True)
    placed = []
    for f in files:
        dest = target / f.name
        shutil.copyfile(f, dest)
        if arrived is not None:
            ts = arrived.timestamp()
            os.utime(dest, (ts, ts))
        placed.append(dest)
    return placed


def _check_java() -> None:
    if shutil.which("java") is None:
        sys.exit("photoatlas: Java 17+ is needed for Spark and was not found on PATH (install OpenJDK 17).")


def cmd_demo(args) -> int:
    from photoatlas import sample
    from photoatlas.lake import LocalLake
    from photoatlas.summary import format_summary, summarise

    _check_java()
    home = Home.from_env()
    prepare_instance(home)
    print(f"PhotoAtlas demo — home {home.root}")
    staging = home.root / "samples"
    if staging.exists():
        shutil.rmtree(staging)
    written = sample.build(staging)
    now = datetime.now(timezone.utc)
    hours_dt = [now.replace(minute=30, second=0, microsecond=0) - timedelta(hours=h) for h in (3, 2, 1)]
    files = sorted(p for p in staging.iterdir() if p.is_file())
    photos = [p for p in files if not p.name.endswith(".json")]
    for i, photo in enumerate(photos):
        arrived = hours_dt[i % len(hours_dt)]
        group = [photo] + [s for s in (staging / f"{photo.name}.json",) if s.exists()]
        drop_into_inbox(group, home.inbox, "demo", arrived)
    hours = sorted({hour_key(h) for h in hours_dt})
    print(f"sample set: {len(written)} files ({sum(w.kind in ('photo', 'camera', 'copy') for w in written)} photos, "
          f"{sum(w.kind == 'broken' for w in written)} broken on purpose, {sum(w.kind == 'duplicate' for w in written)} duplicate) "
          f"→ inbox {home.inbox}/demo, arriving over {len(hours)} hours")
    print("materialising every stage for each hour:")
    outcomes = materialise_hours(hours)
    print()
    print(format_summary(summarise(LocalLake(str(home.lake)), hours), LocalLake(str(home.lake))))
    print()
    print("next:")
    print("  photoatlas ui                       # the Dagster UI on http://127.0.0.1:3000 (lineage, checks, backfills)")
    print("  photoatlas counts --level county --top 10   # photos per county, all time")
    print(f"  county map: {home.lake / 'maps' / 'county_counts_all.png'}")
    print(f"  photoatlas inspect {staging}/chelsea.jpg   # one photo's record, computed directly")
    print(f"  photoatlas similar {staging}/copy_of_chelsea_small.jpg   # finds the planted copy of chelsea.jpg")
    print("  photoatlas labels --concept cat --min-score 0.5")
    print("  photoatlas search-color '#d9e3ef' --min-share 0.2  # photos with lots of pale sky blue")
    print("  photoatlas ingest folder PATH --run # your own photos")
    return 0 if all(ok for _, ok in outcomes) else 1


def cmd_ingest(args) -> int:
    home = Home.from_env()
    prepare_instance(home)
    source = Path(args.path)
    if not source.is_dir():
        print(f"photoatlas ingest: not a folder: {source}", file=sys.stderr)
        return 2
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    subdir = f"{source.name}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
    placed = drop_into_inbox(files, home.inbox, subdir)
    photos = [p for p in placed if not p.name.endswith(".json")]
    hours = sorted({hour_key(datetime.fromtimestamp(p.stat().st_mtime, tz=timezone.utc)) for p in photos})
    print(f"{len(photos)} photo(s) (+{len(placed) - len(photos)} sidecars) → {home.inbox / subdir}; arrival hour(s): {', '.join(hours) or 'none'}")
    if not args.run:
        print("the inbox sensor picks them up while `photoatlas ui` runs; or re-run with --run")
        return 0
    return materialise_and_summarise(hours)


def materialise_and_summarise(hours: list[str]) -> int:
    """`ingest … --run`: every stage for the landed hours, then the lake's summary of them."""
    _check_java()
    from photoatlas.summary import format_summary, summarise
    from pipelines.environment import resource

    outcomes = materialise_hours(hours)
    lake = resource("lake").lake()
    print(format_summary(summarise(lake, hours), lake))
    return 0 if all(ok for _, ok in outcomes) else 1


def _usage_error(args, message) -> int:
    print(f"photoatlas ingest {args.source}: {message}", file=sys.stderr)
    return 2


def _pull(args, home: Home, source, cursor_file, what: str) -> int:
    """Pull in chunks with a progress bar, print the report, then --run or say what comes next."""
    import threading

    from tqdm import tqdm

    from photoatlas.sources.base import Failure
    from photoatlas.sources.pulling import format_report, pull

    counts, lock = {"ok": 0, "failed": 0}, threading.Lock()
    with tqdm(total=args.limit or None, unit="item", desc=f"{source.name}", disable=None, file=sys.stderr) as bar:
        def on_result(result):  # called from the fetch threads
            with lock:
                counts["failed" if isinstance(result, Failure) else "ok"] += 1
                bar.set_postfix(counts, refresh=False)
                bar.update(1)

        with source:
            report = pull(source, cursor_file, home.inbox, limit=args.limit or None, chunk=args.chunk,
                          restart=args.restart, on_result=on_result)
    print(format_report(report, what))
    if report.error:
        return 1
    if report.interrupted:
        return 130
    if args.run:
        if not report.hours:
            print("nothing landed, so nothing to materialise")
            return 0
        print("materialising the arrival hour(s):")
        return materialise_and_summarise(report.hours)
    if report.hours:
        print("next:")
        print(f"  photoatlas backfill --from {report.hours[0]} --to {report.hours[-1]}   # materialise what landed now")
        print("  photoatlas ui   # or let the inbox sensor ingest it while the UI (and its daemon) runs")
        print("  (add --run to materialise right after landing)")
    return 0


def cmd_ingest_flickr(args) -> int:
    from photoatlas.sources.flickr import FlickrQuery, FlickrSource
    from photoatlas.sources.glossary import Glossary
    from photoatlas.sources.pulling import CURSORS_DIR, CursorFile

    if not args.text and not args.tags:
        return _usage_error(args, "give --text and/or --tags (Flickr needs something to search for)")
    spec = {"text": args.text, "tags": args.tags, "bbox": args.bbox, "since": args.since, "until": args.until,
            "date_field": args.date_field, "open_only": args.open_only, "licences": args.licences,
            "languages": args.languages, "variants": dict(args.variant) if args.variant else None,
            "per_page": args.per_page}
    try:
        glossary = Glossary.load(args.glossary) if args.glossary else None
        query = FlickrQuery.from_dict({k: v for k, v in spec.items() if v is not None}, glossary=glossary)
        source = FlickrSource(query)
    except (ValueError, RuntimeError) as e:  # a bad option, missing words, no FLICKR_API_KEY
        return _usage_error(args, e)
    home = Home.from_env()
    prepare_instance(home)
    langs = [v.lang for v in query.variants]
    about = {"text": query.text, "tags": list(query.tags), "languages": langs, "bbox": query.bbox,
             "since": query.since, "until": query.until, "date_field": query.date_field}
    cursor_file = CursorFile(home.root / CURSORS_DIR, "flickr", query.fingerprint(), about)
    what = " ".join(filter(None, [repr(query.text) if query.text else None,
                                  f"tags {','.join(query.tags)}" if query.tags else None,
                                  f"in {', '.join(langs)}" if langs else None]))
    for v in query.variants:  # what each language searches, before the pull's own lines
        print(f"searching {v.lang}: {' '.join(filter(None, [v.text, ','.join(v.tags)]))}")
    return _pull(args, home, source, cursor_file, what)


def cmd_ingest_unsplash(args) -> int:
    from photoatlas.sources.pulling import CURSORS_DIR, CursorFile, fingerprint
    from photoatlas.sources.unsplash import UnsplashLiteSource

    dataset = args.path
    if "://" not in dataset:
        path = Path(dataset).expanduser().resolve()
        if not path.exists():
            return _usage_error(args, f"no such file or folder: {dataset}")
        dataset = str(path)
    width = None if args.original or args.width == 0 else args.width
    if width is None:
        print("downloading originals (often 5-20 MB each); 1080 px is plenty for palettes, hashes and labels",
              file=sys.stderr)
    home = Home.from_env()
    prepare_instance(home)
    source = UnsplashLiteSource(dataset, width=width, cache_dir=home.root / "cache" / "unsplash")
    cursor_file = CursorFile(home.root / CURSORS_DIR, "unsplash", fingerprint({"dataset": dataset}),
                             {"dataset": dataset, "width": width})
    return _pull(args, home, source, cursor_file, f"{dataset} at {f'{width} px' if width else 'original size'}")


def cmd_ingest_video(args) -> int:
    from photoatlas.sources.pulling import CURSORS_DIR, CursorFile, fingerprint
    from photoatlas.sources.video import STREAM_SCHEMES, Feed, VideoSource

    location = args.path
    if not location.startswith(STREAM_SCHEMES):
        location = str(Path(location).expanduser().resolve())
    if args.fps <= 0:
        return _usage_error(args, "--fps must be > 0")
    try:
        feed = Feed.from_dict({"id": args.feed_id, "location": location, "started_at": args.started_at,
                               "pattern": args.pattern})
        # a stream is read for about one chunk's worth of frames per connection
        source = VideoSource([feed], frames_per_s=args.fps, stream_read_s=args.chunk / args.fps + 5)
    except ValueError as e:
        return _usage_error(args, e)
    problem = feed.problem()
    if problem:
        return _usage_error(args, problem)
    home = Home.from_env()
    prepare_instance(home)
    cursor_file = CursorFile(home.root / CURSORS_DIR, "video", fingerprint({"feed": feed.id, "location": location}),
                             {"feed": feed.id, "location": location, "started_at": feed.started_at})
    return _pull(args, home, source, cursor_file, f"feed {feed.id} ({location}) at {args.fps:g} frame(s)/s")


def _lang_text(value: str) -> tuple[str, str]:
    lang, sep, text = value.partition("=")
    if not sep or not lang.strip() or not text.strip():
        raise argparse.ArgumentTypeError(f"expected LANG=TEXT, e.g. ja=野生の猿, not {value!r}")
    return lang.strip().lower(), text.strip()


def _count(minimum: int):
    def parse(value: str) -> int:
        n = int(value)
        if n < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}")
        return n
    return parse


def _add_ingest_parsers(sub) -> None:
    p = sub.add_parser("ingest", help="bring photos in: a folder, or pulled from Flickr, Unsplash, video")
    ingest_sub = p.add_subparsers(dest="source", required=True)
    f = ingest_sub.add_parser("folder", help="copy a folder of photos (with optional JSON sidecars) into the inbox")
    f.add_argument("path")
    f.add_argument("--run", action="store_true", help="materialise the affected hours now and print the summary")
    f.set_defaults(func=cmd_ingest)

    pulling = argparse.ArgumentParser(add_help=False)
    pulling.add_argument("--chunk", type=_count(1), default=50, metavar="N",
                         help="items fetched, landed and saved in the cursor together (default 50): "
                              "Ctrl-C loses at most one chunk")
    pulling.add_argument("--restart", action="store_true", help="ignore the saved cursor and start from the beginning")
    pulling.add_argument("--run", action="store_true", help="materialise the landed hours now and print the summary")

    f = ingest_sub.add_parser("flickr", parents=[pulling], help="photos of a Flickr search, in several languages",
                              description="flickr.photos.search in chunks; the cursor is per query ($PHOTOATLAS_HOME"
                                          "/cursors/flickr-<fingerprint>.json). Key in FLICKR_API_KEY.")
    f.add_argument("--text", help='free text, e.g. "monkey wild" (English when --languages translates it)')
    f.add_argument("--tags", help="comma-separated tags (any of them)")
    f.add_argument("--languages", help="comma-separated languages to search in, e.g. en,es,fr,de,ja: the text and "
                                       "tags are translated word by word with the glossary")
    f.add_argument("--variant", action="append", type=_lang_text, metavar="LANG=TEXT",
                   help="a language's query as you want it, instead of its translation (repeatable)")
    f.add_argument("--glossary", metavar="FILE", help="a JSON glossary of your own words (also $PHOTOATLAS_GLOSSARY)")
    f.add_argument("--bbox", help='"min_lon min_lat max_lon max_lat", e.g. "116 4 127 22"')
    f.add_argument("--since", help="earliest date, ISO (default 2004-01-01: Flickr's whole history, oldest first)")
    f.add_argument("--until", help="latest date, ISO (default: none, follows the clock)")
    f.add_argument("--date-field", choices=["taken", "upload"], default="taken",
                   help="which date --since/--until and the order use (upload: follow new uploads)")
    f.add_argument("--open-only", action="store_true", help="only licences that allow reuse and adaptation")
    f.add_argument("--licences", help="comma-separated Flickr licence ids to accept")
    f.add_argument("--per-page", type=_count(1), help="results per API call (default 250, at most 500)")
    f.add_argument("--limit", type=_count(0), default=500,
                   help="items to fetch in this run (default 500; 0: no limit)")
    f.set_defaults(func=cmd_ingest_flickr)

    f = ingest_sub.add_parser("unsplash", parents=[pulling], help="photos of the Unsplash Lite/Full dataset",
                              description="rows of photos.tsv* in chunks; the cursor is per dataset.")
    f.add_argument("path", help="a folder, photos.tsv* file, release zip, or URL of one")
    f.add_argument("--width", type=_count(0), default=1080,
                   help="image width asked of the CDN (default 1080; 0: the original)")
    f.add_argument("--original", action="store_true", help="download originals (discouraged: large and slow)")
    f.add_argument("--limit", type=_count(0), default=1000,
                   help="items to fetch in this run (default 1000; 0: no limit)")
    f.set_defaults(func=cmd_ingest_unsplash)

    f = ingest_sub.add_parser("video", parents=[pulling], help="frames sampled from a video, segment folder or stream",
                              description="frames on a fixed grid of video time; the cursor is per feed.")
    f.add_argument("path", help="a video file, a folder of segment files, or a stream URL (rtsp://, http://, ...)")
    f.add_argument("--fps", type=float, default=1.0, help="frames taken per second of video (default 1)")
    f.add_argument("--feed-id", help="the feed's name in photo ids (default: from the file, folder or stream)")
    f.add_argument("--started-at",
                   help="ISO time of the video's first frame (sets taken_at); segments: from their names")
    f.add_argument("--pattern", default="*", help="which files of a folder are segments (default *)")
    f.add_argument("--limit", type=_count(0), default=0,
                   help="frames to take in this run (default 0: all; a stream: until Ctrl-C)")
    f.set_defaults(func=cmd_ingest_video)


def cmd_counts(args) -> int:
    import json

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
    if args.json:
        print(json.dumps({"level": args.level, "period": period, "total": total, "places": rows}, indent=2))
        return 0
    if not rows:
        print(f"no photos counted at level {args.level} for {period} (has county_counts been materialised?)")
        return 0
    print(f"{args.level} counts for {period} ({total} photos; '~unknown' = no location)")
    for row in rows:
        print(f"  {row['place']:<28} {row['count']:>8}")
    return 0


def cmd_similar(args) -> int:
    import json

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
    if args.json:
        print(json.dumps(found, indent=2, default=float))
        return 0
    print(f"exact duplicates: {', '.join(f['photo_id'][:16] for f in found['exact']) or 'none'}")
    print("copies:" if found["copies"] else "copies: none")
    for c in found["copies"]:
        print(f"  {c['photo_id'][:16]}  {c['verdict']:<9} hash distance {c['distance']:>2}  cosine {c.get('cosine') or float('nan'):.3f}")
    print("visually similar:" if found["similar"] else "visually similar: none")
    for s in found["similar"]:
        print(f"  {s['photo_id'][:16]}  cosine {s['cosine']:.3f}")
    return 0


def cmd_labels(args) -> int:
    import json

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
    if args.json:
        print(json.dumps(hits, indent=2))
        return 0
    print(f"{len(hits)} photo(s) with concept {args.concept!r} >= {args.min_score}")
    for h in hits:
        print(f"  {h['photo_id'][:16]}  {h['score']:.3f}  (top label: {h['top_label']}, hour {h['partition']})")
    return 0


def cmd_search_color(args) -> int:
    import json

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
    if args.json:
        print(json.dumps([{"photo_id": h.photo_id, "score": round(h.score, 4),
                           "matches": [{"query": m.query, "palette_hex": m.palette_hex, "delta_e": round(m.delta_e, 2),
                                        "share": round(m.share, 3)} for m in h.matches]} for h in hits], indent=2))
        return 0
    print(f"{len(hits)} photo(s) for {' + '.join(c.hex for c in query.colors)}" + (f" (min share {args.min_share})" if args.min_share else ""))
    for h in hits:
        matched = ", ".join(f"{m.query}→{m.palette_hex} ΔE {m.delta_e:.1f} share {m.share:.0%}" for m in h.matches)
        print(f"  {h.photo_id[:16]}  score {h.score:.3f}  {matched}")
    return 0


def cmd_ui(args) -> int:
    home = Home.from_env()
    prepare_instance(home)
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "pipelines.definitions", "-h", "127.0.0.1", "-p", str(args.port)]
    print(f"Dagster UI on http://127.0.0.1:{args.port} (instance {home.dagster}); Ctrl-C stops it")
    return subprocess.call(cmd, cwd=REPO_ROOT)


def build_parser():
    parser = core_cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    p = sub.add_parser("demo", help="sample photos in, every stage materialised, a summary out")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("backfill", help="re-run every hourly stage for a range of hours (one run), then the serving views")
    p.add_argument("--from", dest="start", required=True, help="first hour, e.g. 2026-06-01-10:00")
    p.add_argument("--to", dest="end", required=True, help="last hour (inclusive)")
    p.set_defaults(func=cmd_backfill)
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
    p = sub.add_parser("ui", help="the Dagster webserver and daemon on 127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=cmd_ui)
    _add_ingest_parsers(sub)
    return parser


ORCHESTRATING = {"demo", "ingest", "backfill"}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    code = args.func(args)
    if argv is None and args.command in ORCHESTRATING:
        # Every run is finished and the instance closed by now. Native libraries loaded by the
        # runs (Spark's gateway, gRPC, ONNX Runtime, the Cassandra driver) can abort in their own
        # teardown at interpreter exit ("terminate called without an active exception"), which
        # would turn a successful run into exit code -6; leave without that teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
