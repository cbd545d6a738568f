"""Confirmation (archeo/confirm.py): a timing limit is a suspicion, a crash is run again, and
what does not reproduce is `flaky`; nothing unconfirmed reaches the cache.

The C programs are our own fixtures (tests/fixtures): a correct tree under a deliberately tiny
budget, a real endless loop (`hang`), and a crash that depends on the node's address (`aslr`).
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

import histories as H
from archeo import confirm
from archeo.cache import Cache
from archeo.compare import LEVELS, Outcome, compare, rank
from archeo.confirm import settle
from archeo.difftest import Settings, difftest
from archeo.execute import Executor, Limits
from archeo.mine import mine
from archeo.pipeline import ProgramRunner, RunConfig, build_all, difftest_all, parse_all
from archeo.records import Target

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="building programs needs gcc")

OK = Outcome("ok", ("ok", "ok", "f 1", "ok"))


def cut(outcome: Outcome, n: int, status: str = "hang", kind: str = "cpu-limit") -> Outcome:
    return Outcome(status, outcome.lines[:n], kind)


# ---------------------------------------------------------------- the rules
def test_levels_are_one_ordered_table():
    assert LEVELS == ("same", "api", "structural", "observable", "invariant", "flaky", "hang", "crash")
    assert rank("invariant") < rank("flaky") < rank("hang") < rank("crash")


def test_a_hang_that_does_not_come_back_is_what_the_confirming_run_says():
    assert settle(cut(OK, 2), lambda: OK) == OK


def test_a_hang_that_comes_back_is_a_hang():
    again = cut(OK, 2)
    assert settle(cut(OK, 2), lambda: again) is again


def test_a_stopped_run_whose_lines_are_not_a_prefix_is_flaky():
    first = Outcome("hang", ("ok", "ok", "f 2"), "cpu-limit")
    got = settle(first, lambda: OK)
    assert got.status == "flaky" and got.lines == ("ok", "ok") and got.runs == (first, OK)


def test_a_crash_is_run_again_and_must_come_back_the_same():
    crash = cut(OK, 3, "crash", "SIGSEGV")
    assert settle(crash, lambda: crash) == crash
    for other in (OK, cut(OK, 2, "crash", "SIGSEGV"), cut(OK, 3, "crash", "SIGBUS")):
        got = settle(crash, lambda: other)
        assert got.status == "flaky" and got.runs == (crash, other)


def test_only_suspects_are_run_again():
    def never():
        raise AssertionError("a believed outcome was run again")

    for outcome in (OK, Outcome("error", (), "batch")):
        assert settle(outcome, never) is outcome


def test_flaky_ranks_above_invariant_against_a_run_that_ended_well():
    flaky = confirm.flaky(cut(OK, 3, "crash", "SIGSEGV"), OK)
    verdict = compare(["i", "i", "f", "i"], OK, flaky)
    assert verdict.level == "flaky" and "flaky: crash (SIGSEGV) after 3 operations, then ran to the end" in verdict.detail
    assert compare(["i"] * 4, flaky, cut(OK, 1, "crash", "SIGSEGV")).level == "crash"


def test_the_confirming_limits_are_twenty_times_larger():
    base = Limits(timeout=10, cpu_seconds=8)
    big = confirm.confirming_limits(base)
    for name in ("timeout", "cpu_seconds", "cpu_ms_base", "cpu_ms_per_op", "stall_ms"):
        assert getattr(big, name) >= 20 * getattr(base, name), name


# ---------------------------------------------------------------- on our C
@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    from test_execute import Programs

    return Programs(tmp_path_factory.mktemp("confirm-programs"))


def _count_settled(monkeypatch) -> list:
    """Every suspect settled, as (first status, believed status)."""
    seen = []
    real = confirm.settle

    def counting(first, again):
        got = real(first, again)
        if confirm.suspect(first):
            seen.append((first.status, got.status))
        return got

    monkeypatch.setattr(confirm, "settle", counting)
    return seen


@needs_gcc
def test_a_correct_program_under_a_tiny_budget_is_confirmed_same(programs, monkeypatch):
    """A budget of 1 ms (the whole run) stops a correct tree on most seeds; each is run again
    with 20x the limits, finishes, and the revision is `same` — never `hang`, never `flaky`."""
    seen = _count_settled(monkeypatch)
    tiny = Executor(Limits(timeout=5, cpu_seconds=2, cpu_ms_base=1, cpu_ms_per_op=0.0001, stall_ms=2))
    with tiny:
        for _ in range(3):
            result = difftest([("tiny", ProgramRunner(programs("era2009"), tiny))], Settings(seeds=8, ops=4000), jobs=1)
            assert result.revisions[0].vs_reference.level == "same"
    assert seen, "the tiny budget stopped no run: the test tests nothing"
    assert {believed for _, believed in seen} == {"ok"}


@needs_gcc
def test_a_real_endless_loop_is_confirmed_hang_with_a_witness(programs, monkeypatch):
    seen = _count_settled(monkeypatch)
    with Executor(Limits(timeout=5, cpu_seconds=2)) as ex:
        result = difftest([("hang", ProgramRunner(programs("hang"), ex))], Settings(seeds=2, ops=400), jobs=1)
    pv = result.revisions[0].vs_reference
    assert pv.level == "hang"
    assert ("hang", "hang") in seen
    witness = pv.witness
    assert witness is not None and witness.b_status == "hang" and 1 <= len(witness.ops) <= 12
    assert witness.ops[-1].startswith("i ")  # it loops in rb_insert_color


@needs_gcc
def test_a_crash_that_depends_on_addresses_is_flaky_with_both_runs(programs):
    with Executor(Limits(timeout=5, cpu_seconds=2)) as ex:
        result = difftest([("aslr", ProgramRunner(programs("aslr"), ex))], Settings(seeds=16, ops=2000), jobs=1)
    pv = result.revisions[0].vs_reference
    # seeds whose crash came back the same are `crash` (the stronger level); the others are flaky
    assert "flaky" in dict(pv.levels) and pv.level in ("flaky", "crash"), pv
    witness = next(w for w in pv.witnesses if w.level == "flaky")
    assert len(witness.runs) == 2 and witness.runs[0] != witness.runs[1]
    assert any(status == "crash" for status, _, _ in witness.runs)
    document = witness.as_dict()
    assert [run["status"] for run in document["runs"]] == [status for status, _, _ in witness.runs]


# ---------------------------------------------------------------- the cache
TARGET = Target(name="hanging", paths=H.TARGET_PATHS, header_paths=H.TARGET_HEADER_PATHS)


@pytest.fixture(scope="module")
def hanging(tmp_path_factory):
    """A correct revision, then one that loops forever: parsed and built once."""
    root = tmp_path_factory.mktemp("hanging")
    history = H.build_history(root, [
        H.Step("rbtree: new", "2009-05-26", writes={H.C_PATH_2004: "era2009.c", H.H_PATH_XEN: "era2009.h"}),
        H.Step("rbtree: climb to the root", "2009-06-01", writes={H.C_PATH_2004: "hang.c"}),
    ])
    revisions = mine(TARGET, repo=history.path)
    config = RunConfig(settings=Settings(seeds=2, ops=300), jobs=1, timeout=5)
    models = parse_all(revisions, Cache(None), 1, lambda *a: None)
    programs = build_all(revisions, models, root / "cache", config, lambda *a: None)
    return revisions, programs, config, root


def _entries(root) -> list:
    return sorted((root / "difftest").rglob("*.pkl")) if (root / "difftest").exists() else []


@needs_gcc
def test_an_interrupted_confirmation_leaves_nothing_in_the_cache(hanging, tmp_path, monkeypatch):
    revisions, programs, config, _ = hanging
    cache = Cache(tmp_path / "stages")
    suspicions = []

    def interrupted(first, again):
        if confirm.suspect(first):
            suspicions.append(first)
            raise KeyboardInterrupt  # Ctrl-C between the suspicion and its confirmation
        return first

    monkeypatch.setattr(confirm, "settle", interrupted)
    with pytest.raises(KeyboardInterrupt):
        difftest_all(revisions, programs, config, cache, None, lambda *a: None)
    assert suspicions and suspicions[0].status == "hang"
    assert _entries(tmp_path / "stages") == []  # no verdict, confirmed or not

    monkeypatch.undo()
    result = difftest_all(revisions, programs, config, cache, None, lambda *a: None)
    assert [v.vs_previous.level for v in result.revisions if v.vs_previous] == ["hang"]
    assert len(_entries(tmp_path / "stages")) == 1  # the confirmed result, and only it


@needs_gcc
def test_the_cache_key_covers_the_verdict_rules(hanging, tmp_path, monkeypatch):
    import archeo.pipeline as P

    revisions, programs, config, _ = hanging
    cache = Cache(tmp_path / "stages")
    difftest_all(revisions, programs, config, cache, None, lambda *a: None)
    calls = []
    real = P.difftest
    monkeypatch.setattr(P, "difftest", lambda *a, **k: calls.append(1) or real(*a, **k))
    difftest_all(revisions, programs, config, cache, None, lambda *a: None)
    assert calls == []  # same rules: read back
    monkeypatch.setattr(P, "RULES", P.RULES + 1)
    difftest_all(revisions, programs, config, cache, None, lambda *a: None)
    assert calls == [1]  # other rules: a result made under the old ones is not reused
    unconfirmed = replace(config, confirm=False)
    difftest_all(revisions, programs, unconfirmed, cache, None, lambda *a: None)
    assert calls == [1, 1]  # and an unconfirmed run never reads (or feeds) the confirmed entry


# ---------------------------------------------------------------- what keeps confirming cheap
class _Flaky:
    """A fake runner: a batch's first run ends as `first[batch]`, every later run is OK."""

    def __init__(self, first: dict):
        self.first, self.calls = dict(first), []

    def __call__(self, batch: str) -> Outcome:
        self.calls.append(batch)
        return self.first.pop(batch, OK)


