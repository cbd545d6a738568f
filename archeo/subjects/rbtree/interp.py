"""The reference's side of the API groups' protocol ops (docs/protocol.md, "API groups").

`GroupHarness` is the reference interpreter (harness.Harness) with the later API
groups' ops added, each played through the group's model in this package:

    cached      I K, E K, R K (result `ok <cached leftmost>`), L
    postorder   P (the whole postorder walk)
    augmented   A K, B K (2012 API), a K, b K (2010 API): ok/dup, ok/absent
    search      + K (rb_add, duplicates allowed), & K (rb_find_add), ? K, [ K, ] K
    rcu         u K (rb_replace_node_rcu)

The reference is always right, so what it must say is simple: a cached leftmost is the true
first node, augmented values are all correct (the harness's `v` checks them on the C tree, and
a right tree passes), and the shapes are the plain API's. Duplicates: rb_add of a key whose
current node is in the tree puts the key's other slot in (`Harness.other_in`); a node is
written `K.S`, key and slot.
"""

from __future__ import annotations

from archeo.ops import Op

from . import cached, postorder, search
from .harness import Harness, run_batch as _run_batch, run_ops as _run_ops
from .tree import Node, erase, first, insert_color
from .rcu import replace_node_rcu


def _key(node: Node | None) -> str:
    return "nil" if node is None else str(node.key)


class GroupHarness(Harness):
    """The whole protocol: the core ops (inherited) and every API group's."""

    def _name(self, node: Node | None) -> str:
        if node is None:
            return "nil"
        return f"{node.key}.{1 if self.pool[2 * node.key + 1] is node else 0}"

    def _free_slot(self, key: int) -> Node | None:
        """The node rb_add/rb_find_add would put in: the current one, else the other, else None."""
        if key not in self.present:
            return self.node(key)
        if key not in self.other_in:
            return self.node(key, 1 - self.slot[key])
        return None

    def _mark_in(self, key: int, node: Node) -> None:
        if node is self.node(key):
            self.present.add(key)
        else:
            self.other_in.add(key)

    def _insert(self, key: int, cached_root: cached.RootCached | None = None) -> str:
        node = self.node(key)
        leftmost = cached.link_by_key(node, self.root)
        if leftmost is None:
            return "dup"
        if cached_root is None:
            insert_color(node, self.root)
        else:
            cached.insert_color_cached(node, cached_root, leftmost)
        self.present.add(key)
        return "ok"

    def _replace(self, key: int, replace) -> str:
        if key not in self.present:
            return "absent"
        if key in self.other_in:
            return "busy"
        old = self.slot[key]
        replace(self.node(key, old), self.node(key, 1 - old))
        self.slot[key] = 1 - old
        return "ok"

    def group_op(self, op: Op) -> str:
        code, key, root = op.code, op.key, self.root
        if code in "IER":
            view = cached.RootCached(root)
            if code == "I":
                said = self._insert(key, view)
            elif code == "E":
                said = "absent"
                if key in self.present:
                    cached.erase_cached(self.node(key), view)
                    self.present.discard(key)
                    said = "ok"
            else:
                said = self._replace(key, lambda old, new: cached.replace_node_cached(old, new, view))
            return f"ok {_key(cached.first_cached(view))}" if said == "ok" else said
        if code == "L":
            return _key(first(root))
        if code == "P":
            order = postorder.postorder(root)
            return " ".join(str(n.key) for n in order) if order else "nil"
        if code in "Aa":
            return self._insert(key)
        if code in "Bb":
            if key not in self.present:
                return "absent"
            erase(self.node(key), root)
            self.present.discard(key)
            return "ok"
        if code in "+&":
            node = self._free_slot(key)
            if node is None:
                return "full"
            if code == "+":
                search.add(node, root)
            else:
                existing = search.find_add(node, root)
                if existing is not None:
                    return f"dup {self._name(existing)}"
            self._mark_in(key, node)
            return "ok"
        if code == "?":
            return self._name(search.find(key, root))
        if code == "[":
            return self._name(search.find_first(key, root))
        if code == "]":
            found = search.matches(key, root)
            return " ".join(map(self._name, found)) if found else "nil"
        if code == "u":
            return self._replace(key, lambda old, new: replace_node_rcu(old, new, root))
        return super().group_op(op)


def run_ops(ops, keyspace: int | None = None) -> str:
    """The whole protocol's trace text for `ops` on the reference (see harness.run_ops)."""
    return _run_ops(ops, keyspace, GroupHarness)


def run_batch(batch_text: str) -> str:
    """The whole protocol's trace text for a batch text, as the C harness would print it."""
    return _run_batch(batch_text, GroupHarness)
