"""The Dagster webserver and daemon over ``pipelines.definitions``, on 127.0.0.1, for UI tests.

What ``photoatlas ui`` (``dagster dev``) runs, as three processes the test controls:

- one code server (``dagster api grpc -m pipelines.definitions``, location ``photoatlas``)
  that both others use, so the definitions are imported once and runs launch from it;
- ``dagster-webserver`` on a free port (ready when ``/server_info`` answers and the code
  location has loaded);
- ``dagster-daemon run`` (backfills, the run queue, sensors), started separately with
  :meth:`DagsterWeb.start_daemon` so a test can first set instigator state over GraphQL
  (e.g. stop the inbox sensor, whose default status is RUNNING) before any tick happens, and
  queue work (a backfill) that the daemon's first iteration then picks up at once instead of
  at its next 30-second tick.

Each gets a private DAGSTER_HOME (the project's ``dagster.yaml`` copied in, as the CLI does)
and PHOTOATLAS_HOME. :meth:`stop` stops the daemon first (no new launches), then the
webserver, then the code server, and finally ends any run worker or Spark JVM still carrying
this instance's DAGSTER_HOME in its environment.
"""

import json
import os
import shutil
import signal
import sys
import time
import urllib.request
from pathlib import Path

from tests.servers._proc import ServerProcess, free_port, port_open

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCATION = "photoatlas"
MODULE = "pipelines.definitions"


class DagsterWeb:
    def __init__(self, workdir: Path, env: dict | None = None):
        """``workdir`` gets ``home/`` (PHOTOATLAS_HOME, with ``dagster/`` as DAGSTER_HOME) and the logs."""
        self.workdir = Path(workdir)
        self.home = self.workdir / "home"
        self.dagster_home = self.home / "dagster"
        self.env = {
            "PHOTOATLAS_HOME": str(self.home),
            "DAGSTER_HOME": str(self.dagster_home),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "GX_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.port: int | None = None
        self.grpc_port: int | None = None
        self.code_server: ServerProcess | None = None
        self.webserver: ServerProcess | None = None
        self.daemon: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _dagster_bin(self, name: str) -> str:
        found = Path(sys.executable).parent / name
        return str(found) if found.exists() else (shutil.which(name) or name)

    def _workspace(self) -> Path:
        path = self.workdir / "workspace.yaml"
        path.write_text(
            "load_from:\n"
            "  - grpc_server:\n"
            "      host: 127.0.0.1\n"
            f"      port: {self.grpc_port}\n"
            f"      location_name: {LOCATION}\n"
        )
        return path

    def start(self, timeout_s: float = 120.0) -> "DagsterWeb":
        """Code server and webserver; returns once the UI serves the loaded code location."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / "dagster.yaml", self.dagster_home / "dagster.yaml")
        self.grpc_port, self.port = free_port(), free_port()
        try:
            self.code_server = ServerProcess(
                "code_server",
                [self._dagster_bin("dagster"), "api", "grpc", "-m", MODULE, "-h", "127.0.0.1",
                 "-p", str(self.grpc_port), "--location-name", LOCATION, "-d", str(REPO_ROOT)],
                self.workdir, env=self.env,
            ).start(lambda: port_open(self.grpc_port), timeout_s=timeout_s)
            workspace = self._workspace()
            self.webserver = ServerProcess(
                "webserver",
                [self._dagster_bin("dagster-webserver"), "-w", str(workspace), "-h", "127.0.0.1", "-p", str(self.port)],
                self.workdir, env=self.env,
            ).start(self._webserver_ready, timeout_s=timeout_s)
            loaded = self._location()["locationOrLoadError"]
            if loaded["__typename"] != "RepositoryLocation":
                raise RuntimeError(f"code location {LOCATION} failed to load: {loaded.get('message', loaded)}")
        except BaseException:
            self.stop()
            raise
        return self

    def start_daemon(self, wait: bool = True, timeout_s: float = 90.0) -> "DagsterWeb":
        """``dagster-daemon run``; with ``wait``, returns once the backfill and run-queue daemons
        report healthy (otherwise at once: poll :meth:`daemon_alive` while waiting on its work)."""
        self.daemon = ServerProcess(
            "daemon", [self._dagster_bin("dagster-daemon"), "run", "-w", str(self.workdir / "workspace.yaml")],
            self.workdir, env=self.env,
        ).start(self._daemon_ready if wait else (lambda: True), timeout_s=timeout_s)
        return self

    def daemon_alive(self) -> bool:
        return self.daemon is not None and self.daemon.proc is not None and self.daemon.proc.poll() is None

    def _location(self) -> dict | None:
        entries = self.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus"
            " locationOrLoadError { __typename ... on PythonError { message } } } } } }"
        )["workspaceOrError"]["locationEntries"]
        return next((e for e in entries if e["name"] == LOCATION), None)

    def _webserver_ready(self) -> bool:
        """Serving, and done loading the code location (successfully or not: start() tells which)."""
        with urllib.request.urlopen(f"{self.url}/server_info", timeout=2) as r:
            if r.status != 200:
                return False
        entry = self._location()
        return entry is not None and entry["loadStatus"] == "LOADED"

    def _daemon_ready(self) -> bool:
        statuses = self.graphql(
            "{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }"
        )["instance"]["daemonHealth"]["allDaemonStatuses"]
        healthy = {s["daemonType"] for s in statuses if s["healthy"]}
        return {"BACKFILL", "QUEUED_RUN_COORDINATOR"} <= healthy

    def graphql(self, query: str, variables: dict | None = None, timeout_s: float = 30.0) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout_s) as r:
            answer = json.loads(r.read())
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name} ---\n{p.log_tail()}"
            for p in (self.code_server, self.webserver, self.daemon) if p is not None
        )

    def stop(self) -> None:
        for proc in (self.daemon, self.webserver):
            if proc is not None:
                proc.stop()
        if self.code_server is not None:
            self._shut_down_code_server()
            self.code_server.stop()
        self._end_leftovers()

    def _shut_down_code_server(self, timeout_s: float = 10.0) -> None:
        """Ask over gRPC, as ``dagster dev`` does: the code server does not end on SIGTERM alone."""
        proc = self.code_server.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            from dagster._grpc.client import DagsterGrpcClient

            DagsterGrpcClient(port=self.grpc_port, host="127.0.0.1").shutdown_server()
            proc.wait(timeout=timeout_s)
        except Exception:
            pass  # ServerProcess.stop() follows with SIGTERM, then SIGKILL

    def _end_leftovers(self) -> None:
        """Run workers and Spark JVMs launched for this instance that outlived their parents."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self._processes_of_this_instance()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self._processes_of_this_instance():
                time.sleep(0.1)

    def _processes_of_this_instance(self) -> list[int]:
        """Live processes whose environment names this DAGSTER_HOME (zombies have none left)."""
        marker = f"DAGSTER_HOME={self.dagster_home}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found
