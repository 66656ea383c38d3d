"""What the orchestrating commands share: the Dagster instance under the home, photos dropped into
the inbox, and hours materialised in this process (recorded in the instance, so the UI shows the runs)."""

import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

from photoatlas.config import Home

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGSTER_YAML = REPO_ROOT / "dagster.yaml"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the UI keeps the full logs


def prepare_instance(home: Home) -> Path:
    """DAGSTER_HOME under the installation's home, with the project's dagster.yaml."""
    home.ensure()
    target = home.dagster / "dagster.yaml"
    if DAGSTER_YAML.exists() and (not target.exists() or target.read_bytes() != DAGSTER_YAML.read_bytes()):
        shutil.copyfile(DAGSTER_YAML, target)
    os.environ["DAGSTER_HOME"] = str(home.dagster)
    return home.dagster


def check_java() -> None:
    """Spark needs Java: exit with a clear message before a run would fail obscurely."""
    if shutil.which("java") is None:
        sys.exit("photoatlas: Java 17+ is needed for Spark and was not found on PATH (install OpenJDK 17).")


def inbox_folder() -> Path:
    """The inbox the configured environment watches (``PHOTOATLAS_INBOX`` in production), so what a
    command lands there is what the inbox sensor and ``--run`` see."""
    from pipelines.environment import resource

    return Path(resource("inbox").path)


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


def report_run(label: str, result, started: float) -> bool:
    """One line per run (status, run id, seconds, failing checks); whether the run succeeded."""
    failed_checks = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in result.get_asset_check_evaluations() if not e.passed]
    status = "ok" if result.success else "FAILED"
    note = f"  checks failing: {', '.join(failed_checks)}" if failed_checks else ""
    print(f"  {label:<18} {status}  run {result.run_id[:8]}  {time.monotonic() - started:.1f} s{note}", flush=True)
    return result.success


def materialise_hours(hours: list[str]) -> list[tuple[str, bool]]:
    """Every hourly stage for each hour, then the cube — in this process, recorded in the instance."""
    from dagster import DagsterInstance

    from pipelines.definitions import defs

    outcomes = []
    with DagsterInstance.get() as instance:
        for hour in hours:
            started = time.monotonic()
            result = defs.resolve_job_def("all_hourly_job").execute_in_process(partition_key=hour, instance=instance, raise_on_error=False, run_config=QUIET)
            outcomes.append((hour, report_run(hour, result, started)))
        started = time.monotonic()
        result = defs.resolve_job_def("serving_job").execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET)
        outcomes.append(("serving views", report_run("cube + similarity", result, started)))
    return outcomes


def materialise_and_summarise(hours: list[str]) -> int:
    """`ingest … --run`: every stage for the landed hours, then the lake's summary of them."""
    check_java()
    from photoatlas.summary import format_summary, summarise
    from pipelines.environment import resource

    outcomes = materialise_hours(hours)
    lake = resource("lake").lake()
    print(format_summary(summarise(lake, hours), lake))
    return 0 if all(ok for _, ok in outcomes) else 1
