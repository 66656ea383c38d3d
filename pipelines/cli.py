"""The ``photoatlas`` command: the core's questions plus the orchestration commands.

demo      build the sample set, drop it into the inbox, materialise every stage, print a summary
backfill  re-run every hourly stage for a range of hours in one run, then the serving views
ui        the Dagster webserver and daemon on 127.0.0.1
ingest    drop a folder of photos into the inbox, or pull Flickr / Unsplash / video frames into it
          in chunks with a resumable cursor (and with --run, materialise the hours landed)

The query commands (``counts``, ``similar``, ``labels``, ``search-color``) live in ``query_cli``;
the source pulls (``ingest flickr|unsplash|video``) in ``ingest_cli``; what the orchestrating
commands share (the instance, the inbox, in-process runs) in ``cli_runs``.
"""

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
from pipelines.cli_runs import (
    QUIET,
    REPO_ROOT,
    check_java,
    drop_into_inbox,
    inbox_folder,
    materialise_and_summarise,
    materialise_hours,
    prepare_instance,
    report_run,
)
from pipelines.ingest_cli import add_source_parsers
from pipelines.query_cli import add_query_parsers


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
    check_java()
    tags = {"dagster/asset_partition_range_start": args.start, "dagster/asset_partition_range_end": args.end}
    hours = int((end - start).total_seconds() // 3600) + 1
    print(f"backfilling {hours} hour(s) {args.start} .. {args.end} in one run")
    outcomes = []
    with DagsterInstance.get() as instance:
        started = time.monotonic()
        result = defs.resolve_job_def("all_hourly_job").execute_in_process(instance=instance, tags=tags, raise_on_error=False, run_config=QUIET)
        outcomes.append(report_run(f"{hours} hours", result, started))
        started = time.monotonic()
        result = defs.resolve_job_def("serving_job").execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET)
        outcomes.append(report_run("cube + similarity", result, started))
    return 0 if all(outcomes) else 1


def cmd_demo(args) -> int:
    from photoatlas import sample
    from photoatlas.lake import LocalLake
    from photoatlas.summary import format_summary, summarise

    check_java()
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
    inbox = inbox_folder()
    placed = drop_into_inbox(files, inbox, subdir)
    photos = [p for p in placed if not p.name.endswith(".json")]
    hours = sorted({hour_key(datetime.fromtimestamp(p.stat().st_mtime, tz=timezone.utc)) for p in photos})
    print(f"{len(photos)} photo(s) (+{len(placed) - len(photos)} sidecars) → {inbox / subdir}; arrival hour(s): {', '.join(hours) or 'none'}")
    if not args.run:
        print("the inbox sensor picks them up while `photoatlas ui` runs; or re-run with --run")
        return 0
    return materialise_and_summarise(hours)


def _add_ingest_parsers(sub) -> None:
    p = sub.add_parser("ingest", help="bring photos in: a folder, or pulled from Flickr, Unsplash, video")
    ingest_sub = p.add_subparsers(dest="source", required=True)
    f = ingest_sub.add_parser("folder", help="copy a folder of photos (with optional JSON sidecars) into the inbox")
    f.add_argument("path")
    f.add_argument("--run", action="store_true", help="materialise the affected hours now and print the summary")
    f.set_defaults(func=cmd_ingest)
    add_source_parsers(ingest_sub)  # flickr, unsplash, video: pipelines/ingest_cli.py


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
    add_query_parsers(sub)  # counts, similar, labels, search-color: pipelines/query_cli.py
    p = sub.add_parser("ui", help="the Dagster webserver and daemon on 127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=cmd_ui)
    _add_ingest_parsers(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    code = args.func(args)
    if argv is None:
        # Every run is finished, every store closed and the output printed by now. Native
        # libraries the commands load (Spark's gateway, gRPC, ONNX Runtime, OpenCV, Arrow, the
        # Cassandra driver) can abort in their own teardown at interpreter exit ("terminate
        # called without an active exception"): seen on `labels` 2 times in 5 and on `demo`,
        # turning a good answer into exit code 134. Leave without that teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
