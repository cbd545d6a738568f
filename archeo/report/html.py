"""The report as one self-contained HTML file, rendered from the findings document.

No script, no network: CSS is inline, figures and trees are inline SVG, per-revision pages
are `<details>` sections reachable by anchor (html_revision.py); the shared pieces, badges,
links and witness tables, are in html_kit.py. Everything the page says comes from the
findings document that `archeo.report.findings.build_findings` made, so the HTML and findings.json
cannot disagree.
"""

from __future__ import annotations

from . import figures as figs
from .html_kit import badge, esc, rev_link, short, witness_html
from .html_revision import revision_detail
from .mutation import mutation_html
from .words import (
    settings_words,
    EVENT_WORDS,
    MARKER,
    MATRIX_CAPTION,
    history_text,
    class_rows,
    change_counts,
    plural,
)


CSS = """
:root { --ink:#263238; --muted:#607d8b; --line:#e0e6ea; --zebra:#f6f8f9; --head:#eef2f4; --accent:#3949ab; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin:0; background:#fbfbfa; color:var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; line-height:1.5; }
main { max-width: 1180px; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
h1 { font-size: 1.9rem; margin: 0 0 .25rem; letter-spacing: -.01em; }
h2 { font-size: 1.35rem; margin: 2.6rem 0 .8rem; padding-bottom: .3rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.08rem; margin: 1.6rem 0 .5rem; }
h4 { font-size: .95rem; margin: 1.1rem 0 .4rem; color: #37474f; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .86em; }
code { background: #f0f3f5; padding: .05em .3em; border-radius: 3px; }
pre { background: #f4f6f7; border: 1px solid var(--line); border-radius: 6px; padding: .7rem .9rem; overflow-x: auto; line-height: 1.25; }
.lede { color: var(--muted); margin: 0 0 1rem; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1.2rem; margin: 1rem 0; font-size: .93rem; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.summary { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px; padding: .8rem 1rem; }
nav.toc { margin: 1.2rem 0 0; font-size: .93rem; }
nav.toc a { margin-right: 1rem; white-space: nowrap; }
table { border-collapse: collapse; width: 100%; font-size: .86rem; background: #fff; }
th, td { text-align: left; padding: .32rem .55rem; border-bottom: 1px solid var(--line); vertical-align: baseline; }
th { background: var(--head); font-weight: 600; color: #37474f; white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--zebra); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.date, td.num { white-space: nowrap; }
table.revisions td { white-space: nowrap; }
table.revisions td.wrap { white-space: normal; min-width: 16rem; }
tr.deleted td { color: #90a4ae; font-style: italic; }
tr.differs td { background: #fff8e1; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
.scroll table { border: 0; }
.badge { display: inline-block; padding: .04rem .55rem; border-radius: 999px; font-size: .76rem; font-weight: 600;
  letter-spacing: .02em; white-space: nowrap; border: 1px solid rgba(0,0,0,.06); }
.muted { color: var(--muted); }
.small { font-size: .85rem; }
ol.timeline { list-style: none; padding: 0; margin: 0 0 1rem; border-left: 3px solid var(--line); }
ol.timeline li { position: relative; padding: .15rem 0 .45rem 1.1rem; }
ol.timeline li::before { content: ""; position: absolute; left: -7px; top: .55rem; width: 11px; height: 11px; border-radius: 50%;
  background: #fff; border: 2px solid var(--accent); }
ol.timeline li.removed::before { border-color: #b0bec5; background: #eceff1; }
ol.timeline .date { font-variant-numeric: tabular-nums; color: var(--muted); margin-right: .5rem; }
figure { margin: 1rem 0; }
figure svg.figure { max-width: 100%; height: auto; display: block; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .35rem; }
article.change { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .3rem 1.2rem 1.1rem; margin: 1.2rem 0; }
article.change h3 { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
.facts { margin: .3rem 0 .8rem; padding-left: 1.1rem; font-size: .93rem; }
.witness { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; }
.trees { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 1rem; }
.tree-box { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .7rem; background: #fff; }
.tree-box h4 { margin: 0 0 .4rem; font-size: .85rem; }
.tree-box svg.tree { max-width: 100%; height: auto; display: block; margin: .2rem auto; }
.tree-note { color: var(--muted); font-style: italic; margin: .3rem 0; }
.legend { font-size: .8rem; color: var(--muted); }
.legend .dot { display: inline-block; width: .8em; height: .8em; border-radius: 3px; vertical-align: -.05em; margin: 0 .25em 0 .6em; }
details.revision { border: 1px solid var(--line); border-radius: 6px; margin: .45rem 0; background: #fff; }
details.revision > summary { cursor: pointer; padding: .45rem .8rem; list-style-position: inside; }
details.revision:target > summary { background: #fff8e1; box-shadow: inset 4px 0 0 #f9a825; }
details.revision[open] > summary { border-bottom: 1px solid var(--line); background: var(--head); }
details.revision > .body { padding: .2rem 1rem 1rem; }
details.text > summary { cursor: pointer; color: var(--muted); font-size: .85rem; }
footer { margin-top: 3rem; color: var(--muted); font-size: .82rem; border-top: 1px solid var(--line); padding-top: .8rem; }
"""


