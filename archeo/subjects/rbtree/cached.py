"""rb_root_cached: a root that also remembers its leftmost node, so rb_first is O(1).

`RootCached(root)` views an existing plain tree as a cached one, its leftmost right.

Documented semantics (the kernel's rbtree documentation, "Cached rbtrees"):
- rb_insert_color_cached(node, root, leftmost): the caller says whether the new node went left
  all the way down (it is then the new leftmost); rebalancing is rb_insert_color's;
- rb_erase_cached(node, root): when the node erased is the leftmost, its in-order successor
  becomes the leftmost; rebalancing is rb_erase's;
- rb_first_cached(root): the remembered leftmost, no walk;
- rb_replace_node_cached(victim, new, root): the new node takes the victim's place, and its
  place as leftmost when the victim was leftmost.

The shape after each operation is exactly the plain API's, so a cached tree is a plain tree
(`RootCached.root`) plus one pointer; `leftmost_ok` is the check the harness makes after every
operation (the cached pointer is the true first node).
"""

from __future__ import annotations

from .tree import LEFT, RIGHT, Node, Root, erase, first, insert_color, link_node, next, replace_node


class RootCached:
    """struct rb_root_cached: the plain root and the leftmost node (None for an empty tree)."""

    __slots__ = ("root", "leftmost")

    def __init__(self, root: Root | None = None) -> None:
        self.root = root if root is not None else Root()
        self.leftmost: Node | None = first(self.root) if root is not None else None


def insert_color_cached(node: Node, root: RootCached, leftmost: bool) -> None:
    if leftmost:
        root.leftmost = node
    insert_color(node, root.root)


def erase_cached(node: Node, root: RootCached) -> None:
    if root.leftmost is node:
        root.leftmost = next(node)
    erase(node, root.root)


def first_cached(root: RootCached) -> Node | None:
    return root.leftmost


def replace_node_cached(victim: Node, new: Node, root: RootCached) -> None:
    if root.leftmost is victim:
        root.leftmost = new
    replace_node(victim, new, root.root)


def leftmost_ok(root: RootCached) -> bool:
    """The cache check: the remembered leftmost is the true first node of the tree."""
    return root.leftmost is first(root.root)


def link_by_key(node: Node, root: Root) -> bool | None:
    """Search by `node.key` from the root and link `node` where it belongs.

    Returns whether it went left all the way (the `leftmost` argument of
    rb_insert_color_cached), or None when the key is already present (nothing linked).
    The caller then runs the insert-colour of its choice.
    """
    parent, side, leftmost = None, root, True
    cur = root.node
    key = node.key
    while cur is not None:
        parent = cur
        if key < cur.key:
            side, cur = LEFT, cur.left
        elif key > cur.key:
            side, cur, leftmost = RIGHT, cur.right, False
        else:
            return None
    link_node(node, parent, side)
    return leftmost
