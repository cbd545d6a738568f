"""The counted variant (archeo/build_steps.py) and how confirmation uses it (archeo/confirm.py).

A suspected hang is confirmed first by the program's counted variant: its revision compiled
with every basic block counted, run with the confirming limits, no watchdog and a step limit.
Only a hang it shows is believed; anything else sends the suspect to the real program with the
confirming limits. The C is our own (tests/fixtures): `hang` loops forever in rb_insert_color,
`era2009` is a correct tree.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from archeo import build_steps, confirm
from archeo.build import Builder
from archeo.compare import Outcome
from archeo.difftest import Settings, difftest
from archeo.execute import Executor, Limits
from archeo.runners import ProgramRunner

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="building programs needs gcc")

COUNTING = Limits(timeout=20, cpu_seconds=10, cpu_ms_base=0, stall_ms=0)  # only the count stops a run


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    from test_execute import Programs

    return Programs(tmp_path_factory.mktemp("steps-programs"))


def counted(programs, name: str):
    program = programs(name)
    path = Builder(programs.cache, toolchain=programs.toolchain).stepped(program)
    assert path is not None and path.endswith(build_steps.STEPPED)
    return replace(program, path=path)


def batches(seeds: int = 4, ops: int = 2000) -> list[str]:
    settings = Settings(seeds=seeds, ops=ops)
    return settings.batches(settings.sequences())


def run(program, batch: str, limits: Limits) -> Outcome:
    with Executor(limits) as ex:
        return Outcome.of_run(ex.run(program, batch))


def test_an_endless_loop_is_stopped_by_its_count_the_same_way_every_time(programs):
    hang = counted(programs, "hang")
    batch = batches(1, 300)[0]
    with Executor(replace(COUNTING, step_limit=1 << 12)) as ex:
        first, again = ex.run(hang, batch), ex.run(hang, batch)
    assert first.status == "hang" and first.kind == "cpu-limit"  # ended as the watchdog ends one
    assert confirm.STEP_LIMIT_SAID in first.stderr  # and says it was the count
    assert Outcome.of_run(first) == Outcome.of_run(again)  # a count, not a sample: the same lines, the same ending
    with Executor(replace(COUNTING, step_limit=0, cpu_ms_base=50)) as ex:
        budget = ex.run(hang, batch)
    assert budget.status == "hang" and confirm.STEP_LIMIT_SAID not in budget.stderr  # the budget still works, and says nothing


def test_a_correct_tree_needs_far_fewer_blocks_an_operation_than_the_limit(programs):
    """Every operation of a correct tree is a short walk: well under 1,000 blocks (the limit
    is 2^18), and the counted build computes exactly what the program does."""
    real, steps = programs("era2009"), counted(programs, "era2009")
    for batch in batches():
        got = run(steps, batch, replace(COUNTING, step_limit=1000))
        assert got.status == "ok"
        assert got == run(real, batch, COUNTING)
    assert confirm.STEP_LIMIT >= 250 * 1000  # and the limit is hundreds of times that


def test_without_counting_the_same_option_changes_nothing(programs):
    real = programs("era2009")
    batch = batches(1, 500)[0]
    assert run(real, batch, replace(COUNTING, step_limit=1)) == run(real, batch, COUNTING)


def _log_runs(monkeypatch) -> list:
    """(counted variant?, confirming limits?, status) of every run made."""
    runs = []
    real = Executor.run

    def logged(self, program, batch, **kw):
        result = real(self, program, batch, **kw)
        runs.append((program.path.endswith(build_steps.STEPPED), self.limits.timeout > 5, result.status))  # the first runs have 5 s
        return result

    monkeypatch.setattr(Executor, "run", logged)
    return runs


def test_a_real_hang_is_confirmed_by_the_counted_variant_alone(programs, monkeypatch):
    runs = _log_runs(monkeypatch)
    with Executor(Limits(timeout=5, cpu_seconds=2)) as ex:
        result = difftest([("hang", ProgramRunner(programs("hang"), ex))], Settings(seeds=2, ops=400), jobs=1)
    assert result.revisions[0].vs_reference.level == "hang"
    confirming = [(is_counted, status) for is_counted, big, status in runs if big]
    assert confirming and all(c == (True, "hang") for c in confirming)  # no real program ran with 20x limits


def test_a_false_suspicion_is_settled_by_the_real_program_not_the_counted_one(programs, monkeypatch):
    """A correct tree under a 1 ms budget is suspected of hanging on most seeds; the counted
    variant finishes each, and is not taken: the real program, run with the confirming limits,
    is what the seed's outcome comes from."""
    runs = _log_runs(monkeypatch)
    tiny = Executor(Limits(timeout=5, cpu_seconds=2, cpu_ms_base=1, cpu_ms_per_op=0, stall_ms=2))  # 1 ms for ~3 ms of work
    with tiny:
        result = difftest([("tiny", ProgramRunner(programs("era2009"), tiny))], Settings(seeds=4, ops=10_000), jobs=1)
    assert result.revisions[0].vs_reference.level == "same"
    counted_runs = [status for is_counted, big, status in runs if big and is_counted]
    real_runs = [status for is_counted, big, status in runs if big and not is_counted]
    assert counted_runs, "the tiny budget stopped no run: the test tests nothing"
    # each counted run finished (or, slower than the program, met the 20x CPU budget: a sample,
    # never taken) and was followed by the real program's, which decided the seed
    assert set(counted_runs) <= {"ok", "hang"} and len(real_runs) == len(counted_runs) and set(real_runs) == {"ok"}


def test_without_a_counted_variant_the_real_program_confirms(programs, monkeypatch, tmp_path):
    """A program whose build kept nothing to count from (an older cache entry) and a Confirmer
    told not to count both confirm a hang the way they did before: the real program, 20x."""
    hang = programs("hang")
    entry = programs.cache / "programs" / f"no-unit-{tmp_path.name}"  # beside the real one, sharing its objects
    shutil.copytree(Path(hang.path).parent, entry)
    (entry / build_steps.UNIT).unlink()
    (entry / build_steps.STEPPED).unlink(missing_ok=True)
    bare = replace(hang, path=str(entry / "program"))
    assert Builder(programs.cache, toolchain=programs.toolchain).stepped(bare) is None
    for program, confirmer in ((bare, confirm.Confirmer()), (hang, confirm.Confirmer(counted=False))):
        runs = _log_runs(monkeypatch)
        with Executor(Limits(timeout=5, cpu_seconds=2)) as ex, confirmer:
            runner = ProgramRunner(program, ex)
            batch = batches(1, 300)[0]
            first = runner(batch)
            assert first.status == "hang"
            got = confirm.settle(first, lambda: confirm.run_again(confirmer.runner(runner), batch, first))
        assert got.status == "hang"
        assert [c for c, big, _ in runs if big] == [False]
        monkeypatch.undo()


def test_a_counted_build_that_fails_is_not_tried_again(programs, monkeypatch, tmp_path):
    hang = programs("hang")
    entry = programs.cache / "programs" / f"not-c-{tmp_path.name}"
    shutil.copytree(Path(hang.path).parent, entry)
    (entry / build_steps.STEPPED).unlink(missing_ok=True)
    (entry / build_steps.UNIT).write_text("this is not C;\n")
    builder = Builder(programs.cache, toolchain=programs.toolchain)
    compiles = []
    real = builder._run_confined
    monkeypatch.setattr(builder, "_run_confined", lambda *a, **k: compiles.append(a) or real(*a, **k))
    program = replace(hang, path=str(entry / "program"))
    assert builder.stepped(program) is None and builder.stepped(program) is None
    assert len(compiles) == 1
