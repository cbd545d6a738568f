"""`archeo mine`: list every revision of the target."""

from __future__ import annotations

import sys

from ..tables import table

from .common import add_json_argument, add_source_arguments, mined, print_json

HELP = "list every commit that added, changed, moved or removed the target or its header"


def add_arguments(parser) -> None:
    add_source_arguments(parser)
    add_json_argument(parser)


def run(args) -> int:
    from ..mine import check_expectations, revisions_to_json

    target, revisions = mined(args)
    checks = check_expectations(target, revisions)
    if args.json:
        print_json(revisions_to_json(target, revisions))
    else:
        rows = [
            (r.short, r.date[:10], r.status, r.path, r.header_path or "-", f"+{r.added}/-{r.removed}", r.subject)
            for r in revisions
        ]
        print(table(rows, ("commit", "date", "status", "path", "header", "lines", "subject"), flexible=(3, 4, 6)))
        present = sum(r.present for r in revisions)
        print(f"\n{len(revisions)} revisions ({present} with the file present) of {target.name}")
        for check in checks:
            if check.ok:
                print(f"expectation {check.message}")
    bad = [c for c in checks if not c.ok]
    for check in bad:
        print(f"archeo: the history disagrees with {target.source}: {check.message}", file=sys.stderr)
    return 3 if bad else 0
