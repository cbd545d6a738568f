"""Text ancestry: which revision of another history each revision's code is nearest to.

Copies are renamed (`fio_rb_node`, `__rb_rotate_left`), re-commented and re-indented, so
the code is compared after normalising: comments and white space dropped, each function's
tokens taken from the span the parse found, and every identifier that ends in an `rb_` name
stripped of its project prefix. Similarity is the Jaccard index of the sets of 4-token
shingles of the whole file's functions — cheap, symmetric and insensitive to the order the
functions are written in.

A history's first revision (and a re-addition after deletion) is a *copy*; a revision whose
code is less than `REFRESH_BELOW` alike to the history's previous revision, or that is nearer
(by `CLOSER_BY`) to an earlier revision of another history than to its own previous one — a
sync with upstream that kept local edits — is a *refresh*.
The likely source of either is the most similar revision of another history dated before it
(the latest of equals), when at least `SOURCE_AT_LEAST` alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .records import Arrow, Nearest

SHINGLE = 4
REFRESH_BELOW = 0.6
SOURCE_AT_LEAST = 0.5
CLOSER_BY = 0.05  # a refresh also: nearer another history's earlier revision than its own previous by this much

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|->|\+\+|--|<<|>>|[<>!=]=|&&|\|\||\S")
_PREFIXED = re.compile(r"^[A-Za-z_]\w*?_(rb_\w*)$")


@dataclass(frozen=True)
class Code:
    """One revision's normalised code, as a set of shingles."""

    target: str
    commit: str
    date: datetime
    shingles: frozenset


def normal_tokens(text: str) -> list[str]:
    """The tokens of C text, comments and layout gone, project prefixes of `rb_` names dropped."""
    tokens = []
    for token in _TOKEN.findall(_COMMENT.sub(" ", text)):
        match = _PREFIXED.match(token)
        tokens.append(match.group(1) if match else token)
    return tokens


def function_text(text: str, model) -> str:
    """The .c file's functions, in the spans the parse found (the whole file when it failed)."""
    if model is None or not getattr(model, "ok", False):
        return text
    lines = text.split("\n")
    spans = sorted((f.first_line, f.last_line) for f in model.functions if f.origin == "source" and f.first_line)
    if not spans:
        return text
    return "\n".join("\n".join(lines[first - 1 : last]) for first, last in spans)


def shingles(tokens: list[str]) -> frozenset:
    if len(tokens) < SHINGLE:
        return frozenset([tuple(tokens)])
    return frozenset(tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


def similarity(a: frozenset, b: frozenset) -> float:
    if a is b:
        return 1.0
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def code_of(target: str, revision, model) -> Code:
    return Code(target, revision.commit, parse_date(revision.date), shingles(normal_tokens(function_text(revision.text, model))))


def parse_date(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Similarities:
    """Pairwise similarity, computed once per pair of distinct shingle sets."""

    def __init__(self):
        self._seen: dict[tuple[int, int], float] = {}

    def __call__(self, a: Code, b: Code) -> float:
        if a.shingles == b.shingles:
            return 1.0
        key = (id(a.shingles), id(b.shingles)) if id(a.shingles) < id(b.shingles) else (id(b.shingles), id(a.shingles))
        value = self._seen.get(key)
        if value is None:
            value = self._seen[key] = similarity(a.shingles, b.shingles)
        return value


def _shared(codes: dict[str, list[Code]]) -> dict[str, list[Code]]:
    """The same shingle set object for equal code, so `Similarities` sees each pair once."""
    canon: dict[frozenset, frozenset] = {}
    out = {}
    for target, items in codes.items():
        out[target] = [Code(c.target, c.commit, c.date, canon.setdefault(c.shingles, c.shingles)) for c in items]
    return out


def nearest(codes: dict[str, list[Code]], sim: Similarities | None = None) -> dict[str, list[Nearest]]:
    """For each revision ("target:commit"), its nearest revision in every other history.

    Ties go to the oldest revision, so the answer does not depend on the order of the corpus.
    """
    sim = sim or Similarities()
    codes = _shared(codes)
    out: dict[str, list[Nearest]] = {}
    for target, items in codes.items():
        for code in items:
            found = []
            for other, others in codes.items():
                if other == target or not others:
                    continue
                best = max(others, key=lambda o: (round(sim(code, o), 6), -o.date.timestamp()))
                found.append(Nearest(other, best.commit, round(sim(code, best), 3)))
            out[f"{target}:{code.commit}"] = found
    return out


def arrows(codes: dict[str, list[Code]], firsts: dict[str, set[str]], sim: Similarities | None = None) -> list[Arrow]:
    """Copies (commits in `firsts[target]`) and refreshes, each with its likely source.

    `codes[target]` lists the present revisions oldest first.
    """
    sim = sim or Similarities()
    codes = _shared(codes)
    out = []
    for target, items in codes.items():
        previous = None
        for code in items:
            kind, before = None, None
            earlier = [o for other, others in codes.items() if other != target for o in others if o.date < code.date]
            source = max(earlier, key=lambda o: (round(sim(code, o), 6), o.date.timestamp()), default=None)
            score = round(sim(code, source), 3) if source is not None else 0.0
            if code.commit in firsts.get(target, set()) or previous is None:
                kind = "copy"
            else:
                before = round(sim(code, previous), 3)
                # Most of the file rewritten, or the code moved nearer another history than
                # its own last revision (a sync with upstream that keeps local edits).
                if before < REFRESH_BELOW or (before < 1.0 and score > before + CLOSER_BY and score >= SOURCE_AT_LEAST):
                    kind = "refresh"
            previous = code
            if kind is None:
                continue
            if source is None or score < SOURCE_AT_LEAST:
                out.append(Arrow(target, code.commit, kind, None, None, score, before))
            else:
                out.append(Arrow(target, code.commit, kind, source.target, source.commit, score, before))
    return out
