"""How sharp is the differential tester? Mutants of each revision, each difftested against it.

    >>> from archeo.mutate import MutateSettings, mutate_revision, to_json
    >>> result = mutate_revision(rev, model, cache_dir="~/.cache/archeo")
    >>> result.counts, result.kill_score, result.round_trip.identical

For one revision (archeo/mutants.py makes the mutants):

1. **Round trip.** The revision's preprocessed translation unit is printed back from its AST
   with no change, built like any revision (same flags, same harness, same sandbox) and run on
   the usual seeds next to the original program: the traces must be byte for byte the same.
   A revision whose round trip differs is reported and not mutated (its mutants would differ
   from the original for the wrong reason).
2. **Mutants.** At most `max_mutants`, chosen deterministically (seeded) and spread over the
   revision's own functions and the operators. Each is built (a compile error makes it
   *stillborn*: not counted in the score) and run against the original on the *usual* seeds
   (`archeo difftest`'s defaults): first on a prefix of the first few sequences (cheap, and a
   difference in a prefix is a difference in the whole sequence), then on every usual sequence
   in full, stopping at the first difference. The strongest level on that sequence classifies
   it: *killed* (api / structural / observable / invariant), *crashed*, or *hung* (the CPU
   budget of archeo/execute.py catches an endless loop in well under a second). Every run of
   every phase, the original's too, is settled by archeo/confirm.py: a hang or a crash counts
   only when a run with 20 times the limits shows it again (on a loaded machine a correct
   program can overrun its budget: unconfirmed, that was a false kill in the usual phases and
   a false survivor in the deep one); a mutant whose outcome does not reproduce (flaky) is
   counted *crashed*. A killed mutant gets a minimal witness (archeo/difftest.py's shrinker).
3. **Survivors** of the usual seeds are run again on `deep_factor` times as many fresh seeds,
   longer and with larger trees. A difference found there leaves the mutant *survived* (the
   usual seeds missed a real change: the tester was not sharp enough). A survivor none of them
   tells apart is *equivalent* only when shown to be (archeo/equivalence.py): its object code
   is the original's, or a bounded exhaustive check (every short sequence over a few keys)
   finds no difference. Otherwise it is a survivor with the bounded sequence it escapes by —
   nothing is presumed equivalent, so the kill score can fall below 100 %.

Kill score = (killed + crashed + hung) / (made - stillborn - equivalent).

Mutants run in parallel up to `jobs`, each in the same confined executor as every other
program (archeo/execute.py); a crash or a hang is a result, never the end of the run.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from . import ops as opslib
from .compare import LEVELS, Outcome, compare, rank
from .confirm import Confirmed, Confirmer
from .difftest import Settings, find_witness
from .equivalence import bounded_difference, object_code
from .errors import ArcheoError
from .mutants import OPERATORS, Mutant, Unit, enumerate_mutants, load_unit, select_mutants
from .mutation_results import (  # noqa: F401 (the results' names, importable from here as before)
    KILL_LEVELS,
    STATUSES,
    SUMMARY_HEADERS,
    MutantResult,
    MutationResult,
    RoundTrip,
    by_group,
    mutant_json,
    result_json,
    round_trip_json,
    summary_rows,
    totals,
)
from .records import Model, Program, Revision

Progress = Callable[[str, int, int], None]

# A mutant's hangs are confirmed by the mutant itself with 20x limits, not by a counted variant
# (build_steps.py): each mutant is a program of its own, usually with a hang or two, and a
# counted build (a compile, ~0.2 s) costs more than the 40 ms its confirmations would save.
COUNTED = False


@dataclass(frozen=True)
class MutateSettings:
    """Everything that decides which mutants are made and how they are tested."""

    max_mutants: int | None = 200
    seed: int = 0  # chooses the mutants
    usual: Settings = Settings()  # the usual seeds: what `archeo difftest` runs
    quick_seeds: int = 4  # first try: a prefix of this many of the usual sequences...
    quick_ops: int = 2_000  # ...this long
    deep_factor: int = 3  # survivors: this many times the usual number of fresh seeds...
    deep_ops: int = 20_000  # ...this long, half of them with the large profile
    timeout: float = 10.0  # wall clock per run (the CPU budget usually ends a hang far sooner)
    witness: bool = True  # shrink a witness for every killed mutant
    sandbox: bool = True  # False: --no-sandbox (docs/security.md)

    def __post_init__(self):
        if self.max_mutants is not None and self.max_mutants < 1:
            raise ArcheoError(f"--max-mutants {self.max_mutants} is out of range: use 1 or more")
        if self.timeout <= 0:
            raise ArcheoError(f"--timeout {self.timeout} is out of range: use a positive number of seconds")

    def deep(self) -> Settings:
        return Settings(
            seeds=max(1, self.usual.seeds * self.deep_factor),
            ops=self.deep_ops,
            first_seed=self.usual.first_seed + self.usual.seeds,
            profiles=("large", "small"),
            groups=self.usual.groups,
        )

    def as_dict(self) -> dict:
        return {
            "max_mutants": self.max_mutants,
            "seed": self.seed,
            "usual": self.usual.as_dict(),
            "quick": {"seeds": self.quick_seeds, "ops": self.quick_ops},
            "deep": self.deep().as_dict(),
            "timeout": self.timeout,
        }


# ---------------------------------------------------------------- test material
@dataclass
class _Batch:
    seed: int
    ops: list[opslib.Op]
    text: str
    codes: list[str]


def _batches(pairs: Sequence[tuple[int, list[opslib.Op]]]) -> list[_Batch]:
    return [_Batch(seed, ops, opslib.encode(ops), [op.code for op in ops]) for seed, ops in pairs]


class Material:
    """The operation sequences of every phase, generated once and shared by every revision."""

    def __init__(self, settings: MutateSettings):
        self.settings = settings
        usual = settings.usual.sequences()
        self.usual = _batches(usual)
        self.quick = _batches([(seed, ops[: settings.quick_ops]) for seed, ops in usual[: settings.quick_seeds]])
        self._deep: list[_Batch] | None = None
        self._lock = threading.Lock()

    @property
    def deep(self) -> list[_Batch]:
        with self._lock:
            if self._deep is None:  # only when some mutant survives
                self._deep = _batches(self.settings.deep().sequences())
            return self._deep


def _hash(outcome: Outcome) -> str:
    h = hashlib.sha256(f"{outcome.status}\0{outcome.kind}\0".encode())
    h.update("\n".join(outcome.lines).encode())
    return h.hexdigest()


class _Original:
    """The original program's outcomes on every batch, computed once."""

    def __init__(self, runner, confirmer: Confirmer):
        self.raw = runner  # unsettled: for the bounded check, which settles its digest runs itself
        self.confirmer = confirmer  # the run's (confirm.py): the mutants' runners are confirmed by it too
        self.runner = Confirmed(runner, confirmer)
        self._outcomes: dict[int, tuple[Outcome, str]] = {}
        self._object: dict[int, bytes | None] = {}
        self._lock = threading.Lock()

    def same_object_code(self, builder, unit: Unit, model: Model, mutant: Mutant) -> bool:
        """Trivial compiler equivalence: the mutant's unit compiles to the unmutated unit's bytes.
        Never for a header function's mutant: the harness's object holds its code, not the unit's."""
        if mutant.header:
            return False
        with self._lock:
            if id(unit) not in self._object:
                self._object[id(unit)] = object_code(builder, unit.revision(), model)
            original = self._object[id(unit)]
        return original is not None and object_code(builder, unit.revision(mutant), model) == original

    def outcome(self, batch: _Batch) -> tuple[Outcome, str]:
        key = id(batch)
        if key not in self._outcomes:
            out = self.runner(batch.text)
            self._outcomes[key] = (out, _hash(out))
        return self._outcomes[key]


