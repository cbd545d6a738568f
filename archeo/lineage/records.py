"""The plain data a lineage study produces; the report reads nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field

REFERENCE_CLASS = "R"  # behaves as the reference model on every operation it offers


@dataclass(frozen=True)
class Member:
    """One present revision of one history, as the lineage sees it."""

    target: str
    commit: str
    date: str  # ISO 8601 author date
    subject: str
    status: str  # tested | build-failed | parse-failed
    level: str = ""  # strongest difference from the reference ("" when not tested)
    behaviour_class: str = ""  # "R", "B1", ... ("" when not tested)

    @property
    def short(self) -> str:
        return self.commit[:12]


@dataclass(frozen=True)
class BehaviourClass:
    """Revisions, of any project, that behave identically over everything tested.

    An operation one side lacks (it answers `NA`) does not split a class: revisions are
    compared on the operations both offer.
    """

    name: str
    level: str  # strongest difference of its members from the reference
    members: tuple[tuple[str, str], ...]  # (target, commit), oldest first
    known_bad: bool = False  # shows an invariant break, a crash, a hang or a flaky result
    detail: str = ""  # the first difference from the reference, for the reader


@dataclass(frozen=True)
class Nearest:
    """The revision of another history whose normalised code is closest to this one's."""

    target: str
    commit: str
    similarity: float  # 0..1, Jaccard of normalised token shingles


@dataclass(frozen=True)
class Arrow:
    """A copy (a history's first revision, or a re-addition) or a refresh, and its likely source."""

    target: str
    commit: str
    kind: str  # copy | refresh
    source_target: str | None  # None: no revision of another history is near enough
    source_commit: str | None
    similarity: float  # to the source (0 when there is none)
    previous_similarity: float | None = None  # a refresh: to the history's previous revision


@dataclass(frozen=True)
class Carrier:
    """A revision whose behaviour matches a known-bad class, with the witness replayed on it."""

    target: str
    commit: str
    in_class: bool  # member of the class (alike over every seed)
    replay: str  # how the witness ended on it, e.g. "crash (SIGSEGV) after 7 operations"
    replay_level: str  # the replay compared with the reference's


@dataclass(frozen=True)
class KnownBadSearch:
    """One known-bad class searched for in every history."""

    behaviour_class: str
    origin: tuple[str, str]  # (target, commit) of its first member
    level: str
    witness: tuple[str, ...]  # the operations replayed
    witness_seed: int | None
    carriers: tuple[Carrier, ...]  # every revision the witness shows the same behaviour on
    replayed_on: int  # how many built revisions the witness was replayed on
    statement: str  # one sentence for the reader


@dataclass
class Lineage:
    """Everything one `archeo lineage` learned."""

    targets: list[str]
    settings: dict  # the difftest settings every revision was tested with
    members: list[Member]
    classes: list[BehaviourClass]
    nearest: dict[str, list[Nearest]]  # "target:commit" -> nearest in each other history
    arrows: list[Arrow]
    searches: list[KnownBadSearch]
    sources: dict[str, dict]  # target -> {"last_commit", "last_date", "revisions", "tested"}
    archeo_version: str
    timings: dict[str, float] = field(default_factory=dict)  # not in the JSON
    notes: list[str] = field(default_factory=list)
