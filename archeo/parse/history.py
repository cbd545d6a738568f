"""Parse a history into one `Model` per present revision: the parse stage's entry points.

The work for one revision (`parse_revision`) is: lay its files out and preprocess them
with gcc against its platform's plan (frontend.py), parse with pycparserext, read facts off
each declaration with the visitors (facts.py, visitors.py), and assemble the model
(model.py). Only what comes from the revision's own files goes into the model.

This module adds what a *history* needs: parsing runs of consecutive revisions that share
most of their code (`Reuse`, reuse.py), and splitting a long history into runs for
worker processes (pycparser is pure Python: processes, not threads, use the cores).

    >>> from archeo.parse import parse_history
    >>> models = parse_history(revisions)          # one Model per present revision
    >>> models[0].function("rb_erase").statements
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor

from .chunks import Scan, scan_unit
from ..errors import ArcheoError
from .reuse import ChunkMemo
from ..records import Model, ParseError, Revision
from .facts import ExtFacts, RevisionContext, ext_facts, relocate
from .frontend import StageFailure, layout_revision, parse_c, preprocess, split_preprocessed
from .macros import MacroNormaliser
from .model import base_model, build_model


def parse_history(
    revisions,
    gcc: str = "gcc",
    shim: str | os.PathLike | None = None,
    jobs: int = 1,
    reuse: bool = True,
    progress=None,
) -> list[Model]:
    """A model for every present revision, in order; a failing one carries its error.

    `jobs` > 1 (0: one per CPU) splits the history into that many contiguous runs
    (`history_runs`) parsed in forked worker processes. Each run is parsed by
    `parse_run`, which reuses what consecutive revisions share; `reuse=False` parses
    every revision on its own. The models are the same either way.
    """
    present = [rev for rev in revisions if rev.present]
    tick = progress or (lambda stage, done, total: None)
    tick("parse", 0, len(present))
    runs = history_runs(present, jobs)
    if len(runs) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        shared = Reuse() if reuse else None
        models = []
        for rev in present:
            models.append(parse_revision(rev, gcc=gcc, shim=shim, reuse=shared))
            tick("parse", len(models), len(present))
        return models
    context = multiprocessing.get_context("fork")
    models = []
    with ProcessPoolExecutor(max_workers=len(runs), mp_context=context) as pool:
        for run in pool.map(parse_run, runs, [gcc] * len(runs), [shim] * len(runs), [reuse] * len(runs)):
            models.extend(run)
            tick("parse", len(models), len(present))
    return models


def history_runs(revisions: list, jobs: int) -> list[list]:
    """`jobs` (0: one per CPU) contiguous runs of about equal length, for one worker each.

    Contiguous, because a run's revisions share most of their code (see `parse_run`).
    """
    jobs = (os.cpu_count() or 1) if jobs == 0 else max(1, jobs)
    size = -(-len(revisions) // min(jobs, len(revisions))) if revisions else 1
    return [revisions[i : i + size] for i in range(0, len(revisions), size)]


def parse_run(revisions: list[Revision], gcc: str = "gcc", shim=None, reuse: bool = True) -> list[Model]:
    """Models of a run of revisions, parsed in order, sharing one `Reuse` when `reuse`."""
    shared = Reuse() if reuse else None
    return [parse_revision(rev, gcc=gcc, shim=shim, reuse=shared) for rev in revisions]


class Reuse:
    """What one run of revisions shares: macro normal forms, and the facts of each chunk.

    Lives as long as one `parse_run`: an optimisation, never a source of truth. A
    revision parsed with it gets the model it would get without it.
    """

    def __init__(self):
        self.normaliser = MacroNormaliser()
        self.chunks: ChunkMemo[tuple[ExtFacts, ...]] = ChunkMemo(relocate)


def parse_revision(
    rev: Revision,
    gcc: str = "gcc",
    shim: str | os.PathLike | None = None,
    reuse: Reuse | None = None,
) -> Model:
    """Preprocess and parse one revision. Errors in the revision's code end up in `Model.error`.

    With `reuse` (see `parse_run`), only the chunks of its code that earlier revisions
    of the run did not have are parsed.
    """
    if not rev.present:
        raise ArcheoError(f"revision {rev.short} has no {rev.path} (status {rev.status}): only present revisions parse")
    ctx = RevisionContext.of(rev)
    try:
        with tempfile.TemporaryDirectory(prefix="archeo-parse-") as tmp:
            compile_plan = layout_revision(rev, tmp)
            output = preprocess(rev.path, compile_plan, cwd=tmp, gcc=gcc, shim=shim)
        unit = split_preprocessed(output)
        scan = scan_unit(unit.code, rev.path)
        facts = _reused_facts(scan, ctx, reuse.chunks) if reuse is not None else None
        if facts is None:
            facts = [ext_facts(ext, ctx) for ext in parse_c(unit.code, rev.path).ext]
        return build_model(rev, facts, scan.braces, unit, ctx, reuse.normaliser if reuse is not None else MacroNormaliser())
    except StageFailure as failure:
        return base_model(rev, error=failure.error)
    except Exception as exc:  # noqa: BLE001 - code our visitors do not expect: this revision fails, the run goes on
        message = f"archeo cannot model this code ({type(exc).__name__}: {exc}); please report it with the revision"
        return base_model(rev, error=ParseError("model", rev.path, 0, message))


def _reused_facts(scan: Scan, ctx: RevisionContext, memo: ChunkMemo) -> list[ExtFacts] | None:
    """The facts of every declaration, chunk by chunk; None when the whole unit must be parsed."""
    if scan.chunks is None:
        return None
    per_chunk = memo.results(
        scan.chunks,
        compute=lambda exts: tuple(ext_facts(ext, ctx) for ext in exts),
        variant=lambda chunk: ctx.file_origin(chunk.file),
    )
    return None if per_chunk is None else [facts for chunk in per_chunk for facts in chunk]
