"""The mutation operators: where in one function body a change can be made, and the change.

Each operator is a small generator over one function body that yields `_Site`s: a node, where
it hangs in its parent, and the node to put there instead. archeo/mutants.py swaps each site's
node in, prints the function, and swaps it back. Kept apart from the loading and choosing of
mutants because this is the part a new operator touches.

Operators (names as they appear in results):

| operator | change |
|---|---|
| `swap-left-right` | every `left` and `right` swapped in one statement (fields, rotations) |
| `colour-constant` | a colour written flipped: `0`<->`1` where a colour is set, set-black <-> set-red bit operations |
| `colour-test` | a colour test flipped: `== RED` <-> `== BLACK`, the colour bit test negated |
| `negate-condition` | the condition of an `if`, loop or `?:` negated |
| `comparison` | `<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=` |
| `delete-statement` | one statement replaced by `;` |
| `pointer-sibling` | one `x->left` read or written as `x->right`, or the other way |
| `pointer-parent` | one read of a node pointer replaced by its parent (`node` -> `parent`, `parent` -> `gparent`) |
| `drop-parent-link` | a statement that sets a parent link removed |
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Iterator

from pycparser import c_ast
from pycparserext.ext_c_generator import GnuCGenerator
from pycparserext.ext_c_parser import FuncDeclExt


OPERATORS = (
    "swap-left-right",
    "colour-constant",
    "colour-test",
    "negate-condition",
    "comparison",
    "delete-statement",
    "pointer-sibling",
    "pointer-parent",
    "drop-parent-link",
)

_FLIP_COMPARISON = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
_CONDITIONED = (c_ast.If, c_ast.While, c_ast.DoWhile, c_ast.For, c_ast.TernaryOp)
_CONTAINERS = (c_ast.Compound, c_ast.Label, c_ast.Case, c_ast.Default)
_NODE_TYPES = {"rb_node", "rb_node_t"}  # the tree's node type, as a struct tag or typedef name


# ---------------------------------------------------------------- walking
@dataclass
class _Slot:
    """Where a node hangs: `parent.<attr>` or `parent.<attr>[index]`."""

    parent: c_ast.Node
    attr: str
    index: int | None

    def get(self) -> c_ast.Node:
        value = getattr(self.parent, self.attr)
        return value[self.index] if self.index is not None else value

    def put(self, node: c_ast.Node) -> None:
        if self.index is None:
            setattr(self.parent, self.attr, node)
        else:
            getattr(self.parent, self.attr)[self.index] = node


_CHILD = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def _walk(node: c_ast.Node, ancestors: tuple = ()) -> Iterator[tuple[c_ast.Node, _Slot, tuple]]:
    """Every node under `node` with its slot and its ancestors (nearest last)."""
    for name, child in node.children():
        m = _CHILD.match(name)
        slot = _Slot(node, m.group(1), int(m.group(2)) if m.group(2) is not None else None)
        yield child, slot, ancestors + (node,)
        yield from _walk(child, ancestors + (node,))


@dataclass
class _Site:
    slot: _Slot
    new: c_ast.Node
    operator: str
    description: str
    line: int


def _line(node: c_ast.Node, ancestors: tuple) -> int:
    for n in (node, *reversed(ancestors)):
        if getattr(n, "coord", None) is not None and n.coord.line:
            return n.coord.line
    return 0


def _is_statement_slot(slot: _Slot) -> bool:
    """A statement position: an item of a block, or the body of an if, loop or label."""
    p = slot.parent
    if isinstance(p, c_ast.Compound) and slot.attr == "block_items":
        return True
    if isinstance(p, c_ast.If) and slot.attr in ("iftrue", "iffalse"):
        return True
    if isinstance(p, (c_ast.While, c_ast.DoWhile, c_ast.For)) and slot.attr == "stmt":
        return True
    if isinstance(p, (c_ast.Label, c_ast.Case, c_ast.Default)) and slot.attr in ("stmt", "stmts"):
        return True
    return False


def _colour_field(node) -> bool:
    return isinstance(node, c_ast.StructRef) and ("color" in node.field.name or "colour" in node.field.name)


def _mentions_colour(node) -> bool:
    return _colour_field(node) or any(_mentions_colour(c) for _, c in node.children())


def _const(node, *values: str) -> bool:
    """An integer constant with one of these values, whatever its suffix (`1`, `1UL`)."""
    return isinstance(node, c_ast.Constant) and node.value.rstrip("uUlL") in values


def _bit_test(node) -> bool:
    """`E & 1`: the colour bit of a packed parent-and-colour word."""
    return isinstance(node, c_ast.BinaryOp) and node.op == "&" and _const(node.right, "1")


def _one_zero(node: c_ast.Constant) -> c_ast.Constant:
    digits = node.value.rstrip("uUlL")
    return c_ast.Constant(node.type, ("1" if digits == "0" else "0") + node.value[len(digits):], node.coord)


def _not(node: c_ast.Node) -> c_ast.Node:
    return c_ast.UnaryOp("!", copy.deepcopy(node), node.coord)


def _is_node_pointer(decl_type) -> bool:
    """`struct rb_node *` or `rb_node_t *` (any qualifiers)."""
    if not isinstance(decl_type, c_ast.PtrDecl) or not isinstance(decl_type.type, c_ast.TypeDecl):
        return False
    base = decl_type.type.type
    if isinstance(base, c_ast.Struct):
        return base.name in _NODE_TYPES
    if isinstance(base, c_ast.IdentifierType):
        return any(name in _NODE_TYPES for name in base.names)
    return False


class Names(c_ast.NodeVisitor):
    """Names declared at file scope, and which parameters of which functions are colours."""

    def __init__(self):
        self.globals: set[str] = set()
        self.colour_params: dict[str, set[int]] = {}

    def visit_FileAST(self, node):
        for ext in node.ext:
            decl = ext.decl if isinstance(ext, c_ast.FuncDef) else ext
            if isinstance(decl, c_ast.Decl) and decl.name:
                self.globals.add(decl.name)
        self.generic_visit(node)

    def visit_Decl(self, node):
        ftype = node.type
        if isinstance(ftype, (c_ast.FuncDecl, FuncDeclExt)) and ftype.args is not None and node.name:
            for i, param in enumerate(ftype.args.params):
                name = getattr(param, "name", None) or ""
                if "color" in name or "colour" in name:
                    self.colour_params.setdefault(node.name, set()).add(i)
        self.generic_visit(node)


def _params(funcdef: c_ast.FuncDef) -> set[str]:
    args = funcdef.decl.type.args
    return {p.name for p in (args.params if args is not None else ()) if isinstance(p, c_ast.Decl) and p.name}


def _visible(ancestors: tuple) -> set[str]:
    """Local names in scope at a statement: those declared in the blocks (and `for`s) around it."""
    found = set()
    for a in ancestors:
        items = a.block_items if isinstance(a, c_ast.Compound) else [a.init] if isinstance(a, c_ast.For) else None
        for item in items or ():
            decls = item.decls if isinstance(item, c_ast.DeclList) else [item]
            found.update(d.name for d in decls if isinstance(d, c_ast.Decl) and d.name)
    return found


def _node_pointers(funcdef: c_ast.FuncDef) -> set[str]:
    found = set()
    args = funcdef.decl.type.args
    for param in (args.params if args is not None else ()):
        if isinstance(param, c_ast.Decl) and _is_node_pointer(param.type):
            found.add(param.name)
    for node, _slot, _anc in _walk(funcdef.body):
        if isinstance(node, c_ast.Decl) and node.name and _is_node_pointer(node.type):
            found.add(node.name)
    return found


_LR = {"left": "right", "right": "left"}
_LR_WORD = re.compile(r"left|right")


def _swap_lr_name(name: str) -> str:
    return _LR_WORD.sub(lambda m: _LR[m.group(0)], name)


def _swap_lr(node: c_ast.Node, declared: set[str]) -> int:
    """Swap left and right in place under `node` (fields, and declared names); how many."""
    count = 0
    for n, _slot, _anc in [(node, None, ())] + list(_walk(node)):
        if isinstance(n, c_ast.StructRef) and isinstance(n.field, c_ast.ID) and _LR_WORD.search(n.field.name):
            n.field = c_ast.ID(_swap_lr_name(n.field.name), n.field.coord)
            count += 1
        elif isinstance(n, c_ast.ID) and _LR_WORD.search(n.name) and not (_slot is not None and _slot.attr == "field"):
            swapped = _swap_lr_name(n.name)
            if swapped in declared:
                n.name = swapped
                count += 1
    return count


def _own_parts(stmt: c_ast.Node) -> list[tuple[_Slot, c_ast.Node]]:
    """The expressions a statement evaluates itself (not those of its nested statements)."""
    if isinstance(stmt, (c_ast.If, c_ast.While, c_ast.DoWhile, c_ast.Switch)):
        return [(_Slot(stmt, "cond", None), stmt.cond)] if stmt.cond is not None else []
    if isinstance(stmt, c_ast.For):
        return [(_Slot(stmt, a, None), getattr(stmt, a)) for a in ("init", "cond", "next") if getattr(stmt, a) is not None]
    if isinstance(stmt, _CONTAINERS) or isinstance(stmt, (c_ast.EmptyStatement, c_ast.Break, c_ast.Continue, c_ast.Goto)):
        return []
    return [(None, stmt)]


def _sets_parent(stmt: c_ast.Node) -> bool:
    """A statement whose effect is to set a parent link."""
    if isinstance(stmt, c_ast.Assignment) and stmt.op == "=" and isinstance(stmt.lvalue, c_ast.StructRef):
        name = stmt.lvalue.field.name
        return name == "rb_parent" or name.endswith("parent_color") or name.endswith("parent_colour")
    if isinstance(stmt, c_ast.FuncCall) and isinstance(stmt.name, c_ast.ID):
        return "set_parent" in stmt.name.name
    return False


# ---------------------------------------------------------------- the operators
def sites(funcdef: c_ast.FuncDef, names: Names) -> Iterator[_Site]:
    gen = GnuCGenerator()
    show = lambda n: gen.visit(n)  # noqa: E731
    pointers = _node_pointers(funcdef)
    params = _params(funcdef)
    nodes = list(_walk(funcdef.body))
    for node, slot, anc in nodes:
        line = _line(node, anc)
        parent = slot.parent

        # ---- statement operators
        if _is_statement_slot(slot) and not isinstance(node, _CONTAINERS):
            for part_slot, part in _own_parts(node):
                swapped = copy.deepcopy(part)
                n = _swap_lr(swapped, names.globals | params | _visible(anc))
                if n:
                    where = part_slot or slot
                    yield _Site(where, swapped, "swap-left-right",
                                f"swap left and right ({n} place{'s' if n > 1 else ''}) in one {_kind(node)}", line)
            if not isinstance(node, (c_ast.Decl, c_ast.EmptyStatement)):
                empty = c_ast.EmptyStatement(node.coord)
                if _sets_parent(node):
                    yield _Site(slot, empty, "drop-parent-link", f"drop a statement that sets a parent link ({_kind(node)})", line)
                else:
                    yield _Site(slot, empty, "delete-statement", f"delete one {_kind(node)}", line)

        # ---- conditions
        if isinstance(node, _CONDITIONED) and node.cond is not None and not isinstance(node.cond, c_ast.Constant):
            cond = node.cond
            new = copy.deepcopy(cond.expr) if isinstance(cond, c_ast.UnaryOp) and cond.op == "!" else _not(cond)
            yield _Site(_Slot(node, "cond", None), new, "negate-condition",
                        f"negate the condition of {_article(_kind(node))}", _line(cond, anc + (node,)))

        # ---- comparisons
        if isinstance(node, c_ast.BinaryOp) and node.op in _FLIP_COMPARISON:
            colour = (_mentions_colour(node.left) and _const(node.right, "0", "1")) or (
                _mentions_colour(node.right) and _const(node.left, "0", "1"))
            if colour:
                new = copy.deepcopy(node)
                if isinstance(new.right, c_ast.Constant):
                    new.right = _one_zero(new.right)
                else:
                    new.left = _one_zero(new.left)
                yield _Site(slot, new, "colour-test", "test for the other colour (constant flipped in a colour comparison)", line)
            else:
                new = c_ast.BinaryOp(_FLIP_COMPARISON[node.op], copy.deepcopy(node.left), copy.deepcopy(node.right), node.coord)
                yield _Site(slot, new, "comparison", f"comparison `{node.op}` changed to `{_FLIP_COMPARISON[node.op]}`", line)

        # ---- colour bit tests (packed parent-and-colour words)
        if _bit_test(node):
            if isinstance(parent, c_ast.UnaryOp) and parent.op == "!":
                pass  # handled from the `!` below
            elif _boolean_context(slot):
                yield _Site(slot, _not(node), "colour-test", "colour bit test negated (red <-> black)", line)
        if isinstance(node, c_ast.UnaryOp) and node.op == "!" and _bit_test(node.expr):
            yield _Site(slot, copy.deepcopy(node.expr), "colour-test", "colour bit test negated (black <-> red)", line)

        # ---- colour constants
        if isinstance(node, c_ast.Assignment) and _colour_field(node.lvalue):
            if node.op == "=" and _const(node.rvalue, "0", "1"):
                new = copy.deepcopy(node)
                new.rvalue = _one_zero(new.rvalue)
                yield _Site(slot, new, "colour-constant", "set the other colour (constant flipped)", line)
            elif node.op == "|=" and _const(node.rvalue, "1"):
                new = c_ast.Assignment("&=", copy.deepcopy(node.lvalue), c_ast.UnaryOp("~", copy.deepcopy(node.rvalue)), node.coord)
                yield _Site(slot, new, "colour-constant", "clear the colour bit instead of setting it (black -> red)", line)
            elif node.op == "&=" and isinstance(node.rvalue, c_ast.UnaryOp) and node.rvalue.op == "~" and _const(node.rvalue.expr, "1"):
                new = c_ast.Assignment("|=", copy.deepcopy(node.lvalue), copy.deepcopy(node.rvalue.expr), node.coord)
                yield _Site(slot, new, "colour-constant", "set the colour bit instead of clearing it (red -> black)", line)
        if isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID) and node.args is not None:
            for i in sorted(names.colour_params.get(node.name.name, ())):
                if i < len(node.args.exprs):
                    arg = node.args.exprs[i]
                    new = copy.deepcopy(node)
                    if _const(arg, "0", "1"):
                        new.args.exprs[i] = _one_zero(arg)
                        yield _Site(slot, new, "colour-constant", f"pass the other colour to {node.name.name}", line)
                    elif _bit_test(arg):
                        new.args.exprs[i] = _not(arg)
                        yield _Site(slot, new, "colour-constant", f"pass the opposite colour bit to {node.name.name}", line)

        # ---- pointers
        if isinstance(node, c_ast.StructRef) and node.field.name in ("rb_left", "rb_right"):
            new = copy.deepcopy(node)
            new.field = c_ast.ID(_swap_lr_name(node.field.name), node.field.coord)
            role = "written" if _is_lvalue(slot) else "read"
            yield _Site(slot, new, "pointer-sibling", f"one child pointer {role} on the other side ({node.field.name} -> {new.field.name})", line)
        if isinstance(node, c_ast.ID) and node.name in pointers and not _is_lvalue(slot) and not isinstance(parent, (c_ast.StructRef, c_ast.Decl)):
            if not (isinstance(parent, c_ast.UnaryOp) and parent.op == "&"):
                up = "gparent" if node.name == "parent" else "parent"
                if up in pointers and up != node.name:
                    yield _Site(slot, c_ast.ID(up, node.coord), "pointer-parent",
                                f"one read of the node pointer {node.name} replaced by {up}", line)


def _boolean_context(slot: _Slot) -> bool:
    p = slot.parent
    if isinstance(p, _CONDITIONED) and slot.attr == "cond":
        return True
    return isinstance(p, c_ast.BinaryOp) and p.op in ("&&", "||")


def _is_lvalue(slot: _Slot) -> bool:
    p = slot.parent
    if isinstance(p, c_ast.Assignment) and slot.attr == "lvalue":
        return True
    return isinstance(p, c_ast.UnaryOp) and p.op in ("++", "--", "p++", "p--", "&")


_KINDS = {
    c_ast.If: "if statement",
    c_ast.While: "while loop",
    c_ast.DoWhile: "do-while loop",
    c_ast.For: "for loop",
    c_ast.Switch: "switch",
    c_ast.Return: "return",
    c_ast.Break: "break",
    c_ast.Continue: "continue",
    c_ast.Goto: "goto",
    c_ast.Assignment: "assignment",
    c_ast.FuncCall: "call",
    c_ast.Decl: "declaration",
    c_ast.TernaryOp: "conditional expression",
}


def _kind(node) -> str:
    if isinstance(node, c_ast.DoWhile) and isinstance(node.cond, c_ast.Constant) and node.cond.value == "0":
        return "macro statement (do-while-0 block)"
    return _KINDS.get(type(node), "expression statement")


def _article(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind
