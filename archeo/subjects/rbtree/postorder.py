"""rb_first_postorder / rb_next_postorder: visit every node after both of its subtrees.

Documented use: tearing a tree down (each node can be freed once visited, its children have
been). Semantics: the first node is reached from the root by going left when there is a left
child, else right, until a leaf; the next of a node is its parent's right subtree's first
(same rule) when the node is a left child with a right sibling, else its parent; None after
the root. The order is a pure function of the shape, so the protocol's `P` result is the
whole order.
"""

from __future__ import annotations

from .tree import Node, Root


def _deepest_first(node: Node) -> Node:
    while True:
        if node.left is not None:
            node = node.left
        elif node.right is not None:
            node = node.right
        else:
            return node


def first_postorder(root: Root) -> Node | None:
    return None if root.node is None else _deepest_first(root.node)


def next_postorder(node: Node | None) -> Node | None:
    if node is None:
        return None
    parent = node.parent
    if parent is not None and node is parent.left and parent.right is not None:
        return _deepest_first(parent.right)
    return parent


def postorder(root: Root) -> list[Node]:
    """Every node in the order first_postorder then next_postorder until None gives.

    On the reference's trees (always correct) that order is the plain one, each node after its
    left then its right subtree, made here in one pass (node, right, left from a stack, then
    reversed): the step-by-step walk climbed back through every parent and was most of the
    reference's time on sequences with `P` (bench/bench_groups.py). tests/test_rbtree_groups.py
    checks the two agree.
    """
    out: list[Node] = []
    stack = [root.node] if root.node is not None else []
    while stack:
        node = stack.pop()
        out.append(node)
        if node.left is not None:
            stack.append(node.left)
        if node.right is not None:
            stack.append(node.right)
    out.reverse()
    return out
