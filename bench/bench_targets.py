"""Cold `archeo run` of the three corpus targets, one after another, with the time per stage.

Goal (issue 14): Xen, fio and btrfs-progs cold in under 60 s together on a 2-core machine.
Each target runs in its own process on a fresh cache (nothing shared between the targets but
the machine), the way a new user would run them; the stage times come from the study
(`timings`), the total from the wall clock. Beside the wall clock, the CPU the run used
(user + system, its compilers and programs included) and the load average when it began and
ended: on a loaded machine the wall clock says little, the CPU time still does.

    XEN_REPO=... FIO_REPO=... BTRFS_REPO=... python bench/bench_targets.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import help_or_run  # noqa: E402

REPOS = {"xen-rbtree": "XEN_REPO", "fio": "FIO_REPO", "btrfs-progs": "BTRFS_REPO"}
GOAL = 60.0


def one(name: str, repo: str, cache: str, out: str) -> None:
    """Run one target in this process and print its stage timings and counts as JSON."""
    from archeo.pipeline import RunConfig, run_study
    from archeo.report import write_report
    from archeo.target import load_target

    cpu: dict[str, float] = {}  # CPU (this process and its children) from each stage's first tick on

    def progress(stage: str, done: int, total: int) -> None:
        stage = stage if stage in ("mine", "parse", "build") else "difftest"  # reference, revisions, shrinking
        if stage not in cpu:
            cpu[stage] = _cpu()

    start, cpu_start = time.perf_counter(), _cpu()
    study = run_study(load_target(name), repo, RunConfig(), cache_dir=cache, progress=progress)
    cpu["report"] = _cpu()
    write_report(study, out)
    timings = {**study.timings, "report": time.perf_counter() - start - sum(study.timings.values())}
    marks = [*cpu.items(), ("end", _cpu())]
    stage_cpu = {stage: later - at for (stage, at), (_, later) in zip(marks, marks[1:])}
    programs = study.programs.values()
    print(json.dumps({"timings": timings, "cpu": stage_cpu, "startup": cpu_start, "revisions": len(study.revisions),
                      "built": sum(p.ok for p in programs)}))


def _cpu() -> float:
    """User + system CPU of this process and its waited-for children, in seconds."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    if sys.argv[1:2] == ["--one"]:  # how main runs each target, in a process of its own
        one(*sys.argv[2:6])
        return 0
    help_or_run(__doc__)
    chosen = [(name, os.environ[var]) for name, var in REPOS.items() if os.environ.get(var)]
    if not chosen:
        print("skipped: set XEN_REPO, FIO_REPO and BTRFS_REPO to local clones", file=sys.stderr)
        return 0
    total = cpu_total = 0.0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, repo in chosen:
            load_before, before = os.getloadavg()[0], _children_cpu()
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--one", name, repo, f"{tmp}/cache-{name}", f"{tmp}/{name}"],
                capture_output=True, text=True,
            )
            wall = time.perf_counter() - start
            cpu = _children_cpu() - before
            total += wall
            cpu_total += cpu
            if proc.returncode != 0:
                print(f"{name}: failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}", file=sys.stderr)
                return 1
            rows.append((name, wall, cpu, (load_before, os.getloadavg()[0]), json.loads(proc.stdout.strip().splitlines()[-1])))
    print(f"{'target':<12} {'wall s':>7} {'cpu s':>6} {'load':>9} {'revs':>5} {'built':>5}  stages: wall/cpu (s)")
    for name, wall, cpu, load, facts in rows:
        parts = "  ".join(f"{k} {v:.1f}/{facts['cpu'].get(k, 0):.1f}" for k, v in facts["timings"].items())
        print(f"{name:<12} {wall:7.1f} {cpu:6.1f} {load[0]:4.1f}>{load[1]:<4.1f} {facts['revisions']:5d} {facts['built']:5d}  "
              f"start-up -/{facts['startup']:.1f}  {parts}")
    print(f"{'all':<12} {total:7.1f} {cpu_total:6.1f}   goal < {GOAL:.0f} s: {'met' if total < GOAL else 'NOT met'}"
          f" (cpu = user + sys of the run and its children; load: 1-minute average before>after)")
    return 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
