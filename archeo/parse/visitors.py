"""The visitors: small `NodeVisitor` classes that read one fact each off pycparser's AST.

Functions and prototypes, statement counts, cyclomatic complexity, types, the GCC syntax
pycparserext let through, types printed as C spells them, and a body's fingerprint. In
pycparser's style, a new analysis is one small class here; `facts.py` runs them.
"""

from __future__ import annotations

import hashlib

from pycparser import c_ast
from pycparserext.ext_c_generator import GnuCGenerator
from pycparserext.ext_c_parser import AttributeSpecifier, FuncDeclExt

from .frontend import PREPROCESS_DEFINES


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
class TypeNamer(GnuCGenerator):
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


def type_str(namer: TypeNamer, node, declname: bool = False) -> str:
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
