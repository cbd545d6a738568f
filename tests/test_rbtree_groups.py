"""The models of the later kernel rbtree API groups (archeo/subjects/rbtree/), each against a
plain sorted-list model, as tests/test_reference.py does for the core API.

Each property can fail: the sorted list knows nothing about trees, so a leftmost pointer left
stale, a postorder that skips a subtree, a stale augmented value or a duplicate found out of
insertion order all show as a mismatch.
"""

from __future__ import annotations

import bisect

from hypothesis import given, settings
from hypothesis import strategies as st

from archeo.ops import Op
from archeo.subjects.rbtree import augment, cached, postorder, rcu, search
from archeo.subjects.rbtree import tree as rb
from archeo.subjects.rbtree.harness import Harness
from archeo.subjects.rbtree.tree import Node, Root

KEYS = st.integers(min_value=0, max_value=30)
steps = st.lists(st.tuples(st.sampled_from("iiieer"), KEYS), max_size=80)


def in_order(root: Root) -> list[Node]:
    out, node = [], rb.first(root)
    while node is not None:
        out.append(node)
        node = rb.next(node)
    return out


# ---------------------------------------------------------------- cached leftmost
@settings(max_examples=150, deadline=None)
@given(steps)
def test_cached_leftmost_is_the_true_first_after_every_op(ops):
    tree = cached.RootCached()
    pool = {k: [Node(k), Node(k)] for k in range(31)}
    slot = dict.fromkeys(range(31), 0)
    model: list[int] = []
    for code, key in ops:
        node = pool[key][slot[key]]
        if code == "i" and key not in model:
            leftmost = cached.link_by_key(node, tree.root)
            assert leftmost == (not model or key < model[0])
            cached.insert_color_cached(node, tree, leftmost)
            bisect.insort(model, key)
        elif code == "i":
            assert cached.link_by_key(Node(key), tree.root) is None  # present: nothing linked
        elif code == "e" and key in model:
            cached.erase_cached(node, tree)
            model.remove(key)
        elif code == "r" and key in model:
            slot[key] ^= 1
            cached.replace_node_cached(node, pool[key][slot[key]], tree)
        assert cached.leftmost_ok(tree)
        got = cached.first_cached(tree)
        assert (got.key if got else None) == (model[0] if model else None)
        assert rb.verify(tree.root, 62).startswith("ok")
    assert [n.key for n in in_order(tree.root)] == model


def test_leftmost_ok_catches_a_stale_pointer():
    tree = cached.RootCached()
    a, b = Node(1), Node(2)
    for n in (a, b):
        cached.insert_color_cached(n, tree, cached.link_by_key(n, tree.root))
    rb.erase(a, tree.root)  # plain erase: the cache still names the erased node
    assert not cached.leftmost_ok(tree)


# ---------------------------------------------------------------- postorder
def _postorder_recursive(node):
    if node is None:
        return []
    return _postorder_recursive(node.left) + _postorder_recursive(node.right) + [node]


@settings(max_examples=150, deadline=None)
@given(steps)
def test_postorder_visits_every_node_after_its_subtrees(ops):
    h = Harness(31)
    h.run([Op(c if c != "r" else "e", k) for c, k in ops])
    order = postorder.postorder(h.root)
    assert sorted(n.key for n in order) == rb.keys(h.root)  # every key once
    seen = set()
    for node in order:
        for child in (node.left, node.right):
            assert child is None or id(child) in seen  # children come first
        seen.add(id(node))
    assert order == _postorder_recursive(h.root.node)
    walk, node = [], postorder.first_postorder(h.root)  # the documented step-by-step walk
    while node is not None:
        walk.append(node)
        node = postorder.next_postorder(node)
    assert walk == order
    assert postorder.next_postorder(None) is None


def test_postorder_small_shape():
    h = Harness(8)
    h.run([Op("i", k) for k in (4, 2, 6, 1, 3, 5, 7)])
    assert [n.key for n in postorder.postorder(h.root)] == [1, 3, 2, 5, 7, 6, 4]
    assert postorder.first_postorder(Root()) is None


