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
  clock) is run again, that seed alone. First by the program's counted variant (archeo/
  build_steps.py: every basic block of the revision counted), with every timing limit
  CONFIRM_FACTOR times larger, no watchdog, and STEP_LIMIT blocks an operation: when the count
  stops it, that is a hang no timing decided, and it is a `hang`. Otherwise (it finished, or a
  timing limit stopped it, or there is no counted variant) the program itself is run with every
  limit CONFIRM_FACTOR times larger: the CPU budget, RLIMIT_CPU, the wall clock, and the stall
  limit too (one operation may hold the CPU for 40 ms instead of 2, and must still be stuck at
  the next look). Only a hang that comes back is a `hang`; otherwise the confirming run's
  outcome is the result — provided the first run's lines are where the confirming run's begin
  (a correct program stopped early wrote a prefix of its whole trace; anything else did not
  reproduce);
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

What a confirmation costs, and what keeps it small (issue 11; bench/bench_false_alarms.py):
the 2017 Xen window's program (two revisions, one machine code) hangs for real on 13 of the 20
seeds, and on the hang witness's shrinking candidates. Confirmed by the program itself, a real
endless loop spends its confirming run's whole stall limit (40 ms of CPU); by the counted
variant, its 2^18 blocks, ~1-2 ms with the run's start. So:

- a hang is confirmed by the counted variant first (above), ~1-2 ms instead of ~45;

