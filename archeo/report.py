"""The report stage: a Study becomes `reports/<target>/`.

    index.md, index.html      the report (the HTML is one self-contained file)
    revisions/<commit>.md     one page per revision
    figures/*.svg             timeline and equivalence matrix
    findings.json             everything above as data (docs/findings-schema.md)

The work is split in two steps. `build_findings(study)` turns the Study into one plain,
ordered, deterministic document; every renderer (Markdown here, HTML in report_html.py,
figures in figures.py) reads that document only, so what a reader sees and what the JSON
says cannot drift apart, and the same Study always gives the same bytes.

No line of the studied source reaches the report: functions appear as names, signatures and
counts; macros as names and parameters; never bodies or comments.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .compare import LEVELS, rank
from .errors import ArcheoError
from .report_mutation import mutation_findings, mutation_md
from .study import Study
from .treeart import draw_text, last_dump, side_by_side

SCHEMA = "archeo-findings/1"
REFERENCE = "reference"
MARKER = "findings.json"  # a directory holding this is an archeo report we may replace


@dataclass(frozen=True)
class ReportFiles:
    """Where `write_report` put everything (paths inside the final out_dir)."""

    out_dir: Path
    index_md: Path
    index_html: Path
    findings_json: Path
    figures: tuple[Path, ...]
    revisions: tuple[Path, ...]


# ================================================================ findings: the data
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
        "timeline": _timeline(study),
        "revisions": revisions,
        "changes": changes,
        "classes": [list(members) for members in (result.classes if result else [])],
        "matrix": _matrix(study),
        "history": _history(study, revisions),
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
    return {
        "target": t.name,
        "description": t.description,
        "paths": list(t.paths),
        "header_paths": list(t.header_paths),
        "reference": t.reference,
        "release_pattern": t.release_pattern,
        "repository": study.repo,
        "repo_head": study.repo_head,
        "archeo_version": study.archeo_version,
        "seeds": settings["seeds"] if settings else None,
        "ops": settings["ops"] if settings else None,
        "first_seed": settings["first_seed"] if settings else None,
        "profiles": settings["profiles"] if settings else None,
    }


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
            "key": program.key,
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
    from .difftest import to_json

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


def _timeline(study: Study) -> list[dict]:
    """The file's life: added, moved, removed, re-added; header moves. Modifications counted."""
    events: list[dict] = []
    seen = False
    last_path = None
    last_header = None
    for r in study.revisions:
        found = []
        if r.status == "deleted":
            found.append(("removed", f"removed from {r.path}"))
        elif r.status == "added":
            if not seen:
                found.append(("added", f"added as {r.path}" + (f" (header {r.header_path})" if r.header_path else "")))
            elif last_path and r.path != last_path:
                found.append(("re-added", f"re-added as {r.path} (was {last_path})"))
            else:
                found.append(("re-added", f"re-added as {r.path}"))
        elif r.status == "renamed":
            found.append(("moved", f"moved from {r.old_path or last_path} to {r.path}"))
        if r.status != "deleted":
            if seen and last_header and r.header_path and r.header_path != last_header:
                found.append(("header-moved", f"header moved from {last_header} to {r.header_path}"))
            elif seen and last_header and not r.header_path:
                found.append(("header-removed", f"header {last_header} gone"))
            elif seen and not last_header and r.header_path and r.status != "added":
                found.append(("header-added", f"header {r.header_path} appears"))
            last_header = r.header_path
        if not found and events:
            events[-1]["following"] += 1
        for kind, text in found:
            events.append(
                {
                    "commit": r.commit,
                    "date": r.date,
                    "event": kind,
                    "path": r.path,
                    "old_path": r.old_path,
                    "header_path": r.header_path,
                    "text": text,
                    "following": 0,
                }
            )
        seen = True
        last_path = r.path
    return events


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


