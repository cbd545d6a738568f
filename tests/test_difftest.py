"""The differential run's logic on runners made from the reference with planted faults.

These need no C compiler; tests/test_difftest_c.py runs the same logic on compiled fixture
histories.
"""

import json

import pytest

from archeo import ops as opslib
from archeo.compare import Outcome
from archeo.difftest import Settings, difftest, find_witness, to_json
from archeo.errors import ArcheoError
from archeo.reference import run_batch

SMALL = Settings(seeds=3, ops=300, profiles=("small",))


def reference(batch: str) -> Outcome:
    return Outcome.of_trace(run_batch(batch))


def without_iterators(batch: str) -> Outcome:
    """Like a 2004 revision: no first/last/next/prev/replace/clear/empty."""
    codes = [line.split()[0] for line in batch.splitlines()[1:]]
    lines = reference(batch).lines
    return Outcome("ok", tuple("NA" if c in "<>nprcz" else line for c, line in zip(codes, lines)))


def recoloured(batch: str) -> Outcome:
    """A planted structural difference: dumps of trees with 3+ nodes show the root red."""
    lines = [l.replace(":b", ":r", 1) if l.startswith("T ") and l.count(":") >= 3 else l for l in reference(batch).lines]
    return Outcome("ok", tuple(lines))


def crashes_on_erase(batch: str) -> Outcome:
    codes = [line.split()[0] for line in batch.splitlines()[1:]]
    lines = reference(batch).lines
    for i, c in enumerate(codes):
        if c == "e" and lines[i] == "ok":
            return Outcome("crash", lines[:i], kind="SIGSEGV")
    return Outcome("ok", lines)


def test_no_change_no_findings():
    result = difftest([("a", reference), ("b", reference)], SMALL, reference=reference)
    assert [v.vs_reference.level for v in result.revisions] == ["same", "same"]
    assert result.revisions[1].vs_previous.level == "same"
    assert result.changes == []
    assert result.classes == [["a", "b"]]


def test_changes_are_attributed_shrunk_and_ended():
    history = [
        ("c1", without_iterators),
        ("c2", reference),  # API additions
        ("c3", recoloured),  # structural change
        ("c4", reference),  # ...which ends here
        ("c5", crashes_on_erase),
    ]
    result = difftest(history, SMALL, reference=reference)
    levels = {c.introduced_by: c.level for c in result.changes}
    # c4 brings back c2's behaviour: it ends c3's change rather than starting one.
    assert levels == {"c2": "api", "c3": "structural", "c5": "crash"}
    by_commit = {c.introduced_by: c for c in result.changes}
    assert by_commit["c3"].ended_by == "c4"
    assert by_commit["c2"].ended_by is None
    for change in result.changes:
        assert change.witness is not None and 1 <= len(change.witness.ops) <= 12, change
    assert len(by_commit["c2"].witness.ops) == 1  # one iterator op is enough
    crash = by_commit["c5"].witness
    assert crash.b_status == "crash" and any(op.startswith("e ") for op in crash.ops)
    assert result.classes == [["c1"], ["c2", "c4"], ["c3"], ["c5"]]


def test_json_is_deterministic():
    history = [("c1", reference), ("c2", recoloured)]
    one = json.dumps(to_json(difftest(history, SMALL, reference=reference)))
    two = json.dumps(to_json(difftest(history, SMALL, reference=reference)))
    assert one == two
    doc = json.loads(one)
    assert doc["revisions"][1]["vs_previous"] == "structural"
    assert doc["changes"][0]["witness"][-1] == "d"


def test_witness_keeps_the_level():
    ops = opslib.generate(7, 200, profile="small")
    witness = find_witness(ops, 7, "reference", "x", reference, recoloured, "structural")
    assert witness.level == "structural"
    assert witness.ops[-1] == "d"
    assert sum(op.startswith("i ") for op in witness.ops) >= 3
    assert witness.a_lines != witness.b_lines


@pytest.mark.parametrize(
    "kwargs", [dict(seeds=0), dict(seeds=10**6), dict(ops=1), dict(first_seed=-1)]
)
def test_settings_out_of_range_are_one_line_errors(kwargs):
    with pytest.raises(ArcheoError) as err:
        Settings(**kwargs)
    assert "out of range" in str(err.value) and "\n" not in str(err.value)