- a confirming run is remembered for the run (`ConfirmingRunner`, in the run's `Confirmer`):
  the same input to the same machine code is not confirmed twice. "The same machine code" is
  the program file with its embedded commit id and its build id blanked (`object_identity`):
  the window's two programs differ only there, so they share their confirmations. The first,
  short-limit run is still made every time, and settled against the remembered confirming
  run by the same rules: nothing is believed that a run with 20x limits did not show on that
  very input;
- a revision's suspects are confirmed side by side (`settle_seeds`, CONFIRM_JOBS at once),
  and started as soon as its program has run (`Confirmer.ahead`): difftest's reference runs
  longer than the programs, so they take the core the programs have left instead of keeping
  the comparisons waiting after it;
- every accepted step of a hang's shrinking is a hang, confirmed; a witness is shrunk from
  the seed that shows its level soonest (and the pair's strongest level from the first seed
  showing it too: difftest/judging.py).

Per Xen difftest that leaves 61 confirming runs (25 hangs — the 13 seeds and the shrinking
steps — each by the counted variant; 36 crashes at ~1-2 ms each), 0.08-0.12 s of CPU, where
56 runs had taken ~1.5 s: confirmation costs ~1-2 % of the difftest idle (bench/README.md).
Every one is needed: each seed's settled outcome is in the JSON, and each accepted shrinking
step steers the witness.

Not done, and why: confirming a hang on the prefix up to its stuck operation saves nothing
(a stuck run never reads past that operation; the ops after it cost a parse of their text);
leaving a revision's other hanging seeds unconfirmed, or any seed but the one a witness or a
level's first seed comes from, is not possible without risking the JSON: every seed's settled
outcome goes into the revision's `behaviour` hash, which the JSON reports and the equivalence
classes and the witness memo are keyed by; and an accepted shrinking step cannot go
unconfirmed either: a false hang taken there steers the shrink to another witness.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Callable, Sequence, TypeVar

from .compare import Outcome
from .runners import object_identity

# Bumped whenever a rule that decides a verdict changes; part of every difftest cache key.
RULES = 3  # 1: one timing sample decided a hang; 2: confirmed, flaky named; 3: a hang confirmed by its count
CONFIRM_FACTOR = 20  # the confirming run's limits, against the first run's
CONFIRM_JOBS = 2  # a revision's suspects confirmed at once (the machine's 2 cores)
REMEMBERED = 4096  # confirming runs remembered per run (the oldest forgotten first)

Runner = Callable[[str], Outcome]


SUSPECTS = ("hang", "crash")  # the endings not believed before a second run


def suspect(outcome) -> bool:
    """An outcome that is not believed before it is run again: a hang or a crash."""
    return isinstance(outcome, Outcome) and outcome.status in SUSPECTS


def run_again(again: Runner, batch: str, first: Outcome) -> Outcome:
    """`again(batch)`, telling a ConfirmingRunner what the first run was suspected of (a
    hang may be confirmed by the counted variant first, see ConfirmingRunner)."""
    if isinstance(again, ConfirmingRunner):
        return again(batch, first.status)
    return again(batch)


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


class Confirmer:
    """What the confirmations of one run share, owned by that run (a difftest, a mutation run, a
    lineage study) and passed down to every `Confirmed` runner and `settle_seeds` of it:

    - per executor of the run, one executor with the confirming limits (`confirming_limits`)
      and otherwise the same confinement (network, sandbox), so its network probe and
      working directories are made once;
    - the confirming runs, remembered (`_Remembered`): one input, one machine code, one
      confirming run, across every runner of the run.

    Nothing outlives the run: `close()` (or leaving a `with` block) removes the confirming
    executors' working directories, and a new run starts with nothing remembered."""

    def __init__(self, counted: bool = True):
        self.remembered = _Remembered()
        self.counted = counted  # False: hangs confirmed by the real program alone (bench, tests)
        self._executors: dict = {}  # (the run's executor, counting?) -> its confirming one
        self._builders: dict = {}  # a build cache -> the Builder of its counted variants
        self._counted: dict = {}  # a machine code (object_identity) -> its counted runner, made once (_Once)
        self._early: ThreadPoolExecutor | None = None  # confirming runs started ahead (`ahead`)
        self._lock = threading.Lock()

    def executor(self, executor, counting: bool = False):
        """The executor with `executor`'s confirming limits (made on first use, kept by this
        run); `counting`: the one for counted variants (counting_limits)."""
        from .execute import Executor

        with self._lock:
            got = self._executors.get((executor, counting))
            if got is None:
                limits = (counting_limits if counting else confirming_limits)(executor.limits)
                got = self._executors[(executor, counting)] = Executor(
                    limits, executor.isolate_network, executor.confine, executor.sandbox, executor.shared_network,
                )
            return got

    def counted_runner(self, runner) -> Runner | None:
        """`runner`'s program's counted variant (build_steps.py) run with counting_limits, or
        None when it has none. Built on first use, from the program's own build cache."""
        from pathlib import Path

        from .build import Builder

        program = runner.program
        entry = Path(program.path).parent
        if entry.parent.name != "programs":
            return None
        cache = entry.parent.parent
        with self._lock:
            builder = self._builders.get(cache)
            if builder is None:
                builder = self._builders[cache] = Builder(cache, sandbox=runner.executor.sandbox)
        path = builder.stepped(program)
        if path is None:
            return None
        return runner.confirming(self.executor(runner.executor, counting=True), replace(program, path=path))

    def runner(self, runner: Runner) -> Runner:
        """The runner that confirms `runner`'s suspects: the same program with the confirming
        limits (`runner.confirming(executor)`, runners.ProgramRunner), its runs remembered in a
        ConfirmingRunner, or the runner itself (the reference, the tests' fakes: they have no
        limits to raise)."""
        make = getattr(runner, "confirming", None)
        if make is None:
            return runner
        inner = make(self.executor(runner.executor))
        program = getattr(runner, "program", None)
        if program is None or not getattr(program, "path", None):
            return inner
        identity = object_identity(program.path, program.commit)
        counted = None
        if self.counted:  # one counted variant per machine code, whichever revision's runner asks first
            with self._lock:
                counted = self._counted.setdefault(identity, _Once(lambda: self.counted_runner(runner)))
        return ConfirmingRunner(inner, identity, self.remembered, counted)

    def ahead(self, runner: Runner, batches: Sequence[str], outcomes: Sequence) -> int:
        """Start now, in the background, the confirming runs that settling `outcomes` (one per
        batch) will ask for: those of its suspects. They are remembered, so `settle_seeds` finds
        them made or under way and settles by the same rules, on the same runs: only when the
        confirming starts changes. A runner whose confirming runs are not remembered is left
        alone (they would be made twice). Returns how many were started."""
        todo = [(batch, outcome.status) for batch, outcome in zip(batches, outcomes) if suspect(outcome)]
        if not todo:
            return 0
        again = self.runner(runner)
        if not isinstance(again, ConfirmingRunner):
            return 0
        with self._lock:
            if self._early is None:
                self._early = ThreadPoolExecutor(max_workers=CONFIRM_JOBS, thread_name_prefix="confirm-ahead")
            for batch, status in todo:
                self._early.submit(again, batch, status)  # an exception is left to the asker who runs it again
        return len(todo)

    def settle_seeds(self, runner: Runner, batches: Sequence[str], found: list, hashes: list, hash_of) -> int:
        """Settle, in place, every suspect among one revision's outcomes (`found[i]` is seed i's:
        an Outcome, or a marker meaning "the reference's"); `hashes[i]` is remade with `hash_of`.
        The suspects are confirmed side by side, CONFIRM_JOBS at once. Returns how many seeds
        were run again."""
        todo = [i for i, outcome in enumerate(found) if suspect(outcome)]
        if not todo:
            return 0
        again = self.runner(runner)

        def one(i: int) -> Outcome:
            return settle(found[i], lambda: run_again(again, batches[i], found[i]))

        if len(todo) == 1:
            settled = [one(todo[0])]
        else:
            with ThreadPoolExecutor(max_workers=min(CONFIRM_JOBS, len(todo))) as pool:
                settled = list(pool.map(one, todo))
        for i, outcome in zip(todo, settled):
            found[i] = outcome
            hashes[i] = hash_of(outcome)
        return len(todo)

    def close(self) -> None:
        with self._lock:
            early, self._early = self._early, None
        if early is not None:  # on Ctrl-C: the runs not started are dropped
            early.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            made, self._executors = list(self._executors.values()), {}
        for executor in made:
            executor.close()

    def __enter__(self) -> Confirmer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ConfirmingRunner:
    """A confirming runner whose runs are remembered: one input, one machine code, one
    confirming run (see the module's notes). `remembered` is the run's (Confirmer), shared by
    every runner of it, so the revisions built into the same machine code share it.

    A suspected hang is run first by the program's counted variant (`counted`, made on first
    use; archeo/build_steps.py): when its count stops that run — more basic blocks than the
    step limit in one operation — that is the confirming run. Anything else it shows (it
    finished, crashed, or hit a CPU or wall limit) is not taken: the real program is run with
    the confirming limits, as for every other suspect. So the counted build never stands for
    the real one but in a hang that no timing decided."""

    def __init__(self, inner: Runner, identity: str, remembered: "_Remembered", counted: "_Once | None" = None):
        self.inner = inner
        self.identity = identity
        self.remembered = remembered
        self.counted = counted

    def __call__(self, batch: str, suspected: str = "") -> Outcome:
        if suspected == "hang" and self.counted is not None:
            got = self.remembered.get((self.identity, "counted", batch), lambda: self._counted_run(batch))
            if got.status == "hang":
                return got
        return self.remembered.get((self.identity, "trace", batch), lambda: self.inner(batch))

    def _counted_run(self, batch: str) -> Outcome:
        """The counted variant's run when the count stopped it (a hang no timing decided),
        else _NOT_COUNTED: it finished, crashed, or was stopped by a CPU or wall limit, which
        the slower counted build reaches sooner than the program would (a sample again)."""
        counted = self.counted()  # built on the first hang of this machine code that is not remembered
        if counted is None:
            return _NOT_COUNTED
        run = counted.executor.run(counted.program, batch)
        if run.status == "hang" and run.kind == "cpu-limit" and STEP_LIMIT_SAID in run.stderr:
            return Outcome.of_run(run)
        return _NOT_COUNTED

    def digests(self, batch: str) -> Outcome:
        return self.remembered.get((self.identity, "digests", batch), lambda: self.inner.digests(batch))

    @property
    def ops(self):
        return getattr(self.inner, "ops", None)


_NOT_COUNTED = Outcome("error", (), "not stopped by its count")  # then the real program confirms
STEP_LIMIT_SAID = "archeo-harness: step limit"  # harness_rt.c's word on stderr when the count stopped a run


class _Once:
    """A value made on first call, once, whichever thread asks first (the others wait)."""

    def __init__(self, make: Callable[[], T]):
        self._make = make
        self._lock = threading.Lock()
        self._made = False
        self._value = None

    def __call__(self):
        with self._lock:
            if not self._made:
                self._value = self._make()
                self._made = True
            return self._value


class _Remembered:
    """Confirming runs by (machine code, mode, batch's sha256), at most REMEMBERED of them. A
    run asked for while the same one is under way (from another thread) is waited for."""

    def __init__(self):
        self._runs: dict[tuple[str, str, str], Future] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str], run: Callable[[], Outcome]) -> Outcome:
        identity, mode, batch = key
        key = (identity, mode, hashlib.sha256(batch.encode() if isinstance(batch, str) else batch).hexdigest())
        with self._lock:
            got = self._runs.get(key)
            mine = got is None
            if mine:
                if len(self._runs) >= REMEMBERED:
                    self._runs.pop(next(iter(self._runs)))
                got = self._runs[key] = Future()
        if mine:
            try:
                got.set_result(run())
            except BaseException as exc:
                with self._lock:  # not remembered: the next asker runs it again
                    self._runs.pop(key, None)
                got.set_exception(exc)
                raise
        return got.result()


