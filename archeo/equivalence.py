"""Is a surviving mutant equivalent to its original? Only when shown to be.

A mutant that no seeded sequence tells apart from its original may still differ: the seeds
simply missed it. Presuming every survivor equivalent makes the kill score 100 % by
construction, so a survivor counts as equivalent only when one of two checks shows it:

1. **Trivial compiler equivalence** (Papadakis et al., ICSE 2015): the mutant's own
   translation unit compiles to the same object code, byte for byte, as the unmutated
   unit's (both printed back from the AST, compiled with the same flags from the same
   file name), so no input can tell them apart.
2. **A bounded exhaustive check**: every operation sequence up to a small length over a few
   keys, each followed by probes of the whole state (dump, verify, first/last, find/next/prev/
   empty of every key), and every insertion order of 7 keys followed by no or one erase (of 6
   keys, by two), each followed by a dump and a check — every shape the insert and erase
   repairs meet up to that size — joined into one batch by `w` and run in digest mode, so the
   two programs' traces are compared segment by segment. No difference on any of them shows
   equivalence within those bounds; a difference is the sequence the mutant escapes by.

When the run mixes later API groups in (cached, postorder, augmented, search, ...), the bounded
material grows by each group's own: every sequence of up to GROUP_LENGTH of the group's
modifying ops and inserts and erases over the same keys, and every insertion order of
GROUP_TREE_KEYS keys through each of its inserts, with no or one erase through each of its
erases, each followed by the core probes and every group probe (cached leftmost, the postorder
walk, rb_find/rb_find_first/rb_next_match of every key) and by a larger tree's group probes.
Without groups the material is exactly the core's, so a core-only history is checked as before.

Everything else a survivor does — a difference on the deeper seeds, or on the bounded
sequences — counts against the kill score, listed with the sequence that shows it.
"""

from __future__ import annotations

import itertools
import subprocess
import tempfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from . import ops as opslib
from .subjects.rbtree import generate as rbgen
from .compare import compare
from .confirm import Confirmed, Confirmer, settle
from .difftest.protocol import DIGEST

KEYS = 4  # keys 0..3
LONG = 5  # every insert/erase sequence up to this length...
SHORT = 3  # ...and every sequence of any modifying operation up to this one
TREE_KEYS = 7  # every insertion order of 7 keys, then no erase or any one erase...
PAIR_KEYS = 6  # ...and of 6 keys, then any two erases: every shape erase repairs, up to that size
LONG_CODES = "ie"
SHORT_CODES = "iecr"  # RB_CLEAR_NODE and rb_replace_node too
PROBE_BARE = "dv<>"
PROBE_KEYED = "fnpz"
GROUP_LENGTH = 3  # every sequence of a group's modifying ops (with i and e) up to this length
GROUP_TREE_KEYS = 6  # every insertion order of 6 keys through a group's insert, then no or one erase
#: per group: its modifying ops that insert, those that erase or replace, its bare and keyed probes
GROUP_MATERIAL = {
    "cached": ("I", "ER", "L", ""),
    "postorder": ("", "", "P", ""),
    "augmented": ("A", "B", "", ""),
    "augment2010": ("a", "b", "", ""),
    "search": ("+&", "", "", "?[]"),
    "rcu": ("", "u", "", ""),
}


@dataclass(frozen=True)
class Bounded:
    """The bounded exhaustive material: one joined batch and where each segment starts."""

    segments: tuple[tuple[opslib.Op, ...], ...]  # each a sequence with its probes
    text: str  # the segments joined by `w`
    codes: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"every sequence of up to {LONG} inserts and erases and of up to {SHORT} inserts, erases, "
            f"clears and replaces over keys 0..{KEYS - 1}, each followed by {len(_probes())} probes; every "
            f"insertion order of {TREE_KEYS} keys with no or one erase, and of {PAIR_KEYS} keys with two "
            f"({len(self.segments):,} sequences)"
        )


def _probes() -> list[opslib.Op]:
    return [opslib.Op(c) for c in PROBE_BARE] + [opslib.Op(c, k) for c in PROBE_KEYED for k in range(KEYS)]


def _sequences():
    """Short sequences of every modifying operation over a few keys, each with every probe."""
    seen = set()
    probes = tuple(_probes())
    for length, codes in [(n, LONG_CODES) for n in range(LONG + 1)] + [(n, SHORT_CODES) for n in range(SHORT + 1)]:
        alphabet = [opslib.Op(c, k) for c in codes for k in range(KEYS)]
        for seq in itertools.product(alphabet, repeat=length):
            if seq not in seen:
                seen.add(seq)
                yield seq + probes


