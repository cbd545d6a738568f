"""The Python reference tree: exact shapes, invariants, the kernel API, and the interpreter.

Shapes matter as much as contents: a revision is "same" only when its trace is byte-identical
to the reference's, so several tests pin exact dumps (some recorded from Xen's rbtree.c,
compiled at three points of its history, see KNOWN below).
"""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archeo.subjects.rbtree import tree as rb
from archeo.ops import Op, encode
from archeo.subjects.rbtree.generate import generate
from archeo.subjects.rbtree.harness import Harness, run_batch, run_ops
from archeo.subjects.rbtree.tree import BLACK, LEFT, RED, RIGHT, Node, Root


def trace_lines(ops, keyspace=None):
    text = run_ops(ops, keyspace)
    assert text.endswith("END\n")
    lines = text.split("\n")[:-2]
    assert len(lines) == len(ops)
    return lines


def ins(*keys):
    return [Op("i", k) for k in keys]


def era(*keys):
    return [Op("e", k) for k in keys]


D, V = Op("d"), Op("v")


# ---------------------------------------------------------------- exact small shapes
def test_insert_123_gives_balanced_three():
    assert trace_lines(ins(1, 2, 3) + [D, V]) == ["ok"] * 3 + ["T 2:b 1:r . . 3:r . .", "ok 3 1"]


def test_empty_tree_dump_and_verify():
    assert trace_lines([D, V, Op("<"), Op(">")]) == ["T .", "ok 0 0", "nil", "nil"]


@pytest.mark.parametrize(
    "ops, dump",
    [
        (ins(1), "T 1:b . ."),
        (ins(1, 2, 3, 4), "T 2:b 1:b . . 3:b . 4:r . ."),  # red uncle: recolour, root stays black
        (ins(3, 2, 1), "T 2:b 1:r . . 3:r . ."),  # single right rotation
        (ins(3, 1, 2), "T 2:b 1:r . . 3:r . ."),  # inner grandchild: double rotation
        (ins(1, 3, 2), "T 2:b 1:r . . 3:r . ."),
        (ins(1, 2, 3) + era(2), "T 3:b 1:r . . ."),  # successor takes the erased node's place
        (ins(1, 2, 3) + era(1), "T 2:b . 3:r . ."),
        (ins(1, 2, 3, 4) + era(1), "T 3:b 2:b . . 4:b . ."),  # black leaf: sibling rotation
    ],
)
def test_exact_small_shapes(ops, dump):
    assert trace_lines(ops + [D])[-1] == dump


# Recorded from Xen's rbtree.c at 2a5f90e8e8 (2004), 6009f4ddb2 (2009) and c54212261d (2024),
# compiled into a throwaway harness; all three eras gave these same lines.
KNOWN = [
    (
        ins(5, 1, 9, 3, 7, 2, 8, 4, 6, 0) + [D] + era(5, 1, 9) + [D] + era(3, 2) + [D],
        [
            "T 5:b 2:r 1:b 0:r . . . 3:b . 4:r . . 8:r 7:b 6:r . . . 9:b . .",
            "T 6:b 2:r 0:b . . 3:b . 4:r . . 8:b 7:r . . .",
            "T 6:b 4:b 0:r . . . 8:b 7:r . . .",
        ],
    ),
    (
        ins(*range(1, 11)) + [D] + era(4, 8) + [D],
        [
            "T 4:b 2:b 1:b . . 3:b . . 6:b 5:b . . 8:r 7:b . . 9:b . 10:r . .",
            "T 5:b 2:b 1:b . . 3:b . . 9:b 6:b . 7:r . . 10:b . .",
        ],
    ),
]


@pytest.mark.parametrize("ops, dumps", KNOWN)
def test_shapes_match_recorded_kernel_traces(ops, dumps):
    assert [line for line in trace_lines(ops) if line.startswith("T")] == dumps


