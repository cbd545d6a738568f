"""Shared bits of the benchmarks: timing side by side, and where the repository is."""

from __future__ import annotations

import os
import re
import statistics
import sys
import time


def help_or_run(doc: str | None, options: str = "") -> None:
    """Print `doc` (the script's docstring) and exit on -h/--help; refuse an option the script
    does not take (`options`: the ones it does, as its usage line shows them). Why: a bench
    asked for its help must not start a minutes-long measurement instead."""
    args = sys.argv[1:]
    if "-h" in args or "--help" in args:
        print(f"usage: {os.path.basename(sys.argv[0])} [-h] {options}".rstrip() + "\n\n" + (doc or "").strip())
        sys.exit(0)
    known = set(re.findall(r"--[a-z-]+", options))
    unknown = [a for a in args if a.startswith("-") and a not in known]
    if unknown:
        sys.exit(f"{os.path.basename(sys.argv[0])}: unknown option {unknown[0]} (see --help)")


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