def _first_difference(original: _Original, runner, batches: Sequence[_Batch]):
    """(verdict, batch) of the first batch on which the runner differs from the original."""
    for batch in batches:
        ref, ref_hash = original.outcome(batch)
        out = runner(batch.text)
        if _hash(out) == ref_hash:
            continue
        verdict = compare(batch.codes, ref, out)
        if verdict.level != "same":
            return verdict, batch, out
    return None


# ---------------------------------------------------------------- one revision
def mutate_revision(
    rev: Revision,
    model: Model,
    cache_dir: str | os.PathLike,
    settings: MutateSettings = MutateSettings(),
    jobs: int = 2,
    executor=None,
    builder=None,
    material: Material | None = None,
    progress: Progress | None = None,
    unit: Unit | None = None,
    mutants: Sequence[Mutant] | None = None,
    confirmer: Confirmer | None = None,
) -> MutationResult:
    """Round trip, then every chosen mutant of `rev` (see the module docstring).

    `mutants` replaces the seeded choice (tests use it to run particular mutants). `executor`
    and `confirmer` (confirm.py) are the caller's run's when given; else this call's own.
    """
    from .build import Builder
    from .execute import Executor, Limits
    from .runners import program_runner

    start = time.perf_counter()
    tick = progress or (lambda stage, done, total: None)
    builder = builder or Builder(cache_dir, sandbox=settings.sandbox)
    own_executor, own_confirmer = executor is None, confirmer is None
    executor = executor or Executor(Limits(timeout=settings.timeout, cpu_seconds=max(1, int(settings.timeout * 0.8))), sandbox=settings.sandbox)
    confirmer = confirmer or Confirmer(counted=COUNTED)
    material = material or Material(settings)
    result = MutationResult(rev.commit, rev.date, rev.subject, rev.path, RoundTrip(rev.commit, False, False),
                            groups=tuple(settings.usual.groups))
    try:
        if not model.ok:
            result.error = f"the revision does not parse: {model.error.message}"
            return result
        original_program = builder.build(rev, model)
        if not original_program.ok:
            result.error = f"the original does not build: {original_program.error}"
            result.round_trip = RoundTrip(rev.commit, False, False, error=result.error)
            return result
        original = _Original(program_runner(original_program, settings.timeout, executor), confirmer)
        unit = unit or load_unit(rev, subject=settings.usual.of())
        result.functions = tuple(unit.functions)

        result.round_trip = _round_trip(unit, model, builder, executor, original, material, settings)
        if not result.round_trip.identical:
            result.error = "the round trip does not behave like the original: mutants not tested"
            return result

        if mutants is None:
            every = enumerate_mutants(unit)
            result.sites = len(every)
            chosen = select_mutants(every, settings.max_mutants, settings.seed, rev.commit)
        else:
            chosen = list(mutants)
            result.sites = len(chosen)
        for batch in material.usual:  # the original's side, before the workers share it
            original.outcome(batch)
        for batch in material.quick:
            original.outcome(batch)

        def one(m: Mutant) -> MutantResult:
            return _test_mutant(m, unit, model, builder, executor, original, material, settings)

        done = 0
        tick(f"mutate {rev.short}", 0, len(chosen))
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for r in pool.map(one, chosen):
                result.mutants.append(r)
                done += 1
                tick(f"mutate {rev.short}", done, len(chosen))
        return result
    finally:
        result.seconds = time.perf_counter() - start
        if own_executor:
            executor.close()
        if own_confirmer:
            confirmer.close()