def _trees():
    """Larger trees: every insertion order, then erases, each followed by a dump and a check
    (shape, colours and invariants say everything about a tree of this size)."""
    tail = (rbgen.DUMP, rbgen.VERIFY, rbgen.FIRST, rbgen.LAST)
    for order in itertools.permutations(range(TREE_KEYS)):
        inserts = tuple(opslib.Op("i", k) for k in order)
        yield inserts + tail
        for k in range(TREE_KEYS):
            yield inserts + (opslib.Op("e", k),) + tail
    for order in itertools.permutations(range(PAIR_KEYS)):
        inserts = tuple(opslib.Op("i", k) for k in order)
        for a, b in itertools.permutations(range(PAIR_KEYS), 2):
            yield inserts + (opslib.Op("e", a), opslib.Op("e", b)) + tail


def _group_probes(groups: tuple[str, ...]) -> tuple[opslib.Op, ...]:
    probes = list(_probes())
    for g in groups:
        _, _, bare, keyed = GROUP_MATERIAL[g]
        probes += [opslib.Op(c) for c in bare] + [opslib.Op(c, k) for c in keyed for k in range(KEYS)]
    return tuple(probes)


def _group_segments(groups: tuple[str, ...]):
    """Each group's own sequences and trees (see the module docstring), probed by every group."""
    probes = _group_probes(groups)
    seen = set()
    for g in groups:
        inserts, erases, _, _ = GROUP_MATERIAL[g]
        codes = "ie" + inserts + erases
        alphabet = [opslib.Op(c, k) for c in codes for k in range(KEYS)]
        for length in range(GROUP_LENGTH + 1):
            for seq in itertools.product(alphabet, repeat=length):
                if seq not in seen:
                    seen.add(seq)
                    yield seq + probes
        for insert in "i" + inserts:
            for order in itertools.permutations(range(GROUP_TREE_KEYS)):
                tree = tuple(opslib.Op(insert, k) for k in order)
                if tree in seen:
                    continue
                seen.add(tree)
                yield tree + probes
                for erase in "e" + erases:
                    for k in range(GROUP_TREE_KEYS):
                        yield tree + (opslib.Op(erase, k),) + probes


@lru_cache(maxsize=4)
def bounded(groups: tuple[str, ...] = ()) -> Bounded:
    """The material, made once per process and groups (without groups about 100,000 sequences,
    2 M operations; each group adds its own, see the module docstring)."""
    segments = tuple(_sequences()) + tuple(_trees()) + tuple(_group_segments(tuple(g for g in groups if g in GROUP_MATERIAL)))
    ops: list[opslib.Op] = []
    for i, seg in enumerate(segments):
        if i:
            ops.append(opslib.WIPE)
        ops.extend(seg)
    return Bounded(segments, opslib.encode(ops, max(KEYS, TREE_KEYS, PAIR_KEYS)), tuple(op.code for op in ops))


def first_differing_segment(original_lines, mutant_lines) -> int | None:
    """The segment whose digest line first differs (digest mode: one line per segment, then `ok`
    for each `w`), or None when the two digest traces are equal."""
    for i, (a, b) in enumerate(itertools.zip_longest(original_lines, mutant_lines)):
        if a != b:
            return i // 2
    return None


def bounded_difference(original_runner, mutant_runner, groups: tuple[str, ...] = (),
                       confirmer: Confirmer | None = None) -> tuple[str, tuple[str, ...], str] | None:
    """(level, the escaping sequence, detail) of the first bounded sequence the two programs
    treat differently, or None when they agree on every one. `groups`: the later API groups
    the run mixes in, whose own material joins the core's. `confirmer`: the calling run's
    (confirm.py), whose confirming runs it shares; without one, this call's own."""
    if confirmer is None:
        with Confirmer() as own:
            return bounded_difference(original_runner, mutant_runner, groups, own)
    material = bounded(tuple(groups))
    # A timing limit or a crash is a suspicion here too (archeo/confirm.py): settled before use.
    original_runner, mutant_runner = Confirmed(original_runner, confirmer), Confirmed(mutant_runner, confirmer)
    a, b = (_settled_digests(r.runner, material.text, confirmer) for r in (original_runner, mutant_runner))
    if a.status == b.status and a.kind == b.kind and a.lines == b.lines:
        return None
    index = first_differing_segment(a.lines, b.lines)
    if index is None:  # the same lines, a different ending (a crash after the last segment)
        index = len(material.segments) - 1
    segment = material.segments[min(index, len(material.segments) - 1)]
    batch = opslib.encode(segment, max(KEYS, TREE_KEYS, PAIR_KEYS))
    verdict = compare([op.code for op in segment], original_runner(batch), mutant_runner(batch))
    if verdict.level == "same":
        # Alone it agrees: the difference needs the segments before it (state a revision kept
        # outside its nodes). Still a difference, shown by the whole batch.
        verdict = compare(list(material.codes), original_runner(material.text), mutant_runner(material.text))
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


__all__ = ["Bounded", "bounded", "bounded_difference", "object_code", "same_object_code"]
