"""The differential run over every Xen revision vs the Python reference alone, side by side.

Same operations for every contender (Settings(): 20 seeds x 10,000 ops, profiles small/large
alternating), generated once before the timing unless a contender says it generates them:

- **reference alone**: `reference.run_batch` on the 20 batch texts: one reference run.
- **generate + reference**: the same, generating and encoding the sequences first.
- **difftest, 29 revisions** (the goal's contender): `difftest(subjects, settings, jobs=2,
  shrink=False, sequences=...)` with the subjects as `pipeline.difftest_all` wires them
  (`shared_runners`: one runner per distinct program, one shared `Executor`): every program on
  its seeds joined with `w` in digest mode (2 threads) while the reference runs in the calling
  thread; whole traces are read only where a digest differs from the reference's.
- **difftest, generating its sequences**: the same, as `archeo difftest` runs it.
- **difftest, whole traces**: the runners without digest mode (every trace read, cut and
  hashed in Python), for what digest mode saves.
- **difftest, a runner per revision**: no sharing between revisions built from the same code.

The programs are built (pipeline.build_all) into a temporary cache before any timing. Then one
pass, instrumented, says where the goal contender's time goes: the stages (difftest's own
progress callback), this process's CPU and its children's (the programs).
Goal (issue 5): all 29 revisions at most 1.5x one reference run.

    XEN_REPO=/path/to/xen python bench/bench_difftest.py
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from common import help_or_run, interleaved, xen_repo_or_exit  # noqa: E402

from archeo import ops as opslib  # noqa: E402
from archeo.cache import Cache  # noqa: E402
from archeo.difftest import Settings, difftest  # noqa: E402
from archeo.execute import Executor, Limits  # noqa: E402
from archeo.mine import mine  # noqa: E402
from archeo.pipeline import RunConfig, build_all, parse_all, program_runner, shared_runners  # noqa: E402
from archeo.subjects.rbtree.harness import run_batch  # noqa: E402

REPEAT = 7
QUIET = lambda stage, done, total: None  # noqa: E731


def whole_traces(runner):
    """The runner without digest mode: a plain callable, so difftest reads every trace whole."""
    return lambda batch: runner(batch)


def cpu() -> tuple[float, float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> None:
    help_or_run(__doc__)
    repo = xen_repo_or_exit()
    config = RunConfig()  # jobs=2, timeout 10 s, as `archeo run`
    settings = Settings()
    revisions = mine("xen-rbtree", repo=repo)
    with tempfile.TemporaryDirectory(prefix="archeo-bench-difftest-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        models = parse_all(revisions, Cache(tmp / "stages"), config.jobs, QUIET)
        programs = build_all(revisions, models, tmp, config, QUIET)
        setup = time.perf_counter() - t0
        present = [r for r in revisions if r.present]
        failed = [r.short for r in present if not programs[r.commit].ok]
        if failed:
            sys.exit(f"build failed for {failed}")

        executor = Executor(Limits(timeout=config.timeout, cpu_seconds=max(1, int(config.timeout * 0.8))))
        shared = shared_runners(revisions, programs, config.timeout, executor)
        distinct = len({id(run) for _, run in shared})
        one_each = [(r.commit, program_runner(programs[r.commit], config.timeout, executor)) for r in present]
        plain = [(c, whole_traces(run)) for c, run in shared]
        sequences = settings.sequences()
        batches = [opslib.encode(ops) for _, ops in sequences]

        def reference_alone() -> None:
            for batch in batches:
                run_batch(batch)

        def generate_and_reference() -> None:
            for _, ops in settings.sequences():
                run_batch(opslib.encode(ops))

        def run(subjects, given=True):
            return lambda: difftest(subjects, settings, jobs=config.jobs, progress=QUIET, shrink=False,
                                    sequences=sequences if given else None)

        label_ref, label_gen_ref = "reference alone (run_batch x 20)", "generate + reference alone"
        label_goal = f"difftest, {len(present)} revisions ({distinct} programs), digests"
        label_gen = "difftest, the same, generating its sequences"
        label_plain = "difftest, the same, whole traces (no digest mode)"
        label_each = f"difftest, a runner per revision ({len(present)} programs run)"
        times = interleaved(
            {
                label_ref: reference_alone,
                label_gen_ref: generate_and_reference,
                label_goal: run(shared),
                label_gen: run(shared, given=False),
                label_plain: run(plain),
                label_each: run(one_each),
            },
            repeat=REPEAT,
        )

        # One instrumented pass of the goal contender: stages, and whose CPU.
        marks: dict[str, float] = {}
        start = cpu()
        result = difftest(shared, settings, jobs=config.jobs, shrink=False, sequences=sequences,
                          progress=lambda stage, done, total: marks.__setitem__(stage, time.perf_counter()))
        end = cpu()
        reference_cpu = cpu()
        reference_alone()
        reference_cpu = [b - a for a, b in zip(reference_cpu, cpu())]
        executor.close()

    base = times[label_ref]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    print(f"{len(present)} present revisions of xen-rbtree, {distinct} distinct programs; built in a temporary cache "
          f"({setup:.1f} s, untimed)")
    print(f"{settings.seeds} seeds x {settings.ops:,} ops, profiles {'/'.join(settings.profiles)}; jobs={config.jobs}, "
          f"network {executor.network}; median of {REPEAT}, interleaved\n")
    print(f"  {'contender':<60} {'seconds':>8} {'x reference':>12}")
    for name, seconds in times.items():
        print(f"  {name:<60} {seconds:8.3f} {seconds / base:12.2f}")
    ratio = times[label_goal] / base
    print(f"\nratio all {len(present)} revisions / one reference run, same operations: {ratio:.2f}x "
          f"(goal <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})")
    print(f"  generating included on both sides: {times[label_gen] / times[label_gen_ref]:.2f}x; "
          f"on the difftest side only: {times[label_gen] / base:.2f}x")
    print(f"  digest mode saves {times[label_plain] / times[label_goal]:.2f}x; running each distinct program once "
          f"saves {times[label_each] / times[label_goal]:.2f}x")
    levels: dict[str, int] = {}
    for v in result.revisions:
        levels[v.vs_reference.level] = levels.get(v.vs_reference.level, 0) + 1
    print(f"  verdicts vs reference: {levels}; {len(result.changes)} behaviour changes")

    wall, mine_cpu, kids_cpu = (b - a for a, b in zip(start, end))
    print(f"\none instrumented pass of the goal contender: {wall:.3f} s wall")
    print(f"  the reference (its own process) in after          {marks['reference'] - start[0]:7.3f} s "
          f"(alone: {reference_cpu[0]:.3f} s)")
    print(f"  the programs' results all in after                 {marks['revisions'] - start[0]:7.3f} s")
    print(f"  compare + attribute + classes                      {end[0] - marks['revisions']:7.3f} s")
    print(f"  CPU: this process {mine_cpu:.3f} s (the reference alone: {reference_cpu[1]:.3f} s), "
          f"the programs {kids_cpu:.3f} s; {os.cpu_count()} cores")
    print(f"  so the floor on {os.cpu_count()} cores, were everything perfectly spread: "
          f"{(mine_cpu + kids_cpu) / os.cpu_count() / base:.2f}x")


if __name__ == "__main__":
    main()
