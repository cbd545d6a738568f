"""Where the top-level declarations of preprocessed C begin and end, and where each brace is.

Two uses, one scan. The parse stage parses each top-level chunk of a translation unit once
per history (`reuse.ChunkMemo`): consecutive revisions share most of their declarations
(the shim and the header expand to the same ones, most functions do not change), so only
the chunks a commit touched need pycparser. And a function's first and last lines come
from the braces found here (`Scan.braces`), so the parser needs no token recording.

The scan reads the text the way pycparser's lexer does, without tokenising it: line
markers (`# N "file" flags`) set the file and line of what follows, string and character
literals hide their braces, and gcc -E has removed the comments. A chunk ends at the end
of a line whose last token is a `;` at brace depth 0, or the `}` closing a function body
(a depth-0 `{` right after a `)`). A chunk may hold several declarations (`int a; int b`
on one line); a wrong cut can only make a chunk fail to parse alone, never parse
differently, and the caller then parses the whole unit. Anything the scan does not
expect (a `#pragma`, a stray `#`, an unterminated literal, unbalanced braces) leaves
`Scan.chunks` None, for the same fallback.

    >>> scan = scan_unit('# 1 "a.c"\\nint f(void)\\n{\\n  return 0;\\n}\\n', "a.c")
    >>> [(c.file, c.line) for c in scan.chunks]
    [('a.c', 1)]
    >>> scan.braces[("a.c", 2, 1)]
    Brace(start=('a.c', 1), close=4)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A line marker as pycparser's lexer accepts it: `# N`, `# N "file"`, `# N "file" 1 3`, `#line N`.
# The file is kept raw (escapes and all), as the lexer keeps it in its coords.
_MARKER = re.compile(r'#[ \t]*(?:line[ \t]+)?(0|[1-9][0-9]*)(?:[ \t]+"((?:[^"\\\n]|\\.)*)"((?:[ \t]+[0-9]+)*))?[ \t]*$')
# What the scan looks at inside a code line; a lone quote is a literal that does not end.
_SIGNIFICANT = re.compile(r"""[{};#]|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|["']""")
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


@dataclass(frozen=True)
class Chunk:
    """Whole lines of the unit that hold one or more complete top-level declarations."""

    text: str  # the lines as they stand in the unit, inner line markers included
    file: str  # file of the first line, as the line markers name it
    line: int  # line of the first line in that file
    # The text with its inner line markers made relative to `line`: equal keys parse to the
    # same AST up to a shift of every line. None when an inner marker names another file.
    key: str | None

    def words(self) -> set[str]:
        """Every identifier-like word (keywords too): all the names its parse can look up."""
        return set(_WORD.findall(self.text))


@dataclass(frozen=True)
class Brace:
    """One `{`: where its construct began, and the line of the `}` that closes it."""

    # File and line of the last top-level start (the first token after a `;` or `}` at
    # depth 0) strictly before this brace; None when there is none.
    start: tuple[str, int] | None
    close: int | None  # None when it is never closed


@dataclass(frozen=True)
class Scan:
    chunks: tuple[Chunk, ...] | None  # None when the unit is not split safely (see the module doc)
    braces: dict[tuple[str, int, int], Brace]  # every `{` by (file, line, column), as pycparser's coords say


def scan_unit(code: str, filename: str) -> Scan:
    """Chunks and braces of preprocessed C (`split_preprocessed(...).code`).

    `filename` is the file of what precedes the first line marker, as pycparser's `parse`
    takes it.
    """
    return _Scanner(code.split("\n"), filename).run()


class _Scanner:
    """One pass over the lines, keeping the lexer's (file, line) and the brace stack."""

    def __init__(self, lines: list[str], filename: str):
        self.lines = lines
        self.file, self.line = filename, 1
        self.doubt = any(c in filename for c in '"\\\n')  # it could not stand in a line marker
        self.depth = 0
        self.last_char = ""  # the last non-blank character of the code so far
        self.at_start = True  # the next token starts a top-level construct
        self.starts: list[tuple[int, int, str, int]] = []  # (row, column, file, line) of each start
        self.opens: list[list] = []  # [(file, line, column), start, close line] of each `{`
        self.stack: list[tuple[int, bool]] = []  # the open braces: index in opens, opens a function body
        self.chunks: list[Chunk] = []
        self.first_row: int | None = None  # first row of the chunk being read
        self.marked = False  # a line marker stands inside it
        self.chunk_at: tuple[str, int] = ("", 0)

    def run(self) -> Scan:
        for row, text in enumerate(self.lines):
            stripped = text.lstrip(" \t")
            if stripped.startswith("#"):
                marker = _MARKER.match(stripped)
                if marker is not None:
                    self.marked = self.marked or self.first_row is not None
                    self.line = int(marker.group(1))
                    self.file = self.file if marker.group(2) is None else marker.group(2)
                    continue
                self.doubt = True  # a #pragma or another directive: one token, as the lexer sees it
                self._start(row, len(text) - len(stripped))
            elif stripped:
                self._code(row, text, len(text) - len(stripped))
            self.line += 1
        if self.first_row is not None or self.depth != 0:
            self.doubt = True
        braces = {key: Brace(start, close) for key, start, close in self.opens}
        return Scan(None if self.doubt else tuple(self.chunks), braces)

    def _code(self, row: int, text: str, indent: int) -> None:
        if self.first_row is None:
            self.first_row, self.chunk_at = row, (self.file, self.line)
        self._start(row, indent)
        end = -1  # where the line's last chunk-ending token ends
        for match in _SIGNIFICANT.finditer(text, indent):
            token, col = match.group(), match.start()
            if token == "{":
                self._open(row, col, text)
            elif token == "}":
                if self._close(row, col, text):
                    end = col + 1
            elif token == ";":
                if self.depth == 0:
                    end = col + 1
                    self._after(row, col, text)
            elif token in "#\"'":
                self.doubt = True  # a directive inside code, or a literal that does not end
        rest = text.rstrip(" \t")
        self.last_char = rest[-1]
        if self.depth == 0 and end == len(rest):
            self._end_chunk(row)

    def _start(self, row: int, col: int) -> None:
        if self.at_start:
            self.starts.append((row, col, self.file, self.line))
            self.at_start = False

    def _after(self, row: int, col: int, text: str) -> None:
        """After a `;` or `}` at depth 0 the next token starts a construct: on this line, or later."""
        self.at_start = True
        rest = text[col + 1 :]
        if rest.strip(" \t"):
            self._start(row, len(text) - len(rest.lstrip(" \t")))

    def _open(self, row: int, col: int, text: str) -> None:
        before = text[:col].rstrip(" \t")
        body = self.depth == 0 and (before[-1:] or self.last_char) == ")"
        starts = self.starts
        if starts and starts[-1][:2] == (row, col):  # the brace starts a construct itself
            starts = starts[:-1]
        start = starts[-1][2:] if starts else None
        self.opens.append([(self.file, self.line, col + 1), start, None])
        self.stack.append((len(self.opens) - 1, body))
        self.depth += 1

    def _close(self, row: int, col: int, text: str) -> bool:
        """Close the innermost brace; True when that ends a function body."""
        self.depth -= 1
        if not self.stack:
            self.doubt = True
            return False
        index, body = self.stack.pop()
        self.opens[index][2] = self.line
        if self.depth == 0:
            self._after(row, col, text)
        return body and self.depth == 0

    def _end_chunk(self, row: int) -> None:
        lines = self.lines[self.first_row : row + 1]
        file, line = self.chunk_at
        text = "\n".join(lines)
        self.chunks.append(Chunk(text, file, line, _relative_key(lines, file, line) if self.marked else text))
        self.first_row, self.marked = None, False


def _relative_key(lines: list[str], file: str, line: int) -> str | None:
    """The chunk's text with inner line markers relative to its first line; None if one names another file."""
    out = []
    for text in lines:
        marker = _MARKER.match(text.lstrip(" \t"))
        if marker is None:
            out.append(text)
            continue
        if marker.group(2) is not None and marker.group(2) != file:
            return None
        out.append(f"# {int(marker.group(1)) - line}{marker.group(3) or ''}")
    return "\n".join(out)
