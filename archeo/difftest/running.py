"""The running half of the differential test: every revision and the reference on every batch.

The reference runs per seed, in-process or in a forked child (`ReferenceProcess`), at the same
time as the programs. A process per seed costs more than the seed's operations, so each
revision runs its seeds joined into one batch per keyspace with `w` (`run_joined`); a runner
that speaks digest mode says one digest line per seed instead of its trace (`run_digested`), and
only a seed whose digest differs from the reference's is run again for its whole trace, once
per distinct digest (`_WholeTraces`). A runner is taken to be deterministic: one given for
several commits is run once and its outcomes serve them all. How batches are joined and
traces cut back is protocol.py's; what the outcomes mean is judging.py's.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from .. import subjects
from ..compare import Outcome
from ..confirm import Confirmed, Confirmer
from ..errors import ArcheoError
from ..subjects import Subject
from .protocol import Joiner, digest_of, hash_of, next_join, outcome_hash, split_digests, split_joined, trace_digest
from .records import REFERENCE, Runner

if TYPE_CHECKING:
    from .judging import Comparisons


def reference_runner(subject: Subject | None = None) -> Runner:
    """The subject's Python reference as a runner (default: the default subject's)."""
    run_batch = (subject or subjects.default()).run_batch
    return lambda batch: Outcome.of_trace(run_batch(batch))



def run_joined(run: Runner, batches: Sequence[str], joiner: Joiner | None = None) -> list[Outcome]:
    """`[run(b) for b in batches]`, from as few runs as possible: the batches joined with `w`.

    Every batch must be a valid batch with the same header (keyspace). Joined runs start with
    the first batch not yet run and take the following ones up to JOIN_OPS operations; the
    trace is cut at the `w` result lines. When a run stops inside a batch (crash, hang, error),
    the batches before it are complete, it gets the run's ending with its own lines so far
    (what it gives run alone: the harness's limits are per segment), and the rest are joined
    again. A runner that does not speak `w` (rejects the batch, or answers it with something
    other than `ok`) gets one run per batch from then on.
    """
    if not batches:
        return []
    joiner = joiner or Joiner()
    _, _, sizes = joiner.parts(batches)
    out: list[Outcome] = []
    i, joined = 0, True
    while i < len(batches):
        j = next_join(sizes, i) if joined else i + 1
        if j - i == 1:
            out.append(run(batches[i]))
            i += 1
            continue
        got = split_joined(run(joiner.joined(batches, i, j)), sizes[i:j])
        if got is None:  # not a harness that knows `w`: no more joining
            joined = False
        elif not got:  # stopped between the first two batches, in no batch's own operations
            out.append(run(batches[i]))
            i += 1
        else:
            out.extend(got)
            i += len(got)
    return out



def _run_hashed(run: Runner, batches: Sequence[str], joiner: Joiner | None = None) -> list[tuple[Outcome, str]]:
    """run_joined, each outcome with its hash (made in the worker, while others' programs run)."""
    return [(outcome, outcome_hash(outcome)) for outcome in run_joined(run, batches, joiner)]



class _SameAsReference:
    """In a revision's outcomes: this seed's is the reference's (looked up when needed)."""

    def __repr__(self) -> str:
        return "SAME_AS_REFERENCE"


SAME_AS_REFERENCE = _SameAsReference()



def run_digested(run, batches: Sequence[str], joiner: Joiner | None = None) -> list[Outcome | str]:
    """Like `run_joined`, through the runner's digest mode: per batch, its digest line when it
    ran to the end, else its Outcome (the lines of a segment that stopped come in full).

    A batch whose ending digest mode cannot tell as run alone would (killed by the wall
    clock, stopped inside a `w`, lines dropped past the harness's cap) is run alone for its
    whole trace; output that does not fit the batches falls back to `run_joined`.
    """
    if not batches:
        return []
    joiner = joiner or Joiner()
    _, _, sizes = joiner.parts(batches)
    out: list[Outcome | str] = []
    i = 0
    while i < len(batches):
        j = next_join(sizes, i)
        got = split_digests(run.digests(joiner.joined(batches, i, j)), sizes[i:j])
        if got is None:
            out.extend(run_joined(run, batches[i:]))
            break
        items, alone = got
        out.extend(items)
        i += len(items)
        if alone and i < len(batches):
            out.append(run(batches[i]))
            i += 1
    return out



def _run_digest_hashed(run, batches: Sequence[str], joiner: Joiner | None = None) -> list[tuple[Outcome | str, str | None]]:
    """run_digested, each Outcome with its hash (a digest is matched later, with the reference's)."""
    return [(item, None if isinstance(item, str) else outcome_hash(item)) for item in run_digested(run, batches, joiner)]


class ReferenceProcess:
    """The Python reference on every batch, in a forked child, while this process runs the
    programs: the reference is pure Python, and beside it this interpreter only waits for
    programs, so on two cores they no longer take turns at one interpreter lock.

    The child sends each batch's trace text as soon as it has it (`results`), and does nothing
    else: it is the differential run's longest task, so the rest (the text's `outcome_hash`
    and `trace_digest`, made here from the text without cutting it into lines; the reference
    restricted to each revision's API, `_Restricted.prepare`) is done by this process, which
    has little else to do, while the child runs the next batch. A thread here takes each text
    as it comes, so the child never waits for this process to be ready for it.
    """

    def __init__(self, batches: Sequence[str], subject: Subject | None = None):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._count = len(batches)
        self._receive, send = context.Pipe(duplex=False)
        run_batch = (subject or subjects.default()).run_batch
        self._process = context.Process(target=_reference_child, args=(batches, send, run_batch), daemon=True)
        self._process.start()
        send.close()

    @staticmethod
    def available() -> bool:
        import multiprocessing

        return "fork" in multiprocessing.get_all_start_methods()

    def results(self) -> Iterator[str]:
        """Each batch's trace text, in order, as the child finishes it."""
        import queue

        texts: queue.SimpleQueue = queue.SimpleQueue()

        def take() -> None:
            try:
                for _ in range(self._count):
                    texts.put(self._receive.recv())
            except (EOFError, OSError):
                texts.put(None)

        reader = threading.Thread(target=take, name="archeo-reference-reader", daemon=True)
        reader.start()
        for _ in range(self._count):
            text = texts.get()
            if text is None:
                reader.join()
                self.close()
                raise ArcheoError(f"the reference process died (exit {self._process.exitcode}); run with --jobs 1 to see why")
            yield text
        reader.join()
        self._process.join()
        self._receive.close()

    def result(self) -> list[tuple[str, str, str]]:
        """Every batch's (trace text, outcome_hash, trace_digest)."""
        return [(text, *text_marks(text)) for text in self.results()]

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receive.close()


def text_marks(text: str) -> tuple[str, str]:
    """(outcome_hash, trace_digest) of the reference's outcome from its trace text, made from
    the text without cutting it into lines (the same values as from the Outcome)."""
    if not text.endswith("END\n"):
        raise AssertionError("the reference's trace does not end with END")
    body = text[:-4].encode()  # the result lines, each with its newline
    return hash_of("ok", "", body[:-1]), digest_of(body)


def _reference_child(batches: Sequence[str], send, run_batch: Callable[[str], str]) -> None:
    import gc
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # The child shares the parent's whole heap: the collector, walking it, would touch (and so
    # copy) every page of it, ~0.3 s of btrfs-progs' 3.2. So the inherited objects are frozen
    # and the child's own garbage (a batch's tree: cycles) is collected after each batch.
    gc.freeze()
    gc.disable()
    for batch in batches:
        text = run_batch(batch)
        if not text.endswith("END\n"):
            raise AssertionError("the reference's trace does not end with END")
        send.send(text)
        del text
        gc.collect()
    send.close()


class _Traces:
    """The reference's outcomes from its trace texts, each cut into lines on first use."""

    def __init__(self, texts: list[str]):
        self._texts = texts
        self._outcomes: dict[int, Outcome] = {}

    def __getitem__(self, i: int) -> Outcome:
        if i not in self._outcomes:
            self._outcomes[i] = Outcome.of_trace(self._texts[i])
        return self._outcomes[i]


class _Restricted:
    """The reference restricted to a revision's API: its outcome with `NA` for every operation
    the revision lacks (a 2004 revision has no iterators), and that trace's digest.

    A revision that lacks operations differs from the reference on every seed that uses them;
    when its digest is this one's, its trace is this one, byte for byte, and need not be read.
    """

    def __init__(self, ref_out, codes: list[list[str]], subject: Subject):
        self._ref_out, self._codes = ref_out, codes
        self._all = subject.keyed | subject.bare
        self._made: dict[tuple[int, frozenset], tuple[str, Outcome, str]] = {}

    def lacking(self, runner) -> frozenset:
        ops = getattr(runner, "ops", None)
        return frozenset(self._all - set(ops)) if ops else frozenset()

    def prepare(self, i: int, lacks: frozenset) -> None:
        """Make seed i's restricted reference for a revision lacking `lacks`, when the seed uses
        any of those operations (else a revision that lacks them gives the reference's own
        digest); done as the reference's seeds come in, while it runs the next ones."""
        if lacks and (i, lacks) not in self._made and not lacks.isdisjoint(self._codes[i]):
            self._make(i, lacks)

    def _make(self, i: int, lacks: frozenset) -> tuple[str, Outcome, str]:
        lines = tuple("NA" if code in lacks else line for code, line in zip(self._codes[i], self._ref_out[i].lines))
        outcome = Outcome("ok", lines)
        made = self._made[(i, lacks)] = (trace_digest(outcome), outcome, outcome_hash(outcome))
        return made

    def match(self, i: int, lacks: frozenset, digest: str) -> tuple[Outcome, str] | None:
        """(outcome, hash) of seed i's restricted reference when `digest` is its digest."""
        made_digest, outcome, made_hash = self._made.get((i, lacks)) or self._make(i, lacks)
        return (outcome, made_hash) if made_digest == digest else None


class _WholeTraces:
    """Whole outcomes for the digests that differ from the reference's.

    Each distinct (seed, digest) is run once, on the first revision that showed it (joined per
    keyspace), and shared by every revision with the same digest for that seed. The runs start
    as soon as a revision's digests are known to differ, in a thread of their own beside the
    programs still running.
    """

    def __init__(self, batches: Sequence[str], groups: dict[str, list[int]]):
        self._batches = batches
        self._keyspace_of = {i: key for key, seeds in groups.items() for i in seeds}
        self._pool = ThreadPoolExecutor(max_workers=2)  # a revision's keyspaces side by side
        self._where: dict[tuple[int, str], tuple[object, int]] = {}  # (seed, digest) -> (future, place)

    def want(self, runner, found: list) -> None:
        """Ask for the whole outcome of every digest in `found` (one revision's items) not asked for yet."""
        by_key: dict[str, list[tuple[int, str]]] = {}
        for i, item in enumerate(found):
            if isinstance(item, str) and (i, item) not in self._where:
                self._where[(i, item)] = (None, 0)
                by_key.setdefault(self._keyspace_of[i], []).append((i, item))
        for wanted in by_key.values():
            future = self._pool.submit(_run_hashed, runner, [self._batches[i] for i, _ in wanted])
            for place, key in enumerate(wanted):
                self._where[key] = (future, place)

    def resolve(self, found: list, hashes: list) -> None:
        """Every digest in `found` (one revision's items) replaced by its whole outcome, its hash set."""
        for i, item in enumerate(found):
            if isinstance(item, str):
                future, place = self._where[(i, item)]
                found[i], hashes[i] = future.result()[place]

    def close(self) -> None:
        self._pool.shutdown()

    def cancel(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Gate:
    """How many programs run at once: one fewer than `jobs` while the reference runs in its
    own process, all `jobs` once it is done (`open`).

    The reference is the longest single task of a differential run (btrfs-progs' 111
    revisions are 7 programs, ~1 s of CPU; the reference on the same operations ~3 s).
    With `jobs` programs beside it, `jobs` + 1 processes took turns at `jobs` cores and the
    reference, which every comparison waits for, came in ~0.7 s late; with one core left to
    it, the programs fill the others and take the last one when it is done.
    """

    def __init__(self, jobs: int, reference_apart: bool):
        self._slots = threading.Semaphore(max(1, jobs - 1) if reference_apart and jobs > 1 else max(1, jobs))
        self._widen = reference_apart and jobs > 1

    def run(self, work: Callable, *args):
        with self._slots:
            return work(*args)

    def open(self) -> None:
        """The reference is done: its core is the programs' too (once only)."""
        if self._widen:
            self._widen = False
            self._slots.release()


def _confirm_ahead(confirmer: Confirmer, runner: Runner, batches: list[str]) -> Callable:
    """A done-callback for one keyspace's run of a revision: its suspects' confirming runs
    started (confirm.Confirmer.ahead), before the reference is known or any comparison made."""

    def start(future) -> None:
        if not future.cancelled() and future.exception() is None:
            confirmer.ahead(runner, batches, [item for item, _ in future.result()])

    return start


# ---------------------------------------------------------------- every revision
@dataclass
class Runs:
    """What running gave: the reference's outcomes and hashes, each revision's (an outcome, or
    SAME_AS_REFERENCE), and the runners shrinking may call again (confirmed, when confirming)."""

    ref_out: Sequence[Outcome]
    ref_hash: list[str]
    outs: dict[str, list]
    hashes: dict[str, list[str]]
    runners: dict[str, Runner]
    total: int  # seeds x revisions run (joined into fewer processes)


def run_revisions(
    built: Sequence[tuple[str, Runner]],
    batches: list[str],
    codes: list[list[str]],
    subject: Subject,
    reference: Runner,
    apart: bool,
    jobs: int,
    combine: bool,
    confirmer: Confirmer | None,
    comparisons: Comparisons,
    tick: Callable[[str, int, int], None],
) -> Runs:
    """Run the reference (`apart`: in a forked child) and every built revision on `batches`.

    Each revision's outcomes are compared with the reference's and with the revision before as
    soon as they are known (`comparisons`, while later programs still run), so the judging
    finds these comparisons made. With a `confirmer` (confirm.py), every suspect is settled
    before any comparison, and the runners returned for shrinking are Confirmed by it.
    """
    # Seeds with the same header (keyspace) can share a process; in seed order within each.
    groups: dict[str, list[int]] = {}
    for i, batch in enumerate(batches):
        groups.setdefault(batch[: batch.find("\n")] if combine else str(i), []).append(i)

    outs: dict[str, list[Outcome]] = {}
    total = len(built) * len(batches)
    done = 0
    # A runner given for several commits (the same program or machine code: runners.shared_runners) runs once.
    first_of: dict[int, str] = {}
    for commit, run in built:
        first_of.setdefault(id(run), commit)
    elsewhere = ReferenceProcess(batches, subject) if apart else None  # forked before any thread starts
    whole = _WholeTraces(batches, groups)
    verdict_of = comparisons.verdict

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    gate = _Gate(jobs, elsewhere is not None)
    try:
        # One batch list per keyspace, shared by every revision, so the joined texts are made once.
        joiner = Joiner()
        group_batches = [(seeds, [batches[i] for i in seeds]) for seeds in groups.values()]
        futures = {
            commit: [
                (seeds, pool.submit(gate.run, _run_digest_hashed if hasattr(run, "digests") else _run_hashed, run, listed, joiner))
                for seeds, listed in group_batches
            ]
            for commit, run in built
            if first_of[id(run)] == commit
        }
        hashes: dict[str, list[str]] = {}
        runner_of = dict(built)
        if confirmer is not None:  # a revision's suspects confirmed as soon as it ran, while the reference runs
            for commit, fs in futures.items():
                for seeds, future in fs:
                    future.add_done_callback(_confirm_ahead(confirmer, runner_of[commit], [batches[i] for i in seeds]))
        tick("reference", 0, len(batches))
        texts: list[str] = []  # the forked reference's trace texts, cut into lines only where needed (_Traces)
        ref_out, ref_hash, ref_digest = [] if elsewhere is None else _Traces(texts), [], []
        restricted = _Restricted(ref_out, codes, subject)
        if elsewhere is None:  # the reference here, while the programs' threads wait for them
            for i, batch in enumerate(batches):
                ref_out.append(reference(batch))
                ref_hash.append(outcome_hash(ref_out[-1]))
                ref_digest.append(trace_digest(ref_out[-1]))
                tick("reference", i + 1, len(batches))
        else:
            lacking = {restricted.lacking(runner_of[commit]) for commit in futures} - {frozenset()}
            for i, text in enumerate(elsewhere.results()):  # each seed as soon as the child has it
                texts.append(text)
                text_hash, digest = text_marks(text)
                ref_hash.append(text_hash)
                ref_digest.append(digest)
                for lacks in lacking:
                    restricted.prepare(i, lacks)
                tick("reference", i + 1, len(batches))
            gate.open()  # the reference's core is the programs' now
        comparisons.ref_out = ref_out
        # Each revision as its programs finish: digests against the reference's, the differing
        # ones read whole, then compared with the reference and with the revision before while
        # the later programs still run (the verdicts find these comparisons made).
        before: str | None = None
        tick("revisions", done, total)
        for commit, fs in futures.items():
            found: list = [None] * len(batches)
            digests: list = [None] * len(batches)
            lacks = restricted.lacking(runner_of[commit])
            for seeds, future in fs:
                for i, (item, digest) in zip(seeds, future.result()):
                    if isinstance(item, str) and item == ref_digest[i]:
                        item, digest = SAME_AS_REFERENCE, ref_hash[i]  # the reference's trace, byte for byte
                    elif isinstance(item, str) and lacks:
                        item, digest = restricted.match(i, lacks, item) or (item, digest)
                    found[i], digests[i] = item, digest
            whole.want(runner_of[commit], found)
            whole.resolve(found, digests)
            if confirmer is not None:  # before any comparison
                confirmer.settle_seeds(runner_of[commit], batches, found, digests, outcome_hash)
            outs[commit], hashes[commit] = found, digests
            for other, other_out, other_hash in ((REFERENCE, ref_out, ref_hash), (before, outs.get(before), hashes.get(before))):
                if other_out is not None:
                    for i in range(len(batches)):
                        verdict_of(i, other_out, found, other_hash, digests)
            before = commit
            done += len(batches)
            tick("revisions", done, total)
        whole.close()
        for commit, run in built:
            if first_of[id(run)] != commit:  # the same program: the same outcomes
                outs[commit], hashes[commit] = outs[first_of[id(run)]], hashes[first_of[id(run)]]
                done += len(batches)
                tick("revisions", done, total)
    except BaseException:
        # Ctrl-C: drop the queued runs instead of waiting for every one of them.
        if elsewhere is not None:
            elsewhere.close()
        whole.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    runners = dict(built)
    runners[REFERENCE] = reference
    if confirmer is not None:  # shrinking believes confirmed outcomes only: a false hang would steer it (and the JSON)
        runners = {name: Confirmed(run, confirmer) for name, run in runners.items()}
    return Runs(ref_out, ref_hash, outs, hashes, runners, total)
