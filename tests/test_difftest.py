"""The differential run's logic on runners made from the reference with planted faults.

These need no C compiler; tests/test_difftest_c.py runs the same logic on compiled fixture
histories.
"""

import json

import pytest

from archeo import ops as opslib
from archeo.subjects.rbtree import generate as rbgen
from archeo.compare import Outcome
from archeo.difftest import Settings, difftest, find_witness, run_digested, run_joined, to_json, trace_digest
from archeo.difftest.protocol import split_digests
from archeo.errors import ArcheoError
from archeo.subjects.rbtree.harness import run_batch

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


def recoloured_then_crashes(batch: str) -> Outcome:
    """Two levels from one fault: a structural difference, then a crash at an erase late in a batch."""
    codes = [line.split()[0] for line in batch.splitlines()[1:]]
    lines = recoloured(batch).lines
    late = [i for i, c in enumerate(codes) if c == "e" and i >= 200]
    return Outcome("crash", lines[: late[0]], kind="SIGSEGV") if late else Outcome("ok", lines)


def test_one_regression_is_one_event_with_every_level_and_a_witness_each():
    result = difftest([("c1", reference), ("c2", recoloured_then_crashes), ("c3", reference)], SMALL, reference=reference)
    (change,) = result.changes
    assert (change.introduced_by, change.ended_by, change.level) == ("c2", "c3", "crash")
    assert change.levels == ("crash", "structural")
    assert [w.level for w in change.witnesses] == ["crash", "structural"] and change.witness is change.witnesses[0]
    document = to_json(result)["changes"][0]
    assert document["levels"] == ["crash", "structural"]
    assert [w["level"] for w in document["witnesses"]] == ["crash", "structural"]


def test_json_is_deterministic():
    history = [("c1", reference), ("c2", recoloured)]
    one = json.dumps(to_json(difftest(history, SMALL, reference=reference)))
    two = json.dumps(to_json(difftest(history, SMALL, reference=reference)))
    assert one == two
    doc = json.loads(one)
    assert doc["revisions"][1]["vs_previous"] == "structural"
    assert doc["changes"][0]["witness"][-1] == "d"


def test_witness_keeps_the_level():
    ops = rbgen.generate(7, 200, profile="small")
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


# ---------------------------------------------------------------- seeds joined with `w`
def ops_of(batch: str) -> list[str]:
    return batch.splitlines()[1:]


def stops_at(code: str, status: str, kind: str):
    """A fake that stops (crash, hang, error) at the first `code` op answered `ok`."""

    def run(batch: str) -> Outcome:
        lines = reference(batch).lines
        for i, op in enumerate(ops_of(batch)):
            if op.startswith(code + " ") and lines[i] == "ok":
                return Outcome(status, lines[:i], kind=kind)
        return Outcome("ok", lines)

    return run


def ignores_wipe(answer):
    """A runner from before `w`: rejects it (`answer` None) or answers it with `answer`."""

    def run(batch: str) -> Outcome:
        if "\nw\n" not in batch:
            return reference(batch)
        if answer is None:
            return Outcome("error", (), kind="batch")
        return Outcome("ok", tuple(answer if op == "w" else line for op, line in zip(ops_of(batch), reference(batch).lines)))

    return run


class Spy:
    """Counts the runs and the batches' headers."""

    def __init__(self, run):
        self.run, self.batches = run, []

    def __call__(self, batch: str) -> Outcome:
        self.batches.append(batch)
        return self.run(batch)


BATCHES = [opslib.encode(rbgen.generate(seed, 400, profile="small"), 64) for seed in range(8)]


@pytest.mark.parametrize(
    "runner",
    [reference, recoloured, without_iterators, crashes_on_erase, stops_at("r", "hang", "cpu-limit"),
     stops_at("c", "error", "output-limit"), ignores_wipe(None), ignores_wipe("NA")],
    ids=["reference", "recoloured", "without-iterators", "crash", "hang", "error", "rejects-w", "w-is-NA"],
)
def test_joined_runs_give_each_batch_its_own_outcome(runner):
    spy = Spy(runner)
    assert run_joined(spy, BATCHES) == [runner(b) for b in BATCHES]
    assert any("\nw\n" in b for b in spy.batches)