def _spans(study: Study, names_of) -> dict[str, list[dict]]:
    """name -> [{from, to}] over present revisions with a model; a removal of the file ends all."""
    spans: dict[str, list[dict]] = {}
    open_: dict[str, dict] = {}
    for r in study.revisions:
        if r.status == "deleted":
            for span in open_.values():
                span["to"] = r.commit
            open_ = {}
            continue
        model = study.models.get(r.commit)
        if model is None or not model.ok:
            continue  # unknown here: neither appears nor disappears
        names = names_of(model)
        for name in [n for n in open_ if n not in names]:
            open_.pop(name)["to"] = r.commit
        for name in names:
            if name not in open_:
                span = {"from": r.commit, "to": None}
                spans.setdefault(name, []).append(span)
                open_[name] = span
    return spans


def _history(study: Study, revisions: list[dict]) -> dict:
    """Functions and macros appearing and disappearing, API events, and sizeof(node) over time."""
    order = {r["commit"]: i for i, r in enumerate(revisions)}
    api_names = {n for m in study.models.values() for n in m.api}

    def listing(spans: dict[str, list[dict]], counts: Counter) -> list[dict]:
        rows = [
            {"name": name, "spans": s, "revisions": counts[name], "public": name in api_names}
            for name, s in spans.items()
        ]
        return sorted(rows, key=lambda row: (order[row["spans"][0]["from"]], row["name"]))

    fn_counts: Counter = Counter()
    mc_counts: Counter = Counter()
    for m in study.models.values():
        if m.ok:
            fn_counts.update({f.name for f in m.functions})
            mc_counts.update({x.name for x in m.macros})
    functions = listing(_spans(study, lambda m: [f.name for f in m.functions]), fn_counts)
    macros = listing(_spans(study, lambda m: [x.name for x in m.macros]), mc_counts)

    events = []
    previous = None
    for r in study.revisions:
        if r.status == "deleted":
            if previous is not None:
                gone_f = sorted({f.name for f in previous.functions})
                gone_m = sorted({x.name for x in previous.macros})
                events.append(_event(r, file_removed=True, functions_removed=gone_f, macros_removed=gone_m, api_removed=sorted(set(previous.api))))
            previous = None
            continue
        model = study.models.get(r.commit)
        if model is None or not model.ok:
            continue
        before_f = {f.name for f in previous.functions} if previous else set()
        before_m = {x.name for x in previous.macros} if previous else set()
        before_a = set(previous.api) if previous else set()
        now_f, now_m, now_a = {f.name for f in model.functions}, {x.name for x in model.macros}, set(model.api)
        kinds = Counter()
        names: dict[str, list[str]] = {}
        for c in study.structural.get(r.commit, []):
            if c.kind in ("signature-changed", "function-renamed", "struct-changed"):
                names.setdefault(c.kind, []).append(c.name)
                kinds[c.kind] += 1
        event = _event(
            r,
            functions_added=sorted(now_f - before_f),
            functions_removed=sorted(before_f - now_f),
            macros_added=sorted(now_m - before_m),
            macros_removed=sorted(before_m - now_m),
            api_added=sorted(now_a - before_a),
            api_removed=sorted(before_a - now_a),
            signatures_changed=sorted(names.get("signature-changed", [])),
            renamed=sorted(names.get("function-renamed", [])),
            structs_changed=sorted(names.get("struct-changed", [])),
        )
        if any(v for k, v in event.items() if k not in ("commit", "date")):
            events.append(event)
        previous = model

    node_size = [
        {"commit": r["commit"], "date": r["date"], "node_size": r["node_size"]} for r in revisions if r["node_size"] is not None
    ]
    return {"functions": functions, "macros": macros, "events": events, "node_size": node_size}


_EVENT_LISTS = (
    "functions_added",
    "functions_removed",
    "macros_added",
    "macros_removed",
    "api_added",
    "api_removed",
    "signatures_changed",
    "renamed",
    "structs_changed",
)


