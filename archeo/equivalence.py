"""Is a surviving mutant equivalent to its original? Only when shown to be.

A mutant that no seeded sequence tells apart from its original may still differ: the seeds
simply missed it. Presuming every survivor equivalent makes the kill score 100 % by
construction, so a survivor counts as equivalent only when one of two checks shows it:

1. **Trivial compiler equivalence** (Papadakis et al., ICSE 2015): the mutant's own
   translation unit compiles to the same object code, byte for byte, as the unmutated
   unit's (both printed back from the AST, compiled with the same flags from the same
   file name), so no input can tell them apart.
2. **A bounded exhaustive check**: the subject's bounded material (`Subject.bounded`; for the
   rbtree, archeo/subjects/rbtree/bounded.py: every short sequence over a few keys and every
   small tree's insertion orders, each probing the whole state, and the same for each API group
   the run mixes in), joined into one batch by `w` and run in digest mode, so the two
   programs' traces are compared segment by segment. No difference on any of them shows
   equivalence within those bounds; a difference is the sequence the mutant escapes by.

Everything else a survivor does — a difference on the deeper seeds, or on the bounded
sequences — counts against the kill score, listed with the sequence that shows it.
"""

from __future__ import annotations

import itertools
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from . import ops as opslib
from . import subjects
from .compare import compare
from .confirm import Confirmed, Confirmer, settle
from .difftest.protocol import DIGEST
from .subjects.base import Subject


def first_differing_segment(original_lines, mutant_lines) -> int | None:
    """The segment whose digest line first differs (digest mode: one line per segment, then `ok`
    for each `w`), or None when the two digest traces are equal."""
    for i, (a, b) in enumerate(itertools.zip_longest(original_lines, mutant_lines)):
        if a != b:
            return i // 2
    return None


def bounded_difference(original_runner, mutant_runner, groups: tuple[str, ...] = (),
                       confirmer: Confirmer | None = None, subject: Subject | None = None) -> tuple[str, tuple[str, ...], str] | None:
    """(level, the escaping sequence, detail) of the first bounded sequence the two programs
    treat differently, or None when they agree on every one. `groups`: the later API groups
    the run mixes in, whose own material joins the core's. `confirmer`: the calling run's
    (confirm.py), whose confirming runs it shares; without one, this call's own. `subject`:
    whose bounded material and line levels (the default subject's without one)."""
    if confirmer is None:
        with Confirmer() as own:
            return bounded_difference(original_runner, mutant_runner, groups, own, subject)
    subject = subject or subjects.default()
    material = subject.bounded(tuple(groups))
    # A timing limit or a crash is a suspicion here too (archeo/confirm.py): settled before use.
    original_runner, mutant_runner = Confirmed(original_runner, confirmer), Confirmed(mutant_runner, confirmer)
    a, b = (_settled_digests(r.runner, material.text, confirmer) for r in (original_runner, mutant_runner))
    if a.status == b.status and a.kind == b.kind and a.lines == b.lines:
        return None
    index = first_differing_segment(a.lines, b.lines)
    if index is None:  # the same lines, a different ending (a crash after the last segment)
        index = len(material.segments) - 1
    segment = material.segments[min(index, len(material.segments) - 1)]
    batch = opslib.encode(segment, material.keyspace)
    verdict = compare([op.code for op in segment], original_runner(batch), mutant_runner(batch), subject.line_level)
    if verdict.level == "same":
        # Alone it agrees: the difference needs the segments before it (state a revision kept
        # outside its nodes). Still a difference, shown by the whole batch.
        verdict = compare(list(material.codes), original_runner(material.text), mutant_runner(material.text), subject.line_level)
        if verdict.level == "same":
            return None
        return verdict.level, (f"the whole bounded batch ({len(material.segments):,} sequences)",), verdict.detail
    return verdict.level, tuple(str(op) for op in segment), verdict.detail


def _settled_digests(runner, text: str, confirmer: Confirmer):
    """The digest-mode outcome of `text`, a hang or crash run again with larger limits first.

    A run stopped in a segment wrote that segment's own lines, where the confirming run, which
    finishes it, writes its digest: so a stopped run is held to what it finished — its digest
    lines — and is believed stopped early when the confirming run agrees on those. (Compared
    line by line, the stopped segment's lines made every such pair `flaky`, and the bounded
    check then looked for the difference in the wrong segment.)"""
    first = runner.digests(text)
    if first.status == "hang":
        first = replace(first, lines=first.lines[: finished_digest_lines(first.lines)])
    return settle(first, lambda: confirmer.runner(runner).digests(text))


def finished_digest_lines(lines) -> int:
    """How many of a digest-mode run's first lines belong to segments it finished: each a digest
    line, then the `ok` of the `w` after it."""
    k = 0
    while k < len(lines) and lines[k].startswith(DIGEST):
        if k + 1 < len(lines) and lines[k + 1] == "ok":
            k += 2
        else:
            return k + 1
    return k


def object_code(builder, rev, model) -> bytes | None:
    """The revision's own translation unit compiled alone (no harness), as object-file bytes;
    None when it does not compile. `builder` gives the flags and the include layout."""
    command = builder.revision_compile(rev, model)
    if command is None:
        return None
    stage, argv = command
    with tempfile.TemporaryDirectory(prefix="archeo-tce-") as tmp:
        stage(Path(tmp))
        proc = subprocess.run([*argv, "-o", "archeo-tce.o"], cwd=tmp, capture_output=True, timeout=120)
        if proc.returncode != 0:
            return None
        return (Path(tmp) / "archeo-tce.o").read_bytes()


def same_object_code(builder, unit, model, mutant) -> bool:
    """Trivial compiler equivalence of `mutant` against the unmutated unit."""
    original = object_code(builder, unit.revision(), model)
    if original is None:
        return False
    return object_code(builder, unit.revision(mutant), model) == original


__all__ = ["bounded_difference", "object_code", "same_object_code"]