def test_checked_returns_at_once_when_every_background_confirmation_agrees():
    hang = cut(OK, 2)

    class Stuck(_Flaky):
        def __call__(self, batch):
            self.calls.append(batch)
            return hang

    runner = confirm.Confirmed(Stuck({}), confirm.Confirmer())
    works = []
    got = confirm.checked(lambda: works.append(1) or [runner("a"), runner("b")], runner)
    assert got == [hang, hang] and works == [1]  # a real hang, confirmed in the background: done once
    assert runner.runner.calls.count("a") == 2  # its first run and its confirming run
    assert runner("a") == hang and runner.runner.calls.count("a") == 2  # remembered: not run again


def test_checked_does_the_work_again_when_a_taken_suspect_did_not_come_back():
    """A timing sample that does not come back was taken for a moment only: the work is done
    again on settled outcomes, and its result is what it is without the background."""
    def work(runner):
        return [runner(b) for b in ("a", "b", "c")]

    suspects = {"b": cut(OK, 2), "c": cut(OK, 3, "crash", "SIGSEGV")}
    plain = work(confirm.Confirmed(_Flaky(suspects), confirm.Confirmer()))
    works = []
    background = confirm.Confirmed(_Flaky(suspects), confirm.Confirmer())
    got = confirm.checked(lambda: works.append(1) or work(background), background)
    assert got == plain and works == [1, 1]
    assert got[1] == OK and got[2].status == "flaky"  # the false hang was not believed


