"""Confirmation: an outcome decided by one timing sample, or one crash, is run again first.

Why: a hang used to be decided by one sample of CPU time — a budget of milliseconds and a 2 ms
watchdog — and the CPU time charged to a process on a shared machine varies (page faults,
reclaim, a noisy neighbour), so correct revisions were judged `hang` on a busy machine, on
different revisions each run, and the false verdict was cached. A timing limit is a suspicion,
not a verdict (AFL re-checks every hang with a longer timeout). And a crash that does not come
back on the same input is a finding of its own, not noise: the C depends on something other
than its input — uninitialised memory, its own addresses (Hypothesis reports such a test as
"Flaky").

The rules (`settle`), applied to every seed's outcome before anything compares it:

- an outcome that ended on a timing limit (`hang`: the CPU budget, the stall watchdog, the wall
  clock) is run again, that seed alone, with every limit CONFIRM_FACTOR times larger: the CPU
  budget, RLIMIT_CPU, the wall clock, and the stall limit too (one operation may hold the CPU
  for 40 ms instead of 2, and must still be stuck at the next look). Only a hang that comes
  back is a `hang`; otherwise the confirming run's outcome is the result — provided the first
  run's lines are where the confirming run's begin (a correct program stopped early wrote a
  prefix of its whole trace; anything else did not reproduce);
- a `crash` is run again once, the same way; the same signal after the same lines confirms it;
- anything that did not reproduce is `flaky`, with both runs (`Outcome.runs`), and the lines
  both agree on as its own.

Correct revisions pay nothing: only seeds that hung or crashed are re-run. Why the stall limit
is scaled rather than dropped: a real endless loop spends the confirming run's whole budget.
Without a stall limit that is 20 x the seed's budget (75 ms for 10,000 operations: 1.5 s of
CPU), and Xen's 2017 window has 30 hanging seeds — confirmation made the Xen difftest 5x
slower (18 s -> 97 s of CPU). With the stall limit scaled, a real hang costs ~40 ms more. The result cache
(pipeline.py) is written only after settling, and its key holds RULES and this module's source,
so a verdict made under older rules is never reused.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import replace
from typing import Callable, Sequence

from .compare import Outcome

# Bumped whenever a rule that decides a verdict changes; part of every difftest cache key.
RULES = 2  # 1: one timing sample decided a hang; 2: confirmed, flaky named
CONFIRM_FACTOR = 20  # the confirming run's limits, against the first run's

Runner = Callable[[str], Outcome]


SUSPECTS = ("hang", "crash")  # the endings not believed before a second run


def suspect(outcome) -> bool:
    """An outcome that is not believed before it is run again: a hang or a crash."""
    return isinstance(outcome, Outcome) and outcome.status in SUSPECTS


def settle(first: Outcome, again: Callable[[], Outcome]) -> Outcome:
    """The outcome to believe: `first`, or — for a suspect — what running again (`again()`,
    with large limits) says, or `flaky` when the two disagree (see the module's rules)."""
    if not suspect(first):
        return first
    second = again()
    if first.status == "hang":
        if second.status == "hang" or second.lines[: len(first.lines)] == first.lines:
            return second  # the hang came back, or the first run was stopped early
        return flaky(first, second)
    if second.status == "crash" and second.kind == first.kind and second.lines == first.lines:
        return first
    return flaky(first, second)


def flaky(first: Outcome, second: Outcome) -> Outcome:
    """Two runs of one input that disagree: their common lines, and both runs."""
    common = 0
    for x, y in zip(first.lines, second.lines):
        if x != y:
            break
        common += 1
    return Outcome("flaky", first.lines[:common], "", runs=(first, second))


def confirmer(runner: Runner) -> Runner:
    """The runner that confirms `runner`'s suspects: the same program with large limits
    (`runner.confirming()`, pipeline.ProgramRunner), or the runner itself (the reference, the
    tests' fakes: they have no limits to raise)."""
    make = getattr(runner, "confirming", None)
    return make() if make is not None else runner


def settle_seeds(runner: Runner, batches: Sequence[str], found: list, hashes: list, hash_of) -> int:
    """Settle, in place, every suspect among one revision's outcomes (`found[i]` is seed i's:
    an Outcome, or a marker meaning "the reference's"); `hashes[i]` is remade with `hash_of`.
    Returns how many seeds were run again."""
    again = None
    rerun = 0
    for i, outcome in enumerate(found):
        if suspect(outcome):
            again = again or confirmer(runner)
            found[i] = settle(outcome, lambda batch=batches[i]: again(batch))
            hashes[i] = hash_of(found[i])
            rerun += 1
    return rerun


class Confirmed:
    """A runner whose every outcome is settled: what the shrinker and the witnesses run, so a
    witness is made of confirmed outcomes too."""

    def __init__(self, runner: Runner):
        self.runner = runner
        self._again: Runner | None = None

    def __call__(self, batch: str) -> Outcome:
        first = self.runner(batch)
        if not suspect(first):
            return first
        if self._again is None:
            self._again = confirmer(self.runner)
        return settle(first, lambda: self._again(batch))

    @property
    def ops(self):
        return getattr(self.runner, "ops", None)


def flaky_witness_parts(ops: Sequence, a: Outcome, b: Outcome) -> dict:
    """A flaky difference is not shrunk (each try would be a coin toss): its witness is the
    seed's operations up to the one where a run stopped, with the runs as they came. Returns
    the Witness fields for the pair (a, b), one of which is flaky."""
    side = a if a.status == "flaky" else b
    stop = max(len(run.lines) for run in side.runs)
    cut = min(len(ops), stop + 1)
    first_a = a.runs[0] if a.status == "flaky" else a
    first_b = b.runs[0] if b.status == "flaky" else b
    return dict(
        ops=tuple(str(op) for op in ops[:cut]),
        a_lines=first_a.lines[:cut],
        b_lines=first_b.lines[:cut],
        a_status=first_a.status,
        b_status=first_b.status,
        a_kind=first_a.kind,
        b_kind=first_b.kind,
        runs=tuple((run.status, run.kind, run.lines[:cut]) for run in side.runs),
        original_length=len(ops),
    )


# ---------------------------------------------------------------- the confirming executor
_confirming: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def confirming_limits(limits):
    """execute.Limits with every limit CONFIRM_FACTOR times larger (the stall limit too)."""
    f = CONFIRM_FACTOR
    return replace(
        limits,
        timeout=limits.timeout * f,
        cpu_seconds=int(limits.cpu_seconds) * f,
        cpu_ms_base=limits.cpu_ms_base * f,
        cpu_ms_per_op=limits.cpu_ms_per_op * f,
        stall_ms=limits.stall_ms * f,
    )


def confirming_executor(executor):
    """One executor with the confirming limits per executor (made on first use, kept while
    `executor` lives), so its network probe and working directories are shared."""
    from .execute import Executor

    with _lock:
        got = _confirming.get(executor)
        if got is None:
            got = _confirming[executor] = Executor(
                confirming_limits(executor.limits), executor.isolate_network, executor.confine
            )
        return got
