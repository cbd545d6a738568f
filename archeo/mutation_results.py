"""What mutation analysis found, as plain data: one record per mutant and per revision, their
counts and scores, and their JSON and table rows.

archeo/mutate.py makes these (it runs the mutants); the command line, the report's mutation
section and the benchmarks read them. Kept apart from the running so that reading results
needs no builder, executor or compiler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from .difftest import Witness
from . import subjects
from .mutants import Mutant
from .subjects.base import Subject

KILL_LEVELS = ("api", "structural", "observable", "invariant")
STATUSES = ("killed", "crashed", "hung", "survived", "stillborn")



@dataclass(frozen=True)
class RoundTrip:
    """The unmutated unit printed back as C, built and run next to the original."""

    commit: str
    built: bool
    identical: bool  # the same traces on every usual seed (byte for byte, but where a hang on both sides was cut off)
    level: str = "same"  # strongest difference when not identical
    detail: str = ""
    error: str = ""  # a build error of the round trip (or of the original)
    seeds: int = 0


@dataclass(frozen=True)
class MutantResult:
    mutant: Mutant
    status: str  # killed | crashed | hung | survived | stillborn
    level: str = ""  # the strongest level on the sequence that showed the difference
    phase: str = ""  # quick | usual: where the usual seeds killed it; deep: where the survivor differed
    seed: int | None = None
    detail: str = ""
    kind: str = ""  # crash or hang kind (SIGSEGV, cpu-limit, ...)
    witness: Witness | None = None
    equivalent: bool = False  # shown equivalent: the same object code, or no bounded difference
    equivalence: str = ""  # how: "object-code" | "bounded"
    escapes: tuple[str, ...] = ()  # a survivor the bounded check told apart: the sequence that shows it
    deep_level: str = ""  # survived the usual seeds, but the deep check found this
    error: str = ""  # the compiler's first error, for a stillborn mutant
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.status in ("killed", "crashed", "hung")


@dataclass
class MutationResult:
    commit: str
    date: str
    subject: str
    path: str
    round_trip: RoundTrip
    sites: int = 0  # every mutant the operators could make
    functions: tuple[str, ...] = ()
    mutants: list[MutantResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""  # why no mutant was tested
    groups: tuple[str, ...] = ()  # the later API groups the run mixed in: only their functions count apart

    @property
    def counts(self) -> dict:
        c = {"made": len(self.mutants), "stillborn": 0, "killed": 0}
        c.update({level: 0 for level in KILL_LEVELS})
        c.update(crashed=0, hung=0, survived=0, equivalent=0)
        for m in self.mutants:
            if m.status == "killed":
                c["killed"] += 1
                c[m.level] += 1
            elif m.status in c:
                c[m.status] += 1
            if m.equivalent:
                c["equivalent"] += 1
        return c

    @property
    def kill_score(self) -> float | None:
        c = self.counts
        scored = c["made"] - c["stillborn"] - c["equivalent"]
        return (c["killed"] + c["crashed"] + c["hung"]) / scored if scored else None

    @property
    def survivors(self) -> list[MutantResult]:
        return [m for m in self.mutants if m.status == "survived"]




# ---------------------------------------------------------------- output
def _score_text(score: float | None) -> str:
    return "-" if score is None else f"{100 * score:.1f}%"


def mutant_json(r: MutantResult) -> dict:
    m = r.mutant
    out = {
        "id": m.ident,
        "function": m.function,
        "line": m.line,
        "operator": m.operator,
        "description": m.description,
        "before": m.before,
        "after": m.after,
        "status": r.status,
    }
    if m.header:  # a header's inline function (the line is the header's)
        out["header"] = m.header
    if r.killed:
        out.update(level=r.level, phase=r.phase, seed=r.seed, detail=r.detail)
        if r.kind:
            out["kind"] = r.kind
        if r.witness is not None:
            out["witness"] = r.witness.as_dict()
    elif r.status == "survived":
        out.update(equivalent=r.equivalent, equivalence=r.equivalence or None, deep_level=r.deep_level or None,
                   deep_seed=r.seed, escapes=list(r.escapes))
    elif r.status == "stillborn":
        out["error"] = r.error
    out["seconds"] = round(r.seconds, 3)
    return out


def round_trip_json(rt: RoundTrip) -> dict:
    return {
        "commit": rt.commit,
        "built": rt.built,
        "identical": rt.identical,
        "level": rt.level,
        "detail": rt.detail,
        "error": rt.error,
        "seeds": rt.seeds,
    }


def result_json(result: MutationResult) -> dict:
    score = result.kill_score
    return {
        "commit": result.commit,
        "date": result.date,
        "subject": result.subject,
        "path": result.path,
        "round_trip": round_trip_json(result.round_trip),
        "functions": list(result.functions),
        "sites": result.sites,
        "counts": result.counts,
        "kill_score": None if score is None else round(score, 4),
        "seconds": round(result.seconds, 1),
        "error": result.error,
        "survivors": [mutant_json(r) for r in result.survivors],
        "mutants": [mutant_json(r) for r in result.mutants],
    }


def totals(results: Sequence[MutationResult]) -> dict:
    total: dict = {}
    for r in results:
        for k, v in r.counts.items():
            total[k] = total.get(k, 0) + v
    scored = total.get("made", 0) - total.get("stillborn", 0) - total.get("equivalent", 0)
    killed = total.get("killed", 0) + total.get("crashed", 0) + total.get("hung", 0)
    total["kill_score"] = round(killed / scored, 4) if scored else None
    return total


def by_group(results: Sequence[MutationResult], subject: Subject | None = None) -> dict[str, dict]:
    """totals() per API group of the mutated function (Subject.function_group; the default
    subject's without one), so the mutants of the later groups' functions are counted apart from
    the core's. A function counts in its group only when the run mixed that group in: Xen's
    `__rb_erase_color`, with no augmented API around it, is core."""
    function_group = (subject or subjects.default()).function_group
    split: dict[str, list[MutantResult]] = {}
    for r in results:
        groups = getattr(r, "groups", ())  # () in a result cached before the field
        for m in r.mutants:
            group = function_group(m.mutant.function)
            split.setdefault(group if group in groups else "core", []).append(m)
    out = {}
    for group in sorted(split, key=lambda g: (g != "core", g)):
        part = MutationResult(commit="", date="", subject="", path="", round_trip=RoundTrip("", True, True), mutants=split[group])
        out[group] = totals([part])
    return out


def summary_rows(results: Sequence[MutationResult]) -> list[tuple]:
    rows = []
    for r in results:
        c = r.counts
        rt = "identical" if r.round_trip.identical else (r.round_trip.error or r.round_trip.level)
        rows.append(
            (
                r.commit[:12],
                r.date[:10],
                rt,
                c["made"],
                c["stillborn"],
                *(c[level] for level in KILL_LEVELS),
                c["crashed"],
                c["hung"],
                c["survived"],
                c["equivalent"],
                _score_text(r.kill_score),
            )
        )
    return rows


SUMMARY_HEADERS = (
    "commit", "date", "round trip", "made", "stillborn", *KILL_LEVELS, "crashed", "hung", "survived", "equivalent", "kill score",
)