def _event(r, file_removed: bool = False, **lists) -> dict:
    """One entry of history.events: every key always present, lists sorted."""
    return {"commit": r.commit, "date": r.date, "file_removed": file_removed, **{k: lists.get(k, []) for k in _EVENT_LISTS}}


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


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _summary_text(f: dict, s: dict) -> str:
    if not s["revisions"]:
        return "No revisions: the history of this target is empty."
    parts = [f"{_plural(s['revisions'], 'revision')} from {s['first_date']} to {s['last_date']}"]
    if s["deleted"]:
        parts[-1] += f" ({_plural(s['deleted'], 'removal')} of the file)"
    inputs = f["inputs"]
    if inputs["seeds"] is None:
        parts.append(f"{s['built']} built; no differential test was run")
        return "; ".join(parts) + "."
    parts.append(
        f"{s['tested']} built and were run against the {inputs['reference']} reference "
        f"({_plural(inputs['seeds'], 'seed')} × {inputs['ops']:,} operations)"
        + (f", {s['build_failed']} did not build" if s["build_failed"] else "")
    )
    text = "; ".join(parts) + ". "
    n = s["behaviour_changes"]
    if n == 0:
        text += "No behavioural change between consecutive revisions."
    else:
        by = ", ".join(f"{k} {lv}" for lv, k in s["changes_by_level"].items())
        sc = s["strongest_change"]
        text += f"{_plural(n, 'behavioural change')} ({by}); the strongest is {sc['level']}, introduced by {sc['introduced_by'][:12]} ({(sc['date'] or '')[:10]})."
    if s["strongest_vs_reference"]:
        text += f" Against the reference the strongest difference is {s['strongest_vs_reference']}; the tested revisions form {_plural(s['classes'], 'equivalence class', 'equivalence classes')}."
    return text


# ================================================================ shared helpers for renderers
_OP_WORDS = {
    "i": "insert {}",
    "e": "erase {}",
    "f": "find {}",
    "<": "first",
    ">": "last",
    "n": "next of {}",
    "p": "prev of {}",
    "r": "replace {}",
    "c": "clear {}",
    "z": "is-empty {}",
    "d": "dump",
    "v": "verify",
    "x": "reset",
}


def describe_op(token: str) -> str:
    """`i 5` -> `insert 5`, `<` -> `first`, `n 4` -> `next of 4`, `d` -> `dump` (protocol.md)."""
    parts = token.split()
    if not parts or parts[0] not in _OP_WORDS:
        return token
    words = _OP_WORDS[parts[0]]
    return words.format(parts[1]) if "{}" in words and len(parts) > 1 else words


def side_label(side: str, revisions_by_commit: dict) -> str:
    if side == REFERENCE:
        return "reference"
    r = revisions_by_commit.get(side)
    return f"{side[:12]} ({r['date'][:10]})" if r else side[:12]


def outcome_text(outcome: dict) -> str:
    if outcome["status"] == "ok":
        return "ran to the end"
    return f"{outcome['status']} ({outcome['kind'] or 'no detail'}) after {_plural(len(outcome['results']), 'operation')}"


def untested_reason(r: dict, f: dict) -> str:
    if f["inputs"]["seeds"] is None:
        return "no differential test was run"
    if r["status"] == "deleted":
        return "the file is removed at this commit"
    if r["build"] is not None and not r["build"]["ok"]:
        return "it did not build"
    if r["build"] is None:
        return "it was not built"
    return "it was not in the differential run"


def witness_rows(w: dict) -> list[tuple[int, str, str, str, bool]]:
    """(number, operation, result a, result b, differs) for each op; a missing result is '—'."""
    a, b = w["a_outcome"]["results"], w["b_outcome"]["results"]
    rows = []
    for i, token in enumerate(w["ops"]):
        ra = a[i] if i < len(a) else "—"
        rb = b[i] if i < len(b) else "—"
        rows.append((i + 1, describe_op(token), ra, rb, ra != rb))
    return rows


def witness_trees(w: dict) -> tuple[str | None, str | None]:
    return last_dump(w["ops"], w["a_outcome"]["results"]), last_dump(w["ops"], w["b_outcome"]["results"])


# ================================================================ Markdown
def _cell(text) -> str:
    if text is None:
        return "—"
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _code(text: str) -> str:
    text = str(text).replace("\n", " ")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _level(level: str | None) -> str:
    return "—" if level is None else f"**{level}**" if level != "same" else "same"


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "—"


def _build_text(r: dict) -> str:
    b = r["build"]
    if r["status"] == "deleted":
        return "— (file removed)"
    if b is None:
        return "not built"
    if b["ok"]:
        return f"ok, node {b['node_size']} B" if b["node_size"] is not None else "ok"
    return "error"


