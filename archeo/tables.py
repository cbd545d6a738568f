"""Terminal tables that fit: at most 100 columns, long cells cut with "…", never wrapped.

Every command prints its table through `table()`, so they look alike and none runs off an
80–100-column terminal. The columns named `flexible` give up width (widest first) until the
table fits; the others keep their full text (commit ids, dates, levels).
"""

from __future__ import annotations

from typing import Sequence

WIDTH = 100
GAP = 2  # tabulate's "simple" format puts two spaces between columns


def cut(text: str, width: int) -> str:
    """`text` in at most `width` characters, ending in "…" when shortened."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + "…"


def table(rows: Sequence[Sequence], headers: Sequence[str], flexible: Sequence[int] = (), width: int = WIDTH) -> str:
    """The rows as a "simple" table no wider than `width`, shrinking the `flexible` columns."""
    from tabulate import tabulate

    rows = [["-" if v is None else v for v in row] for row in rows]
    # tabulate makes a column at least its header plus 2 wide
    widths = [max([len(str(h)) + 2] + [len(" ".join(str(r[i]).split())) for r in rows]) for i, h in enumerate(headers)]
    total = sum(widths) + GAP * (len(widths) - 1)
    while total > width and flexible:
        i = max(flexible, key=lambda k: widths[k])
        floor = max(len(str(headers[i])) + 2, 8)
        if widths[i] <= floor:
            break
        take = min(total - width, widths[i] - floor)
        widths[i] -= take
        total -= take
    shown = [[cut(v, widths[i]) if i in flexible and isinstance(v, str) else v for i, v in enumerate(r)] for r in rows]
    return tabulate(shown, headers=list(headers), tablefmt="simple", disable_numparse=True)
