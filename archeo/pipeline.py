"""`archeo run`: mine, parse, build, difftest — each stage cached — into a `Study`.

The stages know nothing of each other; this module wires them, keys their caches on every
input, runs revisions in parallel up to `jobs`, and reports progress through one callback.
A second run with nothing changed reads every stage from the cache.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from . import __version__
from .cache import Cache, digest
from .codekeys import code_digest
from .confirm import RULES
from .difftest import DifftestResult, Settings, difftest
from .execute import Limits
from .records import Model, Program, Revision, Target
from .runners import ProgramRunner, program_runner, shared_runners  # noqa: F401 (re-exported)
from .study import Study

Progress = Callable[[str, int, int], None]


# The code each stage's cache key covers, by import name: the stage's entry modules, plus
# every archeo module they import, found from the source (codekeys.py). A name that no longer
# resolves — a module moved or renamed without updating this — fails loudly, naming it.
MINE_CODE = ("archeo.mine", "archeo.closure", "archeo.records")
PARSE_CODE = ("archeo.parse", "archeo.platforms", "archeo.records")
PARSE_DATA = ("shim/include", "shim/userland")  # the stub headers every revision is preprocessed with
DIFFTEST_CODE = ("archeo.difftest", "archeo.runners", "archeo.execute", "archeo.confirm", "archeo.subjects")
MUTATE_CODE = ("archeo.mutate", "archeo.mutants", "archeo.equivalence", *DIFFTEST_CODE)


def _code_key(modules: tuple[str, ...], data: tuple[str, ...] = ()) -> str:
    """The key part for archeo's own code that decides a stage's output, so a new archeo recomputes it."""
    return code_digest(modules, data, salt=__version__)


@dataclass(frozen=True)
class RunConfig:
    settings: Settings = Settings()
    jobs: int = 2
    sanitize: bool = False
    timeout: float = Limits.timeout  # wall clock per run of one sequence (execute.Limits owns the default)
    mutate: tuple[str, ...] = ()  # commit prefixes to mutate (archeo run --mutate)
    max_mutants: int = 200
    sandbox: bool = True  # False: --no-sandbox, the code under test runs unconfined (docs/security.md)
    confirm: bool = True  # settle suspects before believing them (confirm.py); off only to measure its cost


def parse_all(revisions: list[Revision], cache: Cache, jobs: int, progress: Progress,
              parsed: list[str] | None = None) -> dict[str, Model]:
    """Every present revision's Model, from the cache or parsed (their commits appended to `parsed`)."""
    from .parse import history_runs, parse_run

    code = _code_key(PARSE_CODE, PARSE_DATA)
    present = [r for r in revisions if r.present]
    models: dict[str, Model] = {}
    todo = []
    for rev in present:
        key = digest(
            "model", code, rev.commit, rev.path, rev.text, rev.header_path or "", rev.header_text or "",
            sorted(rev.closure.items()), repr(rev.compile),
        )
        hit = cache.get("models", key)
        if hit is not None:
            models[rev.commit] = hit
        else:
            todo.append((rev, key))
    done = len(models)
    progress("parse", done, len(present))
    # Each worker parses a contiguous run of revisions, which share most of their code
    # (parse.parse_run reuses it). pycparser is pure Python: processes, not threads, use both cores.
    runs = history_runs(todo, jobs)
    if len(runs) > 1 and len(todo) > 2:
        pool = ProcessPoolExecutor(max_workers=len(runs), initializer=_ignore_sigint)
    else:
        pool = ThreadPoolExecutor(max_workers=max(1, len(runs)))
    try:
        for run, run_models in zip(runs, pool.map(parse_run, [[rev for rev, _ in run] for run in runs])):
            for (rev, key), model in zip(run, run_models):
                models[rev.commit] = model
                if parsed is not None:
                    parsed.append(rev.commit)
                if model.ok:
                    cache.put("models", key, model)
            done += len(run)
            progress("parse", done, len(present))
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: what finished is cached
        raise
    pool.shutdown()
    return models