def _vs(r: dict, name: str) -> str:
    pv = r[name]
    if pv is not None:
        return _level(pv["level"])
    if r["status"] == "deleted":
        return "—"
    if r["build"] is not None and not r["build"]["ok"]:
        return "did not build"
    if name == "vs_previous" and r["difftest"] == "tested":
        return "— (first)"
    return "not tested"


def _functions_count(r: dict) -> str:
    if r["parse"] is None:
        return "—"
    return str(len(r["functions"])) if r["parse"]["ok"] else "parse error"


def _witness_md(w: dict, by_commit: dict, heading: str = "Witness") -> list[str]:
    la, lb = side_label(w["a"], by_commit), side_label(w["b"], by_commit)
    out = [
        f"{heading}: {_plural(len(w['ops']), 'operation')} (seed {w['seed']}, shrunk from {w['original_length']:,}), "
        f"level **{w['level']}**:",
        "",
        f"| # | operation | {_cell(la)} | {_cell(lb)} | |",
        "|---:|---|---|---|---|",
    ]
    for n, op, ra, rb, differs in witness_rows(w):
        out.append(f"| {n} | {_cell(op)} | {_code(ra)} | {_code(rb)} | {'◀ differs' if differs else ''} |")
    for side, label in (("a_outcome", la), ("b_outcome", lb)):
        if w[side]["status"] != "ok":
            out.append(f"| | *end* | {_cell(outcome_text(w[side])) if side == 'a_outcome' else ''} | {_cell(outcome_text(w[side])) if side == 'b_outcome' else ''} | ◀ {w[side]['status']} |")
    ta, tb = witness_trees(w)
    out.append("")
    if ta is None and tb is None:
        out.append("*No dump in this witness: the difference shows in the results above.*")
    else:
        da = draw_text(ta) if ta else "(no dump: " + outcome_text(w["a_outcome"]) + ")"
        db = draw_text(tb) if tb else "(no dump: " + outcome_text(w["b_outcome"]) + ")"
        out += ["Trees at the last dump (R red, B black):", "", "```", side_by_side(da, db, (la, lb)), "```"]
    return out


