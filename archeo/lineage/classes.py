"""Behaviour classes across histories: which revisions, of any project, behave alike.

Every revision was tested against the same reference on the same seeded sequences, so:

- a revision that differs from the reference at most by operations it lacks (`same`/`api`)
  belongs to the reference class `R`;
- the others are grouped first by the hash of all their outcomes (equal hashes, identical
  behaviour), then groups are merged when their programs, run on every sequence, differ at
  most by operations one side lacks — so an API group a copy trimmed does not split a class.

Merging runs only the few revisions that differ from the reference, once per pair of programs,
and each answer is cached on both programs' keys and the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ..cache import Cache, digest
from ..compare import compare
from ..levels import Level
from .records import REFERENCE_CLASS, BehaviourClass

ALIKE = ("same", "api")
KNOWN_BAD = ("invariant", "hang", "crash", "flaky")


@dataclass(frozen=True)
class Tested:
    """One tested revision with what the class computation needs."""

    target: str
    commit: str
    date: str
    level: str  # vs the reference
    behaviour: str  # hash of every outcome
    program_key: str
    detail: str = ""


def is_known_bad(level: str) -> bool:
    return level in KNOWN_BAD


class _Alike:
    """Do two programs behave alike on every sequence? Runs each program once, caches answers."""

    def __init__(self, runner_of: Callable[[str], object], sequences: Callable[[], tuple], cache: Cache | None, settings_key: str):
        self.runner_of, self.sequences = runner_of, sequences
        self.cache, self.settings_key = cache, settings_key
        self._outcomes: dict[str, list] = {}

    def _outs(self, key: str) -> list:
        if key not in self._outcomes:
            run = self.runner_of(key)
            batches, _ = self.sequences()
            self._outcomes[key] = [run(batch) for batch in batches]
        return self._outcomes[key]

    def __call__(self, a: str, b: str) -> bool:
        if a == b:
            return True
        first, second = sorted((a, b))
        key = digest("lineage-alike", self.settings_key, first, second)
        hit = self.cache.get("lineage", key) if self.cache else None
        if hit is not None:
            return hit
        outs_a, outs_b = self._outs(first), self._outs(second)
        _, op_codes = self.sequences()
        answer = all(compare(codes, oa, ob).level in ALIKE for codes, oa, ob in zip(op_codes, outs_a, outs_b))
        if self.cache:
            self.cache.put("lineage", key, answer)
        return answer


def behaviour_classes(
    tested: Sequence[Tested],
    runner_of: Callable[[str], object],
    sequences: Callable[[], tuple],
    cache: Cache | None = None,
    settings_key: str = "",
) -> tuple[list[BehaviourClass], dict[tuple[str, str], str]]:
    """The classes (R first, then B1, B2, … by first appearance) and each member's class.

    `tested` is in time order; `runner_of(program_key)` runs a batch on that program;
    `sequences()` gives (batches, op codes per batch), made only if some groups need merging.
    """
    alike = _Alike(runner_of, sequences, cache, settings_key)
    reference_members = [t for t in tested if t.level in ALIKE]
    groups: list[list[Tested]] = []  # non-reference classes, each a list of members
    by_hash: dict[str, list[Tested]] = {}
    for t in tested:
        if t.level in ALIKE:
            continue
        group = by_hash.get(t.behaviour)
        if group is None:
            group = next((g for g in groups if alike(g[0].program_key, t.program_key)), None)
            if group is None:
                group = []
                groups.append(group)
            by_hash[t.behaviour] = group
        group.append(t)
    classes: list[BehaviourClass] = []
    member_class: dict[tuple[str, str], str] = {}
    if reference_members:
        level = Level.strongest(t.level for t in reference_members)
        classes.append(BehaviourClass(REFERENCE_CLASS, level, tuple((t.target, t.commit) for t in reference_members)))
    for t in reference_members:
        member_class[t.target, t.commit] = REFERENCE_CLASS
    for i, group in enumerate(groups, 1):
        name = f"B{i}"
        level = Level.strongest(t.level for t in group)
        first = next(t for t in group if t.level == level)
        classes.append(BehaviourClass(name, level, tuple((t.target, t.commit) for t in group), is_known_bad(level), first.detail))
        for t in group:
            member_class[t.target, t.commit] = name
    return classes, member_class
