"""The production switch end to end: S3 lake, Cassandra counts, Elasticsearch colours — the same
records as the local defaults, and the same answers from the serving stores."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from cryptography.fernet import Fernet

from photoatlas.lake import LocalLake
from photoatlas.s3lake import S3Lake

pytestmark = pytest.mark.integration
PHOTOATLAS = str(Path(sys.executable).parent / "photoatlas")
NAMES = ("china.jpg", "chelsea.jpg", "coffee.jpg", "r_canon.jpg", "r_sony.jpg", "cmyk.jpg", "palette_alpha.png", "empty.jpg", "bomb.png", "notes.jpg")


def _photoatlas(env: dict, *args: str, timeout: int = 400) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTOATLAS_", "DAGSTER_", "AWS_"))}
    done = subprocess.run([PHOTOATLAS, *args], env={**clean, **env}, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _ingest(env: dict, folder: Path) -> subprocess.CompletedProcess:
    return _photoatlas(env, "ingest", "folder", str(folder), "--run")


def _records(lake) -> pa.Table:
    keys = lake.list("tables/records/")
    assert keys, "no records table written"
    table = pa.concat_tables([lake.read_table(k) for k in keys])
    # Ignored: Fernet tokens (salted), and what carries the drop time (the inbox sub-folder in
    # source_id, the arrival hour, the arrival time used as capture time when nothing better exists).
    drop = [c for c in table.column_names if c.endswith("_enc")] + ["partition", "captured_at", "source_id"]
    return table.drop(drop).sort_by("photo_id")


def test_production_switch_matches_the_local_defaults(tmp_path, sample_dir, s3_env, cassandra_server, elasticsearch_server):
    root, _ = sample_dir
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in NAMES:
        shutil.copyfile(root / name, folder / name)
        if (root / f"{name}.json").exists():
            shutil.copyfile(root / f"{name}.json", folder / f"{name}.json")

    local_home = tmp_path / "local"
    _ingest({"PHOTOATLAS_HOME": str(local_home)}, folder)

    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    s3_env.client().create_bucket(Bucket=bucket)
    user, password = cassandra_server.credentials
    prod_env = {
        "PHOTOATLAS_HOME": str(tmp_path / "prod"),
        "PHOTOATLAS_ENV": "production",
        "PHOTOATLAS_CASSANDRA_HOSTS": "127.0.0.1",
        "PHOTOATLAS_CASSANDRA_PORT": str(cassandra_server.port),
        "PHOTOATLAS_CASSANDRA_KEYSPACE": f"prod_{uuid.uuid4().hex[:8]}",
        "PHOTOATLAS_CASSANDRA_CONSISTENCY": "ONE",
        "PHOTOATLAS_CASSANDRA_PROTOCOL": "3",
        "PHOTOATLAS_CASSANDRA_USERNAME": user,
        "PHOTOATLAS_CASSANDRA_PASSWORD": password,
        "PHOTOATLAS_ES_URL": elasticsearch_server.url,
        "PHOTOATLAS_ES_ALIAS": f"colors-{uuid.uuid4().hex[:8]}",
        "PHOTOATLAS_LAKE_URL": f"s3://{bucket}/atlas",
        "PHOTOATLAS_S3_ENDPOINT": s3_env.endpoint,
        "PHOTOATLAS_FERNET_KEYS": Fernet.generate_key().decode(),
        **s3_env.env(),
    }
    out = _ingest(prod_env, folder)
    assert f"s3://{bucket}/atlas" in out.stdout

    local = LocalLake(str(local_home / "lake"))
    s3 = S3Lake(bucket=bucket, prefix="atlas", endpoint_url=s3_env.endpoint, region="us-east-1")
    a, b = _records(local), _records(s3)
    assert a.num_rows == len(NAMES)
    differing = [c for c in a.column_names if not a.column(c).equals(b.column(c))]
    assert not differing, f"records differ between the local and the S3 lake in {differing}"
    thumbs = local.list("thumbs/")
    assert thumbs and all(local.get(k) == s3.get(k) for k in thumbs)
    assert not [p for p in (tmp_path / "prod" / "lake").rglob("*") if p.is_file()]  # nothing went to the local lake

    # The serving stores answer the same: counts (DuckDB vs Cassandra) and colours (embedded vs ES).
    def answers(env):
        counts = _photoatlas(env, "counts", "--level", "county", "--json", timeout=120)
        colours = _photoatlas(env, "search-color", "#d9e3ef", "--json", timeout=120)
        return json.loads(counts.stdout), [h["photo_id"] for h in json.loads(colours.stdout)]

    local_counts, local_colours = answers({"PHOTOATLAS_HOME": str(local_home)})
    prod_counts, prod_colours = answers(prod_env)
    assert local_counts == prod_counts and local_counts["total"] == int((a.column("status").to_numpy(zero_copy_only=False) == "ok").sum())
    assert local_colours == prod_colours and local_colours
