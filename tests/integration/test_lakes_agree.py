"""The same photos through the production switch on S3 and the local default give the same records."""

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


def _ingest(env: dict, folder: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTOATLAS_", "DAGSTER_", "AWS_"))}
    done = subprocess.run([PHOTOATLAS, "ingest", "folder", str(folder), "--run"], env={**clean, **env},
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _records(lake) -> pa.Table:
    keys = lake.list("tables/records/")
    assert keys, "no records table written"
    table = pa.concat_tables([lake.read_table(k) for k in keys])
    # Ignored: Fernet tokens (salted), and what carries the drop time (the inbox sub-folder in
    # source_id, the arrival hour, the arrival time used as capture time when nothing better exists).
    drop = [c for c in table.column_names if c.endswith("_enc")] + ["partition", "captured_at", "source_id"]
    return table.drop(drop).sort_by("photo_id")


def test_local_and_s3_lakes_hold_identical_records(tmp_path, sample_dir, s3_env):
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
    out = _ingest({
        "PHOTOATLAS_HOME": str(tmp_path / "prod"),
        "PHOTOATLAS_ENV": "production",
        "PHOTOATLAS_LAKE_URL": f"s3://{bucket}/atlas",
        "PHOTOATLAS_S3_ENDPOINT": s3_env.endpoint,
        "PHOTOATLAS_FERNET_KEYS": Fernet.generate_key().decode(),
        **s3_env.env(),
    }, folder)
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
