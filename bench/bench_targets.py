"""Cold `archeo run` of the three corpus targets, one after another, with the time per stage.

Goal (issue 14): Xen, fio and btrfs-progs cold in under 60 s together on a 2-core machine.
Each target runs in its own process on a fresh cache (nothing shared between the targets but
the machine), the way a new user would run them; the stage times come from the report's
findings.json (`timings`), the total from the wall clock.

    XEN_REPO=... FIO_REPO=... BTRFS_REPO=... python bench/bench_targets.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOS = {"xen-rbtree": "XEN_REPO", "fio": "FIO_REPO", "btrfs-progs": "BTRFS_REPO"}
GOAL = 60.0


def one(name: str, repo: str, cache: str, out: str) -> None:
    """Run one target in this process and print its stage timings and counts as JSON."""
    from archeo.pipeline import RunConfig, run_study
    from archeo.report import write_report
    from archeo.target import load_target

    start = time.perf_counter()
    study = run_study(load_target(name), repo, RunConfig(), cache_dir=cache)
    write_report(study, out)
    timings = {**study.timings, "report": time.perf_counter() - start - sum(study.timings.values())}
    programs = study.programs.values()
    print(json.dumps({"timings": timings, "revisions": len(study.revisions), "built": sum(p.ok for p in programs)}))


def main() -> int:
    if sys.argv[1:2] == ["--one"]:
        one(*sys.argv[2:6])
        return 0
    chosen = [(name, os.environ[var]) for name, var in REPOS.items() if os.environ.get(var)]
    if not chosen:
        print("skipped: set XEN_REPO, FIO_REPO and BTRFS_REPO to local clones", file=sys.stderr)
        return 0
    total = 0.0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, repo in chosen:
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--one", name, repo, f"{tmp}/cache-{name}", f"{tmp}/{name}"],
                capture_output=True, text=True,
            )
            wall = time.perf_counter() - start
            total += wall
            if proc.returncode != 0:
                print(f"{name}: failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}", file=sys.stderr)
                return 1
            rows.append((name, wall, json.loads(proc.stdout.strip().splitlines()[-1])))
    print(f"{'target':<12} {'wall s':>7} {'revs':>5} {'built':>5}  stages (s)")
    for name, wall, facts in rows:
        parts = "  ".join(f"{k} {v:.1f}" for k, v in facts["timings"].items())
        print(f"{name:<12} {wall:7.1f} {facts['revisions']:5d} {facts['built']:5d}  {parts}")
    print(f"{'all':<12} {total:7.1f}   goal < {GOAL:.0f} s: {'met' if total < GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
