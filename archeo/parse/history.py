"""Parse one revision into a `Model`: functions, types, macros, public API.

The pipeline for a revision is: lay its .c file and its header out at their historical
paths in a private temp dir; run `gcc -E -dD -nostdinc` once against our shim
(`archeo/shim/include`), which gives the expanded code *and* every `#define`, both under
line markers that say which file and line they come from; parse the code with
pycparserext's `GnuCParser` (pycparser plus GCC syntax); then read everything off the AST
with small `NodeVisitor` classes. Only what comes from the revision's own two files goes
into the model: the shim is ours, not the history's.

Why gcc and not a Python preprocessor: the build stage compiles the very same text with
the very same shim, so the model describes exactly what gets compiled.

    >>> from archeo.parse import parse_history
    >>> models = parse_history(revisions)          # one Model per present revision
    >>> models[0].function("rb_erase").statements
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path

from pycparser import c_ast
from pycparser.c_parser import ParseError as PycParseError
from pycparserext.ext_c_generator import GnuCGenerator
from pycparserext.ext_c_lexer import GnuCLexer
from pycparserext.ext_c_parser import AttributeSpecifier, FuncDeclExt, GnuCParser

from ..chunks import Brace, Scan, scan_unit
from ..errors import ArcheoError
from ..parse_reuse import ChunkMemo
from ..platforms import CompilePlan, plan, stage
from ..platforms.xen import SHIM_INCLUDE  # noqa: F401 - kept importable from here
from ..records import Field, Function, Macro, Model, Param, ParseError, Revision, Struct


# pycparser knows `offsetof(type, member)` as a keyword but not GCC's builtin, which the
# shim's offsetof (and so container_of) expands to. Renaming it back while preprocessing
# keeps the shim identical for parse and build.
PREPROCESS_DEFINES = ("-D__builtin_offsetof=offsetof", "-D__signed__=signed")


# ---------------------------------------------------------------- entry points
def parse_history(
    revisions,
    gcc: str = "gcc",
    shim: str | os.PathLike | None = None,
    jobs: int = 1,
    reuse: bool = True,
    progress=None,
) -> list[Model]:
    """A model for every present revision, in order; a failing one carries its error.

    `jobs` > 1 (0: one per CPU) splits the history into that many contiguous runs
    (`history_runs`) parsed in forked worker processes. Each run is parsed by
    `parse_run`, which reuses what consecutive revisions share; `reuse=False` parses
    every revision on its own. The models are the same either way.
    """
    present = [rev for rev in revisions if rev.present]
    tick = progress or (lambda stage, done, total: None)
    tick("parse", 0, len(present))
    runs = history_runs(present, jobs)
    if len(runs) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        shared = Reuse() if reuse else None
        models = []
        for rev in present:
            models.append(parse_revision(rev, gcc=gcc, shim=shim, reuse=shared))
            tick("parse", len(models), len(present))
        return models
    context = multiprocessing.get_context("fork")
    models = []
    with ProcessPoolExecutor(max_workers=len(runs), mp_context=context) as pool:
        for run in pool.map(parse_run, runs, [gcc] * len(runs), [shim] * len(runs), [reuse] * len(runs)):
            models.extend(run)
            tick("parse", len(models), len(present))
    return models


def history_runs(revisions: list, jobs: int) -> list[list]:
    """`jobs` (0: one per CPU) contiguous runs of about equal length, for one worker each.

    Contiguous, because a run's revisions share most of their code (see `parse_run`).
    """
    jobs = (os.cpu_count() or 1) if jobs == 0 else max(1, jobs)
    size = -(-len(revisions) // min(jobs, len(revisions))) if revisions else 1
    return [revisions[i : i + size] for i in range(0, len(revisions), size)]


def parse_run(revisions: list[Revision], gcc: str = "gcc", shim=None, reuse: bool = True) -> list[Model]:
    """Models of a run of revisions, parsed in order, sharing one `Reuse` when `reuse`."""
    shared = Reuse() if reuse else None
    return [parse_revision(rev, gcc=gcc, shim=shim, reuse=shared) for rev in revisions]


class Reuse:
    """What one run of revisions shares: macro normal forms, and the facts of each chunk.

    Lives as long as one `parse_run`: an optimisation, never a source of truth. A
    revision parsed with it gets the model it would get without it.
    """

    def __init__(self):
        self.normaliser = MacroNormaliser()
        self.chunks: ChunkMemo[tuple[ExtFacts, ...]] = ChunkMemo(relocate)


def parse_revision(
    rev: Revision,
    gcc: str = "gcc",
    shim: str | os.PathLike | None = None,
    reuse: Reuse | None = None,
) -> Model:
    """Preprocess and parse one revision. Errors in the revision's code end up in `Model.error`.

    With `reuse` (see `parse_run`), only the chunks of its code that earlier revisions
    of the run did not have are parsed.
    """
    if not rev.present:
        raise ArcheoError(f"revision {rev.short} has no {rev.path} (status {rev.status}): only present revisions parse")
    ctx = RevisionContext.of(rev)
    try:
        with tempfile.TemporaryDirectory(prefix="archeo-parse-") as tmp:
            compile_plan = layout_revision(rev, tmp)
            output = preprocess(rev.path, compile_plan, cwd=tmp, gcc=gcc, shim=shim)
        unit = split_preprocessed(output)
        scan = scan_unit(unit.code, rev.path)
        facts = _reused_facts(scan, ctx, reuse.chunks) if reuse is not None else None
        if facts is None:
            facts = [ext_facts(ext, ctx) for ext in parse_c(unit.code, rev.path).ext]
        return build_model(rev, facts, scan.braces, unit, ctx, reuse.normaliser if reuse is not None else MacroNormaliser())
    except _StageFailure as failure:
        return _base_model(rev, error=failure.error)
    except Exception as exc:  # noqa: BLE001 - code our visitors do not expect: this revision fails, the run goes on
        message = f"archeo cannot model this code ({type(exc).__name__}: {exc}); please report it with the revision"
        return _base_model(rev, error=ParseError("model", rev.path, 0, message))


def _reused_facts(scan: Scan, ctx: RevisionContext, memo: ChunkMemo) -> list[ExtFacts] | None:
    """The facts of every declaration, chunk by chunk; None when the whole unit must be parsed."""
    if scan.chunks is None:
        return None
    per_chunk = memo.results(
        scan.chunks,
        compute=lambda exts: tuple(ext_facts(ext, ctx) for ext in exts),
        variant=lambda chunk: ctx.file_origin(chunk.file),
    )
    return None if per_chunk is None else [facts for chunk in per_chunk for facts in chunk]


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
    """`gcc -E -dD` output, or a `_StageFailure` naming the first error's file and line."""
    if shutil.which(gcc) is None:
        raise ArcheoError(f"{gcc} not found: install gcc (the parse stage preprocesses with it)")
    proc = subprocess.run(preprocess_command(source, compile_plan, gcc, shim), cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise _StageFailure(_gcc_error(proc.stderr, source))
    return proc.stdout


def parse_c(code: str, filename: str = "<string>") -> c_ast.FileAST:
    """Parse preprocessed C (line markers allowed) with GCC syntax.

    This is the one place a whole unit is parsed (`parse_reuse` parses chunks of one
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
        raise _StageFailure(_pyc_error(str(exc), filename, failed.clex.last)) from None


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


class _StageFailure(Exception):
    """Carries a `ParseError` out of a stage; never leaves this module."""

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


# ---------------------------------------------------------------- visitors
class FunctionCollector(c_ast.NodeVisitor):
    """Top-level function definitions and prototypes, with the file each comes from."""

    def __init__(self):
        self.definitions: list[c_ast.FuncDef] = []
        self.prototypes: list[c_ast.Decl] = []

    def visit_FileAST(self, node):
        for ext in node.ext:
            self.visit(ext)

    def visit_FuncDef(self, node):
        self.definitions.append(node)

    def visit_Decl(self, node):
        if isinstance(node.type, (c_ast.FuncDecl, FuncDeclExt)):
            self.prototypes.append(node)


_BRANCHES = (c_ast.If, c_ast.While, c_ast.DoWhile, c_ast.For, c_ast.Case, c_ast.TernaryOp)


class StatementCounter(c_ast.NodeVisitor):
    """Statements in a body: every item in statement position, blocks themselves excepted.

    A `{ ... }` is a container, not a statement, so re-bracing code changes nothing;
    declarations with initialisers count (they do work).
    """

    def __init__(self):
        self.count = 0

    def statement(self, node):
        if node is None:
            return
        if not isinstance(node, c_ast.Compound):
            self.count += 1
        self.visit(node)

    def visit_Compound(self, node):
        for item in node.block_items or ():
            self.statement(item)

    def visit_If(self, node):
        self.visit(node.cond)
        self.statement(node.iftrue)
        self.statement(node.iffalse)

    def _loop(self, node):
        for name, child in node.children():
            if name == "stmt":
                self.statement(child)
            else:
                self.visit(child)

    visit_While = visit_DoWhile = visit_For = visit_Switch = visit_Label = _loop

    def visit_Case(self, node):
        self.visit(node.expr)
        for item in node.stmts or ():
            self.statement(item)

    def visit_Default(self, node):
        for item in node.stmts or ():
            self.statement(item)


class ComplexityCounter(c_ast.NodeVisitor):
    """McCabe's cyclomatic complexity: 1 + decisions (branches, loops, cases, ?:, &&, ||)."""

    def __init__(self):
        self.complexity = 1

    def generic_visit(self, node):
        if isinstance(node, _BRANCHES) or (isinstance(node, c_ast.BinaryOp) and node.op in ("&&", "||")):
            self.complexity += 1
        super().generic_visit(node)


class TypeCollector(c_ast.NodeVisitor):
    """Struct and union definitions and typedefs at file scope, in source order.

    Function bodies are not entered: a type local to a function is no part of the
    layouts a harness or a reader of the API can use.
    """

    def __init__(self):
        self.aggregates: list[c_ast.Node] = []  # Struct/Union nodes with a body
        self.typedefs: list[c_ast.Typedef] = []

    def visit_FuncDef(self, node):
        pass

    def visit_Typedef(self, node):
        self.typedefs.append(node)
        self.generic_visit(node)

    def _aggregate(self, node):
        if node.decls is not None:
            self.aggregates.append(node)
        self.generic_visit(node)

    visit_Struct = visit_Union = visit_StructExt = _aggregate


# What each GCC construct is, and how the parse stage handles it (Model.neutralised).
GCC_SYNTAX = {
    "attribute": "__attribute__((...)) on {where}: parsed by pycparserext GnuCParser, left out of signatures and field types",
    "inline": "inline on {where}: C99 function specifier, parsed by pycparser, kept in Function.storage",
    "typeof": "typeof in {where}: parsed by pycparserext (TypeOfExpression/TypeOfDeclaration)",
    "asm": "asm in {where}: parsed by pycparserext as Asm, kept in the fingerprint",
    "offsetof": "__builtin_offsetof in {where}: renamed offsetof while preprocessing (" + PREPROCESS_DEFINES[0] + "), parsed by pycparser",
    "stmt-expr": "statement expression ({{ ... }}) in {where}: parsed by pycparserext as a Compound inside an expression",
}


class GnuSyntaxFinder(c_ast.NodeVisitor):
    """GCC syntax pycparser alone rejects, and where pycparserext parsed it.

    `found` maps a key of GCC_SYNTAX to the functions or declarations it occurs in.
    """

    def __init__(self):
        self.found: dict[str, set[str]] = {}
        self.where = ""

    def note(self, kind: str, where: str | None = None):
        self.found.setdefault(kind, set()).add(where or self.where or "file scope")

    def descriptions(self) -> list[str]:
        return syntax_descriptions(self.found)

    def visit_FuncDef(self, node):
        self.where = node.decl.name
        self._specs(node.decl, node.decl.name)
        self.generic_visit(node)
        self.where = ""

    def visit_Decl(self, node):
        if not self.where:
            self._specs(node, node.name or _aggregate_name(node.type))
        self.generic_visit(node)

    def _specs(self, decl, name):
        attrs = getattr(decl.type, "attributes", None)
        if any(isinstance(s, AttributeSpecifier) for s in decl.funcspec or ()) or getattr(attrs, "exprs", None):
            self.note("attribute", name)
        if "inline" in (decl.funcspec or ()):
            self.note("inline", name)

    def visit_TypeOfExpression(self, node):
        self.note("typeof")
        self.generic_visit(node)

    visit_TypeOfDeclaration = visit_TypeOfExpression

    def visit_Asm(self, node):
        self.note("asm")

    def visit_FuncCall(self, node):
        if isinstance(node.name, c_ast.ID) and node.name.name == "offsetof":
            self.note("offsetof")
        self.generic_visit(node)

    def generic_visit(self, node):
        # A block under anything but a statement is a statement expression `({ ... })`.
        statement_parent = isinstance(node, _BLOCK_HOLDERS)
        for child in node:
            if isinstance(child, c_ast.Compound) and not statement_parent:
                self.note("stmt-expr")
            self.visit(child)


def syntax_descriptions(found: dict[str, set[str]]) -> list[str]:
    """One line per GCC construct found, naming where: `Model.neutralised` says these."""
    return [GCC_SYNTAX[k].format(where=", ".join(sorted(v))) for k, v in sorted(found.items())]


_BLOCK_HOLDERS = (
    c_ast.Compound, c_ast.FuncDef, c_ast.If, c_ast.While, c_ast.DoWhile, c_ast.For,
    c_ast.Switch, c_ast.Case, c_ast.Default, c_ast.Label,
)


# ---------------------------------------------------------------- printing types and bodies
class _TypeNamer(GnuCGenerator):
    """A type as C spells it, with struct bodies reduced to `struct name`."""

    def _tag(self, kind, node):
        return f"{kind} {node.name}" if node.name else f"{kind} <anonymous>"

    def visit_Struct(self, node):
        return self._tag("struct", node)

    visit_StructExt = visit_Struct

    def visit_Union(self, node):
        return self._tag("union", node)

    def visit_Enum(self, node):
        return self._tag("enum", node)


def _type_str(namer: _TypeNamer, node, declname: bool = False) -> str:
    return " ".join(namer._generate_type(node, emit_declname=declname).split())


def _aggregate_name(node) -> str:
    while isinstance(node, (c_ast.TypeDecl, c_ast.PtrDecl, c_ast.ArrayDecl)):
        node = node.type
    if isinstance(node, (c_ast.Struct, c_ast.Union)) and node.name:
        return f"{'union' if isinstance(node, c_ast.Union) else 'struct'} {node.name}"
    return ""


def fingerprint(body: c_ast.Node) -> str:
    """Hash of the body printed back from the AST: no coords, comments, layout or redundant parentheses."""
    text = " ".join(GnuCGenerator().visit(body).split())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- building the model
def _own_files(rev: Revision) -> dict[str, str]:
    """The revision's files by origin: its .c is "source"; its header and every file of its
    include closure (archeo/closure.py: `rbtree_types.h`, a project's `kerncompat.h`) are
    "header", since their types, macros and inline functions are the API its users see."""
    own = {os.path.normpath(path): "header" for path in rev.closure}
    own[os.path.normpath(rev.path)] = "source"
    if rev.header_path and rev.header_text is not None:
        own[os.path.normpath(rev.header_path)] = "header"
    return own


def _digest(text: str | None) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16] if text is not None else ""


