"""The report's mutation section: how sharp the differential tester is on each mutated revision.

Built from `archeo.mutate.MutationResult`s into plain, facts-only data for findings.json (counts,
scores, and survivors by function, line, operator and a description in words — never the mutated
code, which is the studied code), then rendered to Markdown and HTML from that data alone.
"""

from __future__ import annotations

from html import escape

KILLED = ("api", "structural", "observable", "invariant")
COLUMNS = ("made", "stillborn", *KILLED, "crashed", "hung", "survived", "equivalent")


def mutation_findings(results: list | None) -> dict | None:
    if not results:
        return None
    from ..mutation_results import by_group, totals

    revisions = []
    for r in results:
        rt = r.round_trip
        revisions.append(
            {
                "commit": r.commit,
                "date": r.date,
                "subject": r.subject,
                "round_trip": "identical" if rt.identical else (rt.error or rt.level or "differs"),
                "counts": {k: r.counts.get(k, 0) for k in COLUMNS},
                "kill_score": None if r.kill_score is None else round(r.kill_score, 4),
                "raw_score": _raw(r.counts),
                "survivors": [
                    {
                        "function": m.mutant.function,
                        "line": m.mutant.line,
                        "operator": m.mutant.operator,
                        "description": m.mutant.description,
                        "equivalent": m.equivalent,
                        "equivalence": m.equivalence or None,
                        "deep_level": m.deep_level or None,
                        "escapes": list(m.escapes),
                    }
                    for m in r.survivors
                ],
            }
        )
    total = totals(results)
    out = {
        "revisions": revisions,
        "total": {**{k: total.get(k, 0) for k in COLUMNS}, "kill_score": total.get("kill_score"), "raw_score": _raw(total)},
    }
    groups = by_group(results)
    if set(groups) - {"core"}:  # mutants in a later API group's functions, counted apart (Xen's have none)
        out["by_group"] = {
            g: {**{k: c.get(k, 0) for k in COLUMNS}, "kill_score": c.get("kill_score"), "raw_score": _raw(c)}
            for g, c in groups.items()
        }
    return out


def _raw(counts: dict) -> float | None:
    """Killed (crashes and hangs included) over every mutant that built: no equivalence assumed.

    The kill score leaves out survivors presumed equivalent, so it says whether the usual seeds
    find what a deeper search finds; this one says how many planted faults were caught at all.
    """
    built = counts.get("made", 0) - counts.get("stillborn", 0)
    killed = sum(counts.get(k, 0) for k in (*KILLED, "crashed", "hung"))
    return round(killed / built, 4) if built else None


def survivor_words(s: dict) -> str:
    """How a survivor stands: shown equivalent (and how), or the difference the seeds missed."""
    if s["equivalent"]:
        if s.get("equivalence") == "object-code":
            return "equivalent: the same object code as the original"
        return "equivalent within bounds: no difference on any bounded sequence"
    if s.get("escapes"):
        return f"not equivalent: a {s['deep_level']} difference on the bounded sequence " + "; ".join(s["escapes"])
    return f"not equivalent: the deeper seeds found a {s['deep_level']} difference"


def _score(score) -> str:
    return "—" if score is None else f"{100 * score:.1f}%"


INTRO = (
    "Mutants of each revision's own functions (made on the pycparser AST, printed back as C, built and run in the "
    "same sandbox), each difftested against its own revision on the usual seeds. Killed columns give the strongest "
    "level that differed; survivors passed the usual seeds. A survivor is *equivalent* only when shown to be: the "
    "same object code as its original, or no difference on a bounded exhaustive check — every sequence of up to 5 "
    "inserts and erases (3 with clears and replaces) over 4 keys, each followed by probes of the whole tree, and every "
    "insertion order of 7 keys with no or one erase (6 keys, two erases), each followed by a dump and a check; every "
    "other survivor counts against the score. Kill score = (killed + crashed + hung) / (made − stillborn − equivalent); "
    "raw score = (killed + crashed + hung) / (made − stillborn), which counts no survivor as equivalent."
)


