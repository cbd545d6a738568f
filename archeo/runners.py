"""Runners: a built program as a callable from a batch to its Outcome.

Shared by difftest, confirmation, mutation and lineage, so none of them reaches into the
pipeline that wires the stages together.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import struct
from dataclasses import dataclass

from .compare import Outcome
from .elfcheck import symbol_span
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

    def confirming(self, executor, program: Program | None = None) -> ProgramRunner:
        """The same program run by `executor`, the one with the confirming limits
        (confirm.Confirmer.executor): what a suspect is run again by; or, given `program`,
        that one (its counted variant, archeo/build_steps.py)."""
        return ProgramRunner(program or self.program, executor)

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
    """(commit, runner or None) per present revision; revisions whose programs compute the same
    share one runner object, which difftest runs once for all of them.

    The same: built from the same code (`Program.code`), or compiled to the same machine code
    and data (`object_identity`, with the same operations and node size). The second catches
    what the first cannot see: a change the compiler threw away (a function the harness never
    reaches, a renamed local, an unused macro). On btrfs-progs' 111 revisions that is 7
    programs instead of 49 (Xen's 29: 19 instead of 23), and their runs were most of the
    differential run's CPU (bench/bench_groups.py). A runner is shared only between programs
    alike in every byte the run could read.
    """
    by_code: dict[str, ProgramRunner] = {}
    by_image: dict[tuple, ProgramRunner] = {}
    subjects = []
    for rev in revisions:
        if not rev.present:
            continue
        program = programs.get(rev.commit)
        if program is None or not program.ok:
            subjects.append((rev.commit, None))
            continue
        image = (object_identity(program.path, program.commit), program.ops, program.node_size, program.sanitize)
        runner = (by_code.get(program.code) if program.code else None) or by_image.get(image)
        if runner is None:
            runner = program_runner(program, timeout, executor)
        if program.code:
            by_code.setdefault(program.code, runner)
        by_image.setdefault(image, runner)
        subjects.append((rev.commit, runner))
    return subjects


_BUILD_ID = re.compile(re.escape(struct.pack("<III", 4, 20, 3) + b"GNU\0") + rb".{20}", re.DOTALL)


def object_identity(path: str, commit: str = "") -> str:
    """The program's machine code and data: its file's sha256 with the commit id it embeds
    (archeo_commit, printed by `--info` only: the bytes of that symbol, which in a program
    copied from an earlier build of the same code are the earlier commit's; and `commit`
    wherever it appears) and its GNU build id (a hash of the rest) blanked. Two programs with
    one identity compute the same on every input. The path itself when the file cannot be
    read (then nothing is shared)."""
    try:
        stat = os.stat(path)
    except OSError:
        return f"path:{path}"
    return _identity(path, stat.st_mtime_ns, stat.st_size, commit)


@functools.lru_cache(maxsize=4096)
def _identity(path: str, _mtime: int, _size: int, commit: str) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return f"path:{path}"
    data = _BUILD_ID.sub(lambda m: m.group(0)[:16] + bytes(20), data)
    span = symbol_span(data, "archeo_commit")
    if span is not None:
        at, size = span
        data = data[:at] + bytes(size) + data[at + size :]
    if len(commit) >= 12:  # a commit id, not a word that could be anywhere
        data = data.replace(commit.encode(), bytes(len(commit)))
    return hashlib.sha256(data).hexdigest()