def render_index_md(f: dict, figures: dict[str, str]) -> str:
    i, s = f["inputs"], f["summary"]
    by_commit = {r["commit"]: r for r in f["revisions"]}
    out = [f"# archeo report: {i['target']}", ""]
    if i["description"]:
        out += [_cell(i["description"]), ""]
    settings = (
        f"{i['seeds']} seeds × {i['ops']:,} ops, first seed {i['first_seed']}, profiles {', '.join(i['profiles'])}"
        if i["seeds"] is not None
        else "no differential test"
    )
    out += [
        "| | |",
        "|---|---|",
        f"| target | {_code(i['target'])} |",
        f"| files | {', '.join(_code(p) for p in i['paths'])} |",
        f"| headers | {', '.join(_code(p) for p in i['header_paths']) or '—'} |",
        f"| repository | {_cell(i['repository'])} |",
        f"| head | {_code(i['repo_head'])} |",
        f"| reference | {_cell(i['reference'])} |",
        f"| settings | {settings} |",
        f"| archeo | {_cell(i['archeo_version'])} |",
        "",
        f"**Summary.** {_cell(s['text'])}",
        "",
        "Contents: [timeline](#1-timeline) · [revisions](#2-revisions) · [behavioural changes](#3-behavioural-changes) · "
        "[API and layout](#4-api-and-layout) · [equivalence](#5-equivalence-classes) · [structural changes](#6-structural-changes) · "
        f"data: [{MARKER}]({MARKER})",
        "",
        "## 1. Timeline",
        "",
    ]
    for e in f["timeline"]:
        then = f" — then {_plural(e['following'], 'more revision')}" if e["following"] else ""
        out.append(f"- {e['date'][:10]} [{_code(_short(e['commit']))}](revisions/{e['commit']}.md): {_cell(e['text'])}{then}")
    if not f["timeline"]:
        out.append("*No revisions.*")
    if "timeline" in figures:
        out += ["", "![File size, function count and verdicts over time](figures/timeline.svg)"]
    out += [
        "",
        "## 2. Revisions",
        "",
        "| commit | date | status | author | subject | +/− | functions | build | vs reference | vs previous |",
        "|---|---|---|---|---|---:|---:|---|---|---|",
    ]
    for r in f["revisions"]:
        subject = r["subject"] if len(r["subject"]) <= 70 else r["subject"][:69] + "…"
        out.append(
            f"| [{_code(r['short'])}](revisions/{r['commit']}.md) | {r['date'][:10]} | {r['status']} | {_cell(r['author'])} | "
            f"{_cell(subject)} | +{r['added']} −{r['removed']} | {_functions_count(r)} | {_build_text(r)} | "
            f"{_vs(r, 'vs_reference')} | {_vs(r, 'vs_previous')} |"
        )
    out += ["", "## 3. Behavioural changes", ""]
    if i["seeds"] is None:
        out.append("*No differential test was run.*")
    elif not f["changes"]:
        out.append("*No revision behaves differently from its predecessor on the sequences tested.*")
    for n, c in enumerate(f["changes"], 1):
        out += [f"### 3.{n} {c['level']} — {_short(c['introduced_by'])} ({(c['introduced_date'] or '')[:10]})", ""]
        out.append(
            f"- introduced by [{_code(_short(c['introduced_by']))}](revisions/{c['introduced_by']}.md) "
            f"“{_cell(c['introduced_subject'])}”, against {_code(_short(c['previous']))}"
        )
        if c.get("untested_between"):
            out.append(
                "- or by a revision in between that could not be tested: "
                + ", ".join(_code(_short(x)) for x in c["untested_between"])
            )
        if c["ended_by"]:
            out.append(f"- ended by [{_code(_short(c['ended_by']))}](revisions/{c['ended_by']}.md) ({(c['ended_date'] or '')[:10]}): behaviour returns to what it was")
        else:
            out.append("- not ended: the new behaviour lasts to the head of the history")
        if c["release_count"]:
            out.append(f"- releases: first {_code(c['first_release'])}, {_plural(c['release_count'], 'release')} in all (listed in {MARKER})")
        else:
            out.append("- releases: none known to carry it")
        if c["detail"]:
            out.append(f"- first seen in the seed's full sequence: {_cell(c['detail'])}")
        out.append("")
        if c["outcomes"]:
            out += _witness_md(c["outcomes"], by_commit)
        else:
            out.append("*No minimal witness was found.*")
        out.append("")
    out += _history_md(f)
    out += ["", "## 5. Equivalence classes", ""]
    out += _classes_md(f, by_commit)
    if "matrix" in figures:
        out += [
            "",
            "![Strongest difference between every two revisions](figures/matrix.svg)",
            "",
            "*Cells are exact where measured: same class → same; each revision against the reference and its "
            "predecessor, extended to their classes. Hatched cells differ at a level that was not measured.*",
        ]
    out += ["", "## 6. Structural changes", ""]
    out += _structural_md(f)
    if f.get("mutation"):
        out += [""] + mutation_md(f["mutation"], 7)
    if f["notes"]:
        out += ["", "## Notes", ""] + [f"- {_cell(n)}" for n in f["notes"]]
    return "\n".join(out).rstrip() + "\n"


def _span_text(spans: list[dict], by_commit: dict) -> str:
    def d(c):
        return by_commit[c]["date"][:10] if c in by_commit else _short(c)

    return ", ".join(f"{d(s['from'])} → {d(s['to']) if s['to'] else 'head'}" for s in spans)


