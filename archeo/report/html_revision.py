"""One revision's `<details>` section of the HTML report: its facts, verdicts with their
witnesses, structural changes and model (functions, structs, macros, header API).

A page of its own in all but file: the same content as `revisions/<commit>.md`, kept apart
from the report's main sections (html.py) because it is long and read one revision at a time.
"""

from __future__ import annotations

from .html_kit import badge, code_or_dash, esc, macro_name, rev_link, witness_html
from .words import build_words, parse_words, untested_reason


def revision_detail(f: dict, r: dict, by_commit: dict) -> str:
    parse, build = parse_words(r), build_words(r)
    meta = [
        ("commit", f"<code>{esc(r['commit'])}</code>"),
        ("date", esc(r["date"])),
        ("author", esc(r["author"])),
        ("subject", esc(r["subject"])),
        ("status", esc(r["status"])),
        ("path", f"<code>{esc(r['path'])}</code>"),
    ]
    if r["old_path"]:
        meta.append(("moved from", f"<code>{esc(r['old_path'])}</code>"))
    meta += [
        ("header", f"<code>{esc(r['header_path'])}</code>" if r["header_path"] else "—"),
        ("lines", f"+{r['added']} −{r['removed']}" + (f"; {r['lines']} in the file" if r["lines"] is not None else "")),
        ("compared with", rev_link(r["previous"], by_commit)),
        ("parse", esc(parse)),
        ("build", esc(build)),
        ("behaviour class", esc(r["class"]) if r["class"] else "—"),
    ]
    parts = ['<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta) + "</dl>"]
    parts.append("<h4>Verdicts</h4>")
    if r["vs_reference"] is None:
        parts.append(f"<p>Not tested: {esc(untested_reason(r, f))}.</p>")
    for name, title in (("vs_reference", "against the reference"), ("vs_previous", "against the previous revision")):
        pv = r[name]
        if pv is None:
            continue
        where = f", seed {esc(pv['seed'])}: <span class=\"mono\">{esc(pv['detail'])}</span>" if pv["seed"] is not None else ""
        other = "" if pv["other"] == "reference" else f" ({rev_link(pv['other'], by_commit)})"
        parts.append(f"<p>{badge(pv['level'])} {title}{other}{where}</p>")
        for w in pv["witnesses"]:
            parts.append(witness_html(w, by_commit))
    parts.append("<h4>Structural changes</h4>")
    if r["changes"]:
        body = "".join(
            f"<tr><td>{esc(c['kind'])}</td><td>{code_or_dash(c['name'])}</td><td>{esc(c['detail'])}</td></tr>"
            for c in r["changes"]
        )
        parts.append(f"<table><thead><tr><th>kind</th><th>name</th><th>detail</th></tr></thead><tbody>{body}</tbody></table>")
    else:
        parts.append('<p class="muted">None recorded.</p>' if r["previous"] else '<p class="muted">None: nothing to compare with.</p>')
    parts.append("<h4>Model</h4>")
    if r["parse"] is None:
        parts.append('<p class="muted">No model (the file is absent or was not parsed).</p>')
    elif not r["parse"]["ok"]:
        parts.append('<p class="muted">The file did not parse; no model.</p>')
    else:
        parts.append(_model(r))
    level = r["vs_reference"]["level"] if r["vs_reference"] else None
    summary = (
        f"<code>{esc(r['short'])}</code> <span class=\"mono muted\">{esc(r['date'][:10])}</span> "
        f"<span class=\"muted\">{esc(r['status'])}</span> — {esc(r['subject'][:90])} {badge(level) if level else ''}"
    )
    return f'<details class="revision" id="rev-{esc(r["short"])}"><summary>{summary}</summary><div class="body">{"".join(parts)}</div></details>'


def _model(r: dict) -> str:
    out = []
    if r["functions"]:
        body = "".join(
            f"<tr><td><code>{esc(fn['name'])}</code></td><td class=\"mono\">{esc(fn['signature'])}</td><td>{esc(' '.join(fn['storage']) or '—')}</td>"
            f"<td class=\"num\">{fn['first_line']}–{fn['last_line']} ({fn['lines']})</td><td class=\"num\">{fn['statements']}</td>"
            f"<td class=\"num\">{fn['complexity']}</td><td>{esc(fn['origin'])}</td></tr>"
            for fn in r["functions"]
        )
        out.append(
            f'<p class="small"><strong>Functions ({len(r["functions"])})</strong></p><div class="scroll"><table><thead><tr><th>name</th><th>signature</th>'
            '<th>storage</th><th class="num">lines</th><th class="num">statements</th><th class="num">complexity</th><th>from</th></tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )
    if r["structs"]:
        items = []
        for s in r["structs"]:
            alias = f" (typedef {', '.join(f'<code>{esc(t)}</code>' for t in s['typedefs'])})" if s["typedefs"] else ""
            fields = "; ".join(f"<code>{esc(fd['type'])}</code> <code>{esc(fd['name'])}</code>" for fd in s["fields"]) or "no fields"
            items.append(f"<li><code>{esc(s['name'])}</code>{alias}: {fields}</li>")
        out.append(f'<p class="small"><strong>Structs ({len(r["structs"])})</strong></p><ul class="small">{"".join(items)}</ul>')
    if r["macros"]:
        names = ", ".join(f"<code>{esc(macro_name(m))}</code>" for m in r["macros"])
        out.append(f'<p class="small"><strong>Macros ({len(r["macros"])})</strong>: {names}</p>')
    if r["api"]:
        out.append(f'<p class="small"><strong>Header API ({len(r["api"])})</strong>: ' + ", ".join(f"<code>{esc(n)}</code>" for n in r["api"]) + "</p>")
    return "".join(out) or '<p class="muted">Empty model.</p>'

