"""rb_replace_node_rcu: rb_replace_node for trees read under RCU.

Documented semantics: the same as rb_replace_node (the new node takes the victim's place,
links and colour, no rebalancing); it only orders the stores so that a concurrent reader sees
either node whole. In one thread the result is rb_replace_node's, which is what the model says.
"""

from __future__ import annotations

from .tree import Node, Root, replace_node


def replace_node_rcu(victim: Node, new: Node, root: Root) -> None:
    replace_node(victim, new, root)
