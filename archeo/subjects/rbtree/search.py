"""rb_add, rb_add_cached, rb_find_add, rb_find, rb_find_first, rb_next_match: the comparator helpers.

Documented semantics (the kernel's rbtree.h comments, 2021 on), restated here:
- rb_add(node, tree, less): walk down, left when less(node, parent), else right; link; insert
  colour. Equal keys go right, so a new duplicate comes after every node equal to it: among
  equals, in-order is insertion order.
- rb_add_cached(node, tree, less): the same on an rb_root_cached; the node is the new leftmost
  when the walk never went right; returns the node when it is the new leftmost, else None.
- rb_find_add(node, tree, cmp): walk with cmp(node, parent) (<0 left, >0 right); on 0 return
  that existing node and insert nothing; else link, insert colour, return None.
- rb_find(key, tree, cmp): walk with cmp(key, node); the first node met that compares 0.
- rb_find_first(key, tree, cmp): the leftmost node (in order) that compares 0.
- rb_next_match(key, node, cmp): rb_next(node) when it compares 0 with key, else None.

`less` and `cmp` here compare keys (our comparator); duplicates are distinct nodes with one key.
"""

from __future__ import annotations

from collections.abc import Callable

from .tree import LEFT, RIGHT, Node, Root, insert_color, link_node, next

from .cached import RootCached, insert_color_cached

Less = Callable[[Node, Node], bool]
Cmp = Callable[[object, Node], int]


def less_by_key(a: Node, b: Node) -> bool:
    return a.key < b.key


def cmp_key(key: object, node: Node) -> int:
    """The comparator rb_find* get: the key (an int, or a node for rb_find_add) against a node."""
    k = key.key if isinstance(key, Node) else key
    return (k > node.key) - (k < node.key)


def _link_less(node: Node, root: Root, less: Less) -> bool:
    """Link `node` by `less` (ties right); whether it went left all the way."""
    parent, side, leftmost = None, root, True
    cur = root.node
    while cur is not None:
        parent = cur
        if less(node, cur):
            side, cur = LEFT, cur.left
        else:
            side, cur, leftmost = RIGHT, cur.right, False
    link_node(node, parent, side)
    return leftmost


def add(node: Node, root: Root, less: Less = less_by_key) -> None:
    _link_less(node, root, less)
    insert_color(node, root)


def add_cached(node: Node, root: RootCached, less: Less = less_by_key) -> Node | None:
    leftmost = _link_less(node, root.root, less)
    insert_color_cached(node, root, leftmost)
    return node if leftmost else None


def find_add(node: Node, root: Root, cmp: Cmp = cmp_key) -> Node | None:
    parent, side = None, root
    cur = root.node
    while cur is not None:
        c = cmp(node, cur)
        parent = cur
        if c < 0:
            side, cur = LEFT, cur.left
        elif c > 0:
            side, cur = RIGHT, cur.right
        else:
            return cur
    link_node(node, parent, side)
    insert_color(node, root)
    return None


def find(key: object, root: Root, cmp: Cmp = cmp_key) -> Node | None:
    cur = root.node
    while cur is not None:
        c = cmp(key, cur)
        if c < 0:
            cur = cur.left
        elif c > 0:
            cur = cur.right
        else:
            return cur
    return None


def find_first(key: object, root: Root, cmp: Cmp = cmp_key) -> Node | None:
    cur, match = root.node, None
    while cur is not None:
        c = cmp(key, cur)
        if c <= 0:
            if c == 0:
                match = cur
            cur = cur.left
        else:
            cur = cur.right
    return match


def next_match(key: object, node: Node, cmp: Cmp = cmp_key) -> Node | None:
    after = next(node)
    return after if after is not None and cmp(key, after) == 0 else None


def matches(key: object, root: Root, cmp: Cmp = cmp_key) -> list[Node]:
    """rb_find_first then rb_next_match until None: every node equal to key, in order."""
    out = []
    node = find_first(key, root, cmp)
    while node is not None:
        out.append(node)
        node = next_match(key, node, cmp)
    return out
