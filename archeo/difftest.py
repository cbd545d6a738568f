"""Differential testing: every revision against the reference and against its predecessor.

The same seeded operation sequences go through the Python reference (once per sequence, its
trace reused for every revision) and through every revision's program. Traces are compared by
hash first and examined line by line only when they differ. Every difference is shrunk to a
minimal witness that still shows the same level of difference, and each change of behaviour
is attributed to the commit that introduced it (and, where behaviour returns, the commit that
ended it).

The module works on *runners* — callables from a batch text to an `Outcome` — so the logic is
the same for compiled programs, the reference, and the fakes the tests use. A runner is taken
to be deterministic: one given for several commits is run once and its outcomes serve them all.

A process per seed costs more than the seed's operations, so each revision runs its seeds
joined into one batch per keyspace with `w` (wipe, docs/protocol.md), and the trace is cut back
into one outcome per seed, the same, byte for byte, as one run per seed (`run_joined`). The
reference runs per seed, in-process, at the same time as the programs.

"Compared by hash first" starts in the harness: a runner that speaks digest mode (a
`pipeline.ProgramRunner`) says one CRC-32 + Adler-32 + length line per seed instead of its
trace (`run_digested`), and only a seed whose digest differs from the reference's is run again
for its whole trace, once per distinct digest. A seed that stops (crash, hang) has its own
lines in digest mode too. So a revision that behaves like the reference moves a few hundred
bytes into Python instead of megabytes, and the outcomes are the same as without digests.
"""

from __future__ import annotations

import hashlib
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

from . import ops as opslib
from . import subjects
from . import schemas
from .compare import Outcome, Verdict, compare, swapped
from .confirm import Confirmed, checked, flaky_witness_parts, settle_seeds
from .events import BehaviourChange, attribute, equivalence_classes  # noqa: F401 (BehaviourChange: re-exported)
from .errors import ArcheoError
from .levels import Level
from .subjects import Subject

Runner = Callable[[str], Outcome]
REFERENCE = "reference"

MAX_SEEDS = 10_000
MAX_OPS = 1_000_000
JOIN_OPS = 1_000_000  # at most this many operations in one joined batch (more seeds: more batches)


@dataclass(frozen=True)
class Settings:
    """Everything that decides the operation sequences; recorded in the JSON for reproduction."""

    seeds: int = 20
    ops: int = 10_000
    first_seed: int = 0
    profiles: tuple[str, ...] = ("small", "large")  # seed i uses profiles[i % len]
    groups: tuple[str, ...] = ()  # the subject's op groups mixed in (rbtree: its later API groups): what the revisions have
    subject: str = subjects.DEFAULT  # what kind of code: its ops, generator and reference (archeo/subjects/)

    def __post_init__(self):
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise ArcheoError(f"--seeds {self.seeds} is out of range: use 1 to {MAX_SEEDS}")
        if not 10 <= self.ops <= MAX_OPS:
            raise ArcheoError(f"--ops {self.ops} is out of range: use 10 to {MAX_OPS}")
        if not 0 <= self.first_seed < 2**32 - self.seeds:
            raise ArcheoError(f"--first-seed {self.first_seed} is out of range: use 0 to {2**32 - self.seeds - 1}")

    def sequences(self) -> list[tuple[int, list[opslib.Op]]]:
        out = []
        for i in range(self.seeds):
            seed = self.first_seed + i
            out.append((seed, self.of().generate(seed, self.ops, profile=self.profiles[i % len(self.profiles)], groups=self.groups)))
        return out

    def keyspace(self, index: int) -> int:
        """The keyspace of the index-th seed's batch: its profile's, the keys the generator
        draws from (not the largest key it happened to use), so the seeds of a profile share
        one batch header and, joined, one process."""
        return self.of().keyspace(self.profiles[index % len(self.profiles)])

    def of(self) -> Subject:
        """The subject these settings generate for."""
        return subjects.get(self.subject)

    def batches(self, sequences: Sequence[tuple[int, list[opslib.Op]]]) -> list[str]:
        return [opslib.encode(ops, self.keyspace(i)) for i, (_, ops) in enumerate(sequences)]

    def as_dict(self) -> dict:
        out = {"seeds": self.seeds, "ops": self.ops, "first_seed": self.first_seed, "profiles": list(self.profiles)}
        if self.groups:  # absent for a core-only run, so its JSON is what it always was
            out["groups"] = list(self.groups)
        if self.subject != subjects.DEFAULT:  # likewise absent for the default subject
            out["subject"] = self.subject
        return out


