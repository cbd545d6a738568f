"""Findings: the Study as one plain, ordered, deterministic document (docs/findings-schema.md).

Every renderer (Markdown, HTML, figures, terminal) reads this document only, so what a reader
sees and what findings.json says cannot drift apart, and the same Study always gives the same
bytes. No line of the studied source goes in: functions appear as names, signatures and counts;
macros as names and parameters; never bodies or comments.
"""

from __future__ import annotations

from .. import schemas
from ..compare import LEVELS, rank
from ..study import Study
from .history import history, timeline
from .mutation import mutation_findings
from .words import REFERENCE, plural

SCHEMA = schemas.FINDINGS


def build_findings(study: Study) -> dict:
    """Everything the report shows, as plain data in a fixed order (docs/findings-schema.md)."""
    result = study.difftest
    verdicts = {v.commit: v for v in result.revisions} if result else {}
    class_of = {c: i + 1 for i, members in enumerate(result.classes if result else []) for c in members}
    revisions = [_revision_entry(study, r, verdicts.get(r.commit), class_of.get(r.commit)) for r in study.revisions]
    changes = _changes(study, revisions)
    findings = {
        "schema": SCHEMA,
        "inputs": _inputs(study),
        "summary": {},
        "timeline": timeline(study),
        "revisions": revisions,
        "changes": changes,
        "classes": [list(members) for members in (result.classes if result else [])],
        "matrix": _matrix(study),
        "history": history(study, revisions),
        "notes": list(result.notes) if result else [],
    }
    mutation = mutation_findings(study.mutation)
    if mutation is not None:
        findings["mutation"] = mutation
    findings["summary"] = _summary(study, findings)
    return findings


def _inputs(study: Study) -> dict:
    t = study.target
    settings = study.difftest.settings.as_dict() if study.difftest else None
    last = study.revisions[-1] if study.revisions else None
    inputs = {
        "target": t.name,
        "description": t.description,
        "paths": list(t.paths),
        "header_paths": list(t.header_paths),
        "reference": t.reference,
        "release_pattern": t.release_pattern,
        # The history, not the clone: no local path, no HEAD of this clone (it moves with
        # unrelated commits), so any clone of the same history gives the same bytes.
        "urls": list(t.urls),
        "last_commit": last.commit if last else None,
        "last_date": last.date if last else None,
        "archeo_version": study.archeo_version,
        "seeds": settings["seeds"] if settings else None,
        "ops": settings["ops"] if settings else None,
        "first_seed": settings["first_seed"] if settings else None,
        "profiles": settings["profiles"] if settings else None,
        "confinement": study.difftest.confinement if study.difftest else None,
    }
    if settings and settings.get("groups"):  # the later API groups' ops mixed into every sequence
        inputs["groups"] = list(settings["groups"])
    return inputs


def _lines(text: str | None) -> int | None:
    return None if text is None else len(text.splitlines())


def _first_line(text: str | None, limit: int = 300) -> str | None:
    if text is None:
        return None
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _pair(pv) -> dict | None:
    if pv is None:
        return None
    return {
        "other": pv.other,
        "level": pv.level,
        "seed": pv.seed,
        "detail": pv.detail,
        # every level seen (strongest first) with the first seed showing it, and a witness
        # for each level where shrinking found one
        "levels": [{"level": level, "seed": seed} for level, seed in getattr(pv, "levels", ())],
        "witnesses": [w.as_dict() for w in _witnesses(pv)],
    }


def _witnesses(pv) -> tuple:
    found = getattr(pv, "witnesses", None)
    if found is not None:
        return tuple(found)
    return (pv.witness,) if getattr(pv, "witness", None) is not None else ()


