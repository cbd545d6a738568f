"""Shared bits of the benchmarks: timing side by side, and where the repository is."""

from __future__ import annotations

import os
import statistics
import sys
import time


def xen_repo_or_exit() -> str:
    repo = os.environ.get("XEN_REPO")
    if not repo:
        print("skipped: set XEN_REPO to a local clone of xen-project/xen", file=sys.stderr)
        sys.exit(0)
    return repo


def best_of(fn, repeat: int = 5) -> float:
    """Median wall time of `repeat` calls (seconds): each contender runs in the same process, interleaved."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(contenders: dict, repeat: int = 5) -> dict[str, float]:
    """Median times, measured round-robin so machine load hits every contender alike."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in samples.items()}
