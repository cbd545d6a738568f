"""Choosing revisions by commit prefix, as every command and `archeo run --mutate` do."""

from __future__ import annotations

from .errors import ArcheoError
from .records import Revision


def parse_revision_filter(revisions: list[Revision], wanted: list[str] | None) -> list[Revision]:
    """Keep the revisions named by commit prefixes; an unknown one is an error."""
    if not wanted:
        return revisions
    chosen = []
    for prefix in wanted:
        for item in prefix.split(","):
            item = item.strip()
            if not item:
                continue
            hits = [r for r in revisions if r.commit.startswith(item)]
            if not hits:
                raise ArcheoError(f"unknown revision '{item}': `archeo mine` lists the commits of this target")
            chosen.extend(h for h in hits if h not in chosen)
    return [r for r in revisions if r in chosen]