def test_joined_runs_save_processes_and_resume_after_a_stop():
    spy = Spy(reference)
    run_joined(spy, BATCHES)
    assert len(spy.batches) == 1 and spy.batches[0].count("\nw\n") == 7
    # a crash in every batch: each run settles the batch it stops in, the rest are joined again
    spy = Spy(crashes_on_erase)
    outs = run_joined(spy, BATCHES)
    assert all(o.status == "crash" for o in outs) and len(spy.batches) == len(BATCHES)
    assert [b.count("\nw\n") for b in spy.batches] == [7, 6, 5, 4, 3, 2, 1, 0]
    # a runner that rejects `w` is asked once, then gets one batch per run
    spy = Spy(ignores_wipe(None))
    run_joined(spy, BATCHES)
    assert len(spy.batches) == 1 + len(BATCHES)


class DigestSpeaker:
    """A fake of the harness's digest mode over a runner: each segment of a joined batch gives
    its digest when it runs to the end, else its own lines and the run stops there."""

    def __init__(self, run):
        self.run, self.whole, self.digested = run, 0, 0

    def __call__(self, batch: str) -> Outcome:
        self.whole += 1
        return self.run(batch)

    def digests(self, batch: str) -> Outcome:
        self.digested += 1
        header, body = batch.split("\n", 1)
        lines: list[str] = []
        segments = body.split("w\n")
        for j, segment in enumerate(segments):
            out = self.run(header + "\n" + segment)
            if out.status != "ok":
                return Outcome(out.status, tuple(lines) + out.lines, out.kind)
            lines.append(trace_digest(out))
            if j < len(segments) - 1:
                lines.append("ok")
        return Outcome("ok", tuple(lines))


@pytest.mark.parametrize(
    "runner", [reference, without_iterators, crashes_on_erase, stops_at("r", "hang", "cpu-limit")],
    ids=["reference", "without-iterators", "crash", "hang"],
)
def test_digested_runs_give_digests_of_finished_batches_and_outcomes_of_stopped_ones(runner):
    speaker = DigestSpeaker(runner)
    expected = [runner(b) for b in BATCHES]
    got = run_digested(speaker, BATCHES)
    assert got == [trace_digest(o) if o.status == "ok" else o for o in expected]
    assert speaker.whole == 0  # nothing needed a whole trace


def test_digests_that_cannot_say_how_a_batch_ended_send_it_whole():
    sizes = [3, 3, 3]
    d = [trace_digest(Outcome("ok", (str(i),) * 3)) for i in range(3)]
    # stopped inside the second `w`: the first two are settled, the third is run alone
    assert split_digests(Outcome("hang", (d[0], "ok", d[1]), "cpu-limit"), sizes) == ([d[0], d[1]], True)
    # killed by the wall clock, or its lines dropped past the harness's cap: run alone
    assert split_digests(Outcome("hang", (d[0], "ok", "ok"), "timeout"), sizes) == ([d[0]], True)
    assert split_digests(Outcome("crash", (d[0], "ok", "#dropped", "ok"), "SIGSEGV"), sizes) == ([d[0]], True)
    # a stop with its own lines is that batch's outcome
    assert split_digests(Outcome("crash", (d[0], "ok", "ok", "dup"), "SIGSEGV"), sizes) == (
        [d[0], Outcome("crash", ("ok", "dup"), "SIGSEGV")], False)
    # not digest mode at all, or more lines than operations: None (read the traces whole)
    assert split_digests(Outcome("ok", ("ok",) * 11), sizes) is None
    assert split_digests(Outcome("crash", (d[0], "ok") + ("ok",) * 4, "SIGSEGV"), sizes) is None


def test_a_timeout_is_never_blamed_on_the_batch_its_lines_end_in():
    """Killed from outside, a run's lines end at its last flush: that batch is run again."""
    calls = []

    def killed_once(batch: str) -> Outcome:
        calls.append(batch)
        if len(calls) == 1:  # the joined run: killed, its lines end inside the third batch
            return Outcome("hang", reference(batch).lines[: 2 * 401 + 100], kind="timeout")
        return reference(batch)

    assert run_joined(killed_once, BATCHES[:5]) == [reference(b) for b in BATCHES[:5]]
    assert calls[1] == opslib.encode(opslib.decode(BATCHES[2]) + [opslib.WIPE] + opslib.decode(BATCHES[3]) + [opslib.WIPE] + opslib.decode(BATCHES[4]), 64)