def _base_model(rev: Revision, **kw) -> Model:
    return Model(
        commit=rev.commit,
        path=rev.path,
        header_path=rev.header_path,
        source_digest=_digest(rev.text),
        header_digest=_digest(rev.header_text),
        **kw,
    )


@dataclass
class RevisionContext:
    """Per-revision state the builders share (never kept between revisions)."""

    own: dict[str, str]  # normalised path -> "source" | "header"
    namer: _TypeNamer = field(default_factory=_TypeNamer)

    @classmethod
    def of(cls, rev: Revision) -> RevisionContext:
        return cls(_own_files(rev))

    def origin(self, coord) -> str | None:
        return self.file_origin(coord.file) if coord is not None else None

    def file_origin(self, file: str) -> str | None:
        return self.own.get(os.path.normpath(file))


# ---------------------------------------------------------------- what each declaration gives
@dataclass(frozen=True)
class FunctionFacts:
    """A function defined in the revision's own files, but for its span.

    The span (first and last line) needs the braces around it, which the scan of the
    whole unit has (`chunks.Scan.braces`); the rest is read off the definition alone.
    """

    function: Function  # first_line and last_line left 0
    name_at: tuple[str, int]  # file and line of its name
    body_at: tuple[str, int, int]  # file, line and column of its `{`


