"""What a user sees first — `photoatlas demo`, the UI's code server — starts without warnings, and
Spark's Python workers start without imports they do not need."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_definitions_and_jobs_prints_no_warning():
    code = "from pipelines.definitions import defs\nfor name in ('all_hourly_job', 'serving_job'): defs.resolve_job_def(name)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr


def test_the_code_spark_workers_run_does_not_import_numba():
    """numba's import costs ~0.3 s per Python worker; the decoding and analysis path needs none of it."""
    code = ("import sys\n"
            "import photoatlas.compute, photoatlas.records, photoatlas.counts, photoatlas.content.describe, "
            "photoatlas.content.images, photoatlas.similarity.table, photoatlas.imaging.palette\n"
            "assert 'numba' not in sys.modules, 'numba imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