def _vs_cell(r: dict, name: str) -> str:
    pv = r[name]
    if pv is not None:
        if name == "vs_previous" and pv["level"] == "same":
            return '<span class="muted">same</span>'  # so the changes stand out
        return badge(pv["level"])
    if r["status"] == "deleted":
        return badge(None)
    if r["build"] is not None and not r["build"]["ok"]:
        return badge(None, "did not build")
    if name == "vs_previous" and r["difftest"] == "tested":
        return badge(None, "— (first)")
    return badge(None, "not tested")


def _build_cell(r: dict) -> str:
    b = r["build"]
    if r["status"] == "deleted":
        return '<span class="muted">file removed</span>'
    if b is None:
        return '<span class="muted">not built</span>'
    if b["ok"]:
        size = f", node {b['node_size']} B" if b["node_size"] is not None else ""
        return f"ok{esc(size)}"
    return f'<span title="{esc(b["error"])}" style="color:#b71c1c">error</span>'


def _header(f: dict) -> str:
    i, s = f["inputs"], f["summary"]
    settings = settings_words(i)
    meta = [
        ("target", f"<code>{esc(i['target'])}</code>"),
        ("files", ", ".join(f"<code>{esc(p)}</code>" for p in i["paths"])),
        ("headers", ", ".join(f"<code>{esc(p)}</code>" for p in i["header_paths"]) or "—"),
        ("history", esc(history_text(i, s))),
        ("urls", ", ".join(esc(u) for u in i["urls"]) or "—"),
        ("reference", esc(i["reference"])),
        ("settings", esc(settings)),
        ("archeo", esc(i["archeo_version"])),
    ]
    toc = [
        ("timeline", "1. Timeline"),
        ("revisions", "2. Revisions"),
        ("changes", "3. Behavioural changes"),
        ("api", "4. API and layout"),
        ("classes", "5. Equivalence"),
        ("structural", "6. Structural changes"),
        ("details", "Revision details"),
    ]
    return (
        f"<header><h1>archeo report: {esc(i['target'])}</h1>"
        + (f'<p class="lede">{esc(i["description"])}</p>' if i["description"] else "")
        + '<dl class="meta">'
        + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
        + "</dl>"
        + f'<p class="summary"><strong>Summary.</strong> {esc(s["text"])}</p>'
        + '<nav class="toc">'
        + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in toc)
        + f'<a href="{MARKER}">{MARKER}</a></nav></header>'
    )


def _timeline(f: dict, figures: dict, by_commit: dict) -> str:
    items = []
    for e in f["timeline"]:
        then = f' <span class="muted">— then {plural(e["following"], "more revision")}</span>' if e["following"] else ""
        cls = ' class="removed"' if e["event"] == "removed" else ""
        items.append(f'<li{cls}><span class="date">{esc(e["date"][:10])}</span>{rev_link(e["commit"], by_commit)} {esc(e["text"])}{then}</li>')
    out = '<section id="timeline"><h2>1. Timeline</h2>'
    out += f'<ol class="timeline">{"".join(items)}</ol>' if items else "<p>No revisions.</p>"
    if "timeline" in figures:
        out += (
            '<figure>' + figs.inline(figures["timeline"], "file size, function count and verdicts over time")
            + "<figcaption>Lines in the file and number of functions at each revision; below, each revision's verdict "
            "against the reference and the behavioural changes, coloured by level.</figcaption></figure>"
        )
    return out + "</section>"


