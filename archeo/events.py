"""Behavioural changes as events: one per regression, with every level it shows.

Why a module of its own: a change is what the report counts and tells, and it used to be one
entry per (commit, level) — Xen's 2017 `rb_erase` regression came out as four changes (crash,
hang, invariant, structural) beside the 2009 API additions, "5 behavioural changes" for what
is two. Here a commit that makes behaviour differ from its nearest tested ancestor introduces
one `BehaviourChange`; its `levels` are every level seen against that ancestor, strongest
first, and its `witnesses` one minimal witness per level where shrinking found one. The commit
that brings the earlier behaviour back ends it.

Takes difftest's verdicts (duck-typed: `commit`, `status`, `behaviour`, `vs_previous` with
`other`, `level`, `levels`, `witnesses`, `detail`) and imports nothing of difftest's, so
difftest can call it without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .difftest import RevisionVerdict, Witness


@dataclass(frozen=True)
class BehaviourChange:
    introduced_by: str
    level: str  # the strongest of `levels`
    previous: str | None
    ended_by: str | None
    witness: Witness | None  # the strongest level's witness
    releases: tuple[str, ...] = ()
    detail: str = ""
    # Revisions between `previous` and `introduced_by` that could not be tested (they did not
    # build): the change may come from any of them, so it is "between previous and introduced_by".
    untested_between: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()  # every level seen, strongest first
    witnesses: tuple[Witness, ...] = ()  # one per level where one was found, strongest first


def attribute(
    verdicts: list[RevisionVerdict], releases: Callable[[str, str | None], list[str]] | None = None
) -> list[BehaviourChange]:
    """One change per revision that differs from its predecessor; ended where behaviour returns."""
    tested = [v for v in verdicts if v.status == "tested"]
    behaviour_of = {v.commit: v.behaviour for v in tested}
    order = {v.commit: i for i, v in enumerate(verdicts)}

    def untested_between(a: str, b: str) -> tuple[str, ...]:
        return tuple(v.commit for v in verdicts[order[a] + 1 : order[b]] if v.status != "tested")

    changes = []
    open_changes: list[tuple[str, str]] = []  # (behaviour before the change, introducing commit), oldest first
    ends: dict[str, str] = {}
    for v in tested:
        if v.vs_previous is None or v.vs_previous.level == "same":
            continue
        # A revision that brings back the behaviour from before an open change ends it — and
        # every change opened since (A -> B -> C -> A ends both) — rather than starting one.
        back = next((i for i, (before, _) in enumerate(open_changes) if before == v.behaviour), None)
        if back is not None:
            for _, c in open_changes[back:]:
                ends[c] = v.commit
            del open_changes[back:]
            continue
        open_changes.append((behaviour_of[v.vs_previous.other], v.commit))
        pv = v.vs_previous
        levels = tuple(level for level, _seed in pv.levels) or (pv.level,)
        by_level = {w.level: w for w in pv.witnesses}
        changes.append(
            BehaviourChange(
                introduced_by=v.commit,
                level=pv.level,
                previous=pv.other,
                ended_by=None,
                witness=by_level.get(pv.level),
                detail=pv.detail,
                untested_between=untested_between(pv.other, v.commit),
                levels=levels,
                witnesses=tuple(by_level[level] for level in levels if level in by_level),
            )
        )
    out = []
    for c in changes:
        ended = ends.get(c.introduced_by)
        out.append(replace(c, ended_by=ended, releases=tuple(releases(c.introduced_by, ended)) if releases else ()))
    return out


def equivalence_classes(verdicts: list[RevisionVerdict]) -> list[list[str]]:
    """Revisions that behaved identically over everything tested, in order of first appearance."""
    groups: dict[str, list[str]] = {}
    for v in verdicts:
        if v.status == "tested":
            groups.setdefault(v.behaviour, []).append(v.commit)
    return list(groups.values())
