"""Mutants of one revision, made on its pycparser AST and written back as C.

    >>> from archeo.mutants import load_unit, enumerate_mutants, select_mutants
    >>> unit = load_unit(rev)                 # gcc -E with our shim, then GnuCParser
    >>> unit.text()                           # the unmutated round trip: the whole translation unit as C
    >>> chosen = select_mutants(enumerate_mutants(unit), 200, seed=0, key=rev.commit)
    >>> unit.text(chosen[0])                  # the same unit with one change in one function

The translation unit is the revision's .c after preprocessing against our shim, so the header
and the shim come out expanded and the text has no `#include` left: it compiles on its own with
`-nostdinc`. The functions defined in the revision's own .c are mutated, and the later API
groups' inline functions of its headers (`rb_erase_cached`, `rb_add`, ...: the harness calls
them from its own translation unit, so their mutants patch the header too,
archeo/mutant_headers.py); never the core's header inlines, never the shim, and only inside
function bodies, so struct layouts stay those the harness is compiled against. A history
without such header functions (Xen's) gets exactly the mutants it always had.

The operators (archeo/mutant_operators.py) yield sites in one function body; a mutant's text is
made by swapping the site's node in, printing that one function with pycparserext's
`GnuCGenerator`, and swapping the node back; the other top-level declarations are printed once
per unit.
"""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import dataclass, field, replace

from pycparser import c_ast
from pycparserext.ext_c_generator import GnuCGenerator

from . import subjects
from .errors import ArcheoError
from .mutant_headers import patch_header
from .mutant_operators import OPERATORS, Names, sites
from .records import Revision
from .subjects.base import Subject


@dataclass(frozen=True)
class Mutant:
    """One change to one function. `index` is its place among every site of the unit."""

    index: int
    function: str
    line: int  # in the file that defines the function (the AST coordinate of the changed node)
    operator: str
    description: str  # in words, no code
    before: str  # the changed construct as printed from the AST, before and after
    after: str
    ext: int = field(repr=False, default=0)  # which top-level declaration is replaced
    function_text: str = field(repr=False, default="")  # that declaration, mutated, as C
    header: str = ""  # the revision's header that defines the function (inline), or "" for its .c

    @property
    def ident(self) -> str:
        return f"m{self.index:04d}"


@dataclass
class Unit:
    """One revision's preprocessed translation unit, parsed, and its top-level texts."""

    rev: Revision
    ast: c_ast.FileAST
    texts: list[str]  # each top-level declaration as printed by GnuCGenerator
    own: list[int]  # indexes into ast.ext of the functions defined in the revision's .c
    prelude: str  # `#include`s of the original, kept inside `#if 0` for the build's layout
    #: indexes into ast.ext of the optional API's inline functions of the revision's headers that
    #: the harness calls (Subject.harness_calls) -> the header's path: mutated too (mutant_headers.py)
    headers: dict[int, str] = field(default_factory=dict)

    def text(self, mutant: Mutant | None = None) -> str:
        """The whole unit as C, with `mutant` applied (the plain round trip without one)."""
        texts = self.texts
        if mutant is not None:
            texts = list(texts)
            texts[mutant.ext] = mutant.function_text
        return self.prelude + "".join(texts)

    def revision(self, mutant: Mutant | None = None) -> Revision:
        """The revision with its .c replaced by the regenerated (and possibly mutated) unit, and
        its headers' group functions by their print: every one for the round trip, only the
        mutated one for a header function's mutant (archeo/mutant_headers.py)."""
        rev = replace(self.rev, text=self.text(mutant))
        if mutant is None:
            patches = {i: self.texts[i] for i in self.headers}
        elif mutant.header:
            patches = {mutant.ext: mutant.function_text}
        else:
            return rev
        by_path: dict[str, list[tuple[str, int, str]]] = {}
        for i, text in patches.items():
            funcdef = self.ast.ext[i]
            by_path.setdefault(self.headers[i], []).append((funcdef.decl.name, funcdef.decl.coord.line, text))
        closure = dict(rev.closure)
        header_text = rev.header_text
        for path, functions in by_path.items():
            if path == rev.header_path:
                header_text = patch_header(header_text or "", functions, path)
            else:
                closure[path] = patch_header(closure[path], functions, path)
        return replace(rev, header_text=header_text, closure=closure)

    @property
    def functions(self) -> list[str]:
        return [self.ast.ext[i].decl.name for i in (*self.own, *self.headers)]