@dataclass(frozen=True)
class Witness:
    """The shortest operation list found that still shows the difference, with both outcomes."""

    a: str  # "reference" or a commit
    b: str
    level: str
    seed: int
    ops: tuple[str, ...]
    a_lines: tuple[str, ...]
    b_lines: tuple[str, ...]
    a_status: str = "ok"
    b_status: str = "ok"
    a_kind: str = ""
    b_kind: str = ""
    original_length: int = 0
    runs: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # flaky: (status, kind, results) of each run
    # Both trees where they matter, dumped once shrinking is done: after `tree_after` operations —
    # all of them, or those before the one that crashed or hung. None: no tree in play.
    tree_after: int | None = None
    a_tree: str | None = None
    b_tree: str | None = None

    def as_dict(self) -> dict:
        out = {
            "a": self.a,
            "b": self.b,
            "level": self.level,
            "seed": self.seed,
            "original_length": self.original_length,
            "ops": list(self.ops),
            "a_outcome": {"status": self.a_status, "kind": self.a_kind, "results": list(self.a_lines)},
            "b_outcome": {"status": self.b_status, "kind": self.b_kind, "results": list(self.b_lines)},
            "trees": None if self.tree_after is None else {"after": self.tree_after, "a": self.a_tree, "b": self.b_tree},
        }
        if self.runs:
            out["runs"] = [{"status": st, "kind": kind, "results": list(lines)} for st, kind, lines in self.runs]
        return out


@dataclass(frozen=True)
class PairVerdict:
    """One revision against one other side, over every seed.

    `level` is the strongest difference; `levels` every level seen (strongest first) with the
    first seed that showed it, so a weaker difference hidden behind a stronger one — an
    invariant break that later crashes — still gets its own witness.
    """

    other: str
    level: str
    seed: int | None = None
    detail: str = ""
    levels: tuple[tuple[str, int], ...] = ()  # (level, seed)
    witnesses: tuple[Witness, ...] = ()  # one per level, strongest first, where shrinking found one

    @property
    def witness(self) -> Witness | None:
        return next((w for w in self.witnesses if w.level == self.level), None)


@dataclass(frozen=True)
class RevisionVerdict:
    commit: str
    status: str  # tested | build-failed
    vs_reference: PairVerdict | None
    vs_previous: PairVerdict | None
    behaviour: str = ""  # hash of every outcome: equal hashes, equal behaviour over all tested
    error: str = ""


@dataclass
class DifftestResult:
    settings: Settings
    revisions: list[RevisionVerdict]
    changes: list[BehaviourChange]
    classes: list[list[str]]
    reference_runs: int = 0
    program_runs: int = 0  # seeds x revisions run (joined into fewer processes)
    notes: list[str] = field(default_factory=list)
    confinement: str = ""  # what confined the programs' runs, e.g. "landlock+seccomp+netns" (execute.py)


# ---------------------------------------------------------------- runners
def reference_runner(subject: Subject | None = None) -> Runner:
    """The subject's Python reference as a runner (default: the default subject's)."""
    run_batch = (subject or subjects.default()).run_batch
    return lambda batch: Outcome.of_trace(run_batch(batch))


def _bodies(batches: Sequence[str]) -> tuple[str, list[str], list[int]]:
    """The shared header, each batch's operations (newline-terminated), and their counts."""
    header = batches[0][: batches[0].find("\n") + 1]
    bodies, sizes = [], []
    for batch in batches:
        if not batch.startswith(header):
            raise ValueError("run_joined: the batches must share their header (keyspace)")
        body = batch[len(header) :]
        if body and not body.endswith("\n"):
            body += "\n"
        bodies.append(body)
        sizes.append(body.count("\n"))
    return header, bodies, sizes


def _next_join(sizes: Sequence[int], i: int) -> int:
    """Where the joined run starting at batch i ends: as many as fit in JOIN_OPS (at least one)."""
    j, total = i + 1, sizes[i]
    while j < len(sizes) and total + 1 + sizes[j] <= JOIN_OPS:
        total += 1 + sizes[j]
        j += 1
    return j


