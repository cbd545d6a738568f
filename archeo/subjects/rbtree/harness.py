"""The reference's interpreter of the batch protocol: it plays the part of the C harness.

`Harness` holds a pool of two nodes per key, a current slot per key, and the tree (tree.py)
they go into, and gives one result line per op, then `END` (docs/protocol.md). Speed matters
(a difftest runs ~200k ops through it), hence the hot ops inlined in `Harness.run`. The later
API groups' ops are interp.py's `GroupHarness`.
"""

from __future__ import annotations

from collections.abc import Iterable

from archeo.ops import Op, decode_batch, needed_keyspace

from .tree import LEFT, RIGHT, Node, Root, clear_node, dump, empty_node, erase, first, insert_color, last, link_node, next, prev, replace_node, verify


# ---------------------------------------------------------------- the interpreter
class Harness:
    """The protocol's harness state: a pool of two nodes per key and the tree they go into.

    Nodes are created on first touch; a fresh Node is the "zeroed" pool entry.
    """

    def __init__(self, keyspace: int) -> None:
        self.keyspace = keyspace
        self.pool: list[Node | None] = [None] * (2 * keyspace)
        self.slot = bytearray(keyspace)  # current slot per key
        self.present: set[int] = set()
        self.other_in: set[int] = set()  # keys whose other slot is in the tree too (rb_add duplicates)
        self.root = Root()

    def wipe(self) -> None:
        """`w`: the state of a fresh harness with the same keyspace (no tree, zeroed pool, slots 0)."""
        self.pool[:] = [None] * len(self.pool)
        self.slot[:] = bytes(len(self.slot))
        self.present.clear()
        self.other_in.clear()
        self.root.node = None

    def node(self, key: int, slot: int | None = None) -> Node:
        """The node of `key` in `slot` (default: its current slot)."""
        if slot is None:
            slot = self.slot[key]
        index = 2 * key + slot
        node = self.pool[index]
        if node is None:
            node = self.pool[index] = Node(key)
        return node

    def run(self, ops: Iterable[Op]) -> list[str]:
        """One result line per op, in order (without `END`)."""
        out: list[str] = []
        emit = out.append
        root = self.root
        present = self.present
        node_of = self.node
        limit = 2 * self.keyspace
        for op in ops:
            code = op.code
            key = op.key
            if code == "i":
                parent = None
                cursor = root.node
                while cursor is not None:
                    parent = cursor
                    other = cursor.key
                    if key < other:
                        cursor = cursor.left
                    elif key > other:
                        cursor = cursor.right
                    else:
                        break
                if cursor is not None:
                    emit("dup")
                    continue
                node = node_of(key)
                if parent is None:
                    link_node(node, None, root)
                else:
                    link_node(node, parent, LEFT if key < parent.key else RIGHT)
                insert_color(node, root)
                present.add(key)
                emit("ok")
            elif code == "e":
                if key in present:
                    erase(node_of(key), root)
                    present.discard(key)
                    emit("ok")
                else:
                    emit("absent")
            elif code == "d":
                emit(dump(root))
            elif code == "v":
                emit(verify(root, limit, present & self.other_in if self.other_in else ()))
            elif code == "f":
                cursor = root.node
                while cursor is not None:
                    other = cursor.key
                    if key < other:
                        cursor = cursor.left
                    elif key > other:
                        cursor = cursor.right
                    else:
                        break
                emit("0" if cursor is None else "1")
            elif code == "n" or code == "p":
                if key in present:
                    found = (next if code == "n" else prev)(node_of(key))
                    emit("nil" if found is None else str(found.key))
                else:
                    emit("absent")
            elif code == "<" or code == ">":
                found = (first if code == "<" else last)(root)
                emit("nil" if found is None else str(found.key))
            elif code == "r":
                if key in present and key in self.other_in:
                    emit("busy")  # the other slot is a duplicate in the tree: not a free node
                elif key in present:
                    old = self.slot[key]
                    replace_node(node_of(key, old), node_of(key, 1 - old), root)
                    self.slot[key] = 1 - old
                    emit("ok")
                else:
                    emit("absent")
            elif code == "c":
                if key in present:
                    emit("present")
                else:
                    clear_node(node_of(key))
                    emit("ok")
            elif code == "z":
                emit("1" if empty_node(node_of(key)) else "0")
            elif code == "x":
                root.node = None
                present.clear()
                self.other_in.clear()
                emit("ok")
            elif code == "w":
                self.wipe()
                emit("ok")
            else:  # an op of a later API group (archeo/subjects/rbtree/interp.py)
                emit(self.group_op(op))
        return out

    def group_op(self, op: Op) -> str:
        """The result line of an op outside the core API; the core reference has none."""
        raise ValueError(f"reference: no implementation for op {op} (the API groups' ops are in archeo.subjects.rbtree.interp)")


def run_ops(ops: Iterable[Op], keyspace: int | None = None, harness: type[Harness] = Harness) -> str:
    """The trace text for `ops` on the reference: one line per op, then `END`."""
    ops = list(ops)
    if keyspace is None:
        keyspace = needed_keyspace(ops)
    lines = harness(keyspace).run(ops)
    lines.append("END")
    lines.append("")
    return "\n".join(lines)


def run_batch(batch_text: str, harness: type[Harness] = Harness) -> str:
    """The trace text for a whole batch text, as the C harness would print it."""
    batch = decode_batch(batch_text)
    return run_ops(batch.ops, batch.keyspace, harness)
