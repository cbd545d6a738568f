"""One revision against the reference: archeo's batch difftest vs a Hypothesis state machine.

The subject is Xen's newest rbtree.c (696ee5ca9f4e), built once before timing. Side by side,
interleaved, in operations checked per second (an operation goes through the C program and the
Python reference and their results are compared):

- **archeo**: `difftest([(commit, program_runner(...))], Settings(), jobs=2, shrink=False)`:
  generate 20 seeds x 10,000 ops, run the reference and the program on each batch, hash and
  compare the traces. 200,000 operations checked.
- **Hypothesis, per step**: a `RuleBasedStateMachine` whose rules (insert, erase, find, first,
  last, next, prev, replace, clear, empty, dump, verify, reset) each send one op to the
  reference (kept live, one op at a time) and to the C program, and compare the two results.
  The harness has no interactive mode (docs/protocol.md: it reads a whole batch on stdin), so
  each step replays the example's ops so far as one batch and compares the last result line:
  what a person writing this with Hypothesis would do, keeping the failing step exact.
- **Hypothesis, per example**: the generous variant: rules only collect ops (and step the
  reference); `teardown` runs the C batch once per example and compares the whole trace.

Hypothesis: `settings(max_examples=N, deadline=None, derandomize=True, database=None)`, N fixed
(EXAMPLES) so each round takes a few seconds and checks the same examples every time. Goal (issue 5): archeo 20x the
operations per second of Hypothesis.

    XEN_REPO=/path/to/xen python bench/bench_hypothesis.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from common import help_or_run, xen_repo_or_exit  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test  # noqa: E402

from archeo import ops as opslib  # noqa: E402
from archeo.parse import parse_revision  # noqa: E402
from archeo.subjects.rbtree import generate as rbgen  # noqa: E402
from archeo.difftest import Settings, difftest  # noqa: E402
from archeo.execute import Executor, Limits  # noqa: E402
from archeo.mine import mine  # noqa: E402
from archeo.pipeline import RunConfig, build_all, program_runner  # noqa: E402
from archeo.subjects.rbtree.harness import Harness  # noqa: E402

SUBJECT = "696ee5ca9f4e"
KEYSPACE = 64  # as the "small" profile: small trees, keys collide often
ROUNDS = 3
# max_examples per round. Fixed counts, not a calibrated time: with derandomize=True every run
# checks the very same examples; here they take about 4-5 s (per step) and 3 s (per example) a
# round, so ~25 s of Hypothesis in all.
EXAMPLES = {"per step": 30, "per example": 300}
Op = opslib.Op


class Counter:
    def __init__(self) -> None:
        self.checked = 0  # ops whose result was compared
        self.executed = 0  # ops the C program ran, replays included
        self.c_runs = 0


def make_machine(runner, counter: Counter, per_step: bool):
    """A RuleBasedStateMachine class driving `runner` (batch -> Outcome) against the reference."""

    keys = st.integers(0, KEYSPACE - 1)

    class RbTreeVsReference(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.ops: list[opslib.Op] = []
            self.expected: list[str] = []
            self.reference = Harness(KEYSPACE)

        def send(self, op: opslib.Op) -> None:
            self.ops.append(op)
            self.expected.append(self.reference.run((op,))[0])
            if per_step:
                outcome = runner(opslib.encode(self.ops, KEYSPACE))
                counter.c_runs += 1
                counter.executed += len(self.ops)
                counter.checked += 1
                assert outcome.status == "ok", (outcome.status, outcome.kind, self.ops)
                assert outcome.lines[-1] == self.expected[-1], (op, outcome.lines[-1], self.expected[-1])

        def teardown(self) -> None:
            if per_step or not self.ops:
                return
            outcome = runner(opslib.encode(self.ops, KEYSPACE))
            counter.c_runs += 1
            counter.executed += len(self.ops)
            counter.checked += len(self.ops)
            assert outcome.status == "ok", (outcome.status, outcome.kind, self.ops)
            assert list(outcome.lines) == self.expected

        @rule(k=keys)
        def insert(self, k):
            self.send(Op("i", k))

        @rule(k=keys)
        def erase(self, k):
            self.send(Op("e", k))

        @rule(k=keys)
        def find(self, k):
            self.send(Op("f", k))

        @rule()
        def first(self):
            self.send(rbgen.FIRST)

        @rule()
        def last(self):
            self.send(rbgen.LAST)

        @rule(k=keys)
        def next(self, k):
            self.send(Op("n", k))

        @rule(k=keys)
        def prev(self, k):
            self.send(Op("p", k))

        @rule(k=keys)
        def replace(self, k):
            self.send(Op("r", k))

        @rule(k=keys)
        def clear(self, k):
            self.send(Op("c", k))

        @rule(k=keys)
        def empty(self, k):
            self.send(Op("z", k))

        @rule()
        def dump(self):
            self.send(rbgen.DUMP)

        @rule()
        def verify(self):
            self.send(rbgen.VERIFY)

        @rule()
        def reset(self):
            self.send(rbgen.RESET)

    return RbTreeVsReference


def hypothesis_run(runner, per_step: bool, max_examples: int) -> Counter:
    counter = Counter()
    machine = make_machine(runner, counter, per_step)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max_examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    return counter


def main() -> None:
    help_or_run(__doc__)
    repo = xen_repo_or_exit()
    config = RunConfig()
    diff_settings = Settings()
    revisions = [r for r in mine("xen-rbtree", repo=repo) if r.present]
    rev = next(r for r in revisions if r.commit.startswith(SUBJECT))
    with tempfile.TemporaryDirectory(prefix="archeo-bench-hypothesis-") as tmp_name:
        program = build_all([rev], {rev.commit: parse_revision(rev)}, Path(tmp_name), config, lambda *a: None)[rev.commit]
        if not program.ok:
            sys.exit(f"build failed: {program.error}")
        executor = Executor(Limits(timeout=config.timeout, cpu_seconds=max(1, int(config.timeout * 0.8))))
        runner = program_runner(program, config.timeout, executor)
        subjects = [(rev.commit, runner)]
        n_archeo = diff_settings.seeds * diff_settings.ops

        samples: dict[str, list[float]] = {"archeo": [], "per step": [], "per example": []}
        counters: dict[str, Counter] = {}
        for _ in range(ROUNDS):
            start = time.perf_counter()
            result = difftest(subjects, diff_settings, jobs=config.jobs, shrink=False)
            samples["archeo"].append(time.perf_counter() - start)
            assert result.revisions[0].vs_reference.level == "same", result.revisions[0].vs_reference
            for variant in EXAMPLES:
                start = time.perf_counter()
                counters[variant] = hypothesis_run(runner, variant == "per step", EXAMPLES[variant])
                samples[variant].append(time.perf_counter() - start)
        executor.close()

    times = {name: statistics.median(ts) for name, ts in samples.items()}
    rate = {"archeo": n_archeo / times["archeo"]}
    for variant in EXAMPLES:
        rate[variant] = counters[variant].checked / times[variant]

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    print(f"subject: {rev.short} (Xen's newest rbtree.c) against the Python reference; "
          f"network {executor.network}; median of {ROUNDS} rounds, interleaved\n")
    print(f"  {'contender':<46} {'seconds':>8} {'ops checked':>12} {'ops/s':>10} {'C runs':>7} {'C ops run':>10}")
    print(f"  {'archeo difftest (20 seeds x 10,000 ops, jobs=2)':<46} {times['archeo']:8.2f} {n_archeo:12,} "
          f"{rate['archeo']:10,.0f} {diff_settings.seeds:7,} {n_archeo:10,}")
    for variant in EXAMPLES:
        c = counters[variant]
        name = f"Hypothesis {variant} ({EXAMPLES[variant]} examples)"
        print(f"  {name:<46} {times[variant]:8.2f} {c.checked:12,} {rate[variant]:10,.0f} {c.c_runs:7,} {c.executed:10,}")
    print()
    for variant in EXAMPLES:
        ratio = rate["archeo"] / rate[variant]
        print(f"ratio archeo / Hypothesis {variant + ':':<13} {ratio:7.1f}x ops/s  "
              f"(goal >= 20x: {'met' if ratio >= 20 else 'NOT met'})")
    step = counters["per step"]
    print(f"\nHypothesis per step: {times['per step'] / step.c_runs * 1000:.2f} ms per checked op "
          f"(one C process each, mean replay {step.executed / step.c_runs:.1f} ops); "
          f"per example: {counters['per example'].checked / counters['per example'].c_runs:.1f} ops per example, "
          f"{times['per example'] / counters['per example'].checked * 1e6:.0f} us per checked op")


if __name__ == "__main__":
    main()
