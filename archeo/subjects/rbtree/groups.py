"""The later rbtree API groups as the harness sees them: which protocol op needs what.

One table says, for each group op (vocabulary.GROUP_CODES), the names a revision must offer
(functions, or function-like macros of its headers) for the harness to call the revision's
code; and the C spelling of the `ARCHEO_HAS_*` define api.py writes into the
per-revision config. A revision without them still runs the op: the harness does the op's
effect on the tree through the core API (or its own code, for rb_add's walk) and answers `NA`,
so the traces of every later op stay comparable (docs/protocol.md, "API groups").
"""

from __future__ import annotations

from .vocabulary import GROUP_CODES

#: op -> (define suffix, names it needs)
OP_NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "I": ("CACHED_INSERT", ("rb_insert_color_cached",)),
    "E": ("CACHED_ERASE", ("rb_erase_cached",)),
    "R": ("CACHED_REPLACE", ("rb_replace_node_cached",)),
    "L": ("CACHED_FIRST", ("rb_first_cached",)),
    "P": ("POSTORDER", ("rb_first_postorder", "rb_next_postorder")),
    "A": ("AUG_INSERT", ("rb_insert_augmented",)),
    "B": ("AUG_ERASE", ("rb_erase_augmented",)),
    "a": ("AUG2010_INSERT", ("rb_augment_insert",)),
    "b": ("AUG2010_ERASE", ("rb_augment_erase_begin", "rb_augment_erase_end")),
    "+": ("ADD", ("rb_add",)),
    "&": ("FIND_ADD", ("rb_find_add",)),
    "?": ("FIND", ("rb_find",)),
    "[": ("FIND_FIRST", ("rb_find_first",)),
    "]": ("NEXT_MATCH", ("rb_find_first", "rb_next_match")),
    "u": ("REPLACE_RCU", ("rb_replace_node_rcu",)),
}
GROUP_OPS = tuple(OP_NEEDS)
#: the cached ops keep the tree in a `struct rb_root_cached`, which must have these fields
CACHED_ROOT = ("struct rb_root_cached", ("rb_root", "rb_leftmost"))

assert set(GROUP_OPS) == set("".join(GROUP_CODES.values())), "every group op needs a row"


def group_of(op: str) -> str:
    return next(name for name, codes in GROUP_CODES.items() if op in codes)


def groups_of(ops: str | tuple[str, ...]) -> tuple[str, ...]:
    """The groups a revision has (any of its ops), in GROUP_CODES order."""
    have = set(ops)
    return tuple(name for name, codes in GROUP_CODES.items() if have & set(codes))


#: which group a function of a revision's own code belongs to, for counting mutants apart:
#: the names the ops need, and the helpers only that group uses (`core` for everything else)
FUNCTION_GROUPS = {name: group_of(op) for op, (_, names) in OP_NEEDS.items() for name in names}
FUNCTION_GROUPS.update(
    {
        "__rb_insert_augmented": "augmented",
        "__rb_erase_color": "augmented",
        "rb_left_deepest_node": "postorder",
        "rb_augment_path": "augment2010",
        "rb_add_cached": "search",
    }
)


def function_group(name: str) -> str:
    return FUNCTION_GROUPS.get(name, "core")