# ---------------------------------------------------------------- printing
class Printer(GnuCGenerator):
    """GnuCGenerator, but `__extension__` printed where gcc accepts it: first.

    pycparserext keeps a declaration's `__extension__` among its type qualifiers and prints it
    after the storage class (`extern __extension__ long long ...`, `typedef __extension__
    struct ...`), which gcc rejects; the system headers of a userland revision are full of them.
    """

    def _generate_decl(self, n):
        return self._extension_first(n, super()._generate_decl)

    def visit_Typedef(self, n):
        return self._extension_first(n, super().visit_Typedef)

    @staticmethod
    def _extension_first(n, generate) -> str:
        if "__extension__" not in (getattr(n, "quals", None) or ()):
            return generate(n)
        inner = n.type
        while not hasattr(inner, "declname") and getattr(inner, "type", None) is not None:
            inner = inner.type  # down the pointer, array and function declarators to the TypeDecl
        saved = list(getattr(inner, "quals", None) or ())
        if hasattr(inner, "quals"):
            inner.quals = [q for q in saved if q != "__extension__"]
        try:
            return "__extension__ " + generate(n)
        finally:
            if hasattr(inner, "quals"):
                inner.quals = saved


# ---------------------------------------------------------------- loading
def load_unit(rev: Revision, gcc: str = "gcc", subject: Subject | None = None) -> Unit:
    """Preprocess and parse `rev` the way the parse stage does, and print it back. `subject`
    (the default one without): whose harness calls say which header functions are mutated."""
    from .parse.frontend import StageFailure, layout_revision, parse_c, preprocess, split_preprocessed
    from .platforms import choose

    if not rev.present:
        raise ArcheoError(f"revision {rev.short} has no {rev.path}: only present revisions can be mutated")
    # A mutant's text is preprocessed, so it includes nothing the platform could be chosen by:
    # pin the revision's platform now, for every mutant built from it.
    rev = replace(rev, compile=replace(rev.compile, platform=choose(rev)[0]))
    try:
        with tempfile.TemporaryDirectory(prefix="archeo-mutate-") as tmp:
            compile_plan = layout_revision(rev, tmp)
            output = preprocess(rev.path, compile_plan, cwd=tmp, gcc=gcc)
        ast = parse_c(split_preprocessed(output).code, rev.path)
    except StageFailure as failure:
        e = failure.error
        raise ArcheoError(f"revision {rev.short}: {e.stage} failed at {e.file}:{e.line}: {e.message}") from None
    gen = Printer()
    texts = [_ext_text(gen, ext) for ext in ast.ext]
    source = os.path.normpath(rev.path)
    own = [
        i
        for i, ext in enumerate(ast.ext)
        if isinstance(ext, c_ast.FuncDef) and ext.coord is not None and os.path.normpath(ext.coord.file) == source
    ]
    calls = (subject or subjects.default()).harness_calls()
    return Unit(rev, ast, texts, own, _prelude(rev), _group_header_functions(rev, ast, calls))


def _group_header_functions(rev: Revision, ast: c_ast.FileAST, called: frozenset[str]) -> dict[int, str]:
    """The optional API's functions defined in the revision's headers that the harness calls
    (`called`, Subject.harness_calls): ext index -> path. A header helper no op calls
    (`rb_add_cached`) is left out: its mutants could only survive."""
    paths = {os.path.normpath(p): p for p in (rev.header_path, *rev.closure) if p}
    found = {}
    for i, ext in enumerate(ast.ext):
        if not isinstance(ext, c_ast.FuncDef) or ext.coord is None or ext.decl.coord is None:
            continue
        path = paths.get(os.path.normpath(ext.coord.file))
        if path is not None and ext.decl.name in called:
            found[i] = path
    return found