class Joiner:
    """Joined batch texts, made once and shared by every revision that runs the same batches.

    Keyed by the identity of the batch list, which the caller keeps alive and unchanged (difftest
    makes one list per keyspace for all revisions), so the executor also sees the same text
    objects and reads their segments once (execute.Executor).
    """

    def __init__(self) -> None:
        self._parts: dict[int, tuple[Sequence[str], tuple[str, list[str], list[int]]]] = {}
        self._joined: dict[tuple[int, int, int], str] = {}

    def parts(self, batches: Sequence[str]) -> tuple[str, list[str], list[int]]:
        got = self._parts.get(id(batches))
        if got is None or got[0] is not batches:
            got = self._parts[id(batches)] = (batches, _bodies(batches))
        return got[1]

    def joined(self, batches: Sequence[str], i: int, j: int) -> str:
        header, bodies, _ = self.parts(batches)
        key = (id(batches), i, j)
        text = self._joined.get(key)
        if text is None:
            text = self._joined[key] = header + "w\n".join(bodies[i:j])
        return text


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
        j = _next_join(sizes, i) if joined else i + 1
        if j - i == 1:
            out.append(run(batches[i]))
            i += 1
            continue
        got = _split(run(joiner.joined(batches, i, j)), sizes[i:j])
        if got is None:  # not a harness that knows `w`: no more joining
            joined = False
        elif not got:  # stopped between the first two batches, in no batch's own operations
            out.append(run(batches[i]))
            i += 1
        else:
            out.extend(got)
            i += len(got)
    return out


def _split(whole: Outcome, sizes: Sequence[int]) -> list[Outcome] | None:
    """The outcomes of the joined batches (of `sizes` operations each) that `whole` decides.

    Every batch before the one where the run stopped, and that one too when the run's lines
    say where it stopped; None when the trace does not fit the batch (the runner ignores `w`).
    """
    if whole.status == "error" and whole.kind == "batch":
        return None  # each batch alone is valid: the joining was rejected
    lines, got, at = whole.lines, [], 0
    last = len(sizes) - 1
    for j, n in enumerate(sizes):
        end = at + n
        if len(lines) > end and j < last:  # this batch and its `w` are done
            if lines[end] != "ok":
                return None
            got.append(Outcome("ok", lines[at:end]))
            at = end + 1
            continue
        if len(lines) > end:
            return None  # more lines than operations
        if whole.status == "ok":
            if j == last and len(lines) == end:
                got.append(Outcome("ok", lines[at:end], whole.kind))
                return got
            return None  # ended well before the end
        if len(lines) == end and j < last:
            return got  # stopped inside the `w`, in no batch's operations: run the next again
        if whole.kind == "timeout":
            # Killed from outside: its lines end at the last flush, anywhere before the real
            # stop, so this batch is run again (alone when it is the first).
            return got
        got.append(Outcome(whole.status, lines[at:], whole.kind))
        return got
    return got


def _run_hashed(run: Runner, batches: Sequence[str], joiner: Joiner | None = None) -> list[tuple[Outcome, str]]:
    """run_joined, each outcome with its hash (made in the worker, while others' programs run)."""
    return [(outcome, outcome_hash(outcome)) for outcome in run_joined(run, batches, joiner)]


DIGEST = "#digest "

class _SameAsReference:
    """In a revision's outcomes: this seed's is the reference's (looked up when needed)."""

    def __repr__(self) -> str:
        return "SAME_AS_REFERENCE"


SAME_AS_REFERENCE = _SameAsReference()


def trace_digest(outcome: Outcome) -> str:
    """The digest line the harness writes for a segment that ran these result lines."""
    return _digest_of("".join(line + "\n" for line in outcome.lines).encode())


def _digest_of(body: bytes) -> str:
    """The digest line of result lines as written (each with its newline)."""
    return f"{DIGEST}{zlib.crc32(body):08x} {zlib.adler32(body):08x} {len(body)}"


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
        j = _next_join(sizes, i)
        got = _split_digests(run.digests(joiner.joined(batches, i, j)), sizes[i:j])
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


