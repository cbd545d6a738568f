"""Runners: a built program as a callable from a batch to its Outcome.

Shared by difftest, confirmation, mutation and lineage, so none of them reaches into the
pipeline that wires the stages together.
"""

from __future__ import annotations

from dataclasses import dataclass

from .compare import Outcome
from .records import Program, Revision


@dataclass(frozen=True)
class ProgramRunner:
    """A runner (batch -> Outcome) for a built program, which also speaks digest mode.

    `runner(batch)` is the whole trace; `runner.digests(batch)` the harness's digest-mode
    output (a `#digest` line per finished segment, the lines of a segment that stopped), which
    difftest compares with the reference's digests before it reads any whole trace.
    """

    program: Program
    executor: object  # execute.Executor

    def __call__(self, batch: str) -> Outcome:
        return Outcome.of_run(self.executor.run(self.program, batch))

    def digests(self, batch: str) -> Outcome:
        return Outcome.of_run(self.executor.run(self.program, batch, digest=True))

    def confirming(self, executor) -> ProgramRunner:
        """The same program run by `executor`, the one with the confirming limits
        (confirm.Confirmer.executor): what a suspect is run again by."""
        return ProgramRunner(self.program, executor)

    @property
    def ops(self) -> tuple[str, ...]:
        """The operation codes the program offers (the others answer `NA`)."""
        return self.program.ops


def program_runner(program: Program, timeout: float, executor=None) -> ProgramRunner:
    """A runner for a built program; share `executor` across programs."""
    from .execute import Executor, Limits

    executor = executor or Executor(Limits(timeout=timeout, cpu_seconds=max(1, int(timeout * 0.8))))
    return ProgramRunner(program, executor)


def shared_runners(revisions: list[Revision], programs: dict[str, Program], timeout: float, executor) -> list:
    """(commit, runner or None) per present revision; revisions built from the same code
    (`Program.code`) share one runner object, which difftest runs once for all of them."""
    by_code: dict[str, ProgramRunner] = {}
    subjects = []
    for rev in revisions:
        if not rev.present:
            continue
        program = programs.get(rev.commit)
        if program is None or not program.ok:
            subjects.append((rev.commit, None))
            continue
        runner = by_code.get(program.code) if program.code else None
        if runner is None:
            runner = program_runner(program, timeout, executor)
            if program.code:
                by_code[program.code] = runner
        subjects.append((rev.commit, runner))
    return subjects
