"""Differential testing: every revision against the reference and against its predecessor.

The same seeded operation sequences (the subject's generator) go through the subject's Python
reference (once per sequence, its trace reused for every revision) and through every revision's
program. Traces are compared by hash first and examined line by line only when they differ.
Every difference is shrunk to a minimal witness that still shows the same level of difference,
and each change of behaviour is attributed to the commit that introduced it (and, where
behaviour returns, the commit that ended it).

Two halves, and the protocol between them:
- running.py: joined batches, digests, the forked reference, fetching whole traces;
- judging.py: compare, shrink, attribute, classes;
- protocol.py: the one reader of the batch/trace protocol (joining with `w`, cutting traces
  back, digests, hashes); records.py: the settings and verdicts, and their JSON.

The engine works on *runners* — callables from a batch text to an `Outcome` — so the logic is
the same for compiled programs, the reference, and the fakes the tests use.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Callable, Sequence

from .. import ops as opslib
from ..confirm import Confirmer
from ..events import BehaviourChange  # noqa: F401 (re-exported)
from .judging import Comparisons, find_witness, judge
from .protocol import JOIN_OPS, Joiner, outcome_hash, trace_digest  # noqa: F401 (re-exported)
from .records import (  # noqa: F401 (re-exported)
    MAX_OPS,
    MAX_SEEDS,
    REFERENCE,
    DifftestResult,
    PairVerdict,
    RevisionVerdict,
    Runner,
    Settings,
    Witness,
    to_json,
)
from .running import ReferenceProcess, reference_runner, run_digested, run_joined, run_revisions  # noqa: F401


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
    comparisons = Comparisons(codes, subject)
    built = [(commit, run) for commit, run in subjects if run is not None]
    # The run's confirmations (confirm.py): remembered for this run only, closed with it.
    with Confirmer() if confirm else nullcontext() as confirmer:
        runs = run_revisions(built, batches, codes, subject, reference, apart, jobs, combine, confirmer, comparisons, tick)
        verdicts, changes, classes = judge(subjects, runs, sequences, settings, comparisons, parents, releases, shrink, tick)
    return DifftestResult(
        settings=settings,
        revisions=verdicts,
        changes=changes,
        classes=classes,
        reference_runs=len(batches),
        program_runs=runs.total,
    )
