"""`archeo lineage`: every target's history through the usual pipeline, then side by side.

Each target is studied by `pipeline.run_study` with the same settings, so a warm lineage reads
every revision's parse, build and difftest from the cache `archeo run` filled; what lineage
adds (class merges, witness replays) is cached on program keys too.
"""

from __future__ import annotations

import time
from functools import cache as memo
from pathlib import Path
from typing import Callable, Sequence

from .. import __version__
from ..cache import Cache, digest
from ..compare import Outcome
from ..errors import ArcheoError
from ..records import Target
from . import ancestry
from .classes import Tested, behaviour_classes
from .known_bad import search
from .records import Lineage, Member

Progress = Callable[[str, int, int], None]


def run_lineage(
    targets: Sequence[Target],
    repos: dict[str, str | None],
    config,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Lineage:
    """Study every target (repos: target name -> local clone or None for its URL) and compare."""
    from ..confirm import RULES, Confirmed, Confirmer
    from ..difftest import reference_runner
    from ..execute import Executor, Limits
    from ..mine import default_cache_dir
    from ..pipeline import run_study
    from ..runners import program_runner

    if not targets:
        raise ArcheoError("no target to study: name one with --target or add a TOML file to corpus/")
    tick = progress or (lambda stage, done, total: None)
    cache_root = Path(cache_dir) if cache_dir else default_cache_dir()
    cache = Cache(cache_root / "stages")
    timings: dict[str, float] = {}
    studies = []
    for target in targets:
        start = time.perf_counter()
        studies.append(run_study(target, repos.get(target.name), config, cache_dir=cache_root, progress=tick, releases=False))
        timings[f"study {target.name}"] = time.perf_counter() - start

    start = time.perf_counter()
    members, tested, programs, sources = _members(studies)
    # The executor and this study's confirmations (confirm.py), shared by all its runners, are
    # released (temporary directories, the network namespace) when the runs are done.
    with Executor(Limits(timeout=config.timeout, cpu_seconds=max(1, int(config.timeout * 0.8))),
                  sandbox=config.sandbox) as executor, Confirmer() as confirmer:
        runners: dict[str, object] = {}

        def runner_of(key: str):
            """A confirmed runner: a timing limit or a crash is run again before it is believed."""
            if key not in runners:
                runners[key] = Confirmed(program_runner(programs[key], config.timeout, executor), confirmer)
            return runners[key]

        settings = config.settings

        @memo
        def sequences():
            made = settings.sequences()
            return settings.batches(made), [[op.code for op in ops] for _, ops in made]

        settings_key = digest(repr(settings), config.timeout, f"rules-{RULES}", f"sandbox={config.sandbox}", _code_hash())
        classes, member_class = behaviour_classes(tested, runner_of, sequences, cache, settings_key)
        members = [_with_class(m, member_class) for m in members]
        timings["classes"] = time.perf_counter() - start

        start = time.perf_counter()
        codes = {
            s.target.name: [ancestry.code_of(s.target.name, r, s.models.get(r.commit)) for r in s.revisions if r.present]
            for s in studies
        }
        sim = ancestry.Similarities()
        near = ancestry.nearest(codes, sim)
        arrows = ancestry.arrows(codes, {s.target.name: _copies(s.revisions) for s in studies}, sim)
        timings["ancestry"] = time.perf_counter() - start

        start = time.perf_counter()
        reference = reference_runner()

        def run_on(key: str, batch: str) -> Outcome:
            entry = digest("lineage-replay", settings_key, key, batch)
            hit = cache.get("lineage", entry)
            if hit is None:
                hit = runner_of(key)(batch)
                cache.put("lineage", entry, hit)
            return hit

        built = [(t.target, t.commit, t.program_key) for t in tested]
        words = f"{settings.seeds} seeds × {settings.ops:,} operations"
        verdicts = {(s.target.name, v.commit): v for s in studies if s.difftest for v in s.difftest.revisions}
        searches = []
        for klass in classes:
            if not klass.known_bad:
                continue
            ops, seed = _witness(verdicts.get(klass.members[0]), klass.level)
            searches.append(search(klass, ops, seed, built, run_on, reference, words))
    timings["known-bad"] = time.perf_counter() - start
    tick("lineage", 1, 1)
    return Lineage(
        targets=[t.name for t in targets],
        settings=settings.as_dict(),
        members=members,
        classes=classes,
        nearest=near,
        arrows=arrows,
        searches=searches,
        sources=sources,
        archeo_version=__version__,
        timings=timings,
        notes=[note for s in studies for note in s.messages],
    )


def _code_hash() -> str:
    """The code that decides what lineage caches (its own modules, and how outcomes are run,
    confirmed and compared, with all they import; codekeys.py): a new rule recomputes it.
    A module missing here is an error that names it."""
    from ..codekeys import code_digest

    return code_digest(("archeo.lineage", "archeo.compare", "archeo.confirm", "archeo.execute", "archeo.runners"))


def _members(studies):
    members, tested, programs, sources = [], [], {}, {}
    for s in studies:
        name = s.target.name
        verdicts = {v.commit: v for v in (s.difftest.revisions if s.difftest else [])}
        present = [r for r in s.revisions if r.present]
        count = 0
        for rev in present:
            model = s.models.get(rev.commit)
            program = s.programs.get(rev.commit)
            verdict = verdicts.get(rev.commit)
            if model is not None and not model.ok:
                status = "parse-failed"
            elif verdict is None or verdict.status != "tested" or verdict.vs_reference is None:
                status = "build-failed" if program is None or not program.ok else "untested"
            else:
                status = "tested"
            level = verdict.vs_reference.level if status == "tested" else ""
            members.append(Member(name, rev.commit, rev.date, rev.subject, status, level))
            if status == "tested":
                count += 1
                programs[program.key] = program
                tested.append(Tested(name, rev.commit, rev.date, level, verdict.behaviour, program.key, verdict.vs_reference.detail))
        last = present[-1] if present else (s.revisions[-1] if s.revisions else None)
        sources[name] = {
            "last_commit": s.repo_head,
            "last_revision": last.commit if last else None,
            "last_date": last.date if last else None,
            "revisions": len(present),
            "tested": count,
            # later API groups mixed into this history's sequences (pipeline.with_groups): the
            # core operations are the same seeds everywhere, these come on top
            "groups": list(s.difftest.settings.groups) if s.difftest else [],
        }
    order = lambda item: (ancestry.parse_date(item.date), item.target, item.commit)  # noqa: E731
    return sorted(members, key=order), sorted(tested, key=order), programs, sources


def _with_class(member: Member, member_class: dict) -> Member:
    from dataclasses import replace

    return replace(member, behaviour_class=member_class.get((member.target, member.commit), ""))


def _copies(revisions) -> set[str]:
    """A history's first present revision, and every re-addition after a deletion."""
    out, gone = set(), True
    for rev in revisions:
        if rev.present and gone:
            out.add(rev.commit)
        gone = not rev.present
    return out


def _witness(verdict, level: str) -> tuple[tuple[str, ...], int | None]:
    """The vs-reference witness of a class's first member at the class's level (or its strongest)."""
    pair = verdict.vs_reference if verdict else None
    if pair is None or not pair.witnesses:
        return (), None
    chosen = next((w for w in pair.witnesses if w.level == level), pair.witnesses[0])
    return tuple(chosen.ops), chosen.seed