def _split_digests(whole: Outcome, sizes: Sequence[int]) -> tuple[list[Outcome | str], bool] | None:
    """What a digest-mode run decides: the batches it settled, in order, and whether the next
    one must be run alone (True) — or None when its lines do not fit the batches."""
    lines, items, k = whole.lines, [], 0
    last = len(sizes) - 1
    for j, n in enumerate(sizes):
        if k < len(lines) and lines[k].startswith(DIGEST):
            items.append(lines[k])
            k += 1
            if j < last:
                if k < len(lines) and lines[k] == "ok":
                    k += 1
                    continue
                if k == len(lines) and whole.status != "ok":
                    return items, True  # stopped inside the `w`: the next batch alone
                return None
            if k == len(lines) and whole.status == "ok":
                return items, False
            if k == len(lines):
                return items[:-1], True  # died after its last line: let a whole run say how
            return None
        if whole.status == "ok" or (whole.status == "error" and whole.kind == "batch"):
            return None  # a finished segment without a digest: not digest mode
        own = lines[k:]
        if len(own) > n:
            return None
        if whole.kind == "timeout" or own[:1] == ("#dropped",):
            return items, True  # its lines are not all here: run it alone
        items.append(Outcome(whole.status, own, whole.kind))
        return items, False
    return items, False


def _run_digest_hashed(run, batches: Sequence[str], joiner: Joiner | None = None) -> list[tuple[Outcome | str, str | None]]:
    """run_digested, each Outcome with its hash (a digest is matched later, with the reference's)."""
    return [(item, None if isinstance(item, str) else outcome_hash(item)) for item in run_digested(run, batches, joiner)]


class ReferenceProcess:
    """The Python reference on every batch, in a forked child, while this process runs the
    programs: the reference is pure Python, and beside it this interpreter only waits for
    programs, so on two cores they no longer take turns at one interpreter lock.

    The child sends back, per batch, the reference's trace text, its outcome's `outcome_hash`
    and its `trace_digest` (the same values the calling thread would compute), made from the
    text without cutting it into lines: most seeds need nothing more.
    """

    def __init__(self, batches: Sequence[str], subject: Subject | None = None):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        run_batch = (subject or subjects.default()).run_batch
        self._process = context.Process(target=_reference_child, args=(batches, send, run_batch), daemon=True)
        self._process.start()
        send.close()

    @staticmethod
    def available() -> bool:
        import multiprocessing

        return "fork" in multiprocessing.get_all_start_methods()

    def result(self) -> list[tuple[str, str, str]]:
        try:
            got = self._receive.recv()
        except EOFError:
            self.close()
            raise ArcheoError(f"the reference process died (exit {self._process.exitcode}); run with --jobs 1 to see why") from None
        self._process.join()
        self._receive.close()
        return got

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receive.close()


def _reference_child(batches: Sequence[str], send, run_batch: Callable[[str], str]) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    out = []
    for batch in batches:
        text = run_batch(batch)
        if not text.endswith("END\n"):
            raise AssertionError("the reference's trace does not end with END")
        body = text[:-4].encode()  # the result lines, each with its newline
        out.append((text, _hash_of("ok", "", body[:-1]), _digest_of(body)))  # made from the text, not lines
    send.send(out)
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

    def match(self, i: int, lacks: frozenset, digest: str) -> tuple[Outcome, str] | None:
        """(outcome, hash) of seed i's restricted reference when `digest` is its digest."""
        key = (i, lacks)
        if key not in self._made:
            lines = tuple("NA" if code in lacks else line for code, line in zip(self._codes[i], self._ref_out[i].lines))
            outcome = Outcome("ok", lines)
            self._made[key] = (trace_digest(outcome), outcome, outcome_hash(outcome))
        made_digest, outcome, made_hash = self._made[key]
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


def outcome_hash(outcome: Outcome) -> str:
    """Equal hashes, equal behaviour. A hang's kind (CPU budget or wall clock) depends on the
    machine's load, not on the code, so it is left out; a crash's signal is kept."""
    kind = "" if outcome.status == "hang" else outcome.kind
    return _hash_of(outcome.status, kind, "\n".join(outcome.lines).encode())


def _hash_of(status: str, kind: str, joined: bytes) -> str:
    """outcome_hash from the result lines joined by newlines, as bytes."""
    h = hashlib.sha256(f"{status}\0{kind}\0".encode())
    h.update(joined)
    return h.hexdigest()