@dataclass(frozen=True)
class ExtFacts:
    """What one top-level declaration gives the model, read off its AST by the visitors.

    Plain values, so that the facts of a declaration that comes back unchanged in the
    next revision can be reused (`parse_reuse`); only lines and files move, and `relocate`
    moves them.
    """

    origin: str | None  # "source" or "header" when it comes from the revision's own files
    typedef: str | None = None  # its name when it is a typedef (of any file: macro bodies parse knowing them all)
    functions: tuple[FunctionFacts, ...] = ()
    prototypes: tuple[tuple[str, str], ...] = ()  # (name, origin) of own prototypes
    # Own declarations only: typedefs (name, C type, index of the aggregate it names in
    # `aggregates` or None, "struct tag" it names or None) and aggregates (index, kind,
    # tag or None, fields); an index stands for one AST node, as id() did in one AST.
    typedefs: tuple[tuple[str, str, int | None, str | None], ...] = ()
    aggregates: tuple[tuple[int, str, str | None, tuple[Field, ...]], ...] = ()
    gcc_syntax: tuple[tuple[str, str], ...] = ()  # (key of GCC_SYNTAX, where)


def ext_facts(ext: c_ast.Node, ctx: RevisionContext) -> ExtFacts:
    """The facts of one external declaration (a `FileAST.ext` item)."""
    collector = FunctionCollector()
    collector.visit(ext)
    functions = tuple(_function_facts(fd, origin, ctx) for fd in collector.definitions if (origin := ctx.origin(fd.decl.coord)))
    prototypes = tuple((d.name, origin) for d in collector.prototypes if (origin := ctx.origin(d.coord)))
    origin = ctx.origin(ext.coord)
    facts = ExtFacts(
        origin=origin,
        typedef=ext.name if isinstance(ext, c_ast.Typedef) else None,
        functions=functions,
        prototypes=prototypes,
    )
    if origin is None:
        return facts
    typedefs, aggregates = _type_facts(ext, ctx.namer)
    finder = GnuSyntaxFinder()
    finder.visit(ext)
    syntax = tuple((kind, where) for kind, places in sorted(finder.found.items()) for where in sorted(places))
    return replace(facts, typedefs=typedefs, aggregates=aggregates, gcc_syntax=syntax)


