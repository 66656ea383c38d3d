"""Spark retries: a Python worker killed mid-partition is retried and the hour comes out whole."""

import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from photoatlas.compute import enrich_manifest
from photoatlas.ingest import Arrival, ingest
from photoatlas.lake import LocalLake, object_key, table_key

pytestmark = pytest.mark.integration
HOUR = "2026-06-02-09:00"


@dataclass(frozen=True)
class KillingLake(LocalLake):
    """Kills the Python worker the first time (or every time) it reads one photo."""

    victim: str = ""
    always: bool = False

    def get(self, key):
        if key == object_key(self.victim) and (self.always or self.put_if_absent("faults/killed-once", b"1")):
            os._exit(17)  # the worker process dies mid-partition, like an OOM kill
        return super().get(key)


@pytest.fixture(scope="module")
def spark():
    import pyspark.cloudpickle
    from pyspark.sql import SparkSession

    from resources.spark import LOCAL_SPARK_CONFIG, spark_resource

    spark_resource()  # sets SPARK_LOCAL_IP and the worker Python
    pyspark.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need KillingLake's code
    builder = SparkSession.builder
    for k, v in LOCAL_SPARK_CONFIG.items():
        builder = builder.config(k, v)
    return builder.getOrCreate()


def _hour(lake, cipher, sample_root, n=20):
    photos = sorted(p for p in sample_root.iterdir() if p.suffix in (".jpg", ".png") and p.stat().st_size)[:n]
    arrivals = [Arrival("inbox", p.name, p.name, datetime(2026, 6, 2, 9, 5, tzinfo=timezone.utc), p.read_bytes, p.stat().st_size) for p in photos]
    return ingest(lake, HOUR, arrivals, cipher).manifest


def test_killed_worker_is_retried_and_the_partition_is_complete(tmp_path, cipher, sample_dir, spark):
    root, _ = sample_dir
    manifest = _hour(LocalLake(str(tmp_path)), cipher, root)
    victim = manifest.column("photo_id")[manifest.num_rows // 2].as_py()
    lake = KillingLake(str(tmp_path), victim=victim)
    records = enrich_manifest(manifest, lake, k=5, spark=spark)
    assert lake.exists("faults/killed-once"), "the fault was never injected"
    ids = [r["photo_id"] for r in records]
    assert sorted(ids) == sorted(manifest.column("photo_id").to_pylist())  # complete, no duplicates
    assert next(r for r in records if r["photo_id"] == victim)["status"] in ("ok", "quarantined")


def test_a_run_that_keeps_failing_leaves_the_previous_table(tmp_path, cipher, sample_dir, spark):
    root, _ = sample_dir
    good = LocalLake(str(tmp_path))
    manifest = _hour(good, cipher, root, n=6)
    previous = b"previous records table"
    good.put(table_key("records", HOUR), previous)
    lake = KillingLake(str(tmp_path), victim=manifest.column("photo_id")[0].as_py(), always=True)
    with pytest.raises(Exception, match="(?i)python worker|exited|crash|EOF"):
        enrich_manifest(manifest, lake, k=5, spark=spark)
    assert good.get(table_key("records", HOUR)) == previous


def test_the_driver_logs_through_the_project_log4j2_file(spark):
    """Spark's default profile prints a start-up banner into every CLI run; ours keeps warnings only."""
    from resources.spark import LOG4J2_CONFIG

    assert LOG4J2_CONFIG.is_file()
    assert spark._jvm.java.lang.System.getProperty("log4j2.configurationFile") == LOG4J2_CONFIG.as_uri()