def test_difftest_joins_seeds_per_keyspace_only():
    """One joined batch per header: a pool of another size would cut a cycle's dump elsewhere.
    A seed's keyspace is its profile's, so there is one header per profile."""
    spy = Spy(reference)
    settings = Settings(seeds=6, ops=300, profiles=("small", "large"))
    difftest([("a", spy)], settings, reference=reference, shrink=False)
    headers = [b[: b.index("\n")] for b in spy.batches]
    assert sorted(headers) == ["archeo-batch 1 16384", "archeo-batch 1 64"]
    assert [settings.keyspace(i) for i in range(3)] == [64, 16384, 64]
    assert all(opslib.needed_keyspace(ops) <= settings.keyspace(i) for i, (_, ops) in enumerate(settings.sequences()))


@pytest.mark.parametrize("seeds, profiles", [(3, ("small",)), (6, ("small", "large"))])
def test_combined_and_per_seed_difftests_are_byte_identical(seeds, profiles):
    history = [("c1", without_iterators), ("c2", reference), ("c3", recoloured), ("c4", stops_at("r", "hang", "cpu-limit")),
               ("c5", crashes_on_erase), ("c6", reference)]
    settings = Settings(seeds=seeds, ops=300, profiles=profiles)
    one = json.dumps(to_json(difftest(history, settings, reference=reference, combine=True)))
    two = json.dumps(to_json(difftest(history, settings, reference=reference, combine=False)))
    assert one == two


def _outcome_line_by_line(run) -> Outcome:
    """The obvious reading of docs/protocol.md, one line at a time: what Outcome.of_run must equal."""
    lines = run.stdout.split("\n")
    body = []
    for line in lines:
        if line == "END" or line.startswith("SIGNAL "):
            break
        body.append(line)
    if body and body[-1] == "" and len(body) == len(lines):
        body.pop()
    status = "error" if run.status == "ok" and "END" not in lines else run.status
    return Outcome(status=status, lines=tuple(body), kind=run.kind)


def test_a_trace_read_fast_is_the_same_outcome():
    """Outcome.of_run (no Python loop over lines) against a line-by-line reading, every small shape."""
    import itertools

    from archeo.records import RunResult

    tokens = ["ok", "END", "SIGNAL 11", "SIGNAL", "", "T 1:b . .", "ENDX", "1"]
    for n in range(5):
        for combo in itertools.product(tokens, repeat=n):
            for tail in ("", "\n"):
                for status in ("ok", "crash"):
                    run = RunResult(status=status, stdout="\n".join(combo) + tail, lines=0, kind="k")
                    assert Outcome.of_run(run) == _outcome_line_by_line(run), run.stdout


def test_behaviour_returning_after_two_changes_ends_both():
    """A -> B -> C -> A: the return to A ends the A->B change and the B->C one opened since."""
    history = [("a1", reference), ("b", recoloured), ("c", crashes_on_erase), ("a2", reference)]
    result = difftest(history, SMALL, reference=reference)
    ends = {c.introduced_by: c.ended_by for c in result.changes}
    assert ends == {"b": "a2", "c": "a2"}


def test_previous_follows_parents_not_the_list():
    """On a branchy history a revision is compared with its ancestor, not with the one listed before."""
    history = [("base", reference), ("side", recoloured), ("main", reference)]
    parents = {"base": (), "side": ("base",), "main": ("base",)}
    result = difftest(history, SMALL, reference=reference, parents=parents)
    by = {v.commit: v for v in result.revisions}
    assert by["main"].vs_previous.other == "base" and by["main"].vs_previous.level == "same"
    assert [c.introduced_by for c in result.changes] == ["side"]


def test_two_hangs_are_the_same_behaviour_however_cut_off():
    from archeo.compare import compare

    a = Outcome("hang", ("ok", "ok", "ok"), kind="cpu-limit")
    b = Outcome("hang", ("ok",), kind="timeout")
    assert compare(["i", "i", "i", "i"], a, b).level == "same"


