"""The report's figures, drawn with matplotlib from the findings document, as reproducible SVG.

Every figure is a pure function of plain data: same findings, same bytes. To get there the
figures use the Agg-free SVG canvas through `matplotlib.figure.Figure` (no pyplot, no global
state), a fixed `svg.hashsalt` per figure (so ids are stable and differ between figures that
share one HTML page), text kept as text (`svg.fonttype: none`), and no date in the metadata.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
from html import escape

from ..levels import Level

#: badge and cell colours per level (background, text), weakest to strongest
LEVEL_COLOURS: dict[str, tuple[str, str]] = {
    "same": ("#dcedc8", "#33691e"),
    "api": ("#bbdefb", "#0d47a1"),
    "structural": ("#fff59d", "#5d4300"),
    "observable": ("#ffcc80", "#6d3500"),
    "invariant": ("#ef9a9a", "#7f0000"),
    "flaky": ("#80cbc4", "#004d40"),
    "hang": ("#ce93d8", "#4a148c"),
    "crash": ("#b71c1c", "#ffffff"),
}
#: a stronger colour per level, for markers on a white background
LEVEL_MARKS: dict[str, str] = {
    "same": "#7cb342",
    "api": "#1e88e5",
    "structural": "#fdd835",
    "observable": "#e65100",
    "invariant": "#e53935",
    "flaky": "#00897b",
    "hang": "#8e24aa",
    "crash": "#b71c1c",
}
UNMEASURED = "#eceff1"
LEVELS = tuple(level.value for level in Level)  # the one ordered table (levels.py), as names; a colour for each
assert tuple(LEVEL_COLOURS) == tuple(LEVEL_MARKS) == LEVELS, "a level without its colours"

_RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#90a4ae",
    "axes.labelcolor": "#37474f",
    "xtick.color": "#546e7a",
    "ytick.color": "#546e7a",
    "path.simplify": False,
}


def _svg(fig, salt: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"archeo-{salt}", "svg.id": f"archeo-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "archeo"}, bbox_inches="tight")
    return buf.getvalue()


def _date(text: str) -> _dt.date:
    return _dt.date.fromisoformat(text[:10])


def _index_axis(ax, revisions: list[dict]) -> None:
    """x = revision index, labelled with dates: years where the history spans years.

    An axis by index keeps every revision apart when many cluster in a few weeks (Xen has
    about 20 in 2017-2018 and one in 2005-2008); a tick marks each revision, a label the first
    revision of each year (or every date when there are few).
    """
    n = len(revisions)
    dates = [r["date"][:10] for r in revisions]
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_xticks(range(n), minor=True)
    if n <= 12:
        ax.set_xticks(range(n), [d for d in dates], fontsize=7)
    else:
        firsts, gap = [], max(2, n // 12)  # a label at least `gap` revisions after the previous one
        for i, d in enumerate(dates):
            if (i == 0 or d[:4] != dates[i - 1][:4]) and (not firsts or i - firsts[-1] >= gap):
                firsts.append(i)
        ax.set_xticks(firsts, [dates[i][:4] for i in firsts], fontsize=7.5)
    ax.tick_params(axis="x", which="minor", length=2.5, color="#b0bec5")
    ax.set_xlabel(f"revision (1–{n}, in history order; labels: the year of the first revision in it)" if n > 12 else "revision date",
                  fontsize=7.5, color="#607d8b")


def timeline(findings: dict) -> str | None:
    """File size (lines) and function count at every revision, with the verdicts under them.

    The x axis is the revision's index in the history, with dates as labels, so revisions
    close in time stay apart.
    """
    revisions = findings.get("revisions") or []
    if not revisions:
        return None
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with matplotlib.rc_context(_RC):
        dates = list(range(len(revisions)))  # x: the revision's index (see _index_axis)
        lines = [r["lines"] if r["lines"] is not None else 0 for r in revisions]
        funcs = [len(r["functions"]) if r["parse"] and r["parse"]["ok"] else float("nan") for r in revisions]
        funcs = [0 if r["status"] == "deleted" else f for r, f in zip(revisions, funcs)]

        fig = Figure(figsize=(10, 4.4))
        top, strip = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3.2, 1], "hspace": 0.08})
        top.step(dates, lines, where="post", color="#3949ab", linewidth=1.8, label="lines in the file")
        top.plot(dates, lines, "o", color="#3949ab", markersize=3.5)
        top.set_ylabel("lines", color="#3949ab")
        top.set_ylim(bottom=0, top=max(lines + [1]) * 1.3)
        top.grid(axis="y", color="#eceff1", linewidth=0.8)
        twin = top.twinx()
        twin.spines["right"].set_visible(True)
        twin.step(dates, funcs, where="post", color="#00897b", linewidth=1.4, linestyle="--", label="functions")
        twin.plot(dates, funcs, "s", color="#00897b", markersize=3)
        twin.set_ylabel("functions", color="#00897b")
        twin.set_ylim(bottom=0, top=max([f for f in funcs if f == f] + [1]) * 1.25)
        for r, d in zip(revisions, dates):
            if r["status"] == "deleted":
                top.axvline(d, color="#b0bec5", linestyle=":", linewidth=1)
        handles = [
            Line2D([], [], color="#3949ab", marker="o", markersize=3.5, label="lines in the file"),
            Line2D([], [], color="#00897b", marker="s", markersize=3, linestyle="--", label="functions"),
        ]
        if any(r["status"] == "deleted" for r in revisions):
            handles.append(Line2D([], [], color="#b0bec5", linestyle=":", label="file removed"))
        top.legend(handles=handles, loc="upper left", frameon=False, ncols=3, fontsize=8)
        top.set_title(f"{findings['inputs']['target']}: size and functions over time", loc="left", fontsize=10, color="#263238")

        # The strip: verdict against the reference (row 1) and behavioural changes (row 0).
        strip.set_yticks([0, 1], ["changes", "vs reference"])
        strip.set_ylim(-0.6, 1.6)
        strip.spines["left"].set_visible(False)
        strip.tick_params(axis="y", length=0)
        used = set()
        for r, d in zip(revisions, dates):
            vs = r["vs_reference"]
            if vs is not None:
                strip.plot([d], [1], "o", color=LEVEL_MARKS[vs["level"]], markersize=6, markeredgecolor="#37474f", markeredgewidth=0.4)
                used.add(vs["level"])
            elif r["build"] is not None and not r["build"]["ok"]:
                strip.plot([d], [1], "x", color="#78909c", markersize=5)
        commit_date = {r["commit"]: d for r, d in zip(revisions, dates)}
        # strongest drawn last, so it shows when one commit brings changes at several levels
        for c in sorted(findings.get("changes") or [], key=lambda c: LEVELS.index(c["level"])):
            d = commit_date.get(c["introduced_by"])
            if d is not None:
                strip.plot([d], [0], "v", color=LEVEL_MARKS[c["level"]], markersize=7, markeredgecolor="#37474f", markeredgewidth=0.4)
                used.add(c["level"])
        legend = [
            Line2D([], [], color=LEVEL_MARKS[lv], marker="o", linestyle="", markersize=6, label=lv) for lv in LEVELS if lv in used
        ]
        if any(r["build"] is not None and not r["build"]["ok"] for r in revisions):
            legend.append(Line2D([], [], color="#78909c", marker="x", linestyle="", markersize=5, label="did not build"))
        if legend:
            strip.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.45), frameon=False, ncols=len(legend), fontsize=8)
        strip.grid(axis="x", which="minor", color="#eceff1", linewidth=0.8)
        _index_axis(strip, revisions)
        return _svg(fig, "timeline")


def class_grid(findings: dict) -> tuple[list[str], list[list[str | None]]] | None:
    """The matrix by equivalence class: (labels, levels), the reference first, then each class.

    Members of a class have identical outcomes, so one cell per pair of classes says all the
    revision-by-revision matrix says; None where the two classes differ at a level nobody measured.
    """
    data = findings.get("matrix")
    classes = findings.get("classes") or []
    if not data or not classes:
        return None
    index = {c: i for i, c in enumerate(data["order"])}
    groups = [("reference", ["reference"])]
    dates = {r["commit"]: r["date"][:10] for r in findings["revisions"]}
    for n, members in enumerate(classes, 1):
        span = sorted(dates[c] for c in members if c in dates)
        years = f"{span[0][:4]}–{span[-1][:4]}" if span and span[0][:4] != span[-1][:4] else (span[0][:4] if span else "")
        groups.append((f"class {n}: {len(members)} rev{'s' if len(members) != 1 else ''}, {years}", [c for c in members if c in index]))
    grid = []
    for _, a in groups:
        row = []
        for _, b in groups:
            found = [data["levels"][index[x]][index[y]] for x in a for y in b if x in index and y in index]
            known = [v for v in found if v is not None]
            row.append(max(known, key=LEVELS.index) if known else None)
        grid.append(row)
    return [label for label, _ in groups], grid


def matrix(findings: dict) -> str | None:
    """The strongest difference between every two equivalence classes (and the reference)."""
    found = class_grid(findings)
    if found is None or len(found[0]) < 2:
        return None
    import matplotlib
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    labels, levels = found
    n = len(labels)
    codes = np.array([[LEVELS.index(v) if v in LEVELS else len(LEVELS) for v in row] for row in levels])
    with matplotlib.rc_context(_RC):
        side = 1.4 + 0.75 * n
        fig = Figure(figsize=(side + 3.2, side))
        ax = fig.subplots()
        cmap = ListedColormap([LEVEL_COLOURS[lv][0] for lv in LEVELS] + [UNMEASURED])
        ax.imshow(codes, cmap=cmap, vmin=-0.5, vmax=len(LEVELS) + 0.5, interpolation="nearest", aspect="equal")
        for i in range(n):
            for j in range(n):
                value = levels[i][j]
                if value is None:
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="////", edgecolor="#b0bec5", linewidth=0))
                ax.text(j, i, value or "not\nmeasured", ha="center", va="center", fontsize=7 if value else 6,
                        color=LEVEL_COLOURS[value][1] if value else "#607d8b")
        ax.set_xticks(range(n), [f"{i}" if i else "ref" for i in range(n)], fontsize=8)
        ax.set_yticks(range(n), labels, fontsize=8)
        ax.set_xticks([x - 0.5 for x in range(1, n)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, n)], minor=True)
        ax.grid(which="minor", color="#ffffff", linewidth=1.2)
        ax.tick_params(which="both", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        present = sorted({v for row in levels for v in row if v in LEVELS}, key=LEVELS.index)
        handles = [Patch(facecolor=LEVEL_COLOURS[lv][0], edgecolor="#90a4ae", linewidth=0.5, label=lv) for lv in present]
        if any(v is None for row in levels for v in row):
            handles.append(Patch(facecolor=UNMEASURED, edgecolor="#b0bec5", hatch="////", linewidth=0.5, label="differs, level not measured"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize=8, title="strongest difference", title_fontsize=8)
        ax.set_title("strongest difference between equivalence classes", loc="left", fontsize=10, color="#263238")
        return _svg(fig, "matrix")


def render(findings: dict) -> dict[str, str]:
    """name -> SVG text, for every figure the findings can support."""
    out = {}
    for name, make in (("timeline", timeline), ("matrix", matrix)):
        svg = make(findings)
        if svg is not None:
            out[name] = svg
    return out


def inline(svg: str, label: str) -> str:
    """An SVG document made fit for inlining in HTML: no prolog, no metadata, labelled."""
    svg = re.sub(r"^.*?(?=<svg\b)", "", svg, count=1, flags=re.S)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.S)

    def root(match: re.Match) -> str:
        # Keep the natural size (in pt) as the most it grows to; CSS lets it shrink to fit.
        return match.group(0)[:-1] + f' role="img" aria-label="{escape(label)}" class="figure">'

    return re.sub(r"<svg\b[^>]*>", root, svg, count=1).strip()
