"""``photoatlas ingest flickr|unsplash|video``: a source pulled into the inbox in chunks, with a
progress bar, a resumable cursor file per query, dataset or feed, and a summary (with --run, the
landed hours materialised at once). ``pipelines/cli.py`` registers these beside ``ingest folder``.
"""

import argparse
import sys
from pathlib import Path

from photoatlas.config import Home
from pipelines.cli_runs import inbox_folder, materialise_and_summarise, prepare_instance


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
            report = pull(source, cursor_file, inbox_folder(), limit=args.limit or None, chunk=args.chunk,
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
    from photoatlas.sources.flickr import FlickrSource
    from photoatlas.sources.flickr_query import FlickrQuery
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


def add_source_parsers(ingest_sub) -> None:
    """``ingest flickr``, ``ingest unsplash`` and ``ingest video`` under the ``ingest`` command's sub-parsers."""
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