def _ext_text(gen: Printer, ext: c_ast.Node) -> str:
    """One top-level declaration as `CGenerator.visit_FileAST` prints it."""
    if isinstance(ext, c_ast.FuncDef):
        return gen.visit(ext)
    if isinstance(ext, c_ast.Pragma):
        return gen.visit(ext) + "\n"
    return gen.visit(ext) + ";\n"


def _prelude(rev: Revision) -> str:
    """The original's `#include` lines inside `#if 0`.

    The regenerated unit needs none of them (everything is expanded), but the build stage
    reads them to know where the revision's header sits and what the harness must include
    before it; inside `#if 0` the compiler skips them.
    """
    from .build import _include_targets

    targets = _include_targets(rev.text or "")
    if not targets:
        return "/* archeo: regenerated from the AST of the preprocessed revision */\n"
    lines = "".join(f"#include {t}\n" for t in targets)
    return "/* archeo: regenerated from the AST of the preprocessed revision */\n#if 0 /* for the build's layout only */\n" + lines + "#endif\n"


# ---------------------------------------------------------------- enumeration and choice
def enumerate_mutants(unit: Unit) -> list[Mutant]:
    """Every mutant of the unit's own functions, in a fixed order; duplicates (same text) dropped."""
    names = Names()
    names.visit(unit.ast)
    gen = Printer()
    out: list[Mutant] = []
    for ext_index in (*unit.own, *unit.headers):
        funcdef = unit.ast.ext[ext_index]
        original = unit.texts[ext_index]
        seen = {original}
        for site in list(sites(funcdef, names)):
            old = site.slot.get()
            try:
                before = _short(gen, old)
                after = _short(gen, site.new)
                site.slot.put(site.new)
                text = _ext_text(gen, funcdef)
            finally:
                site.slot.put(old)
            if text in seen:
                continue
            seen.add(text)
            out.append(
                Mutant(
                    index=len(out),
                    function=funcdef.decl.name,
                    line=site.line,
                    operator=site.operator,
                    description=site.description,
                    before=before,
                    after=after,
                    ext=ext_index,
                    function_text=text,
                    header=unit.headers.get(ext_index, ""),
                )
            )
        if _ext_text(gen, funcdef) != original:  # every swap was undone
            raise AssertionError(f"mutating {funcdef.decl.name} left the AST changed")
    return out


def _short(gen: Printer, node: c_ast.Node, limit: int = 160) -> str:
    if isinstance(node, c_ast.EmptyStatement):
        return ";"
    text = " ".join(gen.visit(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def select_mutants(mutants: list[Mutant], limit: int | None, seed: int = 0, key: str = "") -> list[Mutant]:
    """At most `limit` mutants, spread over functions and operators, the same for the same seed.

    Mutants are grouped by (function, operator); the groups are visited in a shuffled order,
    one mutant from each in turn (each group shuffled too), until `limit` are chosen. The
    result is in site order.
    """
    if limit is None or limit >= len(mutants):
        return list(mutants)
    rng = random.Random(f"archeo-mutate:{key}:{seed}")
    groups: dict[tuple[str, str], list[Mutant]] = {}
    for m in mutants:
        groups.setdefault((m.function, m.operator), []).append(m)
    order = sorted(groups)
    rng.shuffle(order)
    for k in order:
        rng.shuffle(groups[k])
    chosen: list[Mutant] = []
    while len(chosen) < limit:
        for k in order:
            if groups[k] and len(chosen) < limit:
                chosen.append(groups[k].pop())
    return sorted(chosen, key=lambda m: m.index)
