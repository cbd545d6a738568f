"""Words and small helpers every renderer shares: op names (the subject's), side labels, outcome sentences.

They live here, apart from any one format, so Markdown, HTML and the terminal say the same
thing in the same words, and no renderer imports another.
"""

from __future__ import annotations

from collections import Counter

from ..subjects import Subject, default

REFERENCE = "reference"
MARKER = "findings.json"  # a directory holding this is an archeo report we may replace

def settings_words(inputs: dict) -> str:
    """The run's settings in one line: sequences, profiles, and the API groups mixed into them."""
    i = inputs
    if i["seeds"] is None:
        return "no differential test"
    text = f"{i['seeds']} seeds × {i['ops']:,} ops, first seed {i['first_seed']}, profiles {', '.join(i['profiles'])}"
    if i.get("groups"):
        text += f"; API groups' operations mixed in: {', '.join(i['groups'])}"
    return text


def plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


MISSING_MEANING = "—: no result, the run had stopped"


def legend(ops, results=(), subject: Subject | None = None) -> list[str]:
    """One line per operation kind used in `ops` (in protocol order), then NA and — where they occur."""
    subject = subject or default()
    used = {str(t).split()[0] for t in ops if str(t).split()}
    lines = [meaning for code, meaning in subject.op_meaning.items() if code in used]
    flat = [r for side in results for r in side]
    if "NA" in flat:
        lines.append(subject.na_meaning)
    if any(len(side) < len(ops) for side in results):
        lines.append(MISSING_MEANING)
    return lines


def history_text(inputs: dict, summary: dict) -> str:
    """`30 revisions, the last 18ad…c0 (2022-09-27)`: what was studied, the same from any clone."""
    if not inputs["last_commit"]:
        return "no revision"
    return f"{plural(summary['revisions'], 'revision')}, the last {inputs['last_commit']} ({(inputs['last_date'] or '')[:10]})"


#: what appeared or changed at a revision (history.events), in the words every format uses
EVENT_WORDS = (
    ("functions_added", "+ functions"),
    ("functions_removed", "− functions"),
    ("macros_added", "+ macros"),
    ("macros_removed", "− macros"),
    ("signatures_changed", "signature changed"),
    ("renamed", "renamed"),
    ("structs_changed", "layout changed"),
)

MATRIX_CAPTION = (
    "Strongest difference between two equivalence classes (rows as in the table above; columns by class number). "
    "Members of a class have identical outcomes on every sequence, so one cell stands for every pair of their members. "
    "Measured: each revision against the reference and against its predecessor, extended to both classes. "
    "Hatched, \"not measured\": the two classes do differ (they are different classes), "
    "but no member of one was compared with a member of the other."
)


def describe_op(token: str, subject: Subject | None = None) -> str:
    """`i 5` -> `insert 5`, `<` -> `first`, `n 4` -> `next of 4`, `d` -> `dump` (the subject's words)."""
    parts = token.split()
    op_words = (subject or default()).op_words
    if not parts or parts[0] not in op_words:
        return token
    words = op_words[parts[0]]
    return words.format(parts[1]) if "{}" in words and len(parts) > 1 else words


def side_label(side: str, revisions_by_commit: dict) -> str:
    if side == REFERENCE:
        return "reference"
    r = revisions_by_commit.get(side)
    return f"{side[:12]} ({r['date'][:10]})" if r else side[:12]


def outcome_text(outcome: dict) -> str:
    if outcome["status"] == "ok":
        return "ran to the end"
    return f"{outcome['status']} ({outcome['kind'] or 'no detail'}) after {plural(len(outcome['results']), 'operation')}"


def untested_reason(r: dict, f: dict) -> str:
    if f["inputs"]["seeds"] is None:
        return "no differential test was run"
    if r["status"] == "deleted":
        return "the file is removed at this commit"
    if r["build"] is not None and not r["build"]["ok"]:
        return "it did not build"
    if r["build"] is None:
        return "it was not built"
    return "it was not in the differential run"


def parse_words(r: dict) -> str:
    """A revision's parse stage in a few words: `ok`, `not parsed`, or the error and where."""
    if r["parse"] is None:
        return "not parsed"
    if r["parse"]["ok"]:
        return "ok"
    e = r["parse"]["error"]
    return f"{e['stage']} error at {e['file']}:{e['line']}: {e['message']}"


def build_words(r: dict, ops=lambda ops: " ".join(ops) or "—") -> str:
    """A revision's build stage in a few words; `ops` formats the operations its program offers."""
    b = r["build"]
    if b is None:
        return "— (file removed)" if r["status"] == "deleted" else "not built"
    if b["ok"]:
        return f"ok; sizeof(node) = {b['node_size']}; operations: {ops(b['ops'])}"
    return f"failed: {b['error'] or 'no message'}"


def witness_rows(w: dict) -> list[tuple[int, str, str, str, bool]]:
    """(number, operation, result a, result b, differs) for each op; a missing result is '—'."""
    a, b = w["a_outcome"]["results"], w["b_outcome"]["results"]
    rows = []
    for i, token in enumerate(w["ops"]):
        ra = a[i] if i < len(a) else "—"
        rb = b[i] if i < len(b) else "—"
        rows.append((i + 1, describe_op(token), ra, rb, ra != rb))
    return rows


def class_rows(f: dict) -> list[dict]:
    by_commit = {r["commit"]: r for r in f["revisions"]}
    rows = []
    for n, members in enumerate(f["classes"], 1):
        dates = [by_commit[c]["date"][:10] for c in members if c in by_commit]
        ref = [by_commit[c]["vs_reference"]["level"] for c in members if c in by_commit and by_commit[c]["vs_reference"]]
        rows.append(
            {
                "n": n,
                "members": members,
                "first": min(dates) if dates else "",
                "last": max(dates) if dates else "",
                "vs_reference": ref[0] if ref else None,
            }
        )
    return rows


def change_counts(changes: list[dict]) -> str:
    counts = Counter(c["kind"] for c in changes)
    return ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in sorted(counts.items()))
