"""Pin a benchmark to one core with one thread per library. Import it before numpy.

Every benchmark reports per-core figures; the core chosen is the least busy one over a short
sample, since other work may share the machine.
"""

import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def idlest_core(sample_s: float = 0.3) -> int:
    """The allowed core that was least busy over ``sample_s`` seconds."""
    import time

    def busy() -> dict[int, tuple[int, int]]:
        out = {}
        with open("/proc/stat") as f:
            for line in f:
                name, *vals = line.split()
                if name.startswith("cpu") and name != "cpu":
                    ticks = [int(v) for v in vals]
                    out[int(name[3:])] = (sum(ticks) - ticks[3] - ticks[4], sum(ticks))
        return out

    allowed = sorted(os.sched_getaffinity(0))
    try:
        before = busy()
        time.sleep(sample_s)
        after = busy()
        load = {c: (after[c][0] - before[c][0]) / max(1, after[c][1] - before[c][1]) for c in allowed}
        return min(allowed, key=lambda c: (load[c], c))
    except (OSError, KeyError, ValueError):
        return allowed[0]


def pin_one_core() -> int:
    """One thread per library, this process on the idlest core, the repo importable; the core."""
    for var in THREAD_VARS:
        os.environ[var] = "1"
    core = idlest_core()
    os.sched_setaffinity(0, {core})
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if repo not in sys.path:
        sys.path.insert(0, repo)
    return core
