"""Reading the batch and trace protocol (docs/protocol.md) as the differential run uses it.

The one place that knows how batches are joined with `w` and how a joined trace, or a
digest-mode trace, is cut back into one outcome per batch; and how an outcome is hashed and
digested, so equal hashes mean equal behaviour and a digest line matches the harness's.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Sequence

from ..compare import Outcome

JOIN_OPS = 1_000_000  # at most this many operations in one joined batch (more seeds: more batches)
DIGEST = "#digest "


def bodies(batches: Sequence[str]) -> tuple[str, list[str], list[int]]:
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


def next_join(sizes: Sequence[int], i: int) -> int:
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
            got = self._parts[id(batches)] = (batches, bodies(batches))
        return got[1]

    def joined(self, batches: Sequence[str], i: int, j: int) -> str:
        header, bodies, _ = self.parts(batches)
        key = (id(batches), i, j)
        text = self._joined.get(key)
        if text is None:
            text = self._joined[key] = header + "w\n".join(bodies[i:j])
        return text



def split_joined(whole: Outcome, sizes: Sequence[int]) -> list[Outcome] | None:
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



def trace_digest(outcome: Outcome) -> str:
    """The digest line the harness writes for a segment that ran these result lines."""
    return digest_of("".join(line + "\n" for line in outcome.lines).encode())


def digest_of(body: bytes) -> str:
    """The digest line of result lines as written (each with its newline)."""
    return f"{DIGEST}{zlib.crc32(body):08x} {zlib.adler32(body):08x} {len(body)}"



def split_digests(whole: Outcome, sizes: Sequence[int]) -> tuple[list[Outcome | str], bool] | None:
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



def outcome_hash(outcome: Outcome) -> str:
    """Equal hashes, equal behaviour. A hang's kind (CPU budget or wall clock) depends on the
    machine's load, not on the code, so it is left out; a crash's signal is kept."""
    kind = "" if outcome.status == "hang" else outcome.kind
    return hash_of(outcome.status, kind, "\n".join(outcome.lines).encode())


def hash_of(status: str, kind: str, joined: bytes) -> str:
    """outcome_hash from the result lines joined by newlines, as bytes."""
    h = hashlib.sha256(f"{status}\0{kind}\0".encode())
    h.update(joined)
    return h.hexdigest()
