"""Both trees of a witness, and a broken tree drawn as what it is: a node that is its own child."""

from __future__ import annotations

from archeo.report.witness_trees import trees_html, trees_md, witness_trees
from archeo.subjects.rbtree.draw import differing_keys, draw_svg, draw_text, parse_dump

# What a harness's bounded walk prints when 2's right child points back to 2 (docs/protocol.md)
SELF_CHILD = "T 2:b 0:r . . 2:b 0:r . . 2:b 0:r . . !cycle"
GOOD = "T 2:b 0:r . ."


def test_a_node_met_again_below_itself_is_a_link_back_not_a_parse_error():
    root = parse_dump(SELF_CHILD)
    assert (root.key, root.left.key, root.right.kind, root.right.key) == ("2", "0", "back", "2")
    text = draw_text(SELF_CHILD)
    assert "↺2" in text and "not a tree" not in text
    svg = draw_svg(SELF_CHILD)
    assert "↺2" in svg and "leads back to 2" in svg and "<path" in svg


def test_what_the_walk_never_reached_is_drawn_as_unwalked():
    root = parse_dump("T 5:b 3:r 5:b . . . 7:r . .")  # 3's left child leads back to 5
    assert root.left.left.kind == "back" and root.right.kind == "unwalked"
    assert "…" in draw_text("T 5:b 3:r 5:b . . . 7:r . .")


def test_the_link_back_is_what_differs():
    assert "↺2" in differing_keys("T 2:b 0:r . . .", SELF_CHILD)


def _witness(**trees) -> dict:
    return {
        "a": "reference", "b": "e" * 40, "level": "hang", "seed": 0, "original_length": 100,
        "ops": ["i 0", "i 2", "i 1", "e 1", ">"],
        "a_outcome": {"status": "ok", "kind": "", "results": ["ok", "ok", "ok", "ok", "2"]},
        "b_outcome": {"status": "hang", "kind": "cpu-limit", "results": ["ok", "ok", "ok", "ok"]},
        **({"trees": trees} if trees else {}),
    }


def test_a_hang_is_drawn_with_both_trees_before_the_operation_that_hung():
    w = _witness(after=4, a="T 2:b 0:r . . .", b=SELF_CHILD)
    t = witness_trees(w)
    assert t.caption == "Trees after operation 4, just before operation 5 (last), where the run hung"
    md = "\n".join(trees_md(w, "reference", "eeeeeeeeeeee"))
    assert "↺2" in md and "reference" in md and "eeeeeeeeeeee" in md
    html = trees_html(w, "reference", "eeeeeeeeeeee")
    assert html.count("<svg") == 2 and "↺K" in html


def test_no_tree_in_play_and_old_witnesses():
    assert witness_trees(_witness()) is None  # no trees recorded, no `d` in the ops
    old = _witness()
    old["ops"] = old["ops"][:4] + ["d"]
    old["a_outcome"]["results"][4] = GOOD + " ."
    assert witness_trees(old).caption == "Trees at the last dump"