# ---------------------------------------------------------------- protocol semantics
def test_result_words():
    ops = ins(4, 4) + [Op("e", 4), Op("e", 4), Op("f", 4), Op("i", 2), Op("f", 2), Op("f", 3)]
    assert trace_lines(ops) == ["ok", "dup", "ok", "absent", "0", "ok", "1", "0"]


def test_next_prev_absent_and_nil():
    ops = ins(2, 5) + [Op("n", 2), Op("n", 5), Op("p", 2), Op("p", 5), Op("n", 3), Op("p", 3)]
    assert trace_lines(ops)[2:] == ["5", "nil", "nil", "2", "absent", "absent"]


def test_clear_and_empty_semantics():
    ops = [
        Op("z", 1),  # zeroed: not empty
        Op("c", 1),
        Op("z", 1),  # cleared: empty
        Op("i", 1),
        Op("z", 1),  # linked again: not empty
        Op("c", 1),  # present: nothing done
        Op("z", 1),
        Op("e", 1),
        Op("z", 1),  # erased: not empty
    ]
    assert trace_lines(ops) == ["0", "ok", "1", "ok", "0", "present", "0", "ok", "0"]


def test_replace_flips_slot_and_keeps_shape():
    h = Harness(8)
    base = ins(4, 2, 6, 1, 3, 5, 7) + era(6)
    lines = h.run(base + [D, Op("r", 2), D, V, Op("r", 2), Op("r", 1), D])
    assert lines[-7] == lines[-5] == lines[-1]  # every dump identical
    assert lines[-6] == lines[-3] == lines[-2] == "ok"
    assert lines[-4].startswith("ok 6 ")
    assert h.slot[2] == 0 and h.slot[1] == 1  # 2 flipped twice, 1 once
    assert h.node(1, 1).parent is h.node(2, 0)  # the new node is really linked in
    assert trace_lines([Op("r", 3)]) == ["absent"]


def test_replaced_out_node_is_not_empty_and_new_node_erases():
    lines = trace_lines(ins(1, 2) + [Op("r", 2), Op("z", 2), Op("e", 2), Op("f", 2), D, V])
    assert lines[2:] == ["ok", "0", "ok", "0", "T 1:b . .", "ok 1 1"]


def test_reset_forgets_tree_but_not_node_memory():
    lines = trace_lines(ins(1, 2) + [Op("c", 3), Op("x"), D, Op("f", 1), Op("z", 3), Op("i", 2), D])
    assert lines[2:] == ["ok", "ok", "T .", "0", "1", "ok", "T 2:b . ."]


def fresh_state(h: Harness):
    pool = [None if n is None else (n.parent, n.color, n.left, n.right, n.key) for n in h.pool]
    return h.keyspace, pool, bytes(h.slot), set(h.present), h.root.node


def test_wipe_is_a_fresh_harness():
    h = Harness(8)
    assert h.run(ins(1, 2, 5) + [Op("r", 2), Op("c", 3), Op("z", 3), Op("e", 5)])[-2:] == ["1", "ok"]
    assert h.slot[2] == 1 and fresh_state(h) != fresh_state(Harness(8))  # 2 on its other slot, 3 cleared
    assert h.run([Op("w")]) == ["ok"]
    assert fresh_state(h) == fresh_state(Harness(8))
    # cleared, replaced and erased nodes are all plain zeroed ones again
    assert h.run([Op("z", 3), Op("f", 1), D, V, Op("i", 2), Op("r", 2), Op("z", 2), D]) == (
        ["0", "0", "T .", "ok 0 0", "ok", "ok", "0", "T 2:b . ."]
    )
    assert h.slot[2] == 1 and h.run([Op("w")]) == ["ok"] and h.slot[2] == 0


