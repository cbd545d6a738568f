"""Drawing red-black trees from `d` results (docs/protocol.md), as text and as SVG.

A `d` result is `T` followed by the preorder walk, one token per node, `K:r` or `K:b`, and `.`
for an empty child (`T .` for an empty tree). `parse_dump` turns it into `Node`s; `draw_text`
lays the tree out top-down with box-drawing characters, keys in in-order columns, colours
marked `(R)` and `(B)`; `draw_svg` draws the same layout as an inline SVG with red and black
nodes. Both are pure functions of the dump, so the same dump always gives the same bytes.

A broken tree is drawn as what it is. When the walk meets a node that is already on its path
(a node that became its own child or descendant), the harness's bounded walk repeats until it
gives up with `!cycle`; here the repeat becomes one *link back* (`↺K`: "this child pointer
leads back to K") and what the walk never reached is drawn as `…`.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

#: text drawings wider than this, or with more nodes, fall back to an indented outline
MAX_WIDTH = 110
MAX_DRAWN = 48
#: trees larger than this are not drawn at all
MAX_OUTLINED = 400


_COLOUR_MARK = {"r": "R", "b": "B"}


@dataclass
class Node:
    key: str
    colour: str  # "r" | "b" | "?" (anything else the dump said)
    left: "Node | None" = None
    right: "Node | None" = None
    kind: str = "node"  # "node" | "back" (a pointer back to an ancestor: a cycle) | "unwalked"

    @property
    def label(self) -> str:
        if self.kind == "back":
            return f"↺{self.key}"
        if self.kind == "unwalked":
            return "…"
        return f"{self.key}({_COLOUR_MARK.get(self.colour, '?')})"

    @property
    def ident(self) -> str:
        """The key, or `↺K` for a link back to K (so the two never collide in a shape)."""
        return self.label if self.kind != "node" else self.key


def parse_dump(line: str) -> Node | None:
    """The tree of one `d` result line; ValueError when the line is not a well-formed dump."""
    tokens = line.split()
    if not tokens or tokens[0] != "T":
        raise ValueError(f"not a dump: {line[:40]!r}")
    tokens = tokens[1:]
    if not tokens:
        raise ValueError("dump has no tokens")
    root_holder = Node("", "")  # its left child becomes the root
    # Iterative preorder: a stack of (parent, which child to fill next, keys on the path to it)
    stack: list[tuple[Node, str, tuple[str, ...]]] = [(root_holder, "left", ())]
    for position, token in enumerate(tokens):
        if token.startswith("!"):  # the harness's walk gave up (`!cycle`): the rest was never reached
            break
        if not stack:
            raise ValueError(f"dump has {len(tokens) - position} tokens after the tree ends")
        parent, side, path = stack.pop()
        if token == ".":
            node = None
        else:
            key, sep, colour = token.rpartition(":")
            if not sep or not key:
                raise ValueError(f"bad dump token {token[:20]!r}")
            colour = colour if colour in ("r", "b") else "?"
            if key in path:  # met again below itself: a cycle; what follows repeats it
                setattr(parent, side, Node(key, colour, kind="back"))
                break
            node = Node(key, colour)
        setattr(parent, side, node)
        if node is not None:
            stack.append((node, "right", path + (node.key,)))
            stack.append((node, "left", path + (node.key,)))
    else:
        if stack:
            raise ValueError("dump ends before the tree does")
        return root_holder.left
    for parent, side, _ in stack:  # children the walk never reached
        if parent is not root_holder:
            setattr(parent, side, Node("…", "?", kind="unwalked"))
    return root_holder.left


def last_dump(ops: list[str] | tuple[str, ...], lines: list[str] | tuple[str, ...]) -> str | None:
    """The result of the last `d` operation that has a result (None when there is none)."""
    for i in range(min(len(ops), len(lines)) - 1, -1, -1):
        if ops[i].strip() == "d" and lines[i].startswith("T"):
            return lines[i]
    return None


def _inorder(root: Node | None) -> list[tuple[Node, int]]:
    """Nodes in key order with their depth, without recursion (a broken tree may be deep)."""
    out, stack, node, depth = [], [], root, 0
    while stack or node is not None:
        while node is not None:
            stack.append((node, depth))
            node, depth = node.left, depth + 1
        node, depth = stack.pop()
        out.append((node, depth))
        node, depth = node.right, depth + 1
    return out


def size(root: Node | None) -> int:
    return len(_inorder(root))


def _layout(root: Node | None, widths, gap: int):
    """Knuth's in-order layout: x of each node's left edge and its centre, and its depth."""
    placed = {}
    cursor = 0
    for node, depth in _inorder(root):
        w = widths(node)
        placed[id(node)] = (cursor, cursor + (w - 1) // 2, depth)
        cursor += w + gap
    return placed, max(0, cursor - gap)


def draw_text(dump: str) -> str:
    """A top-down drawing of the tree in a `d` result, e.g. for `T 5:b 3:r . . 7:r . .`::

             5(B)
         ┌────┴────┐
        3(R)      7(R)

    (without the indentation). Large trees become an indented outline; malformed dumps are
    returned as they are, with a note.
    """
    try:
        root = parse_dump(dump)
    except ValueError as exc:
        return f"(not a tree: {exc})\n{dump}"
    if root is None:
        return "(empty tree)"
    nodes = _inorder(root)
    if len(nodes) > MAX_OUTLINED:
        return f"({len(nodes)} nodes: too large to draw)"
    placed, width = _layout(root, lambda n: len(n.label), 1)
    if len(nodes) > MAX_DRAWN or width > MAX_WIDTH:
        return outline(root)
    height = max(depth for _, depth in nodes) + 1
    grid = [[" "] * width for _ in range(2 * height - 1)]
    for node, depth in nodes:
        x, centre, _ = placed[id(node)]
        row = grid[2 * depth]
        for i, ch in enumerate(node.label):
            row[x + i] = ch
        kids = [placed[id(k)][1] for k in (node.left, node.right) if k is not None]
        if not kids:
            continue
        bar = grid[2 * depth + 1]
        lo = placed[id(node.left)][1] if node.left is not None else centre
        hi = placed[id(node.right)][1] if node.right is not None else centre
        for i in range(lo, hi + 1):
            bar[i] = "─"
        if node.left is not None:
            bar[lo] = "┌"
        if node.right is not None:
            bar[hi] = "┐"
        bar[centre] = "┴" if node.left is not None and node.right is not None else ("┘" if node.left is not None else "└")
    return "\n".join("".join(row).rstrip() for row in grid)


def outline(root: Node | None) -> str:
    """An indented outline, children marked L and R, for trees too wide to draw top-down."""
    if root is None:
        return "(empty tree)"
    lines = [root.label]
    stack = [(root.right, "R", "", True), (root.left, "L", "", False)] if (root.left or root.right) else []
    # stack entries: (node, side, prefix, is_last)
    while stack:
        node, side, prefix, last = stack.pop()
        branch = "└─" if last else "├─"
        lines.append(f"{prefix}{branch}{side} {node.label if node else '·'}")
        if node is not None and (node.left or node.right):
            inner = prefix + ("   " if last else "│  ")
            stack.append((node.right, "R", inner, True))
            stack.append((node.left, "L", inner, False))
    return "\n".join(lines)


def shape(root: Node | None) -> dict[str, tuple[str, str | None, str]]:
    """key -> (colour, parent key, side): what must agree for two trees to be the same."""
    out: dict[str, tuple[str, str | None, str]] = {}
    if root is None:
        return out
    stack: list[tuple[Node, str | None, str]] = [(root, None, "root")]
    while stack:
        node, parent, side = stack.pop()
        out[node.ident] = (node.colour, parent, side)
        for child, s in ((node.left, "L"), (node.right, "R")):
            if child is not None:
                stack.append((child, node.ident, s))
    return out


def differing_keys(a: str | None, b: str | None) -> set[str]:
    """Keys whose colour, parent or side differs between two dumps (or that only one holds)."""
    try:
        sa = shape(parse_dump(a)) if a else {}
        sb = shape(parse_dump(b)) if b else {}
    except ValueError:
        return set()
    return {k for k in sa.keys() | sb.keys() if sa.get(k) != sb.get(k)}


# ---------------------------------------------------------------- SVG
RED, BLACK, EDGE, MARK = "#c62828", "#263238", "#90a4ae", "#f9a825"
SCALE = 1.25  # drawn size over viewBox size


def draw_svg(dump: str, marked: set[str] | frozenset[str] = frozenset(), title: str = "") -> str:
    """The tree as an inline SVG fragment (no ids, no external references).

    Nodes are rounded boxes, red or black, with the key in white; keys in `marked` get a
    yellow ring (used for the nodes that differ from the other side of a witness).
    """
    try:
        root = parse_dump(dump)
    except ValueError as exc:
        return f'<p class="tree-note">not a tree ({escape(str(exc))})</p>'
    if root is None:
        return '<p class="tree-note">(empty tree)</p>'
    nodes = _inorder(root)
    if len(nodes) > MAX_OUTLINED:
        return f'<p class="tree-note">{len(nodes)} nodes: too large to draw</p>'
    char, pad, row_h, margin, box_h = 7.5, 12, 52, 8, 24

    def width(node: Node) -> int:
        return max(28, int(len(node.label if node.kind != "node" else node.key) * char + pad))

    placed, total = _layout(root, width, 8)
    depth_max = max(d for _, d in nodes)
    w = total + 2 * margin + (48 if any(n.kind == "back" for n, _ in nodes) else 0)  # room for the arrow back
    h = depth_max * row_h + box_h + 2 * margin

    def centre(node: Node) -> tuple[float, float]:
        x, _, depth = placed[id(node)]
        return margin + x + width(node) / 2, margin + depth * row_h + box_h / 2

    label = escape(title or f"red-black tree with {len(nodes)} nodes")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tree" viewBox="0 0 {w:g} {h:g}" '
        f'width="{w * SCALE:g}" height="{h * SCALE:g}" role="img" aria-label="{label}">',
        f"<title>{label}</title>",
        f'<g stroke="{EDGE}" stroke-width="1.5">',
    ]
    for node, _ in nodes:
        x1, y1 = centre(node)
        for child in (node.left, node.right):
            if child is not None:
                x2, y2 = centre(child)
                dash = ' stroke-dasharray="4 3"' if child.kind != "node" else ""
                parts.append(f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}"{dash}/>')
    parts.append("</g>")
    parts += _back_arrows(nodes, centre, width, box_h)
    parts.append('<g font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="12" text-anchor="middle">')
    for node, _ in nodes:
        cx, cy = centre(node)
        nw = width(node)
        if node.kind != "node":
            parts.append(_odd_node_svg(node, cx, cy, nw, box_h, node.ident in marked))
            continue
        fill = {"r": RED, "b": BLACK}.get(node.colour, "#757575")
        name = {"r": "red", "b": "black"}.get(node.colour, "unknown colour")
        ring = f' stroke="{MARK}" stroke-width="3"' if node.key in marked else ""
        parts.append(
            f'<g><title>{escape(node.key)} {name}{" (differs)" if node.key in marked else ""}</title>'
            f'<rect x="{cx - nw / 2:g}" y="{cy - box_h / 2:g}" width="{nw}" height="{box_h}" rx="11" fill="{fill}"{ring}/>'
            f'<text x="{cx:g}" y="{cy + 4:g}" fill="#fff">{escape(node.key)}</text></g>'
        )
    parts.append("</g></svg>")
    return "".join(parts)


def _back_arrows(nodes, centre, width, box_h: int) -> list[str]:
    """A dashed red curve from each link back (`↺K`) to the node K it leads to, with an arrowhead."""
    real = {node.key: node for node, _ in nodes if node.kind == "node"}
    out = []
    for node, _ in nodes:
        target = real.get(node.key) if node.kind == "back" else None
        if target is None:
            continue
        (x1, y1), (x2, y2) = centre(node), centre(target)
        end_x = x2 + width(target) / 2 + 2  # the right edge of the target's box
        cx, cy = max(x1, end_x) + 36, (y1 + y2) / 2
        out.append(
            f'<path d="M{x1 + width(node) / 2:g} {y1:g} Q{cx:g} {cy:g} {end_x + 5:g} {y2:g}" fill="none" stroke="{RED}" '
            f'stroke-width="1.6" stroke-dasharray="5 3"><title>the child pointer leads back to {escape(node.key)}</title></path>'
            f'<polygon points="{end_x:g},{y2:g} {end_x + 8:g},{y2 - 4:g} {end_x + 8:g},{y2 + 4:g}" fill="{RED}"/>'
        )
    return out


def _odd_node_svg(node: Node, cx: float, cy: float, nw: int, box_h: int, marked: bool) -> str:
    """A link back to an ancestor (a cycle), drawn as a dashed box `↺K`, or an unwalked `…`."""
    if node.kind == "back":
        title = f"link back to {node.key}: this child pointer leads to {node.key} again (a cycle)"
        colour = MARK if marked else RED
    else:
        title = "not reached: the walk stopped at the cycle"
        colour = EDGE
    return (
        f'<g><title>{escape(title)}</title>'
        f'<rect x="{cx - nw / 2:g}" y="{cy - box_h / 2:g}" width="{nw}" height="{box_h}" rx="11" fill="#fff" '
        f'stroke="{colour}" stroke-width="2" stroke-dasharray="4 3"/>'
        f'<text x="{cx:g}" y="{cy + 4:g}" fill="{colour}">{escape(node.label)}</text></g>'
    )
