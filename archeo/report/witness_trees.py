"""Both trees of a witness — what the other side holds and what this side got — in text and SVG.

A witness records both sides' trees once shrinking is done (`trees`: after all its operations,
or just before the one that crashed or hung), so a crash, a hang or a broken invariant is
shown with the tree that caused it. Older witnesses without `trees` fall back to their last
`d` result. A cycle is drawn as the link back it is (`↺K`, see archeo/subjects/rbtree/draw.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from ..subjects import default
from .words import describe_op, outcome_text


_STOPPED = {"crash": "crashed", "hang": "hung", "error": "failed"}


@dataclass(frozen=True)
class WitnessTrees:
    a: str | None  # the dump of side a, or None (that side could not dump)
    b: str | None
    caption: str  # when the trees were taken, in words


def witness_trees(w: dict) -> WitnessTrees | None:
    """Both trees of a witness, or None when no tree is in play."""
    trees = w.get("trees")
    if trees:
        after, n = trees["after"], len(w["ops"])
        if after >= n:
            when = f"after all {n} operations"
        else:
            stopped = sorted({_STOPPED.get(o["status"], o["status"]) for o in (w["a_outcome"], w["b_outcome"]) if o["status"] != "ok"})
            when = (
                f"after operation {after}, just before operation {after + 1} ({describe_op(w['ops'][after])}), "
                f"where the run {' and '.join(stopped) or 'stopped'}"
            )
        return WitnessTrees(trees["a"], trees["b"], f"Trees {when}")
    subject = default()
    ta, tb = subject.last_dump(w["ops"], w["a_outcome"]["results"]), subject.last_dump(w["ops"], w["b_outcome"]["results"])
    if ta is None and tb is None:
        return None
    return WitnessTrees(ta, tb, "Trees at the last dump")


KEY_TEXT = "R red, B black, ↺K a child pointer leading back to K (a cycle), … not reached"


def trees_md(w: dict, la: str, lb: str) -> list[str]:
    """The two trees side by side as text art, under their caption."""
    t = witness_trees(w)
    if t is None:
        return ["*No tree in play: both trees are empty; the difference shows in the results above.*"]
    draw_text = default().draw_text
    da = draw_text(t.a) if t.a else "(no dump: " + outcome_text(w["a_outcome"]) + ")"
    db = draw_text(t.b) if t.b else "(no dump: " + outcome_text(w["b_outcome"]) + ")"
    return [f"{t.caption} ({KEY_TEXT}):", "", "```", side_by_side(da, db, (la, lb)), "```"]


def trees_html(w: dict, la: str, lb: str) -> str:
    """The two trees side by side as inline SVG, nodes that differ ringed, with a legend."""
    t = witness_trees(w)
    if t is None:
        return '<p class="tree-note">No tree in play: both trees are empty; the difference shows in the results above.</p>'
    subject = default()
    marked = subject.differing_parts(t.a, t.b)
    boxes = []
    for label, dump, outcome in ((la, t.a, w["a_outcome"]), (lb, t.b, w["b_outcome"])):
        if dump is None:
            body = f'<p class="tree-note">no dump: {escape(outcome_text(outcome))}</p>'
        else:
            body = subject.draw_svg(dump, marked, title=f"tree of {label}") + (
                f'<details class="text"><summary>as text</summary><pre>{escape(subject.draw_text(dump))}</pre></details>'
            )
        boxes.append(f'<div class="tree-box"><h4>{escape(label)}</h4>{body}</div>')
    legend = (
        f'<p class="legend">{escape(t.caption)}:'
        '<span class="dot" style="background:#c62828"></span>red'
        '<span class="dot" style="background:#263238"></span>black'
        '<span class="dot" style="background:#fff;border:2px solid #f9a825"></span>differs between the two sides'
        '<span class="dot" style="background:#fff;border:2px dashed #c62828"></span>↺K: a child pointer leading back to K (a cycle)</p>'
    )
    return f'<div class="trees">{"".join(boxes)}</div>{legend}'


SIDE_BY_SIDE_WIDTH = 110  # wider than this, one drawing goes above the other


def side_by_side(left: str, right: str, titles: tuple[str, str], gap: int = 6, max_width: int = SIDE_BY_SIDE_WIDTH) -> str:
    """Two drawings next to each other under their titles (one above the other if too wide)."""
    a = [titles[0], "─" * len(titles[0]), *left.split("\n")]
    b = [titles[1], "─" * len(titles[1]), *right.split("\n")]
    wa = max(len(s) for s in a)
    wb = max(len(s) for s in b)
    if wa + gap + wb > max_width:
        return "\n".join(a + [""] + b)
    rows = max(len(a), len(b))
    a += [""] * (rows - len(a))
    b += [""] * (rows - len(b))
    return "\n".join((x.ljust(wa + gap) + y).rstrip() for x, y in zip(a, b))