# ---------------------------------------------------------------- the differential run
def difftest(
    subjects: Sequence[tuple[str, Runner | None]],
    settings: Settings = Settings(),
    reference: Runner | None = None,
    jobs: int = 2,
    releases: Callable[[str, str | None], list[str]] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    shrink: bool = True,
    combine: bool = True,
    confirm: bool = True,
    parents: dict[str, tuple[str, ...]] | None = None,
    sequences: Sequence[tuple[int, list[opslib.Op]]] | None = None,
) -> DifftestResult:
    """Run every subject (commit, runner or None when it did not build) and the reference.

    `subjects` are in history order; each is compared with the reference and with the previous
    subject that built. `releases(introduced, ended)` names the release tags carrying a change.
    `combine` joins each revision's seeds into one batch per keyspace (see `run_joined`);
    False runs one batch per seed, for the same result. `parents` (commit -> the revisions it
    descends from, `Revision.parents`) makes "previous" the nearest tested ancestor rather than
    the subject listed before, which differ on a branchy history. `sequences` are
    `settings.sequences()` made beforehand (they are generated when not given). `confirm=False`
    believes every outcome as it came (confirm.py; for measuring what confirming costs only).

    The default reference (archeo's Python tree) runs in a forked process when `jobs` > 1, so
    it holds neither this interpreter's lock nor the programs' threads back; a `reference`
    given runs here, in the calling thread.
    """
    subject = settings.of()
    apart = reference is None and jobs > 1 and ReferenceProcess.available()
    reference = reference or reference_runner(subject)
    if sequences is None:
        sequences = settings.sequences()
    elif [seed for seed, _ in sequences] != [settings.first_seed + i for i in range(settings.seeds)]:
        raise ValueError("difftest: the sequences given are not those of the settings")
    batches = settings.batches(sequences)
    codes = [[op.code for op in ops] for _, ops in sequences]
    tick = progress or (lambda stage, done, total: None)

    # Seeds with the same header (keyspace) can share a process; in seed order within each.
    groups: dict[str, list[int]] = {}
    for i, batch in enumerate(batches):
        groups.setdefault(batch[: batch.find("\n")] if combine else str(i), []).append(i)

    built = [(commit, run) for commit, run in subjects if run is not None]
    outs: dict[str, list[Outcome]] = {}
    total = len(built) * len(batches)
    done = 0
    # A runner given for several commits (the same program: pipeline.shared_runners) runs once.
    first_of: dict[int, str] = {}
    for commit, run in built:
        first_of.setdefault(id(run), commit)
    elsewhere = ReferenceProcess(batches, subject) if apart else None  # forked before any thread starts
    whole = _WholeTraces(batches, groups)
    compared: dict[tuple[int, str, str], Verdict] = {}  # the same two outcomes of a seed: compared once

    def verdict_of(i: int, a_out, b_out, a_hash, b_hash) -> Verdict | None:
        """compare() of seed i's two outcomes (None when their hashes are equal), made once."""
        if a_hash[i] == b_hash[i]:
            return None
        verdict = compared.get((i, a_hash[i], b_hash[i]))
        if verdict is None:
            oa, ob = (ref_out[i] if o is SAME_AS_REFERENCE else o for o in (a_out[i], b_out[i]))
            other_way = compared.get((i, b_hash[i], a_hash[i]))
            verdict = swapped(other_way, ob, oa) if other_way is not None else None
            if verdict is None:
                verdict = compare(codes[i], oa, ob, subject.line_level)
            compared[i, a_hash[i], b_hash[i]] = verdict
        return verdict

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        # One batch list per keyspace, shared by every revision, so the joined texts are made once.
        joiner = Joiner()
        group_batches = [(seeds, [batches[i] for i in seeds]) for seeds in groups.values()]
        futures = {
            commit: [
                (seeds, pool.submit(_run_digest_hashed if hasattr(run, "digests") else _run_hashed, run, listed, joiner))
                for seeds, listed in group_batches
            ]
            for commit, run in built
            if first_of[id(run)] == commit
        }
        hashes: dict[str, list[str]] = {}
        runner_of = dict(built)
        tick("reference", 0, len(batches))
        ref_out, ref_hash, ref_digest = [], [], []
        if elsewhere is None:  # the reference here, while the programs' threads wait for them
            for i, batch in enumerate(batches):
                ref_out.append(reference(batch))
                ref_hash.append(outcome_hash(ref_out[-1]))
                ref_digest.append(trace_digest(ref_out[-1]))
                tick("reference", i + 1, len(batches))
        else:
            texts = []
            for text, text_hash, digest in elsewhere.result():
                texts.append(text)
                ref_hash.append(text_hash)
                ref_digest.append(digest)
            ref_out = _Traces(texts)  # cut into lines only where a revision differs
            tick("reference", len(batches), len(batches))
        # Each revision as its programs finish: digests against the reference's, the differing
        # ones read whole, then compared with the reference and with the revision before while
        # the later programs still run (the verdicts below find these comparisons made).
        before: str | None = None
        restricted = _Restricted(ref_out, codes, subject)
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
            if confirm:  # before any comparison
                settle_seeds(runner_of[commit], batches, found, digests, outcome_hash)
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
    if confirm:  # shrinking believes confirmed outcomes only: a false hang would steer it (and the JSON)
        runners = {name: Confirmed(run) for name, run in runners.items()}

    def pair(a: str, b: str, a_out, b_out, a_hash, b_hash) -> PairVerdict:
        """Strongest level over all seeds, every level seen, and the first seed showing each."""
        best: tuple[Verdict, int] | None = None
        seen: dict[str, int] = {}
        for i, (seed, _) in enumerate(sequences):
            verdict = verdict_of(i, a_out, b_out, a_hash, b_hash)
            if verdict is None:
                continue
            for level in verdict.firsts:
                seen.setdefault(level, seed)
            if verdict.level != Level.SAME and (best is None or verdict.level > best[0].level):
                best = (verdict, i)
        if best is None:
            return PairVerdict(other=a, level=Level.SAME)
        verdict, i = best
        levels = tuple(sorted(seen.items(), key=lambda item: -Level(item[0]).rank))
        return PairVerdict(other=a, level=verdict.level, seed=sequences[i][0], detail=verdict.detail, levels=levels)

    reference_behaviour = hashlib.sha256("".join(ref_hash).encode()).hexdigest()[:16]
    verdicts: list[RevisionVerdict] = []
    listed_before: str | None = None
    for commit, run in subjects:
        if run is None:
            verdicts.append(RevisionVerdict(commit, "build-failed", None, None, error="did not build"))
            continue
        vs_ref = pair(REFERENCE, commit, ref_out, outs[commit], ref_hash, hashes[commit])
        vs_prev = None
        previous = _tested_ancestor(commit, parents, outs) if parents is not None else listed_before
        if previous is not None:
            vs_prev = pair(previous, commit, outs[previous], outs[commit], hashes[previous], hashes[commit])
        behaviour = hashlib.sha256("".join(hashes[commit]).encode()).hexdigest()[:16]
        verdicts.append(RevisionVerdict(commit, "tested", vs_ref, vs_prev, behaviour))
        listed_before = commit

    # Shrink every difference once per (behaviour, other side's behaviour) and reuse the witness.
    if shrink:
        seq_by_seed = {seed: ops for seed, ops in sequences}
        memo: dict[tuple, Witness | None] = {}
        behaviour_of = {v.commit: v.behaviour for v in verdicts if v.status == "tested"}
        behaviour_of[REFERENCE] = reference_behaviour
        shrunk = []
        tick("shrinking", 0, len(verdicts))
        for v in verdicts:
            new = {}
            for name in ("vs_reference", "vs_previous"):
                pv: PairVerdict | None = getattr(v, name)
                if pv is None or pv.level == Level.SAME:
                    continue
                found = []
                for level, seed in pv.levels:
                    if level == Level.FLAKY:  # not shrunk: the runs as they came
                        i = seed - settings.first_seed
                        a_out, b_out = (ref_out[i] if o is SAME_AS_REFERENCE else o for o in (outs.get(pv.other, ref_out)[i], outs[v.commit][i]))
                        parts = flaky_witness_parts(seq_by_seed[seed], a_out, b_out)
                        found.append(Witness(a=pv.other, b=v.commit, level=level, seed=seed, **parts))
                        continue
                    # Levels are symmetric and equal behaviours give equal traces, so one
                    # witness serves every pair of the same two behaviours, in either order.
                    key = (*sorted((behaviour_of[pv.other], v.behaviour)), level)
                    witness = memo.get(key)
                    # (a level shrinking could not isolate stays None in the memo: not retried)
                    if key not in memo or (witness is not None and not _still_shows(witness.ops, runners[pv.other], runners[v.commit], level, subject)):
                        witness = checked(lambda: find_witness(  # noqa: B023 (called here, at once)
                            seq_by_seed[seed], seed, pv.other, v.commit, runners[pv.other], runners[v.commit], level, subject
                        ), runners[pv.other], runners[v.commit])
                        memo[key] = witness
                    witness = witness and _relabel(witness, pv.other, v.commit, runners, subject)
                    if witness is not None:
                        found.append(witness)
                new[name] = replace(pv, witnesses=tuple(found))
            shrunk.append(replace(v, **new) if new else v)
            tick("shrinking", len(shrunk), len(verdicts))
        verdicts = shrunk

    changes = attribute(verdicts, releases)
    classes = equivalence_classes(verdicts)
    return DifftestResult(
        settings=settings,
        revisions=verdicts,
        changes=changes,
        classes=classes,
        reference_runs=len(batches),
        program_runs=total,
    )