def _round_trip(unit: Unit, model: Model, builder, executor, original: _Original, material: Material, settings) -> RoundTrip:
    from .runners import program_runner

    program = builder.build(unit.revision(), model)
    if not program.ok:
        return RoundTrip(unit.rev.commit, False, False, level="crash", error=program.error or "build failed")
    runner = Confirmed(program_runner(program, settings.timeout, executor), original.confirmer)
    worst, detail, hangs = "same", "", 0
    for batch in material.usual:
        ref, ref_hash = original.outcome(batch)
        out = runner(batch.text)
        if _hash(out) == ref_hash:
            continue
        # Byte-identical but for where a hang was cut off: the same behaviour (archeo/compare.py).
        verdict = compare(batch.codes, ref, out)
        if verdict.level == "same":
            hangs += 1
        elif rank(verdict.level) >= rank(worst):
            worst, detail = verdict.level, f"seed {batch.seed}: {verdict.detail}"
    if worst == "same" and hangs:
        detail = f"{hangs} sequence(s) hang on both sides (the original's own bug), cut off at different points"
    return RoundTrip(unit.rev.commit, True, worst == "same", worst, detail, seeds=len(material.usual))


def _test_mutant(m: Mutant, unit: Unit, model: Model, builder, executor, original: _Original, material: Material, settings) -> MutantResult:
    from .runners import program_runner

    start = time.perf_counter()
    done = lambda **kw: MutantResult(m, seconds=time.perf_counter() - start, **kw)  # noqa: E731
    try:
        program: Program = builder.build(unit.revision(m), model)
    except ArcheoError as exc:
        return done(status="stillborn", error=str(exc))
    if not program.ok:
        return done(status="stillborn", error=program.error or "build failed")
    raw = program_runner(program, settings.timeout, executor)
    runner = Confirmed(raw, original.confirmer)  # a hang or a crash is believed only when a second run shows it too
    for phase, batches in (("quick", material.quick), ("usual", material.usual)):
        found = _first_difference(original, runner, batches)
        if found is None:
            continue
        verdict, batch, out = found
        level = verdict.level
        status = {"crash": "crashed", "hang": "hung", "flaky": "crashed"}.get(level, "killed")
        witness = None
        if settings.witness:
            try:
                witness = find_witness(batch.ops, batch.seed, "original", m.ident, original.runner, runner, level)
            except ValueError:  # a mutant that does not repeat itself (uninitialised memory): no witness
                witness = None
        kind = out.kind if out.status != "ok" else ""
        return done(status=status, level=level, phase=phase, seed=batch.seed, detail=verdict.detail, kind=kind, witness=witness)
    found = _first_difference(original, runner, material.deep)
    if found is not None:
        verdict, batch, _out = found
        return done(status="survived", phase="deep", seed=batch.seed, deep_level=verdict.level, detail=verdict.detail)
    # No seed tells them apart: equivalent only when shown to be (archeo/equivalence.py).
    if original.same_object_code(builder, unit, model, m):
        return done(status="survived", equivalent=True, equivalence="object-code")
    escape = bounded_difference(original.raw, raw, settings.usual.groups, original.confirmer, settings.usual.of())
    if escape is None:
        return done(status="survived", equivalent=True, equivalence="bounded")
    level, sequence, detail = escape
    return done(status="survived", phase="bounded", deep_level=level, detail=detail, escapes=sequence)


