"""The rbtree's bounded exhaustive material: what the mutation tester's equivalence check runs
(archeo/equivalence.py), and a subject's to define, since only the subject knows its operations.

Every operation sequence up to a small length over a few keys, each followed by probes of the
whole state (dump, verify, first/last, find/next/prev/empty of every key), and every insertion
order of 7 keys followed by no or one erase (of 6 keys, by two), each followed by a dump and a
check — every shape the insert and erase repairs meet up to that size.

When the run mixes later API groups in (cached, postorder, augmented, search, ...), the material
grows by each group's own: every sequence of up to GROUP_LENGTH of the group's modifying ops and
inserts and erases over the same keys, and every insertion order of GROUP_TREE_KEYS keys through
each of its inserts, with no or one erase through each of its erases, each followed by the core
probes and every group probe (cached leftmost, the postorder walk, rb_find/rb_find_first/
rb_next_match of every key) and by a larger tree's group probes. Without groups the material is
exactly the core's, so a core-only history is checked as before.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

from ... import ops as opslib
from ..base import Bounded
from . import generate

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
    tail = (generate.DUMP, generate.VERIFY, generate.FIRST, generate.LAST)
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
    keyspace = max(KEYS, TREE_KEYS, PAIR_KEYS)
    return Bounded(segments, opslib.encode(ops, keyspace), tuple(op.code for op in ops), keyspace, _describe(len(segments)))


def _describe(count: int) -> str:
    return (
        f"every sequence of up to {LONG} inserts and erases and of up to {SHORT} inserts, erases, "
        f"clears and replaces over keys 0..{KEYS - 1}, each followed by {len(_probes())} probes; every "
        f"insertion order of {TREE_KEYS} keys with no or one erase, and of {PAIR_KEYS} keys with two "
        f"({count:,} sequences)"
    )
