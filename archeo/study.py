"""Everything one `archeo run` learned about a target's history, for the report.

The bundle the report stage reads: the outputs of every earlier stage, keyed by commit, plus
the exact inputs needed to reproduce the run. Plain data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .difftest import DifftestResult
from .records import Change, Model, Program, Revision, Target


@dataclass
class Study:
    target: Target
    repo: str  # where the history came from (path or URL), for the reader
    repo_head: str  # the commit the history was mined up to
    revisions: list[Revision]  # every revision, deleted ones included, oldest first
    models: dict[str, Model]  # commit -> parsed model (present revisions)
    structural: dict[str, list[Change]]  # commit -> changes against the previous present revision
    previous: dict[str, str]  # commit -> the previous present revision it was diffed against
    programs: dict[str, Program]  # commit -> build result
    difftest: DifftestResult | None
    archeo_version: str
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds (not in findings.json)
    messages: list[str] = field(default_factory=list)  # for the terminal, not the report: cache trouble
    mutation: list | None = None  # archeo.mutate.MutationResult per mutated revision (archeo run --mutate)
