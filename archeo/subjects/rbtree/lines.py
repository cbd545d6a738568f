"""Reading the rbtree's result lines (docs/protocol.md): how strongly two of them differ.

A `v` line is `ok <nodes> <black height>` or `bad <rule>`, checked on the tree itself: a `bad`
is an invariant broken; two `ok`s with different node counts disagree on what is in the tree
(observable), with the same count only on its shape (structural). A `d` line is the whole tree
(`T` and the preorder walk, `T .` when empty): any difference is structural. `NA` is an op the
revision lacks (api). Every other line is an op's answer: observable.
"""

from __future__ import annotations

from archeo.levels import Level

EMPTY_TREE = "T ."


def line_level(op_code: str, a: str, b: str) -> Level:
    """The level of one differing result line for an operation of kind `op_code`."""
    if a == b:
        return Level.SAME
    if a == "NA" or b == "NA":
        return Level.API
    if op_code == "v":
        if a.startswith("bad") or b.startswith("bad"):
            return Level.INVARIANT
        a_nodes, b_nodes = a.split()[1:2], b.split()[1:2]
        return Level.OBSERVABLE if a_nodes != b_nodes else Level.STRUCTURAL
    if op_code == "d":
        return Level.STRUCTURAL
    return Level.OBSERVABLE


def is_dump(line: str) -> bool:
    """A `d` result line (a tree, possibly empty or broken), not `NA` or another answer."""
    return line.startswith("T")


def holds_structure(line: str | None) -> bool:
    """A `d` line with a tree in it (not missing, not the empty tree)."""
    return line is not None and is_dump(line) and line != EMPTY_TREE
