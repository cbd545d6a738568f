"""The Python reference red-black tree (the interpreter for the batch protocol is harness.py).

The tree mirrors the kernel rbtree API one to one (link_node, insert_color, erase, first,
last, next, prev, replace_node, clear_node, empty_node) and follows the classic bottom-up
algorithm step for step, not just its contract: two correct trees may still differ in shape
or colour, and a revision is only "same" when its trace is byte-identical to this one's
(docs/protocol.md). It was written from the algorithm (CLRS-style cases as the kernel
arranges them), not from kernel source.

`dump` and `verify` give the `d` and `v` result lines of docs/protocol.md for a tree.
Speed matters (a difftest runs ~200k ops through it), hence __slots__, plain attribute
access and iterative loops.
"""

from __future__ import annotations

from collections.abc import Collection

RED = 0  # a zeroed node is red, as in the kernel's colour encoding
BLACK = 1
LEFT = "left"
RIGHT = "right"


class Node:
    """struct rb_node plus the key of the entry that embeds it."""

    __slots__ = ("parent", "color", "left", "right", "key")

    def __init__(self, key: int | None = None) -> None:
        self.parent: Node | None = None
        self.color = RED
        self.left: Node | None = None
        self.right: Node | None = None
        self.key = key

    def __repr__(self) -> str:
        return f"Node({self.key}:{'r' if self.color == RED else 'b'})"


class Root:
    """struct rb_root: just the pointer to the top node."""

    __slots__ = ("node",)

    def __init__(self, node: Node | None = None) -> None:
        self.node = node


# ---------------------------------------------------------------- the kernel API
def link_node(node: Node, parent: Node | None, link_side: str | Root) -> None:
    """rb_link_node: hang a fresh red leaf under `parent`.

    The kernel passes a pointer to the link to fill; Python has no pointers, so `link_side`
    names it: LEFT or RIGHT of `parent`, or the Root itself when the tree is empty.
    """
    node.parent = parent
    node.color = RED
    node.left = node.right = None
    if isinstance(link_side, Root):
        link_side.node = node
    elif link_side == LEFT:
        parent.left = node
    elif link_side == RIGHT:
        parent.right = node
    else:
        raise ValueError(f"link_side must be LEFT, RIGHT or a Root, got {link_side!r}")


def _rotate_left(node: Node, root: Root) -> None:
    right = node.right
    inner = right.left
    node.right = inner
    if inner is not None:
        inner.parent = node
    right.left = node
    parent = node.parent
    right.parent = parent
    if parent is None:
        root.node = right
    elif parent.left is node:
        parent.left = right
    else:
        parent.right = right
    node.parent = right


def _rotate_right(node: Node, root: Root) -> None:
    left = node.left
    inner = left.right
    node.left = inner
    if inner is not None:
        inner.parent = node
    left.right = node
    parent = node.parent
    left.parent = parent
    if parent is None:
        root.node = left
    elif parent.right is node:
        parent.right = left
    else:
        parent.left = left
    node.parent = left


def insert_color(node: Node, root: Root) -> None:
    """rb_insert_color: restore the invariants after linking a red `node`, bottom up.

    Red uncle: recolour parent and uncle black, grandparent red, continue two levels up.
    Black (or no) uncle: rotate the grandparent towards the uncle, first rotating the parent
    when `node` is an inner grandchild; this ends the walk. The root is made black at the end.
    """
    while True:
        parent = node.parent
        if parent is None or parent.color == BLACK:
            break
        gparent = parent.parent  # a red node is never the root, so it has a parent
        if parent is gparent.left:
            uncle = gparent.right
            if uncle is not None and uncle.color == RED:
                uncle.color = BLACK
                parent.color = BLACK
                gparent.color = RED
                node = gparent
                continue
            if parent.right is node:
                _rotate_left(parent, root)
                parent, node = node, parent
            parent.color = BLACK
            gparent.color = RED
            _rotate_right(gparent, root)
        else:
            uncle = gparent.left
            if uncle is not None and uncle.color == RED:
                uncle.color = BLACK
                parent.color = BLACK
                gparent.color = RED
                node = gparent
                continue
            if parent.left is node:
                _rotate_right(parent, root)
                parent, node = node, parent
            parent.color = BLACK
            gparent.color = RED
            _rotate_left(gparent, root)
    root.node.color = BLACK


