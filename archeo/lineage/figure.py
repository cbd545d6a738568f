"""The lineage figure: every history on one time axis, one lane per project (SVG).

Each revision is a dot coloured by its behaviour class (grey when untested); an arrow runs
from each copy's and refresh's likely source to it. Plain SVG with text labels, so the page
needs no script and the Markdown can link the same file.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from .ancestry import parse_date
from .records import REFERENCE_CLASS, Lineage

LANE, LEFT, RIGHT, TOP = 56, 130, 30, 34
WIDTH = 960
_BAD = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")


def class_colours(lineage: Lineage) -> dict[str, str]:
    colours, bad = {REFERENCE_CLASS: "#4c78a8"}, 0
    for c in lineage.classes:
        if c.name != REFERENCE_CLASS:
            colours[c.name] = _BAD[bad % len(_BAD)]
            bad += 1
    return colours


def _year_fraction(when: datetime) -> float:
    start = datetime(when.year, 1, 1, tzinfo=when.tzinfo)
    end = datetime(when.year + 1, 1, 1, tzinfo=when.tzinfo)
    return when.year + (when - start) / (end - start)


def svg(lineage: Lineage) -> str:
    if not lineage.members:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40"><text x="10" y="24">no revisions</text></svg>'
    years = [_year_fraction(parse_date(m.date)) for m in lineage.members]
    lo, hi = int(min(years)), int(max(years)) + 1
    span = WIDTH - LEFT - RIGHT
    x = lambda year: LEFT + (year - lo) / (hi - lo) * span  # noqa: E731
    lane = {name: TOP + i * LANE for i, name in enumerate(lineage.targets)}
    height = TOP + len(lineage.targets) * LANE + 10
    colours = class_colours(lineage)
    where = {(m.target, m.commit): (x(y), lane[m.target]) for m, y in zip(lineage.members, years)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        'font-family="sans-serif" font-size="12" role="img" aria-label="lineage of every history">',
        '<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    step = max(1, (hi - lo) // 12)
    for year in range(lo, hi + 1, step):
        out.append(f'<line x1="{x(year):.1f}" y1="{TOP - 20}" x2="{x(year):.1f}" y2="{height - 10}" stroke="#eee"/>')
        out.append(f'<text x="{x(year):.1f}" y="{TOP - 24}" text-anchor="middle" fill="#666">{year}</text>')
    for name, y in lane.items():
        out.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#ccc"/>')
        out.append(f'<text x="{LEFT - 10}" y="{y + 4}" text-anchor="end">{escape(name)}</text>')
    for a in lineage.arrows:
        if a.source_target is None:
            continue
        (x1, y1), (x2, y2) = where[a.source_target, a.source_commit], where[a.target, a.commit]
        bend = (y1 + y2) / 2
        out.append(
            f'<path d="M{x1:.1f},{y1} C{x1:.1f},{bend:.1f} {x2:.1f},{bend:.1f} {x2:.1f},{y2}" fill="none" '
            f'stroke="#555" stroke-dasharray="{"4 3" if a.kind == "refresh" else "none"}" marker-end="url(#head)">'
            f"<title>{escape(a.kind)} {escape(a.target)} {a.commit[:12]} ← {escape(a.source_target)} "
            f"{a.source_commit[:12]} (similarity {a.similarity:.2f})</title></path>"
        )
    for m in lineage.members:
        cx, cy = where[m.target, m.commit]
        fill = colours.get(m.behaviour_class, "#bbb")
        label = f"{m.target} {m.short} {m.date[:10]}: {m.behaviour_class or m.status}"
        out.append(f'<circle cx="{cx:.1f}" cy="{cy}" r="5" fill="{fill}" stroke="#fff"><title>{escape(label)}</title></circle>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
