"""The lineage page: `index.md`, `index.html`, `lineage.json` and `lineage.svg` in one folder.

Markdown and HTML say the same things in the same order — the figure, the known-bad search,
the classes, the copies and refreshes — built from one list of sections so they cannot drift.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from .document import to_json
from .figure import class_colours, svg
from .records import REFERENCE_CLASS, Lineage

CAVEAT = (
    "Sources are looked for among the histories studied here only: a copy's true source (for "
    "the kernel red-black tree, usually Linux) may be outside them, and then the arrow points "
    "at the nearest sibling copy of that source."
)


def _short(target: str, commit: str | None) -> str:
    return f"{target} {commit[:12]}" if commit else "—"


def sections(lineage: Lineage) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, table header, rows, text after) for every section of the page."""
    per_target = {t: lineage.sources[t] for t in lineage.targets}
    out = []
    out.append((
        "Histories",
        ["target", "present revisions", "tested", "last revision", "date", "API groups mixed in"],
        [[t, str(s["revisions"]), str(s["tested"]), (s["last_revision"] or "")[:12], (s["last_date"] or "")[:10],
          ", ".join(s.get("groups", [])) or "none"] for t, s in per_target.items()],
        f"Every revision tested on {lineage.settings['seeds']} seeds × {lineage.settings['ops']:,} operations "
        f"(first seed {lineage.settings['first_seed']}) against the reference; a history whose revisions have later "
        "API groups gets those operations mixed into the same seeds' sequences (listed above). Classes across "
        "histories are merged on the core sequences, which every history shares.",
    ))
    out.append((
        "Known-bad search",
        ["class", "first seen", "level", "witness", "carriers"],
        [[s.behaviour_class, _short(*s.origin), s.level,
          f"{len(s.witness)} operations: " + "; ".join(s.witness) if s.witness else "none recorded",
          ", ".join(_short(c.target, c.commit) for c in s.carriers)] for s in lineage.searches],
        " ".join(s.statement for s in lineage.searches)
        or "No class shows an invariant break, a crash, a hang or a flaky result: nothing known-bad to search for.",
    ))
    counts = lambda c: ", ".join(  # noqa: E731
        f"{t} {sum(1 for mt, _ in c.members if mt == t)}" for t in lineage.targets if any(mt == t for mt, _ in c.members)
    )
    out.append((
        "Behaviour classes",
        ["class", "level vs reference", "known bad", "members", "first member", "first difference"],
        [[c.name, c.level, "yes" if c.known_bad else "", counts(c), _short(*c.members[0]), c.detail] for c in lineage.classes],
        f"Class {REFERENCE_CLASS} behaves as the reference model on every operation its members offer; an "
        "operation a revision lacks does not split a class.",
    ))
    out.append((
        "Copies and refreshes",
        ["revision", "kind", "likely source", "similarity", "to previous"],
        [[_short(a.target, a.commit), a.kind, _short(a.source_target, a.source_commit) if a.source_target else "not in these histories",
          f"{a.similarity:.2f}", "" if a.previous_similarity is None else f"{a.previous_similarity:.2f}"] for a in lineage.arrows],
        CAVEAT,
    ))
    untested = [m for m in lineage.members if m.status != "tested"]
    if untested:
        out.append((
            "Not tested",
            ["revision", "date", "why"],
            [[_short(m.target, m.commit), m.date[:10], m.status] for m in untested],
            "These revisions are in no class: untested is never counted as alike.",
        ))
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(lineage: Lineage) -> str:
    lines = ["# Lineage of " + ", ".join(lineage.targets), "", "![every history on one time axis](lineage.svg)", ""]
    for title, head, rows, after in sections(lineage):
        lines += [f"## {title}", ""]
        if rows:
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        lines += [after, ""]
    return "\n".join(lines)


def html(lineage: Lineage) -> str:
    colours = class_colours(lineage)
    legend = " ".join(
        f'<span class="key"><span class="dot" style="background:{colours[c.name]}"></span>{escape(c.name)}</span>'
        for c in lineage.classes
    )
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Lineage of {escape(', '.join(lineage.targets))}</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;"
        "vertical-align:top}th{background:#f4f4f4}.dot{display:inline-block;width:10px;height:10px;border-radius:5px;"
        "margin-right:4px}.key{margin-right:1em}</style></head><body>",
        f"<h1>Lineage of {escape(', '.join(lineage.targets))}</h1>",
        f"<figure>{svg(lineage)}<figcaption>{legend} — arrows: a copy (solid) or refresh (dashed) from its likely "
        "source</figcaption></figure>",
    ]
    for title, head, rows, after in sections(lineage):
        parts.append(f"<h2>{escape(title)}</h2>")
        if rows:
            parts.append("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows]
            parts.append("</table>")
        parts.append(f"<p>{escape(after)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write(lineage: Lineage, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "lineage.json").write_text(json.dumps(to_json(lineage), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "lineage.svg").write_text(svg(lineage), encoding="utf-8")
    (out_dir / "index.md").write_text(markdown(lineage), encoding="utf-8")
    (out_dir / "index.html").write_text(html(lineage), encoding="utf-8")