def _erase_color(node: Node | None, parent: Node | None, root: Root) -> None:
    """Fix a missing black on the path through `node` (possibly None) below `parent`.

    Sibling cases as in CLRS: red sibling -> rotate to get a black one; black sibling with
    black children -> recolour it red and move the deficit up; otherwise one or two rotations
    absorb the deficit and the walk ends.
    """
    while (node is None or node.color == BLACK) and node is not root.node:
        if parent.left is node:
            other = parent.right
            if other.color == RED:
                other.color = BLACK
                parent.color = RED
                _rotate_left(parent, root)
                other = parent.right
            near, far = other.left, other.right
            if (near is None or near.color == BLACK) and (far is None or far.color == BLACK):
                other.color = RED
                node = parent
                parent = node.parent
                continue
            if far is None or far.color == BLACK:
                near.color = BLACK
                other.color = RED
                _rotate_right(other, root)
                other = parent.right
            other.color = parent.color
            parent.color = BLACK
            other.right.color = BLACK
            _rotate_left(parent, root)
            node = root.node
            break
        else:
            other = parent.left
            if other.color == RED:
                other.color = BLACK
                parent.color = RED
                _rotate_right(parent, root)
                other = parent.left
            near, far = other.right, other.left
            if (near is None or near.color == BLACK) and (far is None or far.color == BLACK):
                other.color = RED
                node = parent
                parent = node.parent
                continue
            if far is None or far.color == BLACK:
                near.color = BLACK
                other.color = RED
                _rotate_left(other, root)
                other = parent.left
            other.color = parent.color
            parent.color = BLACK
            other.left.color = BLACK
            _rotate_right(parent, root)
            node = root.node
            break
    if node is not None:
        node.color = BLACK


def erase(node: Node, root: Root) -> None:
    """rb_erase: unlink `node` (which must be in the tree under `root`).

    With two children, the in-order successor (leftmost of the right subtree) is spliced into
    the node's place and takes its colour; the colour of the position actually removed decides
    whether the fix-up runs. `node`'s own fields are left as they were, as in the kernel.
    """
    if node.left is None:
        child = node.right
    elif node.right is None:
        child = node.left
    else:
        old = node
        node = node.right
        while node.left is not None:
            node = node.left
        above = old.parent
        if above is None:
            root.node = node
        elif above.left is old:
            above.left = node
        else:
            above.right = node
        child = node.right
        parent = node.parent
        color = node.color
        if parent is old:
            parent = node
        else:
            if child is not None:
                child.parent = parent
            parent.left = child
            node.right = old.right
            old.right.parent = node
        node.parent = old.parent
        node.color = old.color
        node.left = old.left
        old.left.parent = node
        if color == BLACK:
            _erase_color(child, parent, root)
        return
    parent = node.parent
    color = node.color
    if child is not None:
        child.parent = parent
    if parent is None:
        root.node = child
    elif parent.left is node:
        parent.left = child
    else:
        parent.right = child
    if color == BLACK:
        _erase_color(child, parent, root)


def first(root: Root) -> Node | None:
    """rb_first: the leftmost node."""
    node = root.node
    if node is None:
        return None
    while node.left is not None:
        node = node.left
    return node


def last(root: Root) -> Node | None:
    """rb_last: the rightmost node."""
    node = root.node
    if node is None:
        return None
    while node.right is not None:
        node = node.right
    return node


def next(node: Node) -> Node | None:  # noqa: A001 - the kernel's name, on purpose
    """rb_next: the in-order successor, via the right subtree or up the parent links."""
    if node.parent is node:  # an empty (cleared) node is in no tree
        return None
    if node.right is not None:
        node = node.right
        while node.left is not None:
            node = node.left
        return node
    parent = node.parent
    while parent is not None and node is parent.right:
        node = parent
        parent = node.parent
    return parent