def _revisions_table(f: dict, by_commit: dict) -> str:
    rows = []
    for r in f["revisions"]:
        subject = r["subject"] if len(r["subject"]) <= 70 else r["subject"][:69] + "…"
        fn = "—" if r["parse"] is None else str(len(r["functions"])) if r["parse"]["ok"] else '<span style="color:#b71c1c">parse error</span>'
        cls = ' class="deleted"' if r["status"] == "deleted" else ""
        rows.append(
            f"<tr{cls}><td>{rev_link(r['commit'], by_commit)}</td><td class=\"mono date\">{esc(r['date'][:10])}</td><td>{esc(r['status'])}</td>"
            f"<td>{esc(r['author'])}</td><td class=\"wrap\" title=\"{esc(r['subject'])}\">{esc(subject)}</td>"
            f"<td class=\"num\">+{r['added']}&nbsp;−{r['removed']}</td><td class=\"num\">{fn}</td><td>{_build_cell(r)}</td>"
            f"<td>{_vs_cell(r, 'vs_reference')}</td><td>{_vs_cell(r, 'vs_previous')}</td></tr>"
        )
    return (
        '<section id="revisions"><h2>2. Revisions</h2><div class="scroll"><table class="revisions"><thead><tr>'
        "<th>commit</th><th>date</th><th>status</th><th>author</th><th>subject</th><th class=\"num\">+/−</th>"
        "<th class=\"num\">functions</th><th>build</th><th>vs reference</th><th>vs previous</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _changes(f: dict, by_commit: dict) -> str:
    out = ['<section id="changes"><h2>3. Behavioural changes</h2>']
    if f["inputs"]["seeds"] is None:
        out.append("<p>No differential test was run.</p>")
    elif not f["changes"]:
        out.append("<p>No revision behaves differently from its predecessor on the sequences tested.</p>")
    for n, c in enumerate(f["changes"], 1):
        facts = [
            f"introduced by {rev_link(c['introduced_by'], by_commit)} “{esc(c['introduced_subject'])}” "
            f"({esc((c['introduced_date'] or '')[:10])}), against {rev_link(c['previous'], by_commit)}"
            + (
                " — or by a revision in between that could not be tested: "
                + ", ".join(rev_link(x, by_commit) for x in c["untested_between"])
                if c.get("untested_between")
                else ""
            ),
            (
                f"ended by {rev_link(c['ended_by'], by_commit)} ({esc((c['ended_date'] or '')[:10])}): behaviour returns to what it was"
                if c["ended_by"]
                else "not ended: the new behaviour lasts to the head of the history"
            ),
            (
                f"releases: first <code>{esc(c['first_release'])}</code>, {plural(c['release_count'], 'release')} in all (listed in {MARKER})"
                if c["release_count"]
                else "releases: none known to carry it"
            ),
        ]
        if c["detail"]:
            facts.append(f"first seen in the seed's full sequence: <span class=\"mono\">{esc(c['detail'])}</span>")
        if len(c.get("levels", ())) > 1:
            facts.append("levels seen, strongest first: " + " ".join(badge(level) for level in c["levels"]))
        witness = witness_html(c["outcomes"], by_commit) if c["outcomes"] else "<p><em>No minimal witness was found.</em></p>"
        for w in c.get("witnesses", [])[1 if c["outcomes"] else 0 :]:
            witness += f"<h4>also {badge(w['level'])}</h4>" + witness_html(w, by_commit)
        out.append(
            f'<article class="change" id="change-{n}"><h3>3.{n} {badge(c["level"])} '
            f"<span>{esc(short(c['introduced_by']))} · {esc((c['introduced_date'] or '')[:10])}</span></h3>"
            f'<ul class="facts">{"".join(f"<li>{x}</li>" for x in facts)}</ul>{witness}</article>'
        )
    return "".join(out) + "</section>"


def _span_text(spans: list[dict], by_commit: dict) -> str:
    def d(c):
        return esc(by_commit[c]["date"][:10]) if c in by_commit else esc(short(c))

    return ", ".join(f"{d(s['from'])} → {d(s['to']) if s['to'] else 'head'}" for s in spans)


def _history(f: dict, by_commit: dict) -> str:
    h = f["history"]
    out = ['<section id="api"><h2>4. API and layout</h2>']
    if h["events"]:
        items = []
        for e in h["events"]:
            head = f'<span class="date mono">{esc(e["date"][:10])}</span> {rev_link(e["commit"], by_commit)}'
            if e["file_removed"]:
                gone = f"{plural(len(e['functions_removed']), 'function')} and {plural(len(e['macros_removed']), 'macro')}"
                items.append(f"<li>{head}: the file is removed, and with it {gone}</li>")
                continue
            bits = []
            for key, word in EVENT_WORDS:
                if e[key]:
                    bits.append(f"{word}: " + ", ".join(f"<code>{esc(n)}</code>" for n in e[key]))
            if e["api_added"] or e["api_removed"]:
                bits.append(f"header API +{len(e['api_added'])} −{len(e['api_removed'])}")
            items.append(f"<li>{head}: {'; '.join(bits)}</li>")
        out.append(f'<h3>What appeared and disappeared</h3><ul class="small">{"".join(items)}</ul>')
    for key, title in (("functions", "Functions"), ("macros", "Macros")):
        rows = h[key]
        out.append(f"<h3>{title}</h3>")
        if not rows:
            out.append("<p class=\"muted\">None known.</p>")
            continue
        body = "".join(
            f"<tr><td><code>{esc(r['name'])}</code></td><td class=\"mono\">{_span_text(r['spans'], by_commit)}</td>"
            f"<td class=\"num\">{r['revisions']}</td><td>{'yes' if r['public'] else ''}</td></tr>"
            for r in rows
        )
        out.append(
            '<div class="scroll"><table><thead><tr><th>name</th><th>present</th><th class="num">revisions</th><th>in header API</th></tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )
    out.append("<h3>sizeof(node)</h3>")
    sizes = h["node_size"]
    if not sizes:
        out.append('<p class="muted">No revision built.</p>')
    else:
        rows, last = [], None
        for s in sizes:
            if s["node_size"] != last:
                rows.append(f"<tr><td class=\"mono date\">{esc(s['date'][:10])}</td><td>{rev_link(s['commit'], by_commit)}</td><td class=\"num\">{s['node_size']}</td></tr>")
                last = s["node_size"]
        out.append(
            '<table style="max-width:480px"><thead><tr><th>from</th><th>commit</th><th class="num">bytes</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
            f'<p class="small muted">{plural(len(sizes), "build")}; the table lists each size where it starts.</p>'
        )
    return "".join(out) + "</section>"


def _classes(f: dict, figures: dict, by_commit: dict) -> str:
    out = ['<section id="classes"><h2>5. Equivalence classes</h2>']
    if not f["classes"]:
        out.append("<p>No revision was tested.</p>")
    else:
        out.append("<p>Revisions with identical outcomes on every sequence tested.</p>")
        body = "".join(
            f"<tr><td class=\"num\">{row['n']}</td><td class=\"num\">{len(row['members'])}</td><td class=\"mono date\">{esc(row['first'])}</td>"
            f"<td class=\"mono date\">{esc(row['last'])}</td><td>{badge(row['vs_reference'])}</td>"
            f"<td>{', '.join(rev_link(c, by_commit) for c in row['members'])}</td></tr>"
            for row in class_rows(f)
        )
        out.append(
            '<div class="scroll"><table><thead><tr><th class="num">class</th><th class="num">revisions</th><th>from</th><th>to</th>'
            f"<th>vs reference</th><th>members</th></tr></thead><tbody>{body}</tbody></table></div>"
        )
    if "matrix" in figures:
        out.append(
            '<figure class="matrix">' + figs.inline(figures["matrix"], "strongest difference between equivalence classes")
            + f"<figcaption>{esc(MATRIX_CAPTION)}</figcaption></figure>"
        )
    return "".join(out) + "</section>"


def _structural(f: dict, by_commit: dict) -> str:
    rows = [r for r in f["revisions"] if r["changes"]]
    out = ['<section id="structural"><h2>6. Structural changes</h2>']
    if not rows:
        return out[0] + "<p>No structural change recorded.</p></section>"
    body = []
    for r in rows:
        names = sorted({c["name"] for c in r["changes"] if c["name"]})
        shown = ", ".join(f"<code>{esc(n)}</code>" for n in names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
        body.append(f"<tr><td>{rev_link(r['commit'], by_commit)}</td><td class=\"mono date\">{esc(r['date'][:10])}</td><td>{esc(change_counts(r['changes']))}</td><td>{shown}</td></tr>")
    out.append(
        "<p>Against the previous present revision (AST level).</p>"
        '<div class="scroll"><table><thead><tr><th>commit</th><th>date</th><th>changes</th><th>names</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
    return "".join(out) + "</section>"


def render_html(findings: dict, figures: dict[str, str]) -> str:
    f = findings
    by_commit = {r["commit"]: r for r in f["revisions"]}
    title = f"archeo report: {f['inputs']['target']}"
    details = "".join(revision_detail(f, r, by_commit) for r in f["revisions"])
    body = (
        _header(f)
        + _timeline(f, figures, by_commit)
        + _revisions_table(f, by_commit)
        + _changes(f, by_commit)
        + _history(f, by_commit)
        + _classes(f, figures, by_commit)
        + _structural(f, by_commit)
        + (mutation_html(f["mutation"], 7) if f.get("mutation") else "")
        + '<section id="details"><h2>Revision details</h2><p class="small muted">One section per revision; '
        + "the same pages are in <code>revisions/*.md</code>.</p>"
        + details
        + "</section>"
        + (
            '<section id="notes"><h2>Notes</h2><ul>' + "".join(f"<li>{esc(n)}</li>" for n in f["notes"]) + "</ul></section>"
            if f["notes"]
            else ""
        )
        + f'<footer>Generated by archeo {esc(f["inputs"]["archeo_version"])} from the history up to <code>{esc(short(f["inputs"]["last_commit"]))}</code>. '
        + f'All of it as data: <a href="{MARKER}">{MARKER}</a> (schema {esc(f["schema"])}).</footer>'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f"<body><main>{body}</main></body></html>\n"
    )