def _relabel(w: Witness, a: str, b: str, runners: dict[str, Runner], subject: Subject) -> Witness | None:
    """A witness found for an equivalent pair, re-run on this pair so both outcomes are its own;
    None when this pair does not show its level on it (a run that did not reproduce)."""
    if (w.a, w.b) == (a, b):
        return w
    again = _witness(w.ops, w.seed, a, b, runners[a], runners[b], w.level, w.original_length, subject)
    sides = Outcome(again.a_status, again.a_lines, again.a_kind), Outcome(again.b_status, again.b_lines, again.b_kind)
    return again if compare([opslib.Op.parse(t).code for t in w.ops], *sides, subject.line_level).level == w.level else None


def _still_shows(tokens: Sequence[str], a: Runner, b: Runner, level: str, subject: Subject) -> bool:
    ops = [opslib.Op.parse(t) for t in tokens]
    return _level_on(ops, a, b, subject) == level


def _level_on(ops: Sequence[opslib.Op], a: Runner, b: Runner, subject: Subject) -> Level:
    batch = opslib.encode(ops)
    return compare([op.code for op in ops], a(batch), b(batch), subject.line_level).level


def _witness(tokens, seed, a_name, b_name, a: Runner, b: Runner, level, original_length, subject: Subject) -> Witness:
    ops = [opslib.Op.parse(t) if isinstance(t, str) else t for t in tokens]
    batch = opslib.encode(ops)
    oa, ob = a(batch), b(batch)
    trees = _trees(ops, a, b, oa, ob, subject)
    return Witness(
        a=a_name,
        b=b_name,
        level=level,
        seed=seed,
        ops=tuple(str(op) for op in ops),
        a_lines=oa.lines,
        b_lines=ob.lines,
        a_status=oa.status,
        b_status=ob.status,
        a_kind=oa.kind,
        b_kind=ob.kind,
        original_length=original_length,
        tree_after=None if trees is None else trees[0],
        a_tree=None if trees is None else trees[1],
        b_tree=None if trees is None else trees[2],
    )


