"""The C front end of the parse stage: a revision's text in, pycparser's AST and gcc's defines out.

Lay the revision's files out at their historical paths (through its platform,
archeo/platforms), run `gcc -E -dD` once, which gives the expanded code *and* every
`#define` under line markers saying which file and line each comes from, split the two,
and parse the code with pycparserext's `GnuCParser` (pycparser plus GCC syntax).

Why gcc and not a Python preprocessor: the build stage compiles the very same text with
the very same platform plan, so the model describes exactly what gets compiled. The
mutation stage (mutants.py) uses the same front end, for the same reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, replace

from pycparser import c_ast
from pycparser.c_parser import ParseError as PycParseError
from pycparserext.ext_c_lexer import GnuCLexer
from pycparserext.ext_c_parser import GnuCParser

from ..errors import ArcheoError
from ..platforms import CompilePlan, plan, stage
from ..records import ParseError, Revision


# pycparser knows `offsetof(type, member)` as a keyword but not GCC's builtin, which the
# shim's offsetof (and so container_of) expands to. Renaming it back while preprocessing
# keeps the shim identical for parse and build.
PREPROCESS_DEFINES = ("-D__builtin_offsetof=offsetof", "-D__signed__=signed")


def layout_revision(rev: Revision, dest: str | os.PathLike) -> CompilePlan:
    """Write the .c file, its header and its include closure at their historical paths
    under `dest` (with the platform's stubs), and return the revision's CompilePlan
    (archeo/platforms): the include directories, defines and standard that the build
    stage passes too, so the model describes exactly what gets compiled."""
    compile_plan = plan(rev)
    stage(rev, compile_plan, dest)
    return compile_plan


def preprocess_command(source: str, compile_plan: CompilePlan, gcc: str = "gcc", shim: str | os.PathLike | None = None) -> list[str]:
    """The gcc command line of the plan (`shim` replaces the platform's stub directory)."""
    if shim is not None:
        compile_plan = replace(compile_plan, stub_dir=str(shim))
    return [gcc, "-E", "-dD", *PREPROCESS_DEFINES, *compile_plan.cflags(), source]


def preprocess(source: str, compile_plan: CompilePlan, cwd, gcc: str = "gcc", shim=None) -> str:
    """`gcc -E -dD` output, or a `StageFailure` naming the first error's file and line."""
    if shutil.which(gcc) is None:
        raise ArcheoError(f"{gcc} not found: install gcc (the parse stage preprocesses with it)")
    proc = subprocess.run(preprocess_command(source, compile_plan, gcc, shim), cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise StageFailure(_gcc_error(proc.stderr, source))
    return proc.stdout


def parse_c(code: str, filename: str = "<string>") -> c_ast.FileAST:
    """Parse preprocessed C (line markers allowed) with GCC syntax.

    This is the one place a whole unit is parsed (`reuse.py` parses chunks of one
    with the same parser class), so tests that guard the pycparser/pycparserext pin
    exercise exactly what the stage uses.
    """
    try:
        return GnuCParser().parse(code, filename)
    except PycParseError as exc:
        failed = _LastTokenParser()
        try:
            failed.parse(code, filename)
        except PycParseError:
            pass
        raise StageFailure(_pyc_error(str(exc), filename, failed.clex.last)) from None


# ---------------------------------------------------------------- gcc output
@dataclass(frozen=True)
class Define:
    """One `#define` as gcc printed it, with the file and line it comes from."""

    name: str
    params: tuple[str, ...] | None
    body: str
    file: str
    line: int


@dataclass(frozen=True)
class Preprocessed:
    code: str  # the expanded code with line markers; directive lines blanked
    defines: tuple[Define, ...]


def split_preprocessed(output: str) -> Preprocessed:
    """Separate gcc's `-dD` directive lines from the code, keeping every line in place.

    Line markers (`# N "file" flags`) set the file and line of what follows; a `#define`
    line stands where the directive stood, so blanking it keeps the parser's line
    numbers equal to the original file's.
    """
    lines = output.split("\n")
    defines: list[Define] = []
    file, line = "", 0
    for i, text in enumerate(lines):
        if text.startswith("# ") and text[2:3].isdigit():
            number, _, rest = text[2:].partition(" ")
            file, line = _marker_file(rest), int(number)
            continue
        if text.startswith("#define "):
            if not file.startswith("<"):  # gcc's own predefined macros are nobody's
                defines.append(_parse_define(text[len("#define ") :], file, line))
            lines[i] = ""
        elif text.startswith("#undef "):
            lines[i] = ""
        line += 1
    return Preprocessed("\n".join(lines), tuple(defines))


def _marker_file(rest: str) -> str:
    """The quoted file name of a line marker (gcc escapes `\\` and `"`)."""
    if not rest.startswith('"'):
        return rest
    if "\\" not in rest:  # the usual case, and a quick one: gcc prints ~400 markers a revision
        end = rest.find('"', 1)
        return rest[1:end] if end > 0 else rest[1:]
    out, i = [], 1
    while i < len(rest) and rest[i] != '"':
        if rest[i] == "\\" and i + 1 < len(rest):
            i += 1
        out.append(rest[i])
        i += 1
    return "".join(out)


def _parse_define(text: str, file: str, line: int) -> Define:
    """`NAME body` or `NAME(a,b) body`, as `gcc -dD` prints a definition (one line)."""
    end = 0
    while end < len(text) and text[end] not in " (":
        end += 1
    name, rest = text[:end], text[end:]
    params = None
    if rest.startswith("("):
        close = rest.index(")")
        params = tuple(p.strip() for p in rest[1:close].split(",") if p.strip())
        rest = rest[close + 1 :]
    return Define(name, params, " ".join(rest.split()), file, line)


def _gcc_error(stderr: str, source: str) -> ParseError:
    """The first `file:line:col: [fatal] error: message` of gcc's stderr."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        head, sep, message = ln.partition(" error: ")
        if not sep:
            continue
        parts = head.removesuffix(" fatal").rstrip(":").split(":")
        number = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        return ParseError("preprocess", parts[0], number, message.strip())
    return ParseError("preprocess", source, 0, (lines[-1] if lines else "gcc -E failed").strip())


def _pyc_error(text: str, filename: str, last: tuple[str, int]) -> ParseError:
    """pycparser says `file:line:col: message` (or only `file: message`)."""
    head, _, message = text.partition(": ")
    parts = head.split(":")
    if len(parts) >= 2 and parts[1].isdigit():
        return ParseError("parse", parts[0] or filename, int(parts[1]), message or text)
    if last[0]:
        return ParseError("parse", last[0], last[1], message or text)
    return ParseError("parse", filename, 0, message or text)


class StageFailure(Exception):
    """Carries a `ParseError` out of the front end; the parse stage (and mutants.py) turn it
    into the revision's error, never into a failed run."""

    def __init__(self, error: ParseError):
        super().__init__(error.message)
        self.error = error


# ---------------------------------------------------------------- the parser
class _LastTokenLexer(GnuCLexer):
    """GnuCLexer that remembers the file and line of the last token it read.

    Only for error messages: pycparser says "At end of input" without a line, and the
    last token read is where the parse gave up. Used to parse a unit again once it has
    failed, so a successful parse pays nothing for it.
    """

    last: tuple[str, int] = ("", 0)

    def token(self):
        tok = super().token()
        if tok is not None:
            self.last = (self.filename, tok.lineno)
        return tok


class _LastTokenParser(GnuCParser):
    lexer_class = _LastTokenLexer
