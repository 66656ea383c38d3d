"""Spark scaling of the enrichment, and the fixed cost of a partition through Dagster.

1. Enrichment throughput of the same manifest on ``local[1]`` and ``local[2]`` (the
   reference is the 1-core run of this same process): ``scaling_1to2`` = rate(2) / rate(1).
2. A 10-photo hour and a large hour through Dagster (raw_photos → enriched_records) with a
   warm Spark session: ``small_partition_s`` end to end, and ``large_per_photo_ms``.

Usage: python bench/spark_scale.py [--quick]
Ends with one line: RESULT scaling_1to2=… small_partition_s=… large_partition_s=… …
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # one thread per Spark task: cores are Spark's to hand out

from bench._corpus import build_corpus  # noqa: E402


def session(master: str):
    from pyspark.sql import SparkSession

    from resources.spark import LOCAL_SPARK_CONFIG

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    builder = SparkSession.builder
    for k, v in {**LOCAL_SPARK_CONFIG, "spark.master": master}.items():
        builder = builder.config(k, v)
    return builder.getOrCreate()


def ingest_files(lake, cipher, files, hour):
    from photoatlas.ingest import Arrival, ingest

    arrived = datetime.strptime(hour, "%Y-%m-%d-%H:%M").replace(tzinfo=timezone.utc)
    arrivals = [Arrival("inbox", p.name, p.name, arrived, p.read_bytes, p.stat().st_size) for p in files]
    return ingest(lake, hour, arrivals, cipher).manifest


def throughput(spark, manifest, lake, repeats: int) -> float:
    from photoatlas.compute import enrich_manifest

    enrich_manifest(manifest.slice(0, 8), lake, k=5, spark=spark)  # warm the Python workers
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        records = enrich_manifest(manifest, lake, k=5, spark=spark)
        best = max(best, len(records) / (time.perf_counter() - t))
    return best


def dagster_partition(home, files, hour) -> float:
    """Seconds for raw_photos + enriched_records of one hour, through Dagster's materialize."""
    from dagster import DagsterInstance, materialize

    from assets.enriched_records import enriched_records
    from assets.raw_photos import raw_photos
    from pipelines.environment import local_resources

    start = datetime.strptime(hour, "%Y-%m-%d-%H:%M").replace(tzinfo=timezone.utc)
    folder = home.inbox / hour.replace(":", "")
    folder.mkdir(parents=True)
    ts = start.timestamp() + 60
    for f in files:
        shutil.copyfile(f, folder / f.name)
        os.utime(folder / f.name, (ts, ts))
    with DagsterInstance.ephemeral() as instance:
        t = time.perf_counter()
        result = materialize([raw_photos, enriched_records], partition_key=hour, resources=local_resources(home), instance=instance,
                             run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        elapsed = time.perf_counter() - t
    if not result.success:
        raise SystemExit(f"materialisation of {hour} failed")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller corpus, one repeat (under a minute once the corpus is cached)")
    args = parser.parse_args()
    # The large hour is 480 photos in full mode: the 500-file corpus the enrich bench caches.
    n_scale, n_large, repeats = (60, 100, 1) if args.quick else (240, 480, 2)

    from cryptography.fernet import Fernet

    from photoatlas.config import Home
    from photoatlas.lake import LocalLake
    from photoatlas.privacy import Cipher

    files = build_corpus(max(n_scale, n_large + 20), log=lambda *a: None)
    with tempfile.TemporaryDirectory(prefix="pa-spark-bench-") as tmp:
        lake, cipher = LocalLake(str(Path(tmp) / "lake")), Cipher([Fernet.generate_key()])
        manifest = ingest_files(lake, cipher, files[:n_scale], "2026-06-01-00:00")
        rate1 = throughput(session("local[1, 4]"), manifest, lake, repeats)
        rate2 = throughput(session("local[2, 4]"), manifest, lake, repeats)
        print(f"enrichment of {n_scale} photos: local[1] {rate1:.1f} photos/s, local[2] {rate2:.1f} photos/s, scaling {rate2 / rate1:.2f}x")

        os.environ["PHOTOATLAS_HOME"] = str(Path(tmp) / "home")
        home = Home.from_env().ensure()
        base = datetime(2026, 6, 2, tzinfo=timezone.utc)
        hours = [(base + timedelta(hours=i)).strftime("%Y-%m-%d-%H:%M") for i in range(3)]
        dagster_partition(home, files[:10], hours[0])  # warm: JVM, imports, Python workers, GE
        small = dagster_partition(home, files[10:20], hours[1])
        large = dagster_partition(home, files[20:20 + n_large], hours[2])  # new photos, not duplicates
        print(f"Dagster + warm Spark: 10-photo hour {small:.2f} s, {n_large}-photo hour {large:.2f} s "
              f"({1000 * large / n_large:.1f} ms/photo; fixed cost ≈ {small - 10 * large / n_large:.2f} s)")
    print(f"RESULT scaling_1to2={rate2 / rate1:.3f} small_partition_s={small:.3f} large_partition_s={large:.3f} "
          f"large_photos={n_large} large_per_photo_ms={1000 * large / n_large:.2f} rate_1core={rate1:.2f} rate_2core={rate2:.2f} "
          f"quick={int(args.quick)}")


if __name__ == "__main__":
    main()