def _trees(ops: Sequence[opslib.Op], a: Runner, b: Runner, oa: Outcome, ob: Outcome, subject: Subject) -> tuple[int, str | None, str | None] | None:
    """Both sides' trees (the subject's dumps) at the point that matters, or None when neither side holds a tree.

    That point is the end of the witness, or — when a side crashed or hung — just before the
    operation that stopped it, so a crash or a hang is drawn with the broken tree that caused it.
    A dump (`d`) is bounded by the harness, so a cycle shows as a node met again, not a hang.
    """
    stopped = [len(o.lines) for o in (oa, ob) if o.status != "ok"]
    after = min([len(ops), *stopped])
    probe = [*ops[:after], opslib.Op(subject.dump)]
    batch = opslib.encode(probe)
    dumps = []
    for run in (a, b):
        lines = run(batch).lines
        dumps.append(lines[after] if len(lines) > after and subject.is_dump(lines[after]) else None)
    if not any(subject.holds_structure(d) for d in dumps):
        return None
    return after, dumps[0], dumps[1]


def find_witness(
    ops: list[opslib.Op], seed: int, a_name: str, b_name: str, a: Runner, b: Runner, level: str, subject: Subject | None = None
) -> Witness | None:
    """Shrink `ops` to a minimal list on which a and b still differ at exactly `level`.

    Before delta debugging, the sequence is cut just after the first operation that shows the
    difference: for `structural` and `invariant` differences (seen only at `d`/`v` checkpoints)
    a dense replay with a checkpoint after every operation finds that operation first.
    """

    subject = subject or subjects.default()

    def still(candidate: Sequence[opslib.Op]) -> bool:
        return bool(candidate) and _level_on(candidate, a, b, subject) == level

    batch = opslib.encode(ops)
    verdict = compare([op.code for op in ops], a(batch), b(batch), subject.line_level)
    if level not in verdict.firsts:
        return None
    cut = list(ops[: verdict.firsts[level] + 1])
    if level in (Level.STRUCTURAL, Level.INVARIANT):
        dense = _dense_cut(cut, a, b, level, subject)
        if dense is not None:
            cut = dense
    if not still(cut):
        cut = list(ops)
        if not still(cut):
            return None  # this level shows only behind a stronger one on this sequence
    # Trees are forgotten at a reset (rbtree: `x`): what came before the last one rarely matters.
    resets = [i for i, op in enumerate(cut) if op.code == subject.reset] if subject.reset else []
    if resets and still(cut[resets[-1] + 1 :]):
        cut = cut[resets[-1] + 1 :]
    try:
        small = opslib.shrink(cut, still, reset=subject.reset)
    except ValueError:  # the shrinker asked again and was told otherwise: it does not reproduce
        return None
    return _witness(small, seed, a_name, b_name, a, b, level, len(ops), subject)


