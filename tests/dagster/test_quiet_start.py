"""What a user sees first — `photoatlas demo`, the UI's code server — starts without warnings."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_definitions_and_jobs_prints_no_warning():
    code = "from pipelines.definitions import defs\nfor name in ('all_hourly_job', 'serving_job'): defs.resolve_job_def(name)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
