"""Raw C text, read without parsing: comments stripped, identifiers listed.

For what the AST cannot say about the text as committed: which shim macros it invokes
(model.py's `neutralised`), and whether a text change touched only comments (astdiff.py).
"""

from __future__ import annotations


def strip_comments(text: str) -> str:
    """Raw C text with comments replaced by a space (their newlines kept), literals kept.

    For what the AST cannot say about raw text: which shim macros it invokes, and
    whether a text change touched only comments. Comments and literals are found with
    `str.find` jumps, not by a regular expression.
    """
    kept: list[str] = []
    i, n = 0, len(text)
    while i < n:
        starts = [k for k in (text.find("/*", i), text.find("//", i), text.find('"', i), text.find("'", i)) if k >= 0]
        if not starts:
            kept.append(text[i:])
            break
        k = min(starts)
        kept.append(text[i:k])
        if text.startswith("/*", k):
            end = text.find("*/", k + 2)
            end = n if end < 0 else end + 2
            kept.append(" " + "\n" * text.count("\n", k, end))
            i = end
        elif text.startswith("//", k):
            end = text.find("\n", k)
            i = n if end < 0 else end
            kept.append(" ")
        else:
            quote, j = text[k], k + 1
            while j < n and text[j] != quote and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            kept.append(text[k : j + 1])
            i = j + 1
    return "".join(kept)


def identifiers(text: str) -> set[str]:
    """Identifiers of raw C text outside comments and literals (numbers dropped)."""
    words = _drop_literals(strip_comments(text)).translate(_NON_IDENTIFIER).split()
    return {w for w in words if not w[0].isdigit()}


def _drop_literals(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        starts = [k for k in (text.find('"', i), text.find("'", i)) if k >= 0]
        if not starts:
            out.append(text[i:])
            break
        k = min(starts)
        out.append(text[i:k] + " ")
        quote, j = text[k], k + 1
        while j < n and text[j] != quote and text[j] != "\n":
            j += 2 if text[j] == "\\" else 1
        i = j + 1
    return "".join(out)


_NON_IDENTIFIER = {c: " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")}
