"""Let tests import the fixture builders (tests/histories.py) as a plain module, and size the
suite's worker pool (pyproject.toml runs it with pytest-xdist's `-n auto`)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per CPU this process may run on (2 on CI's machine).

    xdist's own count prefers psutil's physical cores when psutil happens to be installed,
    which is 1 on a 2-CPU machine with hyperthreads: half the machine idle. The affinity mask
    is what a container or `taskset` actually grants. PYTEST_XDIST_AUTO_NUM_WORKERS still wins.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return None
