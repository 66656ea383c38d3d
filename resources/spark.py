"""The Spark session: local[*] on loopback by default, any master by configuration.

Executors must be able to import ``photoatlas``: locally it is installed in the venv the
driver runs in; on a cluster install the same wheel on the workers (see README).
"""

import os
import sys
from pathlib import Path

from dagster_pyspark import LazyPySparkResource

LOG4J2_CONFIG = Path(__file__).with_name("spark-log4j2.properties")

LOCAL_SPARK_CONFIG = {
    # local[N, F]: in local mode Spark retries a failed task only when F is given here
    # (spark.task.maxFailures applies to cluster masters).
    "spark.master": "local[*, 4]",
    "spark.app.name": "photoatlas",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # stage bars would interleave with the CLI's output; the Dagster UI shows progress
    "spark.sql.session.timeZone": "UTC",
    "spark.python.worker.reuse": "true",
    "spark.task.maxFailures": "4",
    # One task = one core: native libraries in the Python workers must not start their own
    # thread pools on top of Spark's parallelism (oversubscription halves the throughput).
    "spark.executorEnv.OMP_NUM_THREADS": "1",
    "spark.executorEnv.OPENBLAS_NUM_THREADS": "1",
    "spark.executorEnv.MKL_NUM_THREADS": "1",
    # warnings and errors only, without Spark's start-up banner (a cluster's own
    # spark.driver.extraJavaOptions, passed as `extra`, replaces this)
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG4J2_CONFIG.as_uri()}",
}


def spark_resource(master: str | None = None, extra: dict | None = None) -> LazyPySparkResource:
    """A lazily started session (steps that never touch Spark never start a JVM)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    config = dict(LOCAL_SPARK_CONFIG)
    if master:
        config["spark.master"] = master
    config.update(extra or {})
    return LazyPySparkResource(spark_config=config)