def relocate(facts: tuple[ExtFacts, ...], shift: int, file: str) -> tuple[ExtFacts, ...]:
    """The facts of a one-file chunk (`Chunk.key`) moved `shift` lines down, into `file`."""
    return tuple(
        replace(f, functions=tuple(_moved(fn, shift, file) for fn in f.functions)) if f.functions else f for f in facts
    )


def _moved(fn: FunctionFacts, shift: int, file: str) -> FunctionFacts:
    (_, line), (_, body_line, column) = fn.name_at, fn.body_at
    return replace(fn, name_at=(file, line + shift), body_at=(file, body_line + shift, column))


def _function_facts(fd: c_ast.FuncDef, origin: str, ctx: RevisionContext) -> FunctionFacts:
    counter, cyclo = StatementCounter(), ComplexityCounter()
    counter.visit(fd.body)
    cyclo.visit(fd.body)
    returns, params = _prototype(fd.decl, ctx.namer, fd.param_decls)
    function = Function(
        name=fd.decl.name,
        storage=_storage(fd.decl),
        returns=returns,
        params=params,
        signature=signature(fd.decl.name, returns, params),
        first_line=0,
        last_line=0,
        statements=counter.count,
        complexity=cyclo.complexity,
        fingerprint=fingerprint(fd.body),
        origin=origin,
    )
    name, body = fd.decl.coord, fd.body.coord
    return FunctionFacts(function, (name.file, name.line), (body.file, body.line, body.column))


