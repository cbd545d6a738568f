"""The differential run over every Xen revision vs the Python reference alone, side by side.

Same operations for both (Settings(): 20 seeds x 10,000 ops, profiles small/large alternating):

- **reference alone**: `reference.run_batch` on the 20 batch texts (what one reference run costs).
- **difftest, 29 revisions, seeds joined**: `difftest(subjects, settings, jobs=2, shrink=False)`
  with every revision's program behind `pipeline.program_runner` and one shared `Executor`, as
  `pipeline.difftest_all` wires it: generates the sequences, runs every program on its seeds
  joined with `w` (one batch per keyspace, 2 threads) while the reference runs in the calling
  thread, cuts the traces back into seeds, hashes and compares them, attributes changes.
- **difftest, 29 revisions, one process per seed**: the same with `combine=False` (the old way:
  20 processes per revision). Same result, byte for byte (tests/test_difftest_c.py).
- **difftest, 27 revisions**: both ways without e95def2cb97d and 5603a282fd02, whose rb_erase
  has a real bug (a self-loop) and hangs or crashes; for context only, they are part of the cost.

The programs are built (pipeline.build_all) into a temporary cache before any timing. The full
difftest with shrinking is timed once, separately. Then one instrumented run says where the time
goes: the stages (from difftest's own progress callback), the processes and program time per
revision, and where one ordinary revision's runs go.
Goal (issue 5): all 29 revisions at most 1.5x one reference run.

    XEN_REPO=/path/to/xen python bench/bench_difftest.py
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved, xen_repo_or_exit  # noqa: E402

from archeo import ops as opslib  # noqa: E402
from archeo.cache import Cache  # noqa: E402
from archeo.compare import Outcome  # noqa: E402
from archeo.difftest import Settings, difftest, outcome_hash, run_joined  # noqa: E402
from archeo.execute import Executor, Limits  # noqa: E402
from archeo.mine import mine  # noqa: E402
from archeo.compare import Outcome  # noqa: E402
from archeo.pipeline import RunConfig, build_all, parse_all, program_runner  # noqa: E402
from archeo.reference import run_batch  # noqa: E402

BUGGY = ("e95def2cb97d", "5603a282fd02")  # self-loop in rb_erase: hang or crash
REPEAT = 5
QUIET = lambda stage, done, total: None  # noqa: E731


class Instrumented:
    """difftest over every revision, timed by stage (difftest's own progress callback) and per process.

    The wrappers cost two clock reads per program run, so this is the contender itself.
    """

    def __init__(self, subjects, settings, jobs):
        self.settings, self.jobs = settings, jobs
        self.subjects = [(c, self._timed(c, run)) for c, run in subjects]
        self.stages: list[dict[str, float]] = []
        self.spent: dict[str, list[float]] = {c: [] for c, _ in subjects}
        self.statuses: dict[str, dict[str, int]] = {c: {} for c, _ in subjects}
        self._lock = threading.Lock()

    def _timed(self, commit, run):
        def wrapped(batch):
            start = time.perf_counter()
            out = run(batch)
            seconds = time.perf_counter() - start
            with self._lock:
                self.spent[commit].append(seconds)
                status = f"{out.status} {out.kind}".strip()
                self.statuses[commit][status] = self.statuses[commit].get(status, 0) + 1
            return out

        return wrapped

    def __call__(self):
        marks: dict[str, float] = {}

        def tick(stage: str, done: int, total: int) -> None:
            marks[stage] = time.perf_counter()

        start = time.perf_counter()
        result = difftest(self.subjects, self.settings, jobs=self.jobs, progress=tick, shrink=False)
        end = time.perf_counter()
        self.stages.append({
            f"generate, then the reference (programs meanwhile, {self.jobs} threads)": marks["reference"] - start,
            "programs still running after the reference": marks["revisions"] - marks["reference"],
            "hash + compare + attribute": end - marks["revisions"],
        })
        return result

    def median_stages(self) -> dict[str, float]:
        return {k: statistics.median(s[k] for s in self.stages) for k in self.stages[0]}

    def per_run(self) -> dict[str, float]:
        """Program seconds per revision for one difftest (summed over its processes)."""
        return {c: sum(ts) / len(self.stages) for c, ts in self.spent.items()}


def one_revision_parts(program, batches, config) -> tuple[dict[str, float], int]:
    """Where one ordinary revision's runs go, one after another: joined, then one per seed."""
    ex = Executor(Limits(timeout=config.timeout, cpu_seconds=max(1, int(config.timeout * 0.8))))
    parts: dict[str, float] = {}
    ex.run(program, batches[0])  # the network probe
    groups: dict[str, list[str]] = {}
    for batch in batches:
        groups.setdefault(batch[: batch.index("\n")], []).append(batch)
    joined_runs = []

    def run(batch):
        t0 = time.perf_counter()
        result = ex.run(program, batch)
        t1 = time.perf_counter()
        outcome = Outcome.of_run(result)
        t2 = time.perf_counter()
        joined_runs.append((t1 - t0, t2 - t1))
        return outcome

    start = time.perf_counter()
    outcomes = [o for group in groups.values() for o in run_joined(run, group)]
    for o in outcomes:
        outcome_hash(o)
    whole = time.perf_counter() - start
    parts[f"joined: executor.run ({len(joined_runs)} processes)"] = sum(a for a, _ in joined_runs)
    parts["joined: Outcome.of_run (split lines)"] = sum(b for _, b in joined_runs)
    parts["joined: cut into seeds + outcome_hash"] = whole - sum(a + b for a, b in joined_runs)
    start = time.perf_counter()
    for batch in batches:
        t0 = time.perf_counter()
        result = ex.run(program, batch)
        parts.setdefault(f"per seed: executor.run ({len(batches)} processes)", 0.0)
        parts[f"per seed: executor.run ({len(batches)} processes)"] += time.perf_counter() - t0
        outcome_hash(Outcome.of_run(result))
    parts["per seed: the whole (with Outcome.of_run + hash)"] = time.perf_counter() - start
    tiny = opslib.encode([opslib.Op("i", 1), opslib.DUMP])
    start = time.perf_counter()
    for _ in range(len(batches)):
        ex.run(program, tiny)
    parts[f"  the floor: {len(batches)} runs of a 2-op batch"] = time.perf_counter() - start
    ex.close()
    return parts, len(groups)


def main() -> None:
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

        # One shared Executor for every program, as pipeline.difftest_all does.
        executor = Executor(Limits(timeout=config.timeout, cpu_seconds=max(1, int(config.timeout * 0.8))))
        subjects = [(r.commit, program_runner(programs[r.commit], config.timeout, executor)) for r in present]
        healthy = [(c, run) for c, run in subjects if c[:12] not in BUGGY]
        batches = [opslib.encode(ops) for _, ops in settings.sequences()]
        n_ops = settings.seeds * settings.ops

        def reference_alone() -> None:
            for batch in batches:
                run_batch(batch)

        def plain(subs, combine):
            return lambda: difftest(subs, settings, jobs=config.jobs, progress=QUIET, shrink=False, combine=combine)

        everything = Instrumented(subjects, settings, config.jobs)
        label_ref = "reference alone (run_batch x 20)"
        label_all = f"difftest, all {len(subjects)} revisions, seeds joined"
        label_all_seed = f"difftest, all {len(subjects)} revisions, one process per seed"
        label_healthy = f"difftest, {len(healthy)} revisions (no buggy), seeds joined"
        label_healthy_seed = f"difftest, {len(healthy)} revisions (no buggy), one process per seed"
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        times = interleaved(
            {
                label_ref: reference_alone,
                label_all: everything,
                label_all_seed: plain(subjects, False),
                label_healthy: plain(healthy, True),
                label_healthy_seed: plain(healthy, False),
            },
            repeat=REPEAT,
        )
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        full = difftest(subjects, settings, jobs=config.jobs, progress=QUIET, shrink=True)
        with_shrink = time.perf_counter() - start
        start = time.perf_counter()
        for _, ops in settings.sequences():
            opslib.encode(ops)
        generation = time.perf_counter() - start
        newest = programs[present[-1].commit]
        parts, n_groups = one_revision_parts(newest, batches, config)
        executor.close()

    base = times[label_ref]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    print(f"{len(present)} present revisions of xen-rbtree, built in a temporary cache ({setup:.1f} s, untimed);")
    print(f"{settings.seeds} seeds x {settings.ops:,} ops = {n_ops:,} ops, profiles {'/'.join(settings.profiles)} "
          f"({n_groups} distinct keyspaces, so {n_groups} joined batches a revision); "
          f"jobs={config.jobs}, network {executor.network}; median of {REPEAT}, interleaved\n")
    print(f"  {'contender':<64} {'seconds':>8} {'x reference':>12}")
    for name, seconds in times.items():
        print(f"  {name:<64} {seconds:8.3f} {seconds / base:12.2f}")
    print(f"  {'difftest, all revisions, seeds joined, with shrinking (once)':<64} {with_shrink:8.3f} {with_shrink / base:12.2f}")

    stages = everything.median_stages()
    ratio = times[label_all] / base
    print(f"\nratio all {len(subjects)} revisions / reference alone: {ratio:.2f}x  "
          f"(goal <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'}); one process per seed: {times[label_all_seed] / base:.2f}x")
    print(f"  without the 2 buggy revisions: {times[label_healthy] / base:.2f}x joined, "
          f"{times[label_healthy_seed] / base:.2f}x one process per seed")
    print(f"  this process's own CPU over the interleaved rounds: {cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime:.1f} s "
          f"(Python holds one core at a time: the reference, generation and trace reading share it)")
    levels: dict[str, int] = {}
    for v in full.revisions:
        levels[v.vs_reference.level] = levels.get(v.vs_reference.level, 0) + 1
    print(f"  verdicts vs reference: {levels}; {len(full.changes)} behaviour changes; "
          f"shrinking adds {with_shrink - times[label_all]:.1f} s")

    print(f"\nwhere the all-revisions joined difftest goes (median per stage, {sum(stages.values()):.2f} s):")
    for name, seconds in stages.items():
        print(f"  {name:<66} {seconds:7.3f} s  {100 * seconds / sum(stages.values()):5.1f}%")
    print(f"  (generating + encoding the 20 sequences, timed apart: {generation:.3f} s; so with revisions that "
          f"cost nothing at all, difftest / reference alone >= {(generation + base) / base:.2f}x)")
    per_revision = everything.per_run()
    total_program = sum(per_revision.values())
    runs = len(everything.stages)
    print(f"\nprogram seconds per revision, summed over its processes (both threads: {total_program:.2f} s):")
    for commit, seconds in sorted(per_revision.items(), key=lambda item: -item[1])[:4]:
        statuses = ", ".join(f"{n // runs} {s}" for s, n in sorted(everything.statuses[commit].items()))
        print(f"  {commit[:12]}  {seconds:6.3f} s  {100 * seconds / total_program:5.1f}%   "
              f"{len(everything.spent[commit]) // runs} processes: {statuses}")
    buggy = sum(s for c, s in per_revision.items() if c[:12] in BUGGY)
    others = [s for c, s in per_revision.items() if c[:12] not in BUGGY]
    limits = Limits()
    print(f"  the 2 buggy revisions together: {buggy:.2f} s ({100 * buggy / total_program:.0f}%); "
          f"the other {len(others)}: median {statistics.median(others):.3f} s each, {sum(others):.2f} s in all")
    print(f"  (a hang costs the CPU budget of its segment, {limits.cpu_ms_base:.0f} ms + {limits.cpu_ms_per_op * 1000:.0f} us/op "
          f"= {limits.cpu_ms_base + limits.cpu_ms_per_op * settings.ops:.0f} ms for {settings.ops:,}-op seeds)")
    print(f"\none ordinary revision ({newest.commit[:12]}), its runs one after another:")
    for name, seconds in parts.items():
        print(f"  {name:<52} {seconds * 1000:7.1f} ms")
    print(f"  reference alone on the same 20 batches:              {base * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