@needs_gcc
def test_programs_of_one_machine_code_share_their_confirming_runs(tmp_path, monkeypatch):
    """Two revisions that compile to the same machine code (the commit id they embed aside)
    have one object identity, and a hang confirmed for one is not confirmed again for the
    other; the first, short run is still made for each, and settled by the same rules."""
    from test_build import fixture_revision

    from archeo.build import Builder, Toolchain
    from archeo.parse import parse_revision

    toolchain = Toolchain.probe()

    def build(name, commit, where):
        rev = fixture_revision(name, commit=commit)
        program = Builder(tmp_path / where, False, toolchain).build(rev, parse_revision(rev))
        assert program.ok, program.error
        return program

    one, two = build("hang", "1" * 40, "a"), build("hang", "2" * 40, "b")
    other = build("era2009", "1" * 40, "c")
    assert one.path != two.path and open(one.path, "rb").read() != open(two.path, "rb").read()
    assert confirm.object_identity(one.path, one.commit) == confirm.object_identity(two.path, two.commit)
    assert confirm.object_identity(one.path, one.commit) != confirm.object_identity(other.path, other.commit)

    runs = []
    real = Executor.run

    def counted(self, program, batch, **kw):
        runs.append((program.commit, self.limits.cpu_ms_base > Limits().cpu_ms_base))
        steps.append(bool(self.limits.step_limit) and program.path.endswith("program-steps"))
        return real(self, program, batch, **kw)

    steps = []

    monkeypatch.setattr(Executor, "run", counted)
    batches = Settings(seeds=3, ops=300).batches(Settings(seeds=3, ops=300).sequences())
    settled = []
    with Executor(Limits(timeout=5, cpu_seconds=2)) as ex, confirm.Confirmer() as confirmer:
        for program in (one, two):
            runner = ProgramRunner(program, ex)
            found = [runner(b) for b in batches]
            assert all(o.status == "hang" for o in found)
            hashes = [None] * len(found)
            assert confirmer.settle_seeds(runner, batches, found, hashes, hash) == len(batches)
            settled.append(found)
    assert settled[0] == settled[1] and all(o.status == "hang" for o in settled[0])
    confirming = [commit for commit, big in runs if big]
    assert confirming == ["1" * 40] * len(batches)  # the second program's hangs: not run again
    assert steps.count(True) == len(batches)  # each confirmed by the counted variant (build_steps.py)
    assert [commit for commit, big in runs if not big].count("2" * 40) == len(batches)