def _revision_entry(study: Study, r, verdict, klass: int | None) -> dict:
    model = study.models.get(r.commit)
    program = study.programs.get(r.commit)
    if model is None:
        parse = None
    else:
        e = model.error
        parse = {
            "ok": e is None,
            "error": None if e is None else {"stage": e.stage, "file": e.file, "line": e.line, "message": _first_line(e.message)},
        }
    functions = [
        {
            "name": f.name,
            "signature": f.signature,
            "storage": list(f.storage),
            "returns": f.returns,
            "params": [{"name": p.name, "type": p.type} for p in f.params],
            "first_line": f.first_line,
            "last_line": f.last_line,
            "lines": f.last_line - f.first_line + 1,
            "statements": f.statements,
            "complexity": f.complexity,
            "origin": f.origin,
            "fingerprint": f.fingerprint,
        }
        for f in (model.functions if model else ())
    ]
    structs = [
        {
            "name": s.name,
            "kind": s.kind,
            "typedefs": list(s.typedefs),
            "fields": [{"name": fd.name, "type": fd.type} for fd in s.fields],
        }
        for s in (model.structs if model else ())
    ]
    # Macros as facts only: name, parameters, where defined. Never the body.
    macros = [{"name": m.name, "params": None if m.params is None else list(m.params), "origin": m.origin} for m in (model.macros if model else ())]
    build = None
    if program is not None:
        build = {
            "ok": program.ok,
            "node_size": program.node_size,
            "ops": list(program.ops),
            "sanitize": program.sanitize,
            "error": _first_line(program.error),
        }
    tested = verdict is not None and verdict.status == "tested"
    return {
        "commit": r.commit,
        "short": r.short,
        "date": r.date,
        "author": r.author,
        "subject": r.subject,
        "status": r.status,
        "path": r.path,
        "old_path": r.old_path,
        "header_path": r.header_path,
        "touched": list(r.touched),
        "added": r.added,
        "removed": r.removed,
        "lines": _lines(r.text),
        "header_lines": _lines(r.header_text),
        "previous": study.previous.get(r.commit),
        "parse": parse,
        "functions": functions,
        "structs": structs,
        "typedefs": {k: (model.typedefs[k]) for k in sorted(model.typedefs)} if model else {},
        "macros": macros,
        "api": list(model.api) if model else [],
        "neutralised": list(model.neutralised) if model else [],
        "build": build,
        "node_size": program.node_size if program is not None and program.ok else None,
        "difftest": None if verdict is None else verdict.status,
        "difftest_error": verdict.error if verdict is not None and verdict.error else None,
        "vs_reference": _pair(verdict.vs_reference) if tested else None,
        "vs_previous": _pair(verdict.vs_previous) if tested else None,
        "behaviour": verdict.behaviour if tested else None,
        "class": klass,
        "changes": [{"kind": c.kind, "name": c.name, "detail": c.detail} for c in study.structural.get(r.commit, [])],
    }


def _changes(study: Study, revisions: list[dict]) -> list[dict]:
    if study.difftest is None:
        return []
    from ..difftest import to_json

    by_commit = {r["commit"]: r for r in revisions}
    out = []
    for c in to_json(study.difftest)["changes"]:
        intro = by_commit.get(c["introduced_by"], {})
        ended = by_commit.get(c["ended_by"], {}) if c["ended_by"] else {}
        out.append(
            {
                **c,
                "introduced_date": intro.get("date"),
                "introduced_subject": intro.get("subject"),
                "ended_date": ended.get("date"),
                "first_release": c["releases"][0] if c["releases"] else None,
                "release_count": len(c["releases"]),
            }
        )
    return out


def _matrix(study: Study) -> dict | None:
    """Strongest level between every two tested revisions (and the reference), where known.

    Known exactly: revisions in one equivalence class (identical outcomes on every sequence:
    `same`); pairs that were measured (each revision against the reference and against its
    predecessor), and — since members of a class have identical outcomes — every pair of
    classes that one measured pair connects. Other pairs differ, at a level not measured: None.
    """
    result = study.difftest
    if result is None:
        return None
    tested = [v for v in result.revisions if v.status == "tested"]
    if not tested:
        return None
    klass = {c: i for i, members in enumerate(result.classes) for c in members}
    for v in tested:
        klass.setdefault(v.commit, len(klass) + 1000)
    ref_class = next((klass[v.commit] for v in tested if v.vs_reference and v.vs_reference.level == "same"), -1)
    klass[REFERENCE] = ref_class
    known: dict[tuple[int, int], str] = {}

    def note(a: str, b: str, level: str) -> None:
        if a not in klass or b not in klass or klass[a] == klass[b]:
            return
        key = tuple(sorted((klass[a], klass[b])))
        if key not in known or rank(level) > rank(known[key]):
            known[key] = level

    for v in tested:
        for pv in (v.vs_reference, v.vs_previous):
            if pv is not None:
                note(pv.other, v.commit, pv.level)
    order = [REFERENCE] + [v.commit for v in tested]
    levels = []
    for a in order:
        row = []
        for b in order:
            if klass[a] == klass[b]:
                row.append("same")
            else:
                row.append(known.get(tuple(sorted((klass[a], klass[b])))))
        levels.append(row)
    return {
        "order": order,
        "levels": levels,
        "note": "same class: same; measured pairs (vs reference, vs previous) extended to their classes; null: differs, level not measured",
    }