GROUPS_INTRO = (
    "The same mutants by the API group of the mutated function (archeo/subjects/rbtree/groups.py; `core` for the "
    "rest): the later groups' functions — those of the revision's .c and the inline ones of its headers that the "
    "harness calls — counted apart. Their sequences mix the groups' operations in, and so does the bounded check: "
    "each group's modifying operations with inserts and erases, every sequence of up to 3 over 4 keys, and every "
    "insertion order of 6 keys through each of its inserts with no or one erase through each of its erases, each "
    "followed by every core and group probe."
)


def mutation_md(m: dict, number: int) -> list[str]:
    out = [f"## {number}. Mutation analysis", "", INTRO, ""]
    out += ["| commit | date | round trip | " + " | ".join(COLUMNS) + " | kill score | raw score |", "|---|---|---|" + "--:|" * (len(COLUMNS) + 2)]
    for r in m["revisions"]:
        cells = [str(r["counts"][k]) for k in COLUMNS]
        out.append(f"| `{r['commit'][:12]}` | {r['date'][:10]} | {r['round_trip']} | " + " | ".join(cells) + f" | {_score(r['kill_score'])} | {_score(r['raw_score'])} |")
    t = m["total"]
    out.append("| **total** | | | " + " | ".join(str(t[k]) for k in COLUMNS) + f" | **{_score(t['kill_score'])}** | **{_score(t['raw_score'])}** |")
    if m.get("by_group"):
        out += ["", GROUPS_INTRO, "", "| API group | " + " | ".join(COLUMNS) + " | kill score | raw score |", "|---|" + "--:|" * (len(COLUMNS) + 2)]
        for g, c in m["by_group"].items():
            out.append(f"| {g} | " + " | ".join(str(c[k]) for k in COLUMNS) + f" | {_score(c['kill_score'])} | {_score(c['raw_score'])} |")
    survivors = [(r, s) for r in m["revisions"] for s in r["survivors"]]
    if survivors:
        out += ["", "Survivors:", ""]
        for r, s in survivors:
            out.append(f"- `{r['commit'][:12]}` {s['function']}, line {s['line']}: {s['operator']} — {s['description']}; {survivor_words(s)}")
    return out


def mutation_html(m: dict, number: int) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in ("commit", "date", "round trip", *COLUMNS, "kill score", "raw score"))
    rows = []
    for r in m["revisions"]:
        cells = [f"<code>{escape(r['commit'][:12])}</code>", escape(r["date"][:10]), escape(r["round_trip"])]
        cells += [str(r["counts"][k]) for k in COLUMNS] + [_score(r["kill_score"]), _score(r["raw_score"])]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    t = m["total"]
    rows.append("<tr><td><strong>total</strong></td><td></td><td></td>" + "".join(f"<td>{t[k]}</td>" for k in COLUMNS) + f"<td><strong>{_score(t['kill_score'])}</strong></td><td><strong>{_score(t['raw_score'])}</strong></td></tr>")
    group_table = ""
    if m.get("by_group"):
        group_head = "".join(f"<th>{escape(c)}</th>" for c in ("API group", *COLUMNS, "kill score", "raw score"))
        group_rows = "".join(
            "<tr>" + "".join(f"<td>{c}</td>" for c in [escape(g), *(str(v[k]) for k in COLUMNS), _score(v["kill_score"]), _score(v["raw_score"])]) + "</tr>"
            for g, v in m["by_group"].items()
        )
        group_table = f'<p>{escape(GROUPS_INTRO)}</p><div class="scroll"><table><thead><tr>{group_head}</tr></thead><tbody>{group_rows}</tbody></table></div>'
    survivors = [(r, s) for r in m["revisions"] for s in r["survivors"]]
    items = "".join(
        f"<li><code>{escape(r['commit'][:12])}</code> {escape(s['function'])}, line {s['line']}: {escape(s['operator'])} — "
        f"{escape(s['description'])}; {escape(survivor_words(s))}</li>"
        for r, s in survivors
    )
    return (
        f'<section id="mutation"><h2>{number}. Mutation analysis</h2><p>{escape(INTRO)}</p>'
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        + group_table
        + (f"<p>Survivors, for a person to judge:</p><ul>{items}</ul>" if items else "")
        + "</section>"
    )