class Confirmed:
    """A runner whose every outcome is settled: what the shrinker and the witnesses run, so a
    witness is made of confirmed outcomes too. A suspect's settled outcome is remembered for
    its batch (the shrinker and the witness ask for some batches more than once), so asking
    again neither re-runs it nor draws another sample of a flaky program. Inside `checked` its
    suspects are confirmed in the background while the caller goes on (see there)."""

    def __init__(self, runner: Runner, confirmer: Confirmer):
        self.runner = runner
        self.confirmer = confirmer
        self._again: Runner | None = None
        self._settled: dict[str, Outcome] = {}  # batch sha256 -> a suspect's settled outcome
        self._pending: list | None = None  # inside `checked`: (what was taken, its settling)
        self._pool: ThreadPoolExecutor | None = None

    def __call__(self, batch: str) -> Outcome:
        key = hashlib.sha256(batch.encode() if isinstance(batch, str) else batch).hexdigest()
        got = self._settled.get(key)
        if got is not None:
            return got
        first = self.runner(batch)
        if not suspect(first):
            return first
        if self._again is None:
            self._again = self.confirmer.runner(self.runner)
        if self._pending is not None and self._pool is not None:
            self._pending.append((first, self._pool.submit(self._settle, key, first, batch)))
            return first  # taken for now: `checked` compares it with its settling before any use
        return self._settle(key, first, batch)

    def _settle(self, key: str, first: Outcome, batch: str) -> Outcome:
        again = self._again
        got = settle(first, lambda: run_again(again, batch, first))
        if len(self._settled) >= REMEMBERED:
            self._settled.pop(next(iter(self._settled)), None)
        self._settled[key] = got
        return got

    @property
    def ops(self):
        return getattr(self.runner, "ops", None)


