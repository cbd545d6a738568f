"""The differential test's records: the settings that decide the sequences, and the verdicts.

Plain frozen dataclasses between the running half (running.py) and the judging half
(judging.py), and what `archeo difftest --json` writes of them (`to_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .. import ops as opslib
from .. import schemas, subjects
from ..compare import Outcome
from ..errors import ArcheoError
from ..events import BehaviourChange
from ..levels import Level
from ..subjects import Subject

Runner = Callable[[str], Outcome]
REFERENCE = "reference"

MAX_SEEDS = 10_000
MAX_OPS = 1_000_000


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

