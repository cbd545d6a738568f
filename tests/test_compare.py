"""Trace comparison: each kind of difference gets its level, the strongest wins."""

from archeo.compare import Outcome, compare, strongest
from archeo.subjects.rbtree.lines import line_level
from archeo.records import RunResult


def out(*lines, status="ok", kind=""):
    return Outcome(status=status, lines=tuple(lines), kind=kind)


def test_line_levels():
    assert line_level("<", "NA", "3") == "api"
    assert line_level("d", "T 2:b . .", "T 2:r . .") == "structural"
    assert line_level("v", "ok 3 2", "bad red-red") == "invariant"
    assert line_level("v", "ok 3 2", "ok 4 2") == "observable"
    assert line_level("v", "ok 3 2", "ok 3 1") == "structural"
    assert line_level("f", "1", "0") == "observable"
    assert line_level("f", "1", "1") == "same"


def test_strongest_difference_wins_and_is_located():
    codes = ["i", "<", "d", "f"]
    verdict = compare(codes, out("ok", "NA", "T 1:b . .", "1"), out("ok", "1", "T 1:r . .", "0"))
    assert verdict.level == "observable"
    assert verdict.index == 3


def test_crash_and_hang_outrank_everything():
    codes = ["i", "i", "d"]
    assert compare(codes, out("ok", "ok", "T ."), out("ok", status="crash", kind="SIGSEGV")).level == "crash"
    assert compare(codes, out("ok", "ok", "T ."), out("ok", status="hang", kind="timeout")).level == "hang"


def test_identical_crashes_are_the_same_behaviour():
    codes = ["i", "e"]
    a = out("ok", status="crash", kind="SIGSEGV")
    assert compare(codes, a, a).level == "same"


def test_outcome_of_run_strips_end_and_signal_and_flags_cut_traces():
    whole = Outcome.of_run(RunResult(status="ok", stdout="ok\n1\nEND\n", lines=2))
    assert whole.lines == ("ok", "1") and whole.status == "ok"
    cut = Outcome.of_run(RunResult(status="ok", stdout="ok\n1\n", lines=2))
    assert cut.status == "error"
    crashed = Outcome.of_run(RunResult(status="crash", stdout="ok\nSIGNAL 11\n", lines=1, kind="SIGSEGV"))
    assert crashed.lines == ("ok",)


def test_strongest_orders_levels():
    assert strongest(["api", "structural", "same"]) == "structural"
    assert strongest([]) == "same"


def test_a_verdict_swapped_is_the_verdict_of_the_sides_swapped():
    """Both sides ran to the end: swapping the sides changes only the order in `detail`."""
    from archeo.compare import swapped

    codes = ["i", "<", "d", "v", "n"]
    a = Outcome("ok", ("ok", "NA", "T 1:b . .", "ok 1 1", "nil"))
    for b in (Outcome("ok", ("ok", "1", "T 1:b . .", "ok 1 1", "nil")),
              Outcome("ok", ("ok", "1", "T 1:r . .", "bad root-red", "nil")),
              Outcome("ok", ("ok", "NA", "T 1:b . .", "ok 1 1"))):
        assert swapped(compare(codes, a, b), a, b) == compare(codes, b, a)
    # a crash beside a hang is not symmetric: compare again
    assert swapped(compare(codes, a, Outcome("crash", ("ok",), "SIGSEGV")), a, Outcome("crash", ("ok",), "SIGSEGV")) is None


def test_levels_are_ordered_by_strength_and_read_as_their_names():
    import json

    from archeo.levels import Level

    assert list(Level) == sorted(Level, key=lambda level: level.rank)
    assert Level.API < Level.STRUCTURAL < Level.CRASH and Level.HANG > "flaky" and not Level.CRASH < "api"
    assert sorted(["crash", "api", "same"], key=Level) == ["same", "api", "crash"]  # not the alphabet
    assert Level.strongest(["api", "crash", "invariant"]) is Level.CRASH and Level.strongest([]) is Level.SAME
    assert json.dumps({Level.API: [Level.HANG]}) == '{"api": ["hang"]}' and f"{Level.FLAKY}" == "flaky"
