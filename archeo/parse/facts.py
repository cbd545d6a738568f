"""What each top-level declaration gives the model, as plain values (`ExtFacts`).

The visitors (visitors.py) run on one external declaration at a time, and what they read
is kept as frozen data, so that a declaration that comes back unchanged in the next
revision is not parsed again (reuse.py): only its lines and file move (`relocate`).
Knows which files are the revision's own (`RevisionContext`); the shim is ours, not the
history's, so nothing from it becomes a fact of the revision.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from pycparser import c_ast
from pycparserext.ext_c_generator import GnuCGenerator

from ..records import Field, Function, Param, Revision
from .visitors import (
    ComplexityCounter,
    FunctionCollector,
    GnuSyntaxFinder,
    StatementCounter,
    TypeCollector,
    TypeNamer,
    fingerprint,
    type_str,
)


def _own_files(rev: Revision) -> dict[str, str]:
    """The revision's files by origin: its .c is "source"; its header and every file of its
    include closure (archeo/closure.py: `rbtree_types.h`, a project's `kerncompat.h`) are
    "header", since their types, macros and inline functions are the API its users see."""
    own = {os.path.normpath(path): "header" for path in rev.closure}
    own[os.path.normpath(rev.path)] = "source"
    if rev.header_path and rev.header_text is not None:
        own[os.path.normpath(rev.header_path)] = "header"
    return own


@dataclass
class RevisionContext:
    """Per-revision state the builders share (never kept between revisions)."""

    own: dict[str, str]  # normalised path -> "source" | "header"
    namer: TypeNamer = field(default_factory=TypeNamer)

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
    next revision can be reused (`reuse.py`); only lines and files move, and `relocate`
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


def _type_facts(ext: c_ast.Node, namer: TypeNamer):
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
        typedefs.append((td.name, type_str(namer, td.type), node, tag))
    aggregates = tuple(
        (index[id(node)], _kind(node), node.name or None, tuple(_field(d, namer) for d in node.decls))
        for node in collector.aggregates
    )
    return tuple(typedefs), aggregates


def _kind(node) -> str:
    return "union" if isinstance(node, c_ast.Union) else "struct"


def _storage(decl: c_ast.Decl) -> tuple[str, ...]:
    specs = set(decl.storage or ()) | {s for s in decl.funcspec or () if isinstance(s, str)}
    return tuple(s for s in ("static", "extern", "inline") if s in specs)


def _prototype(decl: c_ast.Decl, namer: TypeNamer, kr_decls=None) -> tuple[str, tuple[Param, ...]]:
    """Return type and parameters. An old-style (K&R) definition lists bare names, typed by
    the declarations before its body (`kr_decls`), or `int` when a name has none (C89)."""
    ftype = decl.type
    returns = type_str(namer, ftype.type)
    params: list[Param] = []
    kr_types = {d.name: d.type for d in kr_decls or () if isinstance(d, c_ast.Decl)}
    for p in (ftype.args.params if ftype.args is not None else ()):
        if isinstance(p, c_ast.EllipsisParam):
            params.append(Param("...", "..."))
            continue
        if isinstance(p, c_ast.ID):  # K&R
            kr_type = kr_types.get(p.name)
            params.append(Param(p.name, type_str(namer, kr_type) if kr_type is not None else "int"))
            continue
        text = type_str(namer, p.type)
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


def _field(decl: c_ast.Decl, namer: TypeNamer) -> Field:
    text = type_str(namer, decl.type)
    if decl.bitsize is not None:
        text += f" : {GnuCGenerator().visit(decl.bitsize)}"
    return Field(decl.name or "", text)