def _ignore_sigint() -> None:
    """Parse workers leave Ctrl-C to the parent, which stops the pool (no worker tracebacks)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def structural_diffs(revisions: list[Revision], models: dict[str, Model]) -> tuple[dict, dict]:
    from .parse.astdiff import diff_models

    changes, previous = {}, {}
    last: Revision | None = None
    for rev in revisions:
        if not rev.present:
            continue
        if last is not None and models[last.commit].ok and models[rev.commit].ok:
            changes[rev.commit] = diff_models(models[last.commit], models[rev.commit], last, rev)
            previous[rev.commit] = last.commit
        last = rev
    return changes, previous


def build_all(
    revisions: list[Revision], models: dict[str, Model], cache_dir: Path, config: RunConfig, progress: Progress,
    builder=None,
) -> dict[str, Program]:
    from .build import build_history

    # One builder for every revision: one toolchain probe, `jobs` compilers at a time, and
    # revisions of the same code wait for each other rather than compile it twice.
    present = [r for r in revisions if r.present]
    built = build_history(present, models, cache_dir, sanitize=config.sanitize, jobs=max(1, config.jobs),
                          sandbox=config.sandbox, progress=progress, builder=builder)
    return {rev.commit: program for rev, program in zip(present, built)}


def ready_builder(cache_dir: Path, config: RunConfig):
    """A Builder with its own tools and runtimes compiled (build.Builder.prepare): started in
    the background while mining and parsing leave a core free, used by `build_all`."""
    from .build import Builder

    builder = Builder(cache_dir, config.sanitize, sandbox=config.sandbox, jobs=max(1, config.jobs), subject=config.settings.of())
    builder.prepare()
    return builder


def with_groups(settings: Settings, programs) -> Settings:
    """The settings with the later API groups any built revision has mixed into the sequences
    (a revision without a group answers NA for its ops; a run where no revision has one is
    exactly a core-API run)."""
    have = "".join(op for p in programs if p is not None and p.ok for op in p.ops)
    return replace(settings, groups=settings.of().groups_of(have)) if not settings.groups else settings


def difftest_all(
    revisions: list[Revision],
    programs: dict[str, Program],
    config: RunConfig,
    cache: Cache,
    releases,
    progress: Progress,
    early=None,
) -> DifftestResult:
    """The difftest of the built revisions, cached. `early`: a future of `early_sequences`
    (used when its settings are the run's, as they are unless a revision failed to build)."""
    from .execute import Executor

    with Executor(Limits(timeout=config.timeout, cpu_seconds=max(1, int(config.timeout * 0.8))), sandbox=config.sandbox) as executor:
        subjects = shared_runners(revisions, programs, config.timeout, executor)
        settings = with_groups(config.settings, programs.values())
        key = digest(
            "difftest",
            # the verdict rules: their version and the source of every module that decides a verdict
            f"rules-{RULES}" if config.confirm else "unconfirmed",
            _code_key(DIFFTEST_CODE),
            repr(settings),
            config.timeout,
            f"sandbox={config.sandbox}",
            [(c, programs[c].key if programs.get(c) and programs[c].ok else "none") for c, _ in subjects],
            [(r.commit, *r.parents) for r in revisions],
        )
        hit = cache.get("difftest", key)
        if hit is not None:
            return _with_releases(hit, releases)
        parents = {rev.commit: rev.parents for rev in revisions}
        made = early.result() if early is not None else None  # (settings, their sequences), made during the build
        sequences = made[1] if made is not None and made[0] == settings else None
        result = difftest(subjects, settings, jobs=config.jobs, progress=progress, parents=parents, confirm=config.confirm,
                          sequences=sequences)
        result.confinement = executor.confinement
        # Written only here, whole: every outcome in it was settled (confirm.py) before it was
        # compared, so an interrupted run leaves no verdict — confirmed or not — behind.
        cache.put("difftest", key, result)
        return _with_releases(result, releases)


def early_sequences(settings: Settings, revisions: list[Revision], models: dict[str, Model]):
    """(settings, settings.sequences()) with the API groups the parsed revisions offer: what
    `with_groups` will find in their programs when they all build. Generating 20 seeds of
    10,000 operations takes a core for a while; a cold run does it while the build compiles."""
    from .build import planned_ops

    have = "".join(planned_ops(models[rev.commit], settings.of()) for rev in revisions if rev.present and rev.commit in models)
    guessed = replace(settings, groups=settings.of().groups_of(have)) if not settings.groups else settings
    return guessed, guessed.sequences()


def mutate_all(
    revisions: list[Revision],
    models: dict[str, Model],
    programs: dict[str, Program],
    cache_root: Path,
    config: RunConfig,
    cache: Cache,
    progress: Progress,
) -> list:
    """Mutation analysis of the chosen revisions, each result cached on everything it depends on."""
    from .selection import parse_revision_filter
    from .mutate import MutateSettings, mutate_history

    chosen = [r for r in parse_revision_filter(revisions, list(config.mutate)) if r.present]
    usual = with_groups(config.settings, [programs.get(r.commit) for r in chosen])  # the mutated code's own groups
    settings = MutateSettings(max_mutants=config.max_mutants, usual=usual, timeout=config.timeout,
                              sandbox=config.sandbox)
    code = _code_key(MUTATE_CODE)
    results = []
    for i, rev in enumerate(chosen):
        program = programs.get(rev.commit)
        key = digest("mutation", code, repr(settings), program.key if program and program.ok else rev.commit)
        hit = cache.get("mutation", key)
        if hit is None:
            (hit,) = mutate_history([rev], models, cache_root, settings, config.jobs)
            cache.put("mutation", key, hit)
        results.append(hit)
        progress("mutate", i + 1, len(chosen))
    return results


def _with_releases(result: DifftestResult, releases) -> DifftestResult:
    """Release tags depend on the repository, not on behaviour: looked up after the cache,
    two git processes at a time (one `for-each-ref --contains` per commit can take a second)."""
    if releases is None:
        return result
    from dataclasses import replace

    spans = list(dict.fromkeys((c.introduced_by, c.ended_by) for c in result.changes))
    with ThreadPoolExecutor(max_workers=2) as pool:
        carried = dict(zip(spans, pool.map(lambda span: tuple(releases(*span)), spans)))
    result.changes = [replace(c, releases=carried[(c.introduced_by, c.ended_by)]) for c in result.changes]
    return result


def _commit_of(repository, rev: str) -> str | None:
    """The commit `rev` names, or None when it names none (mine() then explains)."""
    import git

    if not rev or rev.startswith("-"):
        return None
    try:
        return repository.git.rev_parse("--verify", "--quiet", f"{rev}^{{commit}}")
    except git.GitCommandError:
        return None


def run_study(
    target: Target,
    repo: str | None,
    config: RunConfig = RunConfig(),
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    rev: str = "HEAD",
    releases: bool = True,
) -> Study:
    """Every stage, cached, into the Study the report reads (`releases=False`: no release
    tags looked up for the changes, for callers that do not show them)."""
    from .mine import default_cache_dir, mine, open_repo
    from .releases import ReleaseIndex

    tick = progress or (lambda stage, done, total: None)
    cache_root = Path(cache_dir) if cache_dir else default_cache_dir()
    cache = Cache(cache_root / "stages")
    timings = {}
    config = replace(config, settings=replace(config.settings, subject=target.subject))  # the target's subject

    # The compiler's tools and the runtimes every program links, made while git and the parser work.
    background = ThreadPoolExecutor(max_workers=1)
    builder = background.submit(ready_builder, cache_root, config)

    start = time.perf_counter()
    tick("mine", 0, 1)  # named while it runs (a first clone or a long history takes a while)
    repository = open_repo(repo, target, cache_root)
    head = _commit_of(repository, rev)
    if head is None:
        mine(target, repo=repository, rev=rev)  # says, in one line, what is wrong with `rev`
    # A commit id names its whole history: the revisions mined up to it are read from the cache.
    mined_key = digest("mine", _code_key(MINE_CODE), repr(target), head)
    revisions = cache.get("revisions", mined_key)
    if revisions is None:
        revisions = mine(target, repo=repository, rev=head)
        cache.put("revisions", mined_key, revisions)
    tick("mine", len(revisions), len(revisions))
    if config.mutate:  # an unknown commit fails now, not after every other stage
        from .selection import parse_revision_filter

        parse_revision_filter(revisions, list(config.mutate))
    timings["mine"] = time.perf_counter() - start

    start = time.perf_counter()
    parsed: list[str] = []
    models = parse_all(revisions, cache, config.jobs, tick, parsed)
    structural, previous = structural_diffs(revisions, models)
    timings["parse"] = time.perf_counter() - start
    # A cold run (something had to be parsed) will difftest: its sequences made during the build.
    early = background.submit(early_sequences, config.settings, revisions, models) if parsed else None
    background.shutdown(wait=False)

    start = time.perf_counter()
    programs = build_all(revisions, models, cache_root, config, tick, builder.result())
    timings["build"] = time.perf_counter() - start

    start = time.perf_counter()
    carrying = ReleaseIndex(repository, target.release_pattern).carrying if releases else None
    result = difftest_all(revisions, programs, config, cache, carrying, tick, early)
    timings["difftest"] = time.perf_counter() - start

    mutation = None
    if config.mutate:
        start = time.perf_counter()
        mutation = mutate_all(revisions, models, programs, cache_root, config, cache, tick)
        timings["mutate"] = time.perf_counter() - start

    return Study(
        target=target,
        repo=str(repo) if repo else (target.urls[-1] if target.urls else ""),
        repo_head=head,
        revisions=revisions,
        models=models,
        structural=structural,
        previous=previous,
        programs=programs,
        difftest=result,
        archeo_version=__version__,
        timings=timings,
        messages=[*cache.notes, *(f"cache entry {entry} was damaged and has been rebuilt" for entry in cache.rebuilt)],
        mutation=mutation,
    )
