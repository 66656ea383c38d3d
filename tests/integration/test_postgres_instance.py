"""deploy/dagster.production.yaml against a real PostgreSQL: storage, run queue, retries.

The file is copied unchanged into a fresh DAGSTER_HOME and read by ``DagsterInstance.get()``,
exactly as a production deployment would; only the DAGSTER_PG_* variables come from the test.
"""

import shutil
import time
import uuid
from pathlib import Path

import pytest
from dagster import (
    AssetCheckResult,
    AssetKey,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    HourlyPartitionsDefinition,
    MaterializeResult,
    asset,
    asset_check,
    materialize,
)

from tests.servers.postgres import PostgresServer, pg_bin_dir

pytestmark = pytest.mark.integration

PRODUCTION_YAML = Path(__file__).resolve().parents[2] / "deploy" / "dagster.production.yaml"
SPARK_POOL = {"key": "photoatlas/pool", "value": "spark", "limit": 2}
HOUR = "2026-06-01-10:00"

tiny_hours = HourlyPartitionsDefinition(start_date="2026-06-01-00:00", timezone="UTC")


@asset(partitions_def=tiny_hours)
def tiny_counts(context) -> MaterializeResult:
    """Three rows for the hour, so the event log has metadata to read back."""
    return MaterializeResult(metadata={"rows": 3, "hour": context.partition_key})


@asset_check(asset=tiny_counts)
def tiny_counts_not_empty() -> AssetCheckResult:
    return AssetCheckResult(passed=True, metadata={"rows": 3})


@pytest.fixture(scope="module")
def postgres():
    if pg_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                    "(Debian: apt-get install -y postgresql; scripts/setup installs it)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def pg_env(postgres, tmp_path, monkeypatch):
    """DAGSTER_HOME holding the production file unchanged, DAGSTER_PG_* naming a fresh database."""
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copyfile(PRODUCTION_YAML, dagster_home / "dagster.yaml")
    env = postgres.create_database(f"dagster_{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture
def instance(pg_env):
    with DagsterInstance.get() as inst:
        yield inst


def _sql(postgres, env, query, *args):
    conn = postgres.connect(db=env["DAGSTER_PG_DB"])
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()
    finally:
        conn.close()


def test_storage_is_postgres_from_the_environment(instance, pg_env, postgres):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    url = instance.run_storage.postgres_url
    assert url.startswith("postgresql+psycopg2://")
    assert f"@127.0.0.1:{pg_env['DAGSTER_PG_PORT']}/{pg_env['DAGSTER_PG_DB']}" in url
    # Dagster created its schema in that database, and nothing fell back to SQLite.
    tables = {r[0] for r in _sql(postgres, pg_env, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"runs", "event_logs", "jobs", "job_ticks", "asset_keys"} <= tables
    assert not list(Path(instance.root_directory).rglob("*.db"))


def test_a_materialisation_is_recorded_and_read_back(instance, pg_env, postgres):
    result = materialize([tiny_counts, tiny_counts_not_empty], partition_key=HOUR, instance=instance)
    assert result.success

    # A second instance built from the same file sees it: it is in Postgres, not in memory.
    with DagsterInstance.get() as reader:
        run = reader.get_run_by_id(result.run_id)
        assert run is not None and run.status == DagsterRunStatus.SUCCESS
        event = reader.get_latest_materialization_event(AssetKey("tiny_counts"))
        assert event is not None and event.run_id == result.run_id
        materialization = event.asset_materialization
        assert materialization.partition == HOUR
        assert materialization.metadata["rows"].value == 3
        assert reader.get_materialized_partitions(AssetKey("tiny_counts")) == {HOUR}
        check = reader.event_log_storage.get_latest_asset_check_execution_by_key(
            [tiny_counts_not_empty.check_key]
        )[tiny_counts_not_empty.check_key]
        assert check.run_id == result.run_id and check.status.value == "SUCCEEDED"

    rows = _sql(postgres, pg_env, "SELECT status FROM runs WHERE run_id = %s", result.run_id)
    assert rows == [("SUCCESS",)]
    (count,), = _sql(postgres, pg_env, "SELECT count(*) FROM event_logs"
                     " WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'", result.run_id)
    assert count == 1


def test_schedule_storage_keeps_sensor_ticks(instance, pg_env, postgres):
    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.scheduler.instigation import TickData, TickStatus

    now = time.time()
    instance.create_tick(TickData(
        instigator_origin_id="photoatlas-test-origin", instigator_name="inbox_sensor",
        instigator_type=InstigatorType.SENSOR, status=TickStatus.SKIPPED, timestamp=now,
        selector_id="photoatlas-test-selector", skip_reason="no new files", cursor='{"seen": 1}',
    ))
    ticks = instance.get_ticks("photoatlas-test-origin", "photoatlas-test-selector")
    assert [(t.status, t.skip_reason, t.cursor) for t in ticks] == [(TickStatus.SKIPPED, "no new files", '{"seen": 1}')]
    (count,), = _sql(postgres, pg_env, "SELECT count(*) FROM job_ticks WHERE selector_id = %s",
                     "photoatlas-test-selector")
    assert count == 1


def test_run_queue_limits_spark_runs_to_two(instance):
    from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

    from pipelines.jobs import ingest_job

    coordinator = instance.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    queue = coordinator.get_run_queue_config()
    assert queue.max_concurrent_runs == 8
    assert [dict(limit) for limit in queue.tag_concurrency_limits] == [SPARK_POOL]
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2

    # The project's ingest job carries the tag the limit keys on (a rename on either side fails here).
    spark_tags = dict(ingest_job.tags)
    assert spark_tags.get(SPARK_POOL["key"]) == SPARK_POOL["value"]

    # Three Spark runs and one other are submitted: all wait in the queue (in Postgres), and the
    # daemon's next dequeue would start only two of the Spark runs beside the other one.
    # Queued runs must name the code location they come from (the daemon launches them there).
    origin = RemoteJobOrigin(
        repository_origin=RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("photoatlas"), "__repository__"),
        job_name="__ASSET_JOB",
    )
    job = Definitions(assets=[tiny_counts]).resolve_implicit_global_asset_job_def()

    def queued_run(tags):
        run = instance.create_run_for_job(job, tags={**tags, "dagster/partition": HOUR}, remote_job_origin=origin)
        return coordinator.submit_run(SubmitRunContext(dagster_run=run, workspace=None))

    spark_runs = [queued_run(spark_tags) for _ in range(3)]
    other = queued_run({})
    assert [r.status for r in instance.get_runs()] == [DagsterRunStatus.QUEUED] * 4

    # The daemon's own selection step (private API, pinned dagster 1.13.27), run on the real queue.
    with QueuedRunCoordinatorDaemon(interval_seconds=1) as daemon:
        chosen = daemon._get_runs_to_dequeue(instance, instance.get_concurrency_config(), fixed_iteration_time=None)
    chosen_ids = {r.run_id for r in chosen}
    assert other.run_id in chosen_ids
    assert len(chosen_ids & {r.run_id for r in spark_runs}) == SPARK_POOL["limit"]