def _history_md(f: dict) -> list[str]:
    h = f["history"]
    by_commit = {r["commit"]: r for r in f["revisions"]}
    out = ["## 4. API and layout", ""]
    if h["events"]:
        out += ["### What appeared and disappeared", ""]
        for e in h["events"]:
            head = f"- {e['date'][:10]} [{_code(_short(e['commit']))}](revisions/{e['commit']}.md):"
            if e["file_removed"]:
                out.append(f"{head} the file is removed, and with it {_plural(len(e['functions_removed']), 'function')} and {_plural(len(e['macros_removed']), 'macro')}")
                continue
            bits = []
            for key, word in (
                ("functions_added", "+ functions"),
                ("functions_removed", "− functions"),
                ("macros_added", "+ macros"),
                ("macros_removed", "− macros"),
                ("signatures_changed", "signature changed"),
                ("renamed", "renamed"),
                ("structs_changed", "layout changed"),
            ):
                if e[key]:
                    bits.append(f"{word}: {', '.join(_code(n) for n in e[key])}")
            if e["api_added"] or e["api_removed"]:
                bits.append(f"header API +{len(e['api_added'])} −{len(e['api_removed'])}")
            out.append(f"{head} {'; '.join(bits)}")
        out.append("")
    for key, title in (("functions", "Functions"), ("macros", "Macros")):
        rows = h[key]
        out += [f"### {title}", ""]
        if not rows:
            out += ["*None known.*", ""]
            continue
        out += ["| name | present | revisions | in header API |", "|---|---|---:|---|"]
        for row in rows:
            out.append(f"| {_code(row['name'])} | {_span_text(row['spans'], by_commit)} | {row['revisions']} | {'yes' if row['public'] else ''} |")
        out.append("")
    out += ["### sizeof(node)", ""]
    sizes = h["node_size"]
    if not sizes:
        out.append("*No revision built.*")
    else:
        out += ["| from | commit | bytes |", "|---|---|---:|"]
        last = None
        for row in sizes:
            if row["node_size"] != last:
                out.append(f"| {row['date'][:10]} | [{_code(_short(row['commit']))}](revisions/{row['commit']}.md) | {row['node_size']} |")
                last = row["node_size"]
        out += ["", f"*Every build: {', '.join(str(x['node_size']) for x in sizes)} bytes.*" if len({x['node_size'] for x in sizes}) > 1 else f"*The same in all {len(sizes)} builds.*"]
    return out


def class_rows(f: dict) -> list[dict]:
    by_commit = {r["commit"]: r for r in f["revisions"]}
    rows = []
    for n, members in enumerate(f["classes"], 1):
        dates = [by_commit[c]["date"][:10] for c in members if c in by_commit]
        ref = [by_commit[c]["vs_reference"]["level"] for c in members if c in by_commit and by_commit[c]["vs_reference"]]
        rows.append(
            {
                "n": n,
                "members": members,
                "first": min(dates) if dates else "",
                "last": max(dates) if dates else "",
                "vs_reference": ref[0] if ref else None,
            }
        )
    return rows


def _classes_md(f: dict, by_commit: dict) -> list[str]:
    if not f["classes"]:
        return ["*No revision was tested.*"]
    out = [
        "Revisions with identical outcomes on every sequence tested.",
        "",
        "| class | revisions | from | to | vs reference | members |",
        "|---:|---:|---|---|---|---|",
    ]
    for row in class_rows(f):
        members = ", ".join(f"[{_code(_short(c))}](revisions/{c}.md)" for c in row["members"])
        out.append(f"| {row['n']} | {len(row['members'])} | {row['first']} | {row['last']} | {_level(row['vs_reference'])} | {members} |")
    return out


def change_counts(changes: list[dict]) -> str:
    counts = Counter(c["kind"] for c in changes)
    return ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in sorted(counts.items()))


