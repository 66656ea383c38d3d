"""The Dagster UI in a real browser, and a backfill launched the way the UI launches one.

One webserver + daemon over ``pipelines.definitions`` for the module, with sample photos in
the inbox for three known hours. Headless Debian Chromium renders the pages
(``--dump-dom`` for assertions, ``--screenshot`` into ``artifacts/ui/`` for people and CI).
The stages and checks expected on screen are read from the Definitions, so a new stage or
check is covered without editing this file.
"""

import html
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from photoatlas.partitions import hour_window
from tests.dagster.conftest import drop
from tests.servers.dagster_web import LOCATION, DagsterWeb

pytestmark = [pytest.mark.integration, pytest.mark.ui]

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "artifacts" / "ui"
REPOSITORY = "__repository__"  # the name Dagster gives the repository of a Definitions object
START = "2026-06-01-08:00"  # PHOTOATLAS_START for the servers: the first partition, before the hours below
HOURS = ("2026-06-01-10:00", "2026-06-01-11:00", "2026-06-01-12:00")
PHOTOS = {  # a couple of real sample photos arriving in each hour
    HOURS[0]: {"china.jpg", "chelsea.jpg"},
    HOURS[1]: {"flower.jpg", "coffee.jpg"},
    HOURS[2]: {"astronaut.jpg", "rocket.jpg"},
}
BACKFILL_ASSETS = ("raw_photos", "enriched_records")
BACKFILL_TIMEOUT_S = float(os.environ.get("PHOTOATLAS_UI_BACKFILL_TIMEOUT_S", "240"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
]
WINDOW = (1600, 1000)
# The expanded lineage of six groups overflows 1000 px at the UI's smallest zoom; taller, it fits.
GRAPH_WINDOW = (1600, 1400)
NUX_TEXT = "Join the Dagster community"  # the first-visit pop-up's title
CHROMIUM_TIMEOUT_S = 60


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def visible_text(dom: str) -> str:
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom))).strip()