T = TypeVar("T")


def checked(work: Callable[[], T], *runners) -> T:
    """`work()` (a shrink, a witness) made of settled outcomes only, at a lower cost in time.

    While `work` runs, each suspect of the Confirmed `runners` is taken as it first came and its
    confirmation runs in the background, on the other core (a real hang spends 40 ms there
    while the shrinker goes on). `work`'s result is returned once every one of those
    confirmations settled on exactly the outcome that was taken — then `work` ran on settled
    outcomes throughout, as it would have one confirmation at a time. If any settled otherwise
    (a timing sample that did not come back), `work` is done again, every suspect confirmed
    before it is used, the settled outcomes already known reused. So the result is the one
    made without the background, byte for byte, idle or loaded."""
    spec = list({id(r): r for r in runners if isinstance(r, Confirmed)}.values())
    if not spec:
        return work()
    with ThreadPoolExecutor(max_workers=CONFIRM_JOBS) as pool:
        for r in spec:
            r._pending, r._pool = [], pool
        try:
            result = work()
        finally:
            pending = [p for r in spec for p in (r._pending or ())]
            for r in spec:
                r._pending, r._pool = None, None
        agreed = all(future.result() == taken for taken, future in pending)
    return result if agreed else work()


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


# ---------------------------------------------------------------- the confirming limits
# The counted variant's step limit: basic blocks of the revision between two heartbeats of
# the engine (one operation). A correct operation on a red-black tree is an O(log n) walk: on
# the 20 x 10,000-operation seeds, every correct Xen revision needed at most 56 blocks (the
# counts for every history are in bench/README.md, "counted confirmation"). 2^18 is ~4,500
# times that, more than a linear walk of the largest tree a batch can build (16,384 nodes at
# ~10 blocks each), and an endless loop reaches it in ~1 ms of CPU (2^20: ~3 ms, and the Xen
# difftest's confirming runs 0.23 s of CPU instead of 0.14 s).
STEP_LIMIT = 1 << 18


def counting_limits(limits):
    """The counted variant's limits: the confirming ones, with no watchdog (the issue's rule:
    20x every timing limit, no stall watchdog) and the step limit."""
    return replace(confirming_limits(limits), stall_ms=0, step_limit=STEP_LIMIT)


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