def _type_facts(ext: c_ast.Node, namer: _TypeNamer):
    collector = TypeCollector()
    collector.visit(ext)
    index: dict[int, int] = {}  # one index per node (a node can be visited twice)
    for node in collector.aggregates:
        index.setdefault(id(node), len(index))
    typedefs = []
    for td in collector.typedefs:
        target = td.type.type if isinstance(td.type, c_ast.TypeDecl) else None
        node, tag = None, None
        if isinstance(target, (c_ast.Struct, c_ast.Union)):
            node = index.get(id(target))
            if target.name:
                tag = f"{_kind(target)} {target.name}"
        typedefs.append((td.name, _type_str(namer, td.type), node, tag))
    aggregates = tuple(
        (index[id(node)], _kind(node), node.name or None, tuple(_field(d, namer) for d in node.decls))
        for node in collector.aggregates
    )
    return tuple(typedefs), aggregates


def _kind(node) -> str:
    return "union" if isinstance(node, c_ast.Union) else "struct"


# ---------------------------------------------------------------- assembling the model
def build_model(
    rev: Revision,
    facts: list[ExtFacts],
    braces: dict[tuple[str, int, int], Brace],
    unit: Preprocessed,
    ctx: RevisionContext,
    normaliser: MacroNormaliser,
) -> Model:
    """Everything the model holds: the declarations' facts in order, spans from the braces, gcc's defines."""
    own_facts = [f for f in facts if f.origin]
    functions = [_placed(fn, braces) for f in facts for fn in f.functions]
    prototypes = [p for f in facts for p in f.prototypes]
    structs, typedefs = _types(own_facts)
    all_typedefs = sorted({f.typedef for f in facts if f.typedef is not None})
    macros = _macros(unit.defines, ctx, normaliser.normal_forms_for(all_typedefs))
    api = _api(functions, prototypes, macros)
    neutralised = _neutralised(own_facts, unit.defines, rev, ctx)
    return _base_model(
        rev,
        functions=tuple(functions),
        structs=tuple(structs),
        typedefs=typedefs,
        macros=tuple(macros),
        api=api,
        neutralised=neutralised,
    )


