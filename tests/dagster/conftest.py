import os
from datetime import datetime, timezone

import pytest

from photoatlas.partitions import hour_window

HOUR = "2026-06-01-10:00"


def drop(sample_root, inbox, hour=HOUR, names=None):
    """Copy sample files (with sidecars) into the inbox, arriving in ``hour``."""
    import shutil

    start, _ = hour_window(hour)
    ts = start.timestamp() + 600
    target = inbox / "t"
    target.mkdir(parents=True, exist_ok=True)
    for f in sorted(sample_root.iterdir()):
        base = f.name[:-5] if f.name.endswith(".json") else f.name
        if names is not None and base not in names:
            continue
        shutil.copyfile(f, target / f.name)
        os.utime(target / f.name, (ts, ts))


@pytest.fixture
def resources(home):
    from pipelines.environment import local_resources

    return local_resources(home)