def prev(node: Node) -> Node | None:
    """rb_prev: the in-order predecessor (mirror of next)."""
    if node.parent is node:
        return None
    if node.left is not None:
        node = node.left
        while node.right is not None:
            node = node.right
        return node
    parent = node.parent
    while parent is not None and node is parent.left:
        node = parent
        parent = node.parent
    return parent


def replace_node(victim: Node, new: Node, root: Root) -> None:
    """rb_replace_node: `new` takes `victim`'s place, links and colour; no rebalancing.

    `victim` keeps its (now stale) fields, as the kernel leaves them.
    """
    parent = victim.parent
    if parent is None:
        root.node = new
    elif parent.left is victim:
        parent.left = new
    else:
        parent.right = new
    if victim.left is not None:
        victim.left.parent = new
    if victim.right is not None:
        victim.right.parent = new
    new.parent = victim.parent
    new.color = victim.color
    new.left = victim.left
    new.right = victim.right


def clear_node(node: Node) -> None:
    """RB_CLEAR_NODE: mark the node as in no tree (its parent link points to itself)."""
    node.parent = node


def empty_node(node: Node) -> bool:
    """RB_EMPTY_NODE: true only for a node cleared and not linked since."""
    return node.parent is node


# ---------------------------------------------------------------- observation
def dump(root: Root) -> str:
    """The `d` line: `T`, then the preorder walk, `K:r`/`K:b` per node, `.` per empty child."""
    out = ["T"]
    append = out.append
    stack = [root.node]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is None:
            append(".")
        else:
            append(f"{node.key}:b" if node.color else f"{node.key}:r")
            push(node.right)
            push(node.left)
    return " ".join(out)


def verify(root: Root, limit: int, dups: Collection[int] = ()) -> str:
    """The `v` line for the tree under `root`, checking the tree itself, not a model.

    `limit` is the pool size: a walk that reaches more nodes than that has a cycle. The checks
    are made in the protocol's order (cycle, parent, order, root-red, red-red, black-height)
    and the first that fails is reported as `bad <what>`; else `ok <nodes> <black-height>`.
    `dups` are keys with two nodes in the tree (rb_add's duplicates): equal neighbours are in
    order for them.
    """
    top = root.node
    if top is None:
        return "ok 0 0"
    count = 0
    stack = [top]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            return "bad cycle"
        if node.left is not None:
            stack.append(node.left)
        if node.right is not None:
            stack.append(node.right)

    parent_bad = top.parent is not None
    red_red = False
    height = -1
    height_bad = False
    walk = [(top, 0)]
    while walk:
        node, blacks = walk.pop()
        red = node.color == RED
        if not red:
            blacks += 1
        for child in (node.left, node.right):
            if child is None:
                if height < 0:
                    height = blacks
                elif height != blacks:
                    height_bad = True
            else:
                if child.parent is not node:
                    parent_bad = True
                if red and child.color == RED:
                    red_red = True
                walk.append((child, blacks))
    if parent_bad:
        return "bad parent"
    if not _in_order_increasing(top, dups):
        return "bad order"
    if top.color == RED:
        return "bad root-red"
    if red_red:
        return "bad red-red"
    if height_bad:
        return "bad black-height"
    return f"ok {count} {height}"


def _in_order_increasing(top: Node, dups: Collection[int] = ()) -> bool:
    previous = None
    stack: list[Node] = []
    node: Node | None = top
    while stack or node is not None:
        while node is not None:
            stack.append(node)
            node = node.left
        node = stack.pop()
        if previous is not None and not previous < node.key:
            if not (previous == node.key and previous in dups):
                return False
        previous = node.key
        node = node.right
    return True


def keys(root: Root) -> list[int]:
    """In-order keys (a convenience for tests and notebooks)."""
    out = []
    node = first(root)
    while node is not None:
        out.append(node.key)
        node = next(node)
    return out