# ---------------------------------------------------------------- one run's state
class _Program:
    def __init__(self, path):
        self.path, self.commit = str(path), "3" * 40


class _Confirmable:
    """A fake program runner: `confirming(executor)` gives the runner the confirming runs go
    through, which counts them (by the executor's stall limit, which only confirming has)."""

    def __init__(self, path, executor, calls):
        self.program, self.executor, self.calls = _Program(path), executor, calls

    def __call__(self, batch):
        self.calls.append((batch, self.executor.limits.stall_ms))
        return cut(OK, 2)

    def confirming(self, executor):
        return _Confirmable(self.program.path, executor, self.calls)


def test_confirmation_state_belongs_to_one_run(tmp_path):
    """What confirmations share lives in the run's Confirmer: within it, an input is confirmed
    once by one executor with the confirming limits; another run remembers nothing of it; and
    closing the run removes its confirming executor's working directory."""
    import os

    (tmp_path / "prog").write_bytes(b"machine code")
    calls = []
    with Executor(Limits(stall_ms=2)) as ex:
        runner = _Confirmable(tmp_path / "prog", ex, calls)
        one = confirm.Confirmer()
        assert one.executor(ex) is one.executor(ex) and one.executor(ex) is not ex
        assert one.executor(ex).limits == confirm.confirming_limits(ex.limits)
        assert (one.executor(ex).confine, one.executor(ex).isolate_network, one.executor(ex).sandbox) == ("harness", True, True)
        again = one.runner(runner)
        assert again("a") == again("a") == one.runner(runner)("a")
        assert calls == [("a", 40)]  # one confirming run in this run, with the confirming stall limit
        with confirm.Confirmer() as two:
            two.runner(runner)("a")
        assert calls == [("a", 40), ("a", 40)]  # the next run remembers nothing
        workdir = one.executor(ex)._base
        assert os.path.isdir(workdir)
        one.close()
        assert not os.path.exists(workdir)


def test_confirm_keeps_no_state_of_its_own():
    """No registry at module level: every piece of mutable state is some run's (Confirmer)."""
    import threading
    import weakref

    mutable = (dict, list, set, weakref.WeakKeyDictionary, weakref.WeakValueDictionary, type(threading.Lock()))
    found = [name for name, value in vars(confirm).items() if not name.startswith("__") and isinstance(value, mutable)]
    assert found == []


def test_a_confirming_run_is_confined_as_the_first_run_was():
    """--no-sandbox runs the code under test unconfined, its confirming runs too (a sandbox only
    there could turn a real hang into a seccomp kill, and the seed into `flaky`)."""
    with Executor(Limits(), isolate_network=False, confine="preexec", sandbox=False) as ex, confirm.Confirmer() as run:
        confirming = run.executor(ex)
        assert (confirming.confine, confirming.isolate_network, confirming.sandbox) == ("preexec", False, False)
    with Executor(Limits(), shared_network=False) as ex, confirm.Confirmer() as run:
        assert run.executor(ex).shared_network is False and run.executor(ex).sandbox is True


def test_a_revisions_suspects_are_confirmed_while_the_reference_still_runs(tmp_path):
    """The reference takes longer than the programs: a revision's confirming runs start as soon
    as its program has run (Confirmer.ahead), not after the reference, and the verdict is the
    one settling makes (the confirming runs are remembered, not made twice)."""
    import threading

    from archeo.difftest import reference_runner

    (tmp_path / "prog").write_bytes(b"machine code")
    started, seen, calls = threading.Event(), [], []

    class Hangs(_Confirmable):
        def __call__(self, batch):
            if self.executor.limits.stall_ms > 2:
                calls.append(batch)
                started.set()
            return Outcome("hang", (), "cpu-limit")

        def confirming(self, executor):
            return Hangs(self.program.path, executor, self.calls)

    plain = reference_runner()

    def reference(batch):
        if not seen:
            seen.append(started.wait(10))  # a confirming run under way before the reference ends
        return plain(batch)

    with Executor(Limits(stall_ms=2)) as ex:
        result = difftest([("hangs", Hangs(tmp_path / "prog", ex, []))], Settings(seeds=2, ops=50), reference=reference, jobs=2)
    assert seen == [True]
    assert result.revisions[0].vs_reference.level == "hang"
    settings = Settings(seeds=2, ops=50)
    batches = settings.batches(settings.sequences())
    assert sorted(calls[:2]) == sorted(batches) and calls.count(batches[0]) == 1  # each seed confirmed once
