"""Augmented rbtrees: a value per node computed from the node and its two subtrees.

Two kernel APIs carry the same contract, and this module models the contract, not either
implementation:

- 2012 on: rb_insert_augmented / rb_erase_augmented with a `struct rb_augment_callbacks`
  (propagate, copy, rotate; RB_DECLARE_CALLBACKS writes them from one compute function). The
  caller updates the values on the path it walked down before inserting; the rebalancing calls
  `rotate` on every rotation; erase calls `copy` when a successor takes the erased node's place
  and `propagate` up from where the tree changed.
- 2010 to 2012: rb_augment_insert(node, func, data) after rb_insert_color, and
  rb_augment_erase_begin(node) / rb_erase / rb_augment_erase_end(deepest, func, data), `func`
  recomputing one node from its children.

Either way the documented result is the same: the shape is the plain insert's or erase's, and
afterwards *every* node's value equals the value computed from its subtree. That is what
`check` verifies and what the harness's `v` verifies on the C tree (`bad augment`). The value
written here (our choice, not the kernel's) is the subtree size; `SUBTREE_MAX` (the largest of a
per-node value) is a second augmentation the property tests use. `rank` shows what sizes are
for, and is a cross-check against a sorted list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .tree import Node, Root, erase, insert_color


@dataclass(frozen=True)
class Augmentation:
    """How a node's value follows from the node and its children's values (None: no child)."""

    name: str
    compute: Callable[[Node, int | None, int | None], int]


def _size(node: Node, left: int | None, right: int | None) -> int:
    return 1 + (left or 0) + (right or 0)


def node_value(key: int) -> int:
    """The per-node value SUBTREE_MAX takes the largest of: scrambled so it is not the key order."""
    return (key * 37 + 11) % 101


def _max(node: Node, left: int | None, right: int | None) -> int:
    return max(v for v in (node_value(node.key), left, right) if v is not None)


SUBTREE_SIZE = Augmentation("size", _size)
SUBTREE_MAX = Augmentation("max", _max)

Values = dict  # Node -> int, the stored augmented values (nodes hash by identity)


def expected(root: Root, aug: Augmentation) -> Values:
    """Every node's value computed from scratch, children before parents."""
    out: Values = {}
    stack = [(root.node, False)] if root.node is not None else []
    while stack:
        node, done = stack.pop()
        if done:
            left = out[node.left] if node.left is not None else None
            right = out[node.right] if node.right is not None else None
            out[node] = aug.compute(node, left, right)
            continue
        stack.append((node, True))
        for child in (node.right, node.left):
            if child is not None:
                stack.append((child, False))
    return out


def check(root: Root, aug: Augmentation, values: Values) -> Node | None:
    """The first node (preorder) whose stored value is wrong, or None when all are right."""
    want = expected(root, aug)
    stack = [root.node] if root.node is not None else []
    while stack:
        node = stack.pop()
        if values.get(node) != want[node]:
            return node
        stack.extend(c for c in (node.right, node.left) if c is not None)
    return None


def _settle(root: Root, aug: Augmentation, values: Values) -> None:
    values.clear()
    values.update(expected(root, aug))


def insert_augmented(node: Node, root: Root, aug: Augmentation, values: Values) -> None:
    """rb_insert_augmented after rb_link_node (2012 API): insert_color's shape, values settled."""
    insert_color(node, root)
    _settle(root, aug, values)


def erase_augmented(node: Node, root: Root, aug: Augmentation, values: Values) -> None:
    """rb_erase_augmented (2012 API): erase's shape, values settled, the erased node forgotten."""
    erase(node, root)
    _settle(root, aug, values)


def augment_insert(node: Node, root: Root, aug: Augmentation, values: Values) -> None:
    """rb_insert_color then rb_augment_insert (2010 API): the same contract."""
    insert_augmented(node, root, aug, values)


def augment_erase(node: Node, root: Root, aug: Augmentation, values: Values) -> None:
    """rb_augment_erase_begin, rb_erase, rb_augment_erase_end (2010 API): the same contract."""
    erase_augmented(node, root, aug, values)


def rank(node: Node, values: Values) -> int:
    """The 0-based in-order position of `node`, from stored subtree sizes alone."""
    at = values.get(node.left, 0) if node.left is not None else 0
    while node.parent is not None:
        parent = node.parent
        if node is parent.right:
            at += 1 + (values.get(parent.left, 0) if parent.left is not None else 0)
        node = parent
    return at