def test_a_wiped_batch_traces_as_its_parts():
    """`A w B` gives trace(A) + ok + trace(B), every part as it gives alone (same keyspace)."""
    for profile, keyspace in (("small", 64), ("large", 16384)):
        parts = [generate(seed, 3000, profile=profile) for seed in (1, 2, 3)]
        joined = parts[0] + [Op("w")] + parts[1] + [Op("w")] + parts[2]
        alone = [trace_lines(part, keyspace) for part in parts]
        assert trace_lines(joined, keyspace) == alone[0] + ["ok"] + alone[1] + ["ok"] + alone[2]
    # no tree, no cleared node, no slot survives the wipe; `x` keeps node memory, `w` does not
    assert trace_lines(ins(1, 2) + [Op("c", 3), Op("w"), D, Op("f", 1), Op("z", 3), Op("i", 2), D])[2:] == (
        ["ok", "ok", "T .", "0", "0", "ok", "T 2:b . ."]
    )


def test_run_batch_reads_the_text():
    text = encode(ins(1, 2, 3) + [D])
    assert run_batch(text) == "ok\nok\nok\nT 2:b 1:r . . 3:r . .\nEND\n"
    with pytest.raises(ValueError, match="line 1"):
        run_batch("bogus\n")


# ---------------------------------------------------------------- properties
key_ops = st.lists(
    st.tuples(st.sampled_from("iiieer"), st.integers(min_value=0, max_value=40)), max_size=120
)


@settings(max_examples=150, deadline=None)
@given(key_ops)
def test_invariants_and_order_match_sorted_set_model(steps):
    h = Harness(41)
    model: set[int] = set()
    for code, key in steps:
        (result,) = h.run([Op(code, key)])
        if code == "i":
            assert result == ("dup" if key in model else "ok")
            model.add(key)
        elif code == "e":
            assert result == ("ok" if key in model else "absent")
            model.discard(key)
        else:
            assert result == ("ok" if key in model else "absent")
        status = rb.verify(h.root, 82)
        assert status.startswith("ok "), status
    assert rb.keys(h.root) == sorted(model)
    _, count, height = rb.verify(h.root, 82).split()
    assert int(count) == len(model)
    assert int(height) <= math.log2(len(model) + 1) + 1  # black height is logarithmic


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60), max_size=60), st.data())
def test_first_last_next_prev_agree_with_model(inserts, data):
    erases = data.draw(st.lists(st.sampled_from(inserts), max_size=len(inserts))) if inserts else []
    h = Harness(61)
    h.run([Op("i", k) for k in inserts] + [Op("e", k) for k in erases])
    model = sorted(set(inserts) - set(erases))
    lines = h.run([Op("<"), Op(">")] + [Op(c, k) for k in model for c in "np"])
    assert lines[0] == (str(model[0]) if model else "nil")
    assert lines[1] == (str(model[-1]) if model else "nil")
    for i, k in enumerate(model):
        nxt, prv = lines[2 + 2 * i], lines[3 + 2 * i]
        assert nxt == (str(model[i + 1]) if i + 1 < len(model) else "nil"), k
        assert prv == (str(model[i - 1]) if i > 0 else "nil"), k


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=40), st.data())
def test_replace_keeps_dump_and_invariants(inserts, data):
    h = Harness(31)
    h.run([Op("i", k) for k in inserts])
    victim = data.draw(st.sampled_from(sorted(set(inserts))))
    before = h.run([D])
    assert h.run([Op("r", victim), D, V]) == ["ok", before[0], rb.verify(h.root, 62)]
    assert rb.verify(h.root, 62).startswith("ok")
    assert rb.keys(h.root) == sorted(set(inserts))


def test_generated_batches_never_break_the_reference():
    for profile in ("small", "large"):
        ops = generate(11, 20_000, profile=profile)
        lines = trace_lines(ops, 16384)
        checks = [line for op, line in zip(ops, lines) if op.code == "v"]
        assert checks and all(line.startswith("ok ") for line in checks)