def _structural_md(f: dict) -> list[str]:
    rows = [r for r in f["revisions"] if r["changes"]]
    if not rows:
        return ["*No structural change recorded.*"]
    out = ["Against the previous present revision (AST level).", "", "| commit | date | changes | names |", "|---|---|---|---|"]
    for r in rows:
        names = sorted({c["name"] for c in r["changes"] if c["name"]})
        shown = ", ".join(_code(n) for n in names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
        out.append(f"| [{_code(r['short'])}](revisions/{r['commit']}.md) | {r['date'][:10]} | {change_counts(r['changes'])} | {shown} |")
    return out


def render_revision_md(f: dict, r: dict) -> str:
    by_commit = {x["commit"]: x for x in f["revisions"]}
    out = [f"# {r['short']} — {_cell(r['subject'])}", "", f"[← {f['inputs']['target']} report](../index.md)", ""]
    parse = "not parsed" if r["parse"] is None else "ok" if r["parse"]["ok"] else "error"
    if r["parse"] and not r["parse"]["ok"]:
        e = r["parse"]["error"]
        parse = f"{e['stage']} error at {e['file']}:{e['line']}: {e['message']}"
    b = r["build"]
    if b is None:
        build = "— (file removed)" if r["status"] == "deleted" else "not built"
    elif b["ok"]:
        build = f"ok; sizeof(node) = {b['node_size']}; operations: " + (_code(" ".join(b["ops"])) if b["ops"] else "—")
    else:
        build = _cell(f"failed: {b['error'] or 'no message'}")
    rows = [
        ("commit", _code(r["commit"])),
        ("date", r["date"]),
        ("author", _cell(r["author"])),
        ("subject", _cell(r["subject"])),
        ("status", r["status"]),
        ("path", _code(r["path"])),
        ("moved from", _code(r["old_path"]) if r["old_path"] else None),
        ("header", _code(r["header_path"]) if r["header_path"] else "—"),
        ("touched", ", ".join(r["touched"]) or "—"),
        ("lines", f"+{r['added']} −{r['removed']}" + (f"; {r['lines']} in the file" if r["lines"] is not None else "")),
        ("compared with", f"[{_code(_short(r['previous']))}]({r['previous']}.md)" if r["previous"] else "—"),
        ("parse", _cell(parse)),
        ("build", build),
        ("behaviour class", str(r["class"]) if r["class"] else "—"),
    ]
    out += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows if v is not None]
    out += ["", "## Verdicts", ""]
    if r["vs_reference"] is None:
        out.append(f"Not tested: {untested_reason(r, f)}.")
    for name, title in (("vs_reference", "Against the reference"), ("vs_previous", "Against the previous revision")):
        pv = r[name]
        if pv is None:
            continue
        other = side_label(pv["other"], by_commit)
        out += [f"### {title}", "", f"{_level(pv['level'])} against {_cell(other)}" + (f", seed {pv['seed']}: {_cell(pv['detail'])}" if pv["seed"] is not None else "."), ""]
        for w in pv["witnesses"]:
            out += _witness_md(w, by_commit) + [""]
    out += ["", "## Structural changes", ""]
    if r["changes"]:
        out += ["| kind | name | detail |", "|---|---|---|"] + [
            f"| {c['kind']} | {_code(c['name']) if c['name'] else '—'} | {_cell(c['detail']) if c['detail'] else ''} |" for c in r["changes"]
        ]
    else:
        out.append("None recorded." if r["previous"] else "None: nothing to compare with.")
    out += ["", "## Model", ""]
    if r["parse"] is None:
        out.append("No model (the file is absent or was not parsed).")
    elif not r["parse"]["ok"]:
        out.append("The file did not parse; no model.")
    else:
        out += _model_md(r)
    return "\n".join(out).rstrip() + "\n"


def _model_md(r: dict) -> list[str]:
    out = [f"### Functions ({len(r['functions'])})", ""]
    if r["functions"]:
        out += ["| name | signature | storage | lines | statements | complexity | from |", "|---|---|---|---:|---:|---:|---|"]
        for fn in r["functions"]:
            out.append(
                f"| {_code(fn['name'])} | {_code(fn['signature'])} | {' '.join(fn['storage']) or '—'} | "
                f"{fn['first_line']}–{fn['last_line']} ({fn['lines']}) | {fn['statements']} | {fn['complexity']} | {fn['origin']} |"
            )
    out += ["", f"### Structs ({len(r['structs'])})", ""]
    for s in r["structs"]:
        alias = f" (typedef {', '.join(_code(t) for t in s['typedefs'])})" if s["typedefs"] else ""
        fields = "; ".join(f"{_code(fd['type'])} {_code(fd['name'])}" for fd in s["fields"]) or "no fields"
        out.append(f"- {_code(s['name'])}{alias}: {fields}")
    out += ["", f"### Macros ({len(r['macros'])})", ""]
    if r["macros"]:
        out.append(", ".join(_code(m["name"] + (f"({', '.join(m['params'])})" if m["params"] is not None else "")) for m in r["macros"]))
    if r["typedefs"]:
        out += ["", "### Typedefs", ""] + [f"- {_code(k)} = {_code(v)}" for k, v in r["typedefs"].items()]
    if r["api"]:
        out += ["", f"### Header API ({len(r['api'])})", "", ", ".join(_code(n) for n in r["api"])]
    if r["neutralised"]:
        out += ["", "### GCC syntax made parseable", ""] + [f"- {_cell(n)}" for n in r["neutralised"]]
    return out


