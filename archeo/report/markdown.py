"""The report in Markdown: `index.md` and one page per revision, from the findings document."""

from __future__ import annotations

from .mutation import mutation_md
from .words import (
    settings_words,
    build_words,
    parse_words,
    EVENT_WORDS,
    MARKER,
    MATRIX_CAPTION,
    history_text,
    change_counts,
    class_rows,
    outcome_text,
    plural,
    side_label,
    untested_reason,
    legend,
    witness_rows,
)
from .witness_trees import trees_md


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
        f"{heading}: {plural(len(w['ops']), 'operation')} (seed {w['seed']}, shrunk from {w['original_length']:,}), "
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
    out += [""] + [f"- {_cell(line)}" for line in legend(w["ops"], (w["a_outcome"]["results"], w["b_outcome"]["results"]))]
    out += [""] + trees_md(w, la, lb)
    return out


def render_index_md(f: dict, figures: dict[str, str]) -> str:
    i, s = f["inputs"], f["summary"]
    by_commit = {r["commit"]: r for r in f["revisions"]}
    out = [f"# archeo report: {i['target']}", ""]
    if i["description"]:
        out += [_cell(i["description"]), ""]
    settings = settings_words(i)
    out += [
        "| | |",
        "|---|---|",
        f"| target | {_code(i['target'])} |",
        f"| files | {', '.join(_code(p) for p in i['paths'])} |",
        f"| headers | {', '.join(_code(p) for p in i['header_paths']) or '—'} |",
        f"| history | {history_text(i, s)} |",
        f"| urls | {', '.join(_cell(u) for u in i['urls']) or '—'} |",
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
        then = f" — then {plural(e['following'], 'more revision')}" if e["following"] else ""
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
            out.append(f"- releases: first {_code(c['first_release'])}, {plural(c['release_count'], 'release')} in all (listed in {MARKER})")
        else:
            out.append("- releases: none known to carry it")
        if c["detail"]:
            out.append(f"- first seen in the seed's full sequence: {_cell(c['detail'])}")
        if len(c.get("levels", ())) > 1:
            out.append(f"- levels seen, strongest first: {', '.join(c['levels'])} (a witness for each below, where shrinking found one)")
        out.append("")
        if c["outcomes"]:
            out += _witness_md(c["outcomes"], by_commit)
        else:
            out.append("*No minimal witness was found.*")
        for w in c.get("witnesses", [])[1 if c["outcomes"] else 0 :]:
            out += ["", f"#### 3.{n} also {w['level']}", ""] + _witness_md(w, by_commit)
        out.append("")
    out += _history_md(f)
    out += ["", "## 5. Equivalence classes", ""]
    out += _classes_md(f, by_commit)
    if "matrix" in figures:
        out += [
            "",
            "![Strongest difference between equivalence classes](figures/matrix.svg)",
            "",
            f"*{_cell(MATRIX_CAPTION)}*",
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
    eras = h.get("api_eras")
    if eras:
        out += ["### API eras (the later rbtree API groups)", ""]
        for row in eras["groups"]:
            out.append(f"- {_code(row['group'])}: {_span_text(row['spans'], by_commit)} ({plural(row['revisions'], 'revision')})")
        out.append("")
        for e in eras["events"]:
            bits = [f"+ {', '.join(_code(g) for g in e['added'])}"] if e["added"] else []
            bits += [f"− {', '.join(_code(g) for g in e['removed'])}"] if e["removed"] else []
            out.append(f"- {e['date'][:10]} [{_code(_short(e['commit']))}](revisions/{e['commit']}.md): {'; '.join(bits)}")
        out.append("")
    if h["events"]:
        out += ["### What appeared and disappeared", ""]
        for e in h["events"]:
            head = f"- {e['date'][:10]} [{_code(_short(e['commit']))}](revisions/{e['commit']}.md):"
            if e["file_removed"]:
                out.append(f"{head} the file is removed, and with it {plural(len(e['functions_removed']), 'function')} and {plural(len(e['macros_removed']), 'macro')}")
                continue
            bits = []
            for key, word in EVENT_WORDS:
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
    parse = parse_words(r)
    build = build_words(r, lambda ops: _code(" ".join(ops)) if ops else "—")
    if r["build"] and not r["build"]["ok"]:
        build = _cell(build)
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