def _dense_cut(ops: list[opslib.Op], a: Runner, b: Runner, level: str, subject: Subject) -> list[opslib.Op] | None:
    """Replay with a dump (or, for an invariant, a verify) after every operation and cut at the first that differs."""
    probes = (subject.dump, subject.verify)
    probe = opslib.Op(subject.verify if level == Level.INVARIANT else subject.dump)
    dense, origin = [], []
    for i, op in enumerate(ops):
        dense.append(op)
        origin.append(i)
        if op.code not in probes:
            dense.append(probe)
            origin.append(i)
    batch = opslib.encode(dense)
    verdict = compare([op.code for op in dense], a(batch), b(batch), subject.line_level)
    first = verdict.firsts.get(level, verdict.index)
    if first is None:
        return None
    i = origin[first]
    return list(ops[: i + 1]) + ([probe] if ops[i].code not in probes else [])


# ---------------------------------------------------------------- attribution
def _tested_ancestor(commit: str, parents: dict[str, tuple[str, ...]], tested: dict) -> str | None:
    """The nearest ancestor (first parents first) that was tested: deleted or unbuilt ones are skipped."""
    queue, seen = list(parents.get(commit, ())), set()
    while queue:
        candidate = queue.pop(0)
        if candidate in seen:
            continue
        seen.add(candidate)
        if candidate in tested:
            return candidate
        queue.extend(parents.get(candidate, ()))
    return None


# ---------------------------------------------------------------- JSON
def _pair_json(pv: PairVerdict | None):
    return None if pv is None else pv.level


def to_json(result: DifftestResult) -> dict:
    """The `archeo difftest --json` document: plain, ordered, deterministic."""
    return {
        "schema": schemas.DIFFTEST,
        "settings": result.settings.as_dict(),
        "revisions": [
            {
                "commit": v.commit,
                "status": v.status,
                "vs_reference": _pair_json(v.vs_reference),
                "vs_previous": _pair_json(v.vs_previous),
                "previous": v.vs_previous.other if v.vs_previous else None,
                "behaviour": v.behaviour,
                "levels": {
                    name: [level for level, _ in pv.levels]
                    for name, pv in (("vs_reference", v.vs_reference), ("vs_previous", v.vs_previous))
                    if pv is not None and pv.levels
                },
                "witnesses": {
                    name: [w.as_dict() for w in pv.witnesses]
                    for name, pv in (("vs_reference", v.vs_reference), ("vs_previous", v.vs_previous))
                    if pv is not None and pv.witnesses
                },
            }
            for v in result.revisions
        ],
        "changes": [
            {
                "introduced_by": c.introduced_by,
                "ended_by": c.ended_by,
                "level": c.level,
                "previous": c.previous,
                "detail": c.detail,
                "untested_between": list(c.untested_between),
                "witness": list(c.witness.ops) if c.witness else [],
                "outcomes": c.witness.as_dict() if c.witness else None,
                "levels": list(c.levels or (c.level,)),
                "witnesses": [w.as_dict() for w in c.witnesses],
                "releases": list(c.releases),
            }
            for c in result.changes
        ],
        "classes": result.classes,
        "strongest": Level.strongest(v.vs_reference.level for v in result.revisions if v.vs_reference),
    }