def test_a_change_behind_an_unbuilt_revision_names_it():
    """A, F (did not build), B: B differs from A, but F may be the culprit; the change says so."""
    history = [("a", reference), ("f", None), ("b", recoloured)]
    result = difftest(history, SMALL, reference=reference)
    (change,) = result.changes
    assert change.introduced_by == "b" and change.previous == "a" and change.untested_between == ("f",)
    assert to_json(result)["changes"][0]["untested_between"] == ["f"]


def test_sequences_made_beforehand_give_the_same_result_and_must_match_the_settings():
    subjects = [("a", reference), ("b", recoloured)]
    made = SMALL.sequences()
    given = difftest(subjects, SMALL, reference=reference, shrink=False, sequences=made)
    assert json.dumps(to_json(given)) == json.dumps(to_json(difftest(subjects, SMALL, reference=reference, shrink=False)))
    with pytest.raises(ValueError, match="not those of the settings"):
        difftest(subjects, SMALL, reference=reference, shrink=False, sequences=made[1:])


def test_a_revision_lacking_operations_is_matched_to_the_reference_restricted_to_its_api():
    """A 2004-like runner answers NA for the iterators: its digests are those of the reference
    with NA there, so nothing is read whole, and the result is that of whole traces."""
    speaker = DigestSpeaker(without_iterators)
    speaker.ops = tuple(sorted(opslib.CODES - set("<>nprcz") - {"w"}))
    settings = Settings(seeds=4, ops=600)
    digested = difftest([("a", speaker)], settings, shrink=False, jobs=1)
    whole = difftest([("a", without_iterators)], settings, shrink=False, jobs=1)
    assert json.dumps(to_json(digested)) == json.dumps(to_json(whole))
    assert digested.revisions[0].vs_reference.level == "api"
    assert speaker.whole == 0 and speaker.digested >= 1
    # told it offers everything, its digests match nothing it can guess: read whole
    everything = DigestSpeaker(without_iterators)
    everything.ops = tuple(sorted(opslib.CODES))
    again = difftest([("a", everything)], settings, shrink=False, jobs=1)
    assert json.dumps(to_json(again)) == json.dumps(to_json(whole)) and everything.whole >= 1


def test_a_witness_is_the_shorter_of_the_first_seed_and_the_soonest_seed_shrunk():
    """The levels name the first seed showing each; the witness is shrunk from it and from the
    seed that shows the level after the fewest operations, and the shorter is kept (the first
    seed's on a tie)."""
    settings = Settings(seeds=6, ops=300, profiles=("small",))
    first_erase = []
    for (seed, ops), batch in zip(settings.sequences(), settings.batches(settings.sequences())):
        lines = reference(batch).lines
        first_erase.append(next(i for i, (op, line) in enumerate(zip(ops, lines)) if op.code == "e" and line == "ok"))
    soonest = first_erase.index(min(first_erase))
    assert soonest != 0, "seed 0 shows it soonest: the test tests nothing"
    pv = difftest([("c1", crashes_on_erase)], settings, reference=reference).revisions[0].vs_reference
    assert pv.levels == (("crash", 0),) and pv.seed == 0
    sequences = dict(settings.sequences())
    shrunk = {seed: find_witness(sequences[seed], seed, "reference", "c1", reference, crashes_on_erase, "crash")
              for seed in (0, soonest)}
    shortest = min(len(w.ops) for w in shrunk.values())
    assert len(pv.witness.ops) == shortest and pv.witness.b_status == "crash"
    assert pv.witness.seed == (0 if len(shrunk[0].ops) == shortest else soonest)


def test_a_reference_process_that_dies_midway_is_one_error():
    """The forked reference sends each seed's trace as it has it: one that dies after some
    seeds ends the run with one ArcheoError (not a hang waiting for the rest)."""
    from archeo.difftest import ReferenceProcess

    batches = SMALL.batches(SMALL.sequences())

    class DiesOnTheSecond:
        seen = 0

        def run_batch(self, batch: str) -> str:
            self.seen += 1
            if self.seen == 2:
                import os

                os._exit(3)
            return run_batch(batch)

    got = []
    with pytest.raises(ArcheoError, match="the reference process died"):
        for text in ReferenceProcess(batches, DiesOnTheSecond()).results():
            got.append(text)
    assert got == [run_batch(batches[0])]
