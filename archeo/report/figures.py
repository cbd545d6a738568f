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

from ..compare import LEVELS as _LEVELS

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
LEVELS = _LEVELS  # the one ordered table (compare.py); a colour for each
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


def timeline(findings: dict) -> str | None:
    """File size (lines) and function count at every revision, with the verdicts under them."""
    revisions = findings.get("revisions") or []
    if not revisions:
        return None
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with matplotlib.rc_context(_RC):
        dates = [_date(r["date"]) for r in revisions]
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
        strip.grid(axis="x", color="#eceff1", linewidth=0.8)
        return _svg(fig, "timeline")


def matrix(findings: dict) -> str | None:
    """The revision-by-revision matrix of levels, as far as they were measured."""
    data = findings.get("matrix")
    if not data or len(data.get("order") or []) < 2:
        return None
    import matplotlib
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    order, levels = data["order"], data["levels"]
    dates = {r["commit"]: r["date"][:10] for r in findings["revisions"]}
    labels = ["reference" if c == "reference" else f"{dates.get(c, '')} {c[:8]}" for c in order]
    n = len(order)
    codes = np.array([[LEVELS.index(v) if v in LEVELS else len(LEVELS) for v in row] for row in levels])
    with matplotlib.rc_context(_RC):
        side = 1.6 + 0.24 * n
        fig = Figure(figsize=(side + 2.4, side))
        ax = fig.subplots()
        cmap = ListedColormap([LEVEL_COLOURS[lv][0] for lv in LEVELS] + [UNMEASURED])
        ax.imshow(codes, cmap=cmap, vmin=-0.5, vmax=len(LEVELS) + 0.5, interpolation="nearest", aspect="equal")
        for i in range(n):
            for j in range(n):
                if codes[i, j] == len(LEVELS):
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="////", edgecolor="#b0bec5", linewidth=0))
        ax.set_xticks(range(n), labels, rotation=90, fontsize=7, fontfamily="monospace")
        ax.set_yticks(range(n), labels, fontsize=7, fontfamily="monospace")
        ax.set_xticks([x - 0.5 for x in range(1, n)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, n)], minor=True)
        ax.grid(which="minor", color="#ffffff", linewidth=0.8)
        ax.tick_params(which="both", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        present = sorted({v for row in levels for v in row if v in LEVELS}, key=LEVELS.index)
        handles = [Patch(facecolor=LEVEL_COLOURS[lv][0], edgecolor="#90a4ae", linewidth=0.5, label=lv) for lv in present]
        if any(v is None for row in levels for v in row):
            handles.append(Patch(facecolor=UNMEASURED, edgecolor="#b0bec5", hatch="////", linewidth=0.5, label="differs, level not measured"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize=8, title="strongest difference", title_fontsize=8)
        ax.set_title("strongest difference between two revisions", loc="left", fontsize=10, color="#263238")
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