# ---------------------------------------------------------------- augmented
@settings(max_examples=120, deadline=None)
@given(steps, st.sampled_from(["new", "old"]))
def test_augmented_values_after_every_op(ops, api):
    insert = augment.insert_augmented if api == "new" else augment.augment_insert
    remove = augment.erase_augmented if api == "new" else augment.augment_erase
    for aug in (augment.SUBTREE_SIZE, augment.SUBTREE_MAX):
        root, values, nodes, model = Root(), {}, {}, []
        for code, key in ops:
            if code == "i" and key not in model:
                node = nodes[key] = Node(key)
                assert cached.link_by_key(node, root) is not None
                insert(node, root, aug, values)
                bisect.insort(model, key)
            elif code in "er" and key in model:
                remove(nodes.pop(key), root, aug, values)
                model.remove(key)
            assert augment.check(root, aug, values) is None
            assert len(values) == len(model)
            if model:
                want = len(model) if aug is augment.SUBTREE_SIZE else max(map(augment.node_value, model))
                assert values[root.node] == want
        if aug is augment.SUBTREE_SIZE:
            for node in nodes.values():
                assert augment.rank(node, values) == model.index(node.key)


def test_check_names_a_stale_node():
    root, values = Root(), {}
    nodes = [Node(k) for k in range(5)]
    for node in nodes:
        cached.link_by_key(node, root)
        augment.insert_augmented(node, root, augment.SUBTREE_SIZE, values)
    rb.erase(nodes[0], root)  # plain erase: the sizes above it are now stale
    assert augment.check(root, augment.SUBTREE_SIZE, values) is not None


# ---------------------------------------------------------------- rb_add / rb_find family
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("aaafFe"), st.integers(0, 6)), max_size=60), st.booleans())
def test_add_and_find_follow_a_stable_sorted_list(ops, use_cached):
    tree = cached.RootCached()
    root = tree.root
    model: list[Node] = []  # in-order: by key, equals in insertion order
    for code, key in ops:
        node = Node(key)
        if code == "a":
            if use_cached:
                got = search.add_cached(node, tree)
                assert (got is node) == all(key < n.key for n in model)
                assert cached.leftmost_ok(tree)
            else:
                search.add(node, root)
            model.insert(bisect.bisect_right([n.key for n in model], key), node)
        elif code == "F" and not use_cached:  # rb_find_add has no cached form
            existing = search.find_add(node, root)
            equal = [n for n in model if n.key == key]
            if equal:
                assert existing in equal
            else:
                assert existing is None
                model.insert(bisect.bisect_right([n.key for n in model], key), node)
        elif code == "e":
            equal = [n for n in model if n.key == key]
            if equal and not use_cached:
                rb.erase(equal[-1], root)
                model.remove(equal[-1])
        equal = [n for n in model if n.key == key]
        assert search.find_first(key, root) is (equal[0] if equal else None)
        assert search.matches(key, root) == equal
        found = search.find(key, root)
        assert (found in equal) if equal else found is None
        assert in_order(root) == model
        assert _ok_with_dups(root)


def _ok_with_dups(root):
    """The red-black rules hold (keys may repeat: the strict order check is the harness's)."""
    status = rb.verify(root, 10_000)
    return status.startswith("ok") or status == "bad order"


def test_next_match_stops_at_the_last_equal():
    root = Root()
    a, b, c = Node(3), Node(3), Node(4)
    for n in (a, c, b):
        search.add(n, root)
    assert search.find_first(3, root) is a
    assert search.next_match(3, a) is b and search.next_match(3, b) is None
    assert search.find_add(Node(4), root) is c


# ---------------------------------------------------------------- rcu replace
@settings(max_examples=60, deadline=None)
@given(st.lists(KEYS, min_size=1, max_size=40), st.data())
def test_replace_node_rcu_is_replace_node(inserts, data):
    dumps = []
    for replace in (rb.replace_node, rcu.replace_node_rcu):
        h = Harness(31)
        h.run([Op("i", k) for k in inserts])
        victim = data.draw(st.sampled_from(sorted(set(inserts)))) if not dumps else dumps[0][0]
        replace(h.node(victim, 0), h.node(victim, 1), h.root)
        assert rb.verify(h.root, 62).startswith("ok")
        assert rb.keys(h.root) == sorted(set(inserts))
        dumps.append((victim, rb.dump(h.root), h.node(victim, 1).parent))
    assert dumps[0][1] == dumps[1][1]
