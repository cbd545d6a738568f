"""The small pieces every part of the HTML report is made of: escaping, level badges, commit
links, and the witness table (a change's minimal sequence, side by side, with its trees).

Shared by the page (html.py) and the per-revision sections (html_revision.py), so a badge or
a witness looks the same wherever it stands.
"""

from __future__ import annotations

from html import escape

from . import figures as figs
from .witness_trees import trees_html
from .words import legend, outcome_text, plural, side_label, witness_rows


def esc(text) -> str:
    return escape("" if text is None else str(text))


def badge(level: str | None, text: str | None = None) -> str:
    if level is None:
        return f'<span class="muted">{esc(text or "—")}</span>'
    bg, fg = figs.LEVEL_COLOURS.get(level, ("#eceff1", "#263238"))
    return f'<span class="badge" style="background:{bg};color:{fg}">{esc(text or level)}</span>'


def short(commit: str | None) -> str:
    return commit[:12] if commit else "—"


def rev_link(commit: str | None, by_commit: dict) -> str:
    if not commit:
        return "—"
    if commit not in by_commit:
        return f"<code>{esc(short(commit))}</code>"
    return f'<a href="#rev-{esc(commit[:12])}"><code>{esc(short(commit))}</code></a>'


def code_or_dash(name: str | None) -> str:
    return f"<code>{esc(name)}</code>" if name else "—"


def macro_name(m: dict) -> str:
    return m["name"] + (f"({', '.join(m['params'])})" if m["params"] is not None else "")


def witness_html(w: dict, by_commit: dict) -> str:
    la, lb = side_label(w["a"], by_commit), side_label(w["b"], by_commit)
    rows = []
    for n, op, ra, rb, differs in witness_rows(w):
        cls = ' class="differs"' if differs else ""
        rows.append(
            f'<tr{cls}><td class="num">{n}</td><td>{esc(op)}</td><td class="mono">{esc(ra)}</td>'
            f'<td class="mono">{esc(rb)}</td><td>{"◀ differs" if differs else ""}</td></tr>'
        )
    for side in ("a_outcome", "b_outcome"):
        if w[side]["status"] != "ok":
            text = esc(outcome_text(w[side]))
            cells = f"<td>{text}</td><td></td>" if side == "a_outcome" else f"<td></td><td>{text}</td>"
            rows.append(f'<tr class="differs"><td></td><td><em>end</em></td>{cells}<td>◀ {esc(w[side]["status"])}</td></tr>')
    table = (
        f'<div class="scroll"><table><thead><tr><th class="num">#</th><th>operation</th><th>{esc(la)}</th><th>{esc(lb)}</th><th></th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div>'
    )
    words = legend(w["ops"], (w["a_outcome"]["results"], w["b_outcome"]["results"]))
    key = '<ul class="legend small">' + "".join(f"<li>{esc(line)}</li>" for line in words) + "</ul>" if words else ""
    trees = key + trees_html(w, la, lb)
    head = (
        f"<p class=\"small\">Witness: {plural(len(w['ops']), 'operation')} (seed {esc(w['seed'])}, "
        f"shrunk from {w['original_length']:,}), level {badge(w['level'])}</p>"
    )
    return f'<div class="witness">{head}{table}{trees}</div>'