def _placed(fn: FunctionFacts, braces) -> Function:
    """The function with its span: from the first token of its construct to its closing brace."""
    (file, first), last = fn.name_at, fn.body_at[1]
    brace = braces.get(fn.body_at)
    if brace is not None:
        if brace.start is not None and brace.start[0] == file and brace.start[1] <= first:
            first = brace.start[1]
        if brace.close is not None:
            last = brace.close
    return replace(fn.function, first_line=first, last_line=last)


def _storage(decl: c_ast.Decl) -> tuple[str, ...]:
    specs = set(decl.storage or ()) | {s for s in decl.funcspec or () if isinstance(s, str)}
    return tuple(s for s in ("static", "extern", "inline") if s in specs)


def _prototype(decl: c_ast.Decl, namer: _TypeNamer, kr_decls=None) -> tuple[str, tuple[Param, ...]]:
    """Return type and parameters. An old-style (K&R) definition lists bare names, typed by
    the declarations before its body (`kr_decls`), or `int` when a name has none (C89)."""
    ftype = decl.type
    returns = _type_str(namer, ftype.type)
    params: list[Param] = []
    kr_types = {d.name: d.type for d in kr_decls or () if isinstance(d, c_ast.Decl)}
    for p in (ftype.args.params if ftype.args is not None else ()):
        if isinstance(p, c_ast.EllipsisParam):
            params.append(Param("...", "..."))
            continue
        if isinstance(p, c_ast.ID):  # K&R
            kr_type = kr_types.get(p.name)
            params.append(Param(p.name, _type_str(namer, kr_type) if kr_type is not None else "int"))
            continue
        text = _type_str(namer, p.type)
        if text == "void" and not getattr(p, "name", None):
            continue
        params.append(Param(getattr(p, "name", None) or "", text))
    return returns, tuple(params)


def signature(name: str, returns: str, params: tuple[Param, ...]) -> str:
    """`struct rb_node *rb_first(const struct rb_root *root)`: storage left out."""
    args = ", ".join(_join_decl(p.type, p.name) if p.name != "..." else "..." for p in params) or "void"
    return f"{_join_decl(returns, name)}({args})"


