"""Op sequences as data: the text and JSON forms, seeded generation, and shrinking."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archeo import ops as O
from archeo.ops import Op
from archeo.subjects.rbtree import generate as G
from archeo.subjects.rbtree.generate import Mix
from archeo.subjects.rbtree.harness import run_ops

op_strategy = st.one_of(
    st.builds(Op, st.sampled_from(sorted(O.KEYED)), st.integers(min_value=0, max_value=2000)),
    st.sampled_from(sorted(O.BARE)).map(Op),
)


# ---------------------------------------------------------------- Op
def test_op_text_forms():
    assert str(Op("i", 5)) == "i 5" and str(Op("d")) == "d"
    assert Op.parse("e 12") == Op("e", 12) and Op.parse("<") == Op("<")


@pytest.mark.parametrize(
    "token, message",
    [
        ("q 1", "unknown code"),
        ("i", "needs exactly one key"),
        ("i -3", "not a non-negative integer"),
        ("i x", "not a non-negative integer"),
        ("d 4", "takes no key"),
        ("", "empty op"),
    ],
)
def test_op_parse_errors(token, message):
    with pytest.raises(ValueError, match=message):
        Op.parse(token)


def test_wipe_is_a_bare_op_the_generator_never_emits():
    assert Op.parse("w") == O.WIPE == Op("w") and str(O.WIPE) == "w" and "w" in O.BARE
    with pytest.raises(ValueError, match="takes no key"):
        Op.parse("w 3")
    text = O.encode([Op("i", 5), O.WIPE, Op("i", 2)])
    assert text == "archeo-batch 1 6\ni 5\nw\ni 2\n" and O.decode(text)[1] == O.WIPE
    for seed in range(4):
        for profile in ("small", "large"):
            assert O.WIPE not in G.generate(seed, 3000, profile=profile)


def test_op_constructor_validates():
    with pytest.raises(ValueError):
        Op("i")
    with pytest.raises(ValueError):
        Op("v", 3)
    with pytest.raises(ValueError):
        Op("i", True)


# ---------------------------------------------------------------- encode / decode / json
def test_encode_layout():
    text = O.encode([Op("i", 5), Op("e", 3), Op("d")])
    assert text == "archeo-batch 1 6\ni 5\ne 3\nd\n"
    assert O.encode([Op("d")]).startswith("archeo-batch 1 1\n")
    assert O.encode([Op("i", 1)], keyspace=100).startswith("archeo-batch 1 100\n")


def test_encode_rejects_bad_keyspace():
    with pytest.raises(ValueError, match="too small"):
        O.encode([Op("i", 9)], keyspace=5)
    with pytest.raises(ValueError, match="keyspace"):
        O.encode([Op("i", 1)], keyspace=O.MAX_KEYSPACE + 1)


@settings(max_examples=100, deadline=None)
@given(st.lists(op_strategy, max_size=50))
def test_encode_decode_json_round_trip(ops):
    text = O.encode(ops)
    assert O.decode(text) == ops
    batch = O.decode_batch(text)
    assert batch.keyspace == O.needed_keyspace(ops) and batch.encode() == text
    data = O.to_json(ops)
    assert O.from_json(data) == ops
    assert O.from_json(json.dumps(data)) == ops
    assert O.from_json(data["ops"]) == ops


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "line 1: empty batch"),
        ("archeo-batch 2 5\n", "line 1: unsupported batch version"),
        ("hello\n", "line 1: bad header"),
        ("archeo-batch 1 0\n", "line 1: keyspace must be"),
        ("archeo-batch 1 5\ni 1\ne 7\n", "line 3: key 7 is outside the keyspace 0..4"),
        ("archeo-batch 1 5\ni 1\nd\nzap\n", "line 4: .*unknown code"),
        ("archeo-batch 1 5\n\n", "line 2: empty op"),
    ],
)
def test_decode_errors_name_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        O.decode(text)


def test_from_json_errors():
    with pytest.raises(ValueError, match="no 'ops'"):
        O.from_json({"seed": 1})
    with pytest.raises(ValueError, match=r"ops\[1\]"):
        O.from_json({"ops": ["i 1", 7]})
    with pytest.raises(ValueError, match=r"ops\[0\]"):
        O.from_json(["q"])


# ---------------------------------------------------------------- generate
def test_generate_is_deterministic():
    assert G.generate(42, 3000) == G.generate(42, 3000)
    assert G.generate(42, 3000) != G.generate(43, 3000)
    assert G.generate(7, 2000, profile="large") == G.generate(7, 2000, profile="large")


@pytest.mark.parametrize("n_ops", [1, 2, 3, 7, 100, 1234])
@pytest.mark.parametrize("profile", ["small", "large"])
def test_generate_exact_length_and_final_checkpoint(n_ops, profile):
    ops = G.generate(3, n_ops, profile=profile)
    assert len(ops) == n_ops
    assert [str(op) for op in ops[-2:]] == (["d", "v"] if n_ops >= 2 else ["v"])
    assert all(op.key is None or op.key < G.PROFILES[profile].keyspace for op in ops)


def test_small_profile_resets_and_checks_often():
    ops = G.generate(1, 5000)
    codes = "".join(op.code for op in ops)
    assert 50 < codes.count("x") < 300
    gaps = [len(chunk) for chunk in codes.replace("dv", "|").split("|")[:-1]]
    assert max(gaps) <= 25  # a d+v every few ops (iteration chains may stretch a gap)
    assert all(codes[i - 2 : i] == "dv" for i, c in enumerate(codes) if c == "x")


def test_large_profile_grows_big_and_checks_every_500():
    ops = G.generate(1, 6000, profile="large")
    lines = run_ops(ops, G.PROFILES["large"].keyspace).split("\n")
    sizes = [int(line.split()[1]) for op, line in zip(ops, lines) if op.code == "v"]
    assert "x" not in {op.code for op in ops}
    assert max(sizes) >= 3000
    where = [i for i, op in enumerate(ops) if op.code == "d"]
    assert all(450 <= b - a <= 600 for a, b in zip(where, where[1:-1]))


def test_generate_respects_the_mix():
    mix = Mix().only(find=1)
    codes = Counter(op.code for op in G.generate(5, 2000, mix=mix))
    assert set(codes) <= {"f", "d", "v", "x"} and codes["f"] > 1000
    mix = Mix().only(insert_new=3, erase_present=1)
    ops = G.generate(5, 20000, mix=mix, keyspace=1_000_000, profile="large")
    body = ops[4000:]  # after the fill phase
    counts = Counter(op.code for op in body)
    ratio = counts["i"] / counts["e"]
    assert 2.6 < ratio < 3.4, ratio
    # no replace/clear/empty when their weights are 0
    assert not {"r", "c", "z", "<", ">", "n", "p"} & set(counts)


def test_mix_from_dict_and_errors():
    assert Mix.of({"find": 0}).find == 0 and Mix.of({"find": 0}).insert_new == Mix().insert_new
    with pytest.raises(ValueError, match="unknown mix"):
        Mix.of({"fly": 1})
    with pytest.raises(ValueError, match="all be 0"):
        Mix().only()
    with pytest.raises(ValueError, match="erase_absent"):
        Mix(erase_absent=-1)


def test_generated_ops_mean_what_they_say():
    """The generator's model agrees with the tree: new inserts succeed, chains walk real keys."""
    mix = Mix().only(insert_new=4, insert_dup=1, erase_present=2, erase_absent=1, iter_forward=1,
                     iter_backward=1)
    ops = G.generate(9, 4000, mix=mix)
    lines = run_ops(ops, 64).split("\n")
    results = Counter((op.code, line) for op, line in zip(ops, lines))
    assert results[("i", "ok")] > 0 and results[("i", "dup")] > 0
    assert results[("e", "ok")] > 0 and results[("e", "absent")] > 0
    assert results[("n", "absent")] == results[("p", "absent")] == 0
    steps = 0
    for i, op in enumerate(ops[:-1]):  # within a chain, each step names the key the tree returned
        following = ops[i + 1]
        if op.code in "np" and following.code == op.code:
            assert lines[i] == str(following.key)
            steps += 1
    assert steps > 100


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seed": -1, "n_ops": 5}, r"seed must be an integer with 0 <= seed < 4294967296, got -1"),
        ({"seed": 2**32, "n_ops": 5}, "seed must be"),
        ({"seed": 1, "n_ops": 0}, r"n_ops must be an integer with 1 <= n_ops <= 10000000, got 0"),
        ({"seed": 1, "n_ops": 10_000_001}, "n_ops must be"),
        ({"seed": 1, "n_ops": 5, "keyspace": 1_048_577}, r"keyspace must be .* got 1048577"),
        ({"seed": 1, "n_ops": 5, "keyspace": 0}, "keyspace must be"),
        ({"seed": 1, "n_ops": 5, "profile": "huge"}, "profile must be one of"),
    ],
)
def test_generate_validation(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        G.generate(**kwargs)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- shrinking
def contains_in_order(*needles):
    """A synthetic failure: the needles appear as a subsequence."""

    def still_fails(ops):
        it = iter(ops)
        return all(any(op == needle for op in it) for needle in needles)

    return still_fails


def test_ddmin_finds_the_minimal_subsequence():
    ops = G.generate(2, 400)
    needles = [ops[37], ops[150], ops[151], ops[390]]
    result = O.ddmin(ops, contains_in_order(*needles))
    assert result == needles


@settings(max_examples=40, deadline=None)
@given(st.lists(op_strategy, min_size=1, max_size=60), st.data())
def test_ddmin_result_fails_and_is_one_minimal(ops, data):
    picks = data.draw(st.lists(st.sampled_from(range(len(ops))), min_size=1, max_size=4, unique=True))
    still_fails = contains_in_order(*[ops[i] for i in sorted(picks)])
    result = O.ddmin(ops, still_fails)
    assert still_fails(result)
    assert all(not still_fails(result[:i] + result[i + 1 :]) for i in range(len(result)))


def test_ddmin_rejects_a_passing_input():
    with pytest.raises(ValueError, match="do not fail"):
        O.ddmin([Op("d")], lambda ops: False)


def test_shrink_keys_renumbers_and_merges():
    ops = [Op("i", 700), Op("i", 90), Op("e", 700), Op("f", 5000)]

    def two_keys_erased_after_insert(candidate):
        inserted = [op.key for op in candidate if op.code == "i"]
        return len(set(inserted)) == 2 and any(op.code == "e" for op in candidate)

    result = O.shrink_keys(ops, two_keys_erased_after_insert)
    assert two_keys_erased_after_insert(result)
    assert {op.key for op in result} <= {0, 1}
    assert [op.code for op in result] == ["i", "i", "e", "f"]


def test_shrink_on_a_reference_based_failure():
    """A realistic predicate: "some v line reports black height >= 3"."""
    ops = G.generate(4, 3000, profile="large", keyspace=5000)

    def tall(candidate):
        trace = run_ops(candidate).split("\n")
        return any(
            op.code == "v" and line.startswith("ok") and int(line.split()[2]) >= 3
            for op, line in zip(candidate, trace)
        )

    assert tall(ops)
    result = O.shrink(ops, tall)
    assert tall(result)
    assert result[-1] == Op("v")
    assert len(result) <= 16  # a dozen inserts and the v (12 when this was written)
    assert max(op.key for op in result if op.key is not None) < len(result)


def test_shrink_cuts_to_the_failing_prefix_and_segment():
    """Failure: some key is erased twice with no insert between (the second erase is absent)."""

    def erased_twice(candidate):
        gone = set()
        for op in candidate:
            if op.code == "i":
                gone.discard(op.key)
            elif op.code == "e":
                if op.key in gone:
                    return True
                gone.add(op.key)
        return False

    ops = G.generate(8, 3000, mix=Mix().only(insert_new=5, erase_present=3, erase_absent=1))
    assert erased_twice(ops)
    result = O.shrink(ops, erased_twice, reset="x")
    assert result == [Op("e", 0), Op("e", 0)]