def _summary(study: Study, f: dict) -> dict:
    revs = f["revisions"]
    dates = [r["date"][:10] for r in revs]
    deleted = sum(r["status"] == "deleted" for r in revs)
    built = sum(bool(r["build"] and r["build"]["ok"]) for r in revs)
    failed = sum(bool(r["build"] and not r["build"]["ok"]) for r in revs)
    tested = sum(r["difftest"] == "tested" for r in revs)
    parsed = sum(bool(r["parse"] and r["parse"]["ok"]) for r in revs)
    changes = f["changes"]
    strongest_change = None
    for c in changes:
        if strongest_change is None or rank(c["level"]) > rank(strongest_change["level"]):
            strongest_change = c
    vs_ref = [r["vs_reference"]["level"] for r in revs if r["vs_reference"]]
    strongest_ref = max(vs_ref, key=rank) if vs_ref else None
    summary = {
        "revisions": len(revs),
        "first_date": min(dates) if dates else None,
        "last_date": max(dates) if dates else None,
        "present": len(revs) - deleted,
        "deleted": deleted,
        "parsed": parsed,
        "built": built,
        "build_failed": failed,
        "tested": tested,
        "behaviour_changes": len(changes),
        "changes_by_level": {lv: n for lv in LEVELS if (n := sum(c["level"] == lv for c in changes))},
        "strongest_change": None
        if strongest_change is None
        else {"level": strongest_change["level"], "introduced_by": strongest_change["introduced_by"], "date": strongest_change["introduced_date"]},
        "strongest_vs_reference": strongest_ref,
        "classes": len(f["classes"]),
    }
    summary["text"] = _summary_text(f, summary)
    return summary


def _summary_text(f: dict, s: dict) -> str:
    if not s["revisions"]:
        return "No revisions: the history of this target is empty."
    parts = [f"{plural(s['revisions'], 'revision')} from {s['first_date']} to {s['last_date']}"]
    if s["deleted"]:
        parts[-1] += f" ({plural(s['deleted'], 'removal')} of the file)"
    inputs = f["inputs"]
    if inputs["seeds"] is None:
        parts.append(f"{s['built']} built; no differential test was run")
        return "; ".join(parts) + "."
    if not s["tested"]:  # never "no change": nothing was compared
        parts.append(f"0 of {plural(s['present'], 'present revision')} built; see the build column")
        return "; ".join(parts) + ". Nothing was tested."
    parts.append(
        f"{s['tested']} built and were run against the {inputs['reference']} reference "
        f"({plural(inputs['seeds'], 'seed')} × {inputs['ops']:,} operations)"
        + (f", {s['build_failed']} did not build" if s["build_failed"] else "")
    )
    text = "; ".join(parts) + ". "
    n = s["behaviour_changes"]
    if n == 0:
        text += "No behavioural change between consecutive revisions."
    else:
        by = ", ".join(f"{k} {lv}" for lv, k in s["changes_by_level"].items())
        sc = s["strongest_change"]
        text += f"{plural(n, 'behavioural change')} ({by}); the strongest is {sc['level']}, introduced by {sc['introduced_by'][:12]} ({(sc['date'] or '')[:10]})."
    if s["strongest_vs_reference"]:
        text += f" Against the reference the strongest difference is {s['strongest_vs_reference']}; the tested revisions form {plural(s['classes'], 'equivalence class', 'equivalence classes')}."
    return text