def _join_decl(type_text: str, name: str) -> str:
    if not name:
        return type_text
    return f"{type_text}{name}" if type_text.endswith("*") else f"{type_text} {name}"


def _types(own_facts: list[ExtFacts]) -> tuple[list[Struct], dict[str, str]]:
    typedefs: dict[str, str] = {}
    aliases: dict[tuple[int, int], list[str]] = {}
    tag_aliases: dict[str, list[str]] = {}
    for i, facts in enumerate(own_facts):
        for name, text, node, tag in facts.typedefs:
            typedefs[name] = text
            if node is not None:
                aliases.setdefault((i, node), []).append(name)
            if tag is not None:
                tag_aliases.setdefault(tag, []).append(name)
    structs = []
    for i, facts in enumerate(own_facts):
        for node, kind, tag, fields in facts.aggregates:
            names = aliases.get((i, node), [])
            name = f"{kind} {tag}" if tag else (names[0] if names else f"{kind} <anonymous>")
            alias = tuple(dict.fromkeys(names + tag_aliases.get(name, [])))
            structs.append(Struct(name=name, kind=kind, fields=fields, typedefs=alias))
    return structs, typedefs


def _field(decl: c_ast.Decl, namer: _TypeNamer) -> Field:
    text = _type_str(namer, decl.type)
    if decl.bitsize is not None:
        text += f" : {GnuCGenerator().visit(decl.bitsize)}"
    return Field(decl.name or "", text)


# ---------------------------------------------------------------- macros
def _macros(defines, ctx: RevisionContext, normal_forms) -> list[Macro]:
    seen: set[str] = set()
    chosen = []
    for d in defines:
        origin = ctx.own.get(os.path.normpath(d.file)) if d.file else None
        if origin is None or d.name in seen:
            continue
        seen.add(d.name)
        chosen.append((d, origin))
    normals = normal_forms([(d.params, d.body) for d, _ in chosen])
    return [
        Macro(name=d.name, params=d.params, body=d.body, origin=origin, normal=normal, line=d.line)
        for (d, origin), normal in zip(chosen, normals)
    ]


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


class MacroNormaliser:
    """Normal forms of macro bodies, remembered for one run (see `macro_normal_forms`).

    Lives as long as one `parse_run` (in its `Reuse`): an optimisation, never a source of truth.
    """

    def __init__(self):
        self._known: dict[tuple, str] = {}

    def normal_forms_for(self, typedef_names):
        names = frozenset(typedef_names)

        def normal_forms(macros):
            # Only the typedef names a body mentions can change how it parses: keying on those
            # keeps a body's form reusable when the unit's other typedefs change (a userland
            # unit has hundreds, from the system's headers) and keeps the prelude short.
            keys = [(tuple(sorted(names.intersection(_IDENTIFIER.findall(body)))), params, body) for params, body in macros]
            missing = list(dict.fromkeys(k for k in keys if k not in self._known))
            used = sorted({n for k in missing for n in k[0]})
            for key, normal in zip(missing, macro_normal_forms([k[1:] for k in missing], used)):
                self._known[key] = normal
            return [self._known[k] for k in keys]

        return normal_forms


def macro_normal_forms(macros, typedef_names=()) -> list[str]:
    """Each macro body's normal form: its AST printed back, or its token stream.

    A body that parses as a C expression or statement (with its parameters as plain
    identifiers, or some of them as type names for bodies like `(type *)ptr`) is printed
    back from the AST, so parentheses that change no parse and all whitespace vanish:
    `(pc & ~3)` and `((pc) & ~3)` have the same normal form. Anything else (a bare
    type, `#x` stringification) falls back to its tokens. One parse for all the bodies
    when they all parse, one per body otherwise.
    """
    prelude = "".join(f"typedef int {t};" for t in typedef_names)
    results: list[str | None] = [None] * len(macros)
    todo = []
    for i, (params, body) in enumerate(macros):
        if not body.strip():
            results[i] = ""
        else:
            todo.append(i)
    if todo:
        batch = prelude + "".join(f"void __archeo_m{i}(void) {{ {macros[i][1]} ; }}\n" for i in todo)
        printed = _print_bodies(batch)
        if printed is not None and len(printed) == len(todo):
            for i, text in zip(todo, printed):
                results[i] = text
    for i in todo:
        if results[i] is None:
            results[i] = _normal_alone(macros[i][0] or (), macros[i][1], prelude)
    return [r or "" for r in results]