def render(url: str, name: str, must_contain: list[str], budget_ms: int = 15000, window=WINDOW) -> str:
    """Load ``url`` in headless Chromium; save ``name``.png (+ .html); return the page's visible text.

    ``--virtual-time-budget`` lets the JS app fetch and render (virtual time waits for network
    fetches; 15 s of it renders these pages fully, 5 s does not). Under CPU pressure a render
    can fall short or, rarely, hang, so a second attempt gets twice the budget.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    text, failure = "", ""
    for budget in (budget_ms, 2 * budget_ms):
        profile = tempfile.mkdtemp(prefix="photoatlas-chromium-")
        argv = [chromium_binary(), *CHROMIUM_FLAGS, f"--window-size={window[0]},{window[1]}",
                f"--user-data-dir={profile}", f"--virtual-time-budget={budget}",
                f"--screenshot={ARTIFACTS / (name + '.png')}", "--dump-dom", url]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=profile,
                                start_new_session=True)  # its own group: a hang ends with all its helpers
        try:
            dom, err = proc.communicate(timeout=CHROMIUM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            failure = f"chromium hung on {url} for {CHROMIUM_TIMEOUT_S} s"
            continue
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        assert proc.returncode == 0, f"chromium failed on {url}:\n{err[-2000:]}"
        (ARTIFACTS / (name + ".html")).write_text(dom)
        text, failure = visible_text(dom), ""
        if all(s in text for s in must_contain):
            break
    assert not failure, failure
    assert (ARTIFACTS / (name + ".png")).stat().st_size > 10_000, f"{name}.png is (nearly) empty"
    return text


@pytest.fixture(scope="module")
def stages():
    """{asset name: (group, [check names])} for every materialisable asset in the Definitions."""
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    found = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            found[key.to_user_string()] = (node.group_name, sorted(c.name for c in node.check_keys))
    assert set(BACKFILL_ASSETS) <= set(found), found
    return found


@pytest.fixture(scope="module")
def backfill_run_config():
    """Run config that makes backfill runs execute their steps in one process.

    Backfill runs use the implicit asset job, whose executor is the Definitions' default
    (multi-process unless the Definitions set one): a fresh Python per step re-imports GE and
    starts its own JVM (ENVIRONMENT.md), which on two cores doubles the backfill's time.
    """
    from pipelines.definitions import defs

    executor = defs.resolve_implicit_global_asset_job_def().executor_def
    if executor.name == "multi_or_in_process_executor":
        return {"execution": {"config": {"in_process": {}}}}
    return None


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    if chromium_binary() is None:
        pytest.skip("headless Chromium not found (Debian: apt-get install -y chromium; scripts/setup installs it)")
    if datetime.now(timezone.utc) < hour_window(HOURS[-1])[1]:
        pytest.skip(f"the clock is before {HOURS[-1]}: those partitions do not exist yet")
    from photoatlas import sample

    root = tmp_path_factory.mktemp("ui")
    samples = root / "samples"
    samples.mkdir()
    sample.build(samples)
    server = DagsterWeb(root / "dagster", env={"PHOTOATLAS_START": START, "PHOTOATLAS_ENV": "local"})
    for hour, names in PHOTOS.items():
        drop(samples, server.home / "inbox", hour=hour, names=names)
    try:
        server.start()
        assert server.graphql("mutation { setNuxSeen }")["setNuxSeen"] is True
        _stop_instigators_that_launch_runs(server)
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


def _stop_instigators_that_launch_runs(web: DagsterWeb) -> None:
    """Stop running schedules and run-launching sensors before the daemon's first tick.

    The inbox sensor is RUNNING by default and would ingest the three hours itself; the test
    wants the backfill to be the only thing that materialises them. Run-status sensors
    (alerts) keep running.
    """
    repo = {"repositoryName": REPOSITORY, "repositoryLocationName": LOCATION}
    sensors = web.graphql(
        "query($r: RepositorySelector!) { sensorsOrError(repositorySelector: $r) { __typename"
        " ... on Sensors { results { id name sensorType targets { pipelineName } sensorState { status } } } } }",
        {"r": repo},
    )["sensorsOrError"]["results"]
    for s in sensors:
        launches = bool(s["targets"]) or s["sensorType"] in ("AUTOMATION", "AUTO_MATERIALIZE", "ASSET", "MULTI_ASSET")
        if s["sensorState"]["status"] == "RUNNING" and launches:
            done = web.graphql(
                "mutation($id: String) { stopSensor(id: $id) { __typename"
                " ... on StopSensorMutationResult { instigationState { status } } } }", {"id": s["id"]},
            )["stopSensor"]
            assert done.get("instigationState", {}).get("status") == "STOPPED", (s["name"], done)
    schedules = web.graphql(
        "query($r: RepositorySelector!) { schedulesOrError(repositorySelector: $r) { __typename"
        " ... on Schedules { results { id name scheduleState { status } } } } }", {"r": repo},
    )["schedulesOrError"]["results"]
    for s in schedules:
        if s["scheduleState"]["status"] == "RUNNING":
            done = web.graphql(
                "mutation($id: String) { stopRunningSchedule(id: $id) { __typename"
                " ... on ScheduleStateResult { scheduleState { status } } } }", {"id": s["id"]},
            )["stopRunningSchedule"]
            assert done.get("scheduleState", {}).get("status") == "STOPPED", (s["name"], done)


@pytest.fixture(scope="module")
def backfill(web, backfill_run_config):
    """A backfill of the three hours of raw_photos + enriched_records, launched over GraphQL.

    Module-scoped and requested by the first test, so the runs go on while the page tests
    render (on two cores the backfill is most of this module's time).
    """
    params = {
        "assetSelection": [{"path": [a]} for a in BACKFILL_ASSETS],
        "partitionNames": list(HOURS),
        "title": "photoatlas UI test: three hours",
    }
    if backfill_run_config:
        params["runConfigData"] = backfill_run_config
    launched = web.graphql(
        "mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename"
        " ... on LaunchBackfillSuccess { backfillId } ... on Error { message } } }", {"p": params},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    # The daemon starts only now: its first iteration picks the backfill up at once (the
    # backfill daemon otherwise looks every 30 s), and no instigator ran before it.
    web.start_daemon(wait=False)
    return launched["backfillId"]


def _backfill_state(web: DagsterWeb, backfill_id: str) -> dict:
    return web.graphql(
        "query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename ... on PartitionBackfill {"
        " status isAssetBackfill partitionNames assetSelection { path } runs { runId status tags { key value } } } } }",
        {"id": backfill_id},
    )["partitionBackfillOrError"]


def test_a_backfill_of_three_hours_is_accepted(web, backfill):
    state = _backfill_state(web, backfill)
    assert state["__typename"] == "PartitionBackfill" and state["isAssetBackfill"], state
    assert sorted(state["partitionNames"]) == sorted(HOURS)
    assert sorted(a["path"][-1] for a in state["assetSelection"]) == sorted(BACKFILL_ASSETS)
    assert state["status"] in ("REQUESTED", "COMPLETED_SUCCESS", "COMPLETED"), state


def test_webserver_serves_the_definitions(web, stages):
    nodes = web.graphql("{ assetNodes { assetKey { path } isPartitioned hasAssetChecks } }")["assetNodes"]
    served = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert set(stages) <= set(served)
    for name, (_, checks) in stages.items():
        assert served[name]["hasAssetChecks"] == bool(checks), name
    assert all(served[name]["isPartitioned"] for name in BACKFILL_ASSETS)
    assert web.graphql("{ shouldShowNux }")["shouldShowNux"] is False


def test_asset_graph_shows_every_stage_with_its_checks(web, stages):
    groups = sorted({g for g, _ in stages.values()})
    # Expand every group (the query parameter the UI's "expand all" writes). Group ids are
    # "global@global:<group>", or "<repo>@<location>:<group>" behind a UI flag; both are given.
    expanded = ",".join(
        quote(gid, safe="@:") for g in groups for gid in (f"global@global:{g}", f"{REPOSITORY}@{LOCATION}:{g}")
    )
    text = render(f"{web.url}/asset-groups?expanded={expanded}", "asset_graph", must_contain=list(stages),
                  window=GRAPH_WINDOW)
    assert NUX_TEXT not in text
    missing = [name for name in stages if name not in text]
    assert not missing, f"not on the asset graph page: {missing}\n{text[:3000]}"
    # Zoomed in, each node has an "Asset checks  passed / total" row; zoomed out to fit a
    # larger graph, nodes show only their names (the Checks tabs below then carry the checks).
    if "Asset checks" in text:
        for name, (_, checks) in stages.items():
            if checks:
                assert re.search(rf"{re.escape(name)} .{{0,300}}?Asset checks \d+ / {len(checks)}\b", text), (
                    f"{name}: no 'Asset checks n / {len(checks)}' on its node:\n{text[:3000]}"
                )


def test_asset_pages_list_every_check(web, stages):
    for name, (_, checks) in sorted(stages.items()):
        if not checks:
            continue
        text = render(f"{web.url}/assets/{quote(name)}?view=checks", f"checks_{name}", must_contain=checks)
        assert NUX_TEXT not in text
        assert f"Checks ({len(checks)})" in text, text[:2000]
        missing = [c for c in checks if c not in text]
        assert not missing, f"checks of {name} not on its Checks tab: {missing}\n{text[:2000]}"


@pytest.mark.timeout(BACKFILL_TIMEOUT_S + 120)
def test_the_backfill_materialises_the_three_hours(web, stages, backfill, monkeypatch):
    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    while True:
        state = _backfill_state(web, backfill)
        if state["status"] not in ("REQUESTED", "CANCELING", "FAILING"):
            break
        assert web.daemon_alive(), f"the daemon exited while backfill {backfill} was {state['status']}:\n{web.logs()}"
        if time.monotonic() > deadline:
            runs = [(r["runId"][:8], r["status"]) for r in state["runs"]]
            pytest.fail(f"backfill {backfill} still {state['status']} after {BACKFILL_TIMEOUT_S:.0f} s; "
                        f"runs {runs}\n{web.logs()}")
        time.sleep(3)
    assert state["status"] in ("COMPLETED_SUCCESS", "COMPLETED"), f"{state}\n{web.logs()}"
    runs = state["runs"]
    assert runs and all(r["status"] == "SUCCESS" for r in runs), runs
    hours_run = [h for r in runs for h in _hours_of_run({t["key"]: t["value"] for t in r["tags"]})]
    assert sorted(hours_run) == sorted(HOURS), runs  # each hour in exactly one run
    all_runs = web.graphql("{ runsOrError { ... on Runs { results { runId } } } }")["runsOrError"]["results"]
    assert {r["runId"] for r in all_runs} == {r["runId"] for r in runs}, "runs other than the backfill's ran"

    # The instance says so, asset by asset: exactly the three hours are materialised.
    for name in BACKFILL_ASSETS:
        node = web.graphql(
            "query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { __typename ... on AssetNode {"
            " partitionStats { numMaterialized numFailed numMaterializing }"
            " assetPartitionStatuses { ... on TimePartitionStatuses { ranges { startKey endKey status } } } } } }",
            {"k": {"path": [name]}},
        )["assetNodeOrError"]
        assert node["partitionStats"] == {"numMaterialized": 3, "numFailed": 0, "numMaterializing": 0}, (name, node)
        assert node["assetPartitionStatuses"]["ranges"] == [
            {"startKey": HOURS[0], "endKey": HOURS[-1], "status": "MATERIALIZED"}
        ], (name, node)

    # Every check of the backfilled stages passed, as the Checks tabs show it (the latest
    # execution of each, no longer "in progress") and as the event log records it per run.
    for name in BACKFILL_ASSETS:
        checks = web.graphql(
            "query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode { assetChecksOrError {"
            " ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } } }",
            {"k": {"path": [name]}},
        )["assetNodeOrError"]["assetChecksOrError"]["checks"]
        statuses = {c["name"]: (c["executionForLatestMaterialization"] or {}).get("status") for c in checks}
        assert statuses == {c: "SUCCEEDED" for c in stages[name][1]}, (name, statuses)
    monkeypatch.setenv("DAGSTER_HOME", str(web.dagster_home))  # the instance's dagster.yaml reads it
    _assert_checks_passed_in_every_run(web, stages, {r["runId"] for r in runs})
    _assert_records_in_the_lake(web)

    # And the UI shows it: the partitions tab of enriched_records with one backfilled hour
    # selected, and the backfill's own page.
    text = render(
        f"{web.url}/assets/enriched_records?view=partitions&partition={quote(HOURS[1], safe='')}",
        "enriched_records_partitions", must_contain=["Materialized (3)"],
    )
    assert "Materialized (3)" in text and "Failed (0)" in text, text[:2000]
    checks = stages["enriched_records"][1]
    text = render(f"{web.url}/assets/enriched_records?view=checks", "checks_enriched_records_after_backfill",
                  must_contain=[f"{checks[-1]} Succeeded"])
    not_passed = [c for c in checks if not re.search(rf"{re.escape(c)} (?:{re.escape(c)} )?Succeeded", text)]
    assert not not_passed, f"checks not shown as Succeeded: {not_passed}\n{text[:2000]}"
    text = render(f"{web.url}/runs/b/{backfill}", "backfill", must_contain=list(BACKFILL_ASSETS))
    assert all(a in text for a in BACKFILL_ASSETS) and "Succeeded" in text, text[:2000]


def _assert_checks_passed_in_every_run(web: DagsterWeb, stages, run_ids: set[str]) -> None:
    """Every check of the backfilled stages passed in every backfill run.

    Checks whose spec has a partitions_def record their hour when the run covers one hour; a
    run over a range (the single-run backfill policy) records no hour in dagster 1.13.27 (its
    metadata lists the failing hours instead), so such a run counts for every hour it covered.
    """
    from dagster import AssetCheckKey, AssetKey, DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(web.dagster_home))) as instance:
        for name in BACKFILL_ASSETS:
            for check in stages[name][1]:
                key = AssetCheckKey(AssetKey(name), check)
                history = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
                passed = [r for r in history if r.run_id in run_ids and r.status.value == "SUCCEEDED"]
                seen = [(r.run_id[:8], r.partition, r.status.value) for r in history]
                assert {r.run_id for r in passed} == run_ids, (name, check, seen)
                if graph.get(key).partitions_def is not None:
                    covered = set()
                    for r in passed:
                        covered |= {r.partition} if r.partition else set(_hours_of_run(instance.get_run_by_id(r.run_id).tags))
                    assert covered == set(HOURS), (name, check, seen)


def _hours_of_run(tags: dict) -> list[str]:
    """The hours a backfill run covered: one partition, or a range (single-run backfill policy)."""
    if "dagster/partition" in tags:
        return [tags["dagster/partition"]]
    start, end = tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
    hours, moment = [], hour_window(start)[0]
    while (key := moment.strftime("%Y-%m-%d-%H:%M")) <= end:
        hours.append(key)
        moment = hour_window(key)[1]
    return hours


def _assert_records_in_the_lake(web: DagsterWeb) -> None:
    """The runs did the real work: one ``ok`` record per photo dropped into each hour."""
    from photoatlas.lake import LocalLake, table_key

    lake = LocalLake(str(web.home / "lake"))
    for hour, names in PHOTOS.items():
        records = lake.read_table(table_key("records", hour)).to_pylist()
        assert sorted(r["source_id"].split("/")[-1] for r in records) == sorted(names), hour
        assert {r["status"] for r in records} == {"ok"}, hour
