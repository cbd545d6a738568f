"""The report on the terminal: one table of behavioural changes, then where the files are."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ..study import Study
from .words import MARKER, describe_op


SUMMARY_HEADERS = ("introduced", "date", "levels", "ended", "first release", "releases", "witness")


def summary_rows(study: Study) -> list[tuple]:
    """One row per behavioural change: (introduced, date, levels, ended, first release, releases, witness)."""
    if study.difftest is None:
        return []
    dates = {r.commit: r.date[:10] for r in study.revisions}
    rows = []
    for c in study.difftest.changes:
        witness = "—"
        if c.witness is not None:
            ops = [describe_op(t) for t in c.witness.ops]
            witness = ", ".join(ops) if len(ops) <= 6 else ", ".join(ops[:5]) + f", … ({len(ops)} ops)"
        rows.append(
            (
                c.introduced_by[:12],
                dates.get(c.introduced_by, ""),
                ", ".join(c.levels or (c.level,)),
                c.ended_by[:12] if c.ended_by else "—",
                c.releases[0] if c.releases else "—",
                len(c.releases),
                witness,
            )
        )
    return rows


def print_summary(study: Study, out_dir: Path | str, file: TextIO | None = None) -> None:
    """The behavioural changes as a table, then where the report is."""
    from tabulate import tabulate

    file = file or sys.stdout
    rows = summary_rows(study)
    out_dir = Path(out_dir)
    if study.difftest is None:
        print("no differential test was run", file=file)
    elif not any(v.status == "tested" for v in study.difftest.revisions):  # never "no change"
        print(f"0 of {len(study.difftest.revisions)} present revisions built — nothing was tested; see the build column", file=file)
    elif rows:
        print(tabulate(rows, headers=SUMMARY_HEADERS, tablefmt="simple"), file=file)
    else:
        print("no behavioural change between consecutive revisions", file=file)
    print(f"report: {out_dir / 'index.html'} (also index.md, {MARKER})", file=file)