def _normal_alone(params, body: str, prelude: str) -> str:
    for size in range(0, min(len(params), 4) + 1):
        for types in combinations(params, size):
            local = "".join(f"typedef int {t};" for t in types)
            printed = _print_bodies(f"{prelude}void __archeo_m(void) {{ {local} {body} ; }}")
            if printed:
                return printed[0]
    return _token_stream(body)


def _print_bodies(source: str) -> list[str] | None:
    try:
        ast = GnuCParser().parse(source, "<macro>")
    except (PycParseError, ValueError, IndexError, AttributeError, TypeError):
        return None
    gen = GnuCGenerator()
    out = []
    for ext in ast.ext:
        if isinstance(ext, c_ast.FuncDef):
            items = [it for it in ext.body.block_items or () if not isinstance(it, c_ast.Typedef)]
            text = " ".join(" ".join(gen._generate_stmt(it).split()) for it in items)
            out.append(text[:-1].rstrip() if text.endswith(";") else text)
    return out


def _token_stream(body: str) -> str:
    """The body's tokens, one space apart: whitespace never matters, parentheses still do."""
    values: list[str] = []
    lexer = GnuCLexer(lambda *a: None, lambda: None, lambda: None, lambda name: False)
    lexer.input(body)
    try:
        while (tok := lexer.token()) is not None:
            values.append(tok.value)
    except Exception:  # noqa: BLE001 - an odd body falls back to its folded text
        return " ".join(body.split())
    return " ".join(values)


# ---------------------------------------------------------------- api and neutralised
def _api(functions, prototypes, macros) -> tuple[str, ...]:
    """What the header declares or defines: prototypes, inline functions, macros with a body.

    An object-like macro with an empty body (an include guard) is not API.
    """
    names = [name for name, origin in prototypes if origin == "header"]
    names += [f.name for f in functions if f.origin == "header"]
    names += [m.name for m in macros if m.origin == "header" and (m.body or m.params is not None)]
    return tuple(dict.fromkeys(names))


def _neutralised(own_facts: list[ExtFacts], defines, rev: Revision, ctx: RevisionContext) -> tuple[str, ...]:
    """What GCC or kernel syntax was made parseable in this revision, and how."""
    syntax: dict[str, set[str]] = {}
    for facts in own_facts:
        for kind, where in facts.gcc_syntax:
            syntax.setdefault(kind, set()).add(where)
    found = set(syntax_descriptions(syntax))
    shim = {}
    for d in defines:
        if d.file and not ctx.own.get(os.path.normpath(d.file)) and not d.file.startswith("<"):
            shim.setdefault(d.name, d)
    own_names = {d.name for d in defines if d.file and ctx.own.get(os.path.normpath(d.file))}
    used = identifiers(rev.text or "") | identifiers(rev.header_text or "")
    for name in sorted(used & set(shim) - own_names):
        d = shim[name]
        call = f"{name}({', '.join(d.params)})" if d.params is not None else name
        found.add(f"{call}: defined by the shim ({_shim_name(d.file)}) as `{d.body}`")
    return tuple(sorted(found))


def _shim_name(path: str) -> str:
    parts = Path(path).parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else path


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


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


__all__ = [
    "SHIM_INCLUDE",
    "ComplexityCounter",
    "Define",
    "ExtFacts",
    "FunctionFacts",
    "FunctionCollector",
    "GnuSyntaxFinder",
    "Preprocessed",
    "MacroNormaliser",
    "Reuse",
    "RevisionContext",
    "StatementCounter",
    "TypeCollector",
    "build_model",
    "ext_facts",
    "fingerprint",
    "history_runs",
    "identifiers",
    "layout_revision",
    "macro_normal_forms",
    "parse_c",
    "parse_history",
    "parse_revision",
    "parse_run",
    "preprocess",
    "preprocess_command",
    "relocate",
    "signature",
    "split_preprocessed",
    "strip_comments",
    "syntax_descriptions",
]