def test_reference_is_fast_enough():
    ops = generate(5, 60_000, profile="large")
    start = time.process_time()
    run_ops(ops, 16384)
    rate = len(ops) / (time.process_time() - start)
    # target is 50k ops/s (about 200k/s measured on this profile). Measured in this process's
    # CPU time, not the wall clock a loaded machine stretches; the bound still catches an
    # accidentally quadratic step
    assert rate > 30_000, f"{rate:.0f} ops/s"


# ---------------------------------------------------------------- the API directly
def test_link_node_sides_and_errors():
    root = Root()
    a, b, c = Node(2), Node(1), Node(3)
    rb.link_node(a, None, root)
    rb.insert_color(a, root)
    rb.link_node(b, a, LEFT)
    rb.link_node(c, a, RIGHT)
    assert (root.node, a.left, a.right, b.parent, c.color) == (a, b, c, a, RED)
    assert rb.first(root) is b and rb.last(root) is c and rb.next(b) is a and rb.prev(a) is b
    with pytest.raises(ValueError, match="link_side"):
        rb.link_node(Node(4), c, "middle")


def test_clear_and_empty_node_helpers():
    n = Node(1)
    assert not rb.empty_node(n)
    rb.clear_node(n)
    assert rb.empty_node(n)
    assert rb.next(n) is None and rb.prev(n) is None


# ---------------------------------------------------------------- v catches broken trees
def build(spec, parent=None):
    """A tree from nested (key, 'r'|'b', left, right) tuples, parent links set correctly."""
    if spec is None:
        return None
    key, colour, left, right = spec
    node = Node(key)
    node.color = RED if colour == "r" else BLACK
    node.parent = parent
    node.left = build(left, node)
    node.right = build(right, node)
    return node


GOOD = (4, "b", (2, "r", (1, "b", None, None), (3, "b", None, None)), (6, "b", None, None))


def test_verify_accepts_a_good_hand_built_tree():
    assert rb.verify(Root(build(GOOD)), 100) == "ok 5 2"


def _break_cycle(top):
    top.left.left.left = top  # 1 -> back to 4


def _break_parent(top):
    top.left.right.parent = top


def _break_root_parent(top):
    top.parent = top.left


def _break_order(top):
    top.left.right.key = 5  # 5 in the left subtree of 4


def _break_root_red(top):
    top.color = RED
    top.left.color = BLACK
    top.left.left.color = RED
    top.left.right.color = RED  # black height now 1 everywhere; only the root is wrong


def _break_red_red(top):
    # only red-red is wrong here: every path still has one black node
    return build((2, "b", (1, "r", (0, "r", None, None), None), (3, "r", None, None)))


def _break_black_height(top):
    top.right.color = RED  # right path loses a black


@pytest.mark.parametrize(
    "breaker, what",
    [
        (_break_cycle, "cycle"),
        (_break_parent, "parent"),
        (_break_root_parent, "parent"),
        (_break_order, "order"),
        (_break_root_red, "root-red"),
        (_break_red_red, "red-red"),
        (_break_black_height, "black-height"),
    ],
)
def test_verify_detects_each_kind(breaker, what):
    top = build(GOOD)
    top = breaker(top) or top
    assert rb.verify(Root(top), 100) == f"bad {what}"


def test_verify_reports_in_protocol_order():
    top = build(GOOD)
    _break_black_height(top)
    _break_order(top)
    assert rb.verify(Root(top), 100) == "bad order"  # order outranks black-height
    _break_parent(top)
    assert rb.verify(Root(top), 100) == "bad parent"
    top2 = build(GOOD)
    top2.color = RED  # root-red and black-height both broken
    assert rb.verify(Root(top2), 100) == "bad root-red"


def test_verify_cycle_uses_the_pool_size():
    top = build(GOOD)
    assert rb.verify(Root(top), 5) == "ok 5 2"
    assert rb.verify(Root(top), 4) == "bad cycle"  # more nodes than the pool can hold
