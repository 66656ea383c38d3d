"""An Elasticsearch-API server on 127.0.0.1 for integration tests: noida-db's emulator.

No real Elasticsearch or OpenSearch can be installed here; PyPI ``noida-db`` serves the ES 8
REST API (index, bulk, nested, bool/range/term, aliases, reindex, delete_by_query) and the
official ``elasticsearch`` client works against it. It is an emulator: test behaviour, not
Lucene scoring. Its binary is started directly (not the ``noida-db`` wrapper), with its own
data folder and a free port:

    noida_db/noida-db start --host 127.0.0.1 --only elasticsearch \\
        --elasticsearch-port PORT --data-dir DIR

Use the ``elasticsearch_server`` session fixture (import it into a test module or conftest),
or ``python -m tests.servers.elasticsearch`` to run one in the foreground.
"""

import sys
import time
import urllib.request
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.servers._proc import ServerProcess, free_port, port_open

START_TIMEOUT_S = 30.0


def noida_binary() -> Path:
    spec = find_spec("noida_db")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("noida-db is not installed: pip install noida-db (the test extra)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "noida-db"
    if not binary.exists():
        raise RuntimeError(f"noida-db binary missing at {binary}")
    binary.chmod(0o755)
    return binary


class ElasticsearchServer:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.port: int | None = None
        self.proc: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ElasticsearchServer":
        self.port = free_port()
        argv = [str(noida_binary()), "start", "--host", "127.0.0.1", "--only", "elasticsearch",
                "--elasticsearch-port", str(self.port), "--data-dir", str(self.workdir / "data")]
        self.proc = ServerProcess("noida-elasticsearch", argv, self.workdir)
        self.proc.start(self._ready, timeout_s=START_TIMEOUT_S)
        return self

    def _ready(self) -> bool:
        if not port_open(self.port):
            return False
        with urllib.request.urlopen(f"{self.url}/_cluster/health", timeout=2) as response:
            return response.status == 200

    def client(self):
        from elasticsearch import Elasticsearch

        return Elasticsearch(self.url, request_timeout=30)

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


@pytest.fixture(scope="session")
def elasticsearch_server(tmp_path_factory):
    server = ElasticsearchServer(tmp_path_factory.mktemp("elasticsearch")).start()
    yield server
    server.stop()


if __name__ == "__main__":
    import tempfile

    server = ElasticsearchServer(Path(tempfile.mkdtemp(prefix="noida-es-"))).start()
    print(f"Elasticsearch API at {server.url} (Ctrl-C stops it)", file=sys.stderr)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