# ---------------------------------------------------------------- many revisions
def with_model_groups(settings: MutateSettings, models: Sequence[Model | None]) -> MutateSettings:
    """The settings with the later API groups the revisions offer mixed into every phase's
    sequences (unless the caller chose groups): mutants in rb_erase_cached or rb_next_postorder
    are only killable by sequences that call them."""
    if settings.usual.groups:
        return settings
    subject = settings.usual.of()
    have = ""
    for model in models:
        if model is not None and model.ok:
            try:
                have += "".join(subject.derive_api(model).ops)
            except ArcheoError:
                continue
    groups = subject.groups_of(have)
    return replace(settings, usual=replace(settings.usual, groups=groups)) if groups else settings


def mutate_history(
    revisions: Sequence[Revision],
    models: dict[str, Model],
    cache_dir: str | os.PathLike,
    settings: MutateSettings = MutateSettings(),
    jobs: int = 2,
    progress: Progress | None = None,
) -> list[MutationResult]:
    """`mutate_revision` for every present revision, sharing sequences, builder and executor."""
    from .build import Builder
    from .execute import Executor, Limits

    builder = Builder(cache_dir, sandbox=settings.sandbox)
    settings = with_model_groups(settings, [models.get(r.commit) for r in revisions if r.present])
    material = Material(settings)
    with Executor(Limits(timeout=settings.timeout, cpu_seconds=max(1, int(settings.timeout * 0.8))), sandbox=settings.sandbox) as executor, \
            Confirmer(counted=COUNTED) as confirmer:
        return [
            mutate_revision(rev, models[rev.commit], cache_dir, settings, jobs, executor, builder, material, progress,
                            confirmer=confirmer)
            for rev in revisions
            if rev.present
        ]


def round_trips(
    revisions: Sequence[Revision],
    models: dict[str, Model],
    cache_dir: str | os.PathLike,
    settings: MutateSettings = MutateSettings(),
    jobs: int = 2,
    progress: Progress | None = None,
) -> list[RoundTrip]:
    """Only the round trip of every present revision (in parallel up to `jobs`)."""
    from .build import Builder
    from .execute import Executor, Limits
    from .runners import program_runner

    builder = Builder(cache_dir, sandbox=settings.sandbox)
    material = Material(settings)
    present = [r for r in revisions if r.present]
    tick = progress or (lambda stage, done, total: None)

    with Executor(Limits(timeout=settings.timeout, cpu_seconds=max(1, int(settings.timeout * 0.8))), sandbox=settings.sandbox) as executor, \
            Confirmer(counted=COUNTED) as confirmer:

        def one(rev: Revision) -> RoundTrip:
            model = models[rev.commit]
            if not model.ok:
                return RoundTrip(rev.commit, False, False, error=f"does not parse: {model.error.message}")
            program = builder.build(rev, model)
            if not program.ok:
                return RoundTrip(rev.commit, False, False, error=f"the original does not build: {program.error}")
            try:
                unit = load_unit(rev, subject=settings.usual.of())
            except ArcheoError as exc:
                return RoundTrip(rev.commit, False, False, error=str(exc))
            original = _Original(program_runner(program, settings.timeout, executor), confirmer)
            return _round_trip(unit, model, builder, executor, original, material, settings)

        out = []
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for i, rt in enumerate(pool.map(one, present), 1):
                out.append(rt)
                tick("round trip", i, len(present))
        return out


# ---------------------------------------------------------------- output
def to_json(results: Sequence[MutationResult], settings: MutateSettings = MutateSettings(), seconds: float | None = None) -> dict:
    """The `archeo mutate --json` document."""
    doc = {
        "schema": "archeo-mutate/1",
        "settings": settings.as_dict(),
        "operators": list(OPERATORS),
        "revisions": [result_json(r) for r in results],
        "total": totals(results),
    }
    groups = by_group(results)
    if set(groups) - {"core"}:  # only when a later API group's functions were mutated
        doc["by_group"] = groups
    if seconds is not None:
        doc["seconds"] = round(seconds, 1)
    return doc


__all__ = [
    "KILL_LEVELS",
    "LEVELS",
    "MutateSettings",
    "MutantResult",
    "MutationResult",
    "Material",
    "RoundTrip",
    "mutate_history",
    "mutate_revision",
    "round_trips",
    "to_json",
]
