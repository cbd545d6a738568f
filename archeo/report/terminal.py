"""The report on the terminal: one table of behavioural changes, then where the files are.

Read from the findings document, like every other format, so `archeo run` and
`archeo report findings.json --format terminal` print the same table.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ..tables import table
from .words import MARKER, describe_op

SUMMARY_HEADERS = ("introduced", "date", "levels", "ended", "releases", "witness")


def summary_rows(findings: dict) -> list[tuple]:
    """One row per behavioural change: (introduced, date, levels, ended, releases, witness).

    Levels show as the strongest and how many more (`crash +4`); the report lists them all.
    """
    rows = []
    for c in findings["changes"]:
        ops = [describe_op(t) for t in c["witness"]]
        witness = f"{len(ops)} op{'' if len(ops) == 1 else 's'}: " + ", ".join(ops) if ops else "—"
        levels = c.get("levels") or [c["level"]]
        releases = "—" if not c["release_count"] else c["first_release"] + (f" +{c['release_count'] - 1}" if c["release_count"] > 1 else "")
        rows.append(
            (
                c["introduced_by"][:12],
                (c["introduced_date"] or "")[:10],
                levels[0] + (f" +{len(levels) - 1}" if len(levels) > 1 else ""),
                c["ended_by"][:12] if c["ended_by"] else "—",
                releases,
                witness,
            )
        )
    return rows


def print_summary(findings: dict, out_dir: Path | str | None = None, file: TextIO | None = None) -> None:
    """The behavioural changes as a table (at most 100 columns), then where the report is."""
    file = file or sys.stdout
    rows = summary_rows(findings)
    if findings["inputs"]["seeds"] is None:
        print("no differential test was run", file=file)
    elif not findings["summary"]["tested"]:  # never "no change"
        print(f"0 of {findings['summary']['present']} present revisions built — nothing was tested; see the build column", file=file)
    elif rows:
        print(table(rows, SUMMARY_HEADERS, flexible=(4, 5)), file=file)
    else:
        print("no behavioural change between consecutive revisions", file=file)
    if out_dir is not None:
        print(f"report: {Path(out_dir) / 'index.html'} (also index.md, {MARKER})", file=file)