# ================================================================ writing
def dumps(findings: dict) -> str:
    return json.dumps(findings, indent=2, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _cannot(out_dir: Path, reason: str) -> ArcheoError:
    return ArcheoError(f"cannot write the report to {out_dir} ({reason}): choose another --out")


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def write_report(study: Study, out_dir: Path | str) -> ReportFiles:
    """Render the whole report into a temporary directory beside `out_dir`, then swap it in.

    An interrupted run leaves the previous report (or nothing) in place, never half a report.
    An existing `out_dir` is replaced only when it is empty or an earlier archeo report.
    """
    from . import figures as figs
    from .report_html import render_html

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise _cannot(out_dir, "it is a file")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise _cannot(out_dir, "it exists and is not an archeo report")
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise _cannot(out_dir, _reason(exc)) from None

    findings = build_findings(study)
    try:
        figures = figs.render(findings)
        for name, svg in figures.items():
            _write(staging / "figures" / f"{name}.svg", svg)
        revision_pages = []
        for r in findings["revisions"]:
            page = Path("revisions") / f"{r['commit']}.md"
            _write(staging / page, render_revision_md(findings, r))
            revision_pages.append(page)
        if study.difftest is not None:  # replayable witnesses, inside the same atomic swap
            from .witness import write_witness

            for i, change in enumerate(study.difftest.changes, 1):
                if change.witness is not None:
                    name = f"{i:02d}-{change.introduced_by[:12]}-{change.level}.json"
                    write_witness(staging / "witnesses" / name, change.witness, study.target.name)
        _write(staging / "index.md", render_index_md(findings, figures))
        _write(staging / "index.html", render_html(findings, figures))
        _write(staging / MARKER, dumps(findings))  # last: its presence marks a complete report
        _swap(staging, out_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _cannot(out_dir, _reason(exc)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ReportFiles(
        out_dir=out_dir,
        index_md=out_dir / "index.md",
        index_html=out_dir / "index.html",
        findings_json=out_dir / MARKER,
        figures=tuple(out_dir / "figures" / f"{name}.svg" for name in figures),
        revisions=tuple(out_dir / p for p in revision_pages),
    )


def _swap(staging: Path, out_dir: Path) -> None:
    """Put `staging` where `out_dir` is: rename the old one aside, rename the new one in."""
    os.chmod(staging, 0o755)
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
        os.rmdir(old)
        os.rename(out_dir, old)
    try:
        os.rename(staging, out_dir)
    except OSError:
        if old is not None:
            os.rename(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ================================================================ terminal
SUMMARY_HEADERS = ("introduced", "date", "level", "ended", "first release", "releases", "witness")


def summary_rows(study: Study) -> list[tuple]:
    """One row per behavioural change: (introduced, date, level, ended, first release, releases, witness)."""
    if study.difftest is None:
        return []
    dates = {r.commit: r.date[:10] for r in study.revisions}
    rows = []
    for c in study.difftest.changes:
        witness = "—"
        if c.witness is not None:
            ops = [describe_op(t) for t in c.witness.ops]
            witness = ", ".join(ops) if len(ops) <= 6 else ", ".join(ops[:5]) + f", … ({len(ops)} ops)"
        rows.append(
            (
                c.introduced_by[:12],
                dates.get(c.introduced_by, ""),
                c.level,
                c.ended_by[:12] if c.ended_by else "—",
                c.releases[0] if c.releases else "—",
                len(c.releases),
                witness,
            )
        )
    return rows


def print_summary(study: Study, out_dir: Path | str, file: TextIO | None = None) -> None:
    """The behavioural changes as a table, then where the report is."""
    from tabulate import tabulate

    file = file or sys.stdout
    rows = summary_rows(study)
    out_dir = Path(out_dir)
    if study.difftest is None:
        print("no differential test was run", file=file)
    elif rows:
        print(tabulate(rows, headers=SUMMARY_HEADERS, tablefmt="simple"), file=file)
    else:
        print("no behavioural change between consecutive revisions", file=file)
    print(f"report: {out_dir / 'index.html'} (also index.md, {MARKER})", file=file)
