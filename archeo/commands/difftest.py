"""`archeo difftest`: every revision against the reference and its predecessor."""

from __future__ import annotations

from ..tables import table

from .common import RUN, SEQUENCES, SettingDefault, add_jobs_argument, add_json_argument, add_sandbox_argument, add_source_arguments, add_verbosity_arguments, jobs_of, parse_revision_filter, print_json, progress_of
from .exits import EPILOG, add_fail_on, exit_code

HELP = "run every revision and the reference on the same operation sequences and report the differences"


def add_run_arguments(parser) -> None:
    """Options shared by difftest and run."""
    parser.add_argument("--seeds", type=int, default=SettingDefault(SEQUENCES, "seeds"), help="operation sequences per revision (default: %(default)s)")
    parser.add_argument("--ops", type=int, default=SettingDefault(SEQUENCES, "ops"), help="operations per sequence (default: %(default)s)")
    parser.add_argument("--first-seed", type=int, default=SettingDefault(SEQUENCES, "first_seed"), help="seed of the first sequence (default: %(default)s)")
    add_jobs_argument(parser, "revisions built and run")
    parser.add_argument("--timeout", type=float, default=SettingDefault(RUN, "timeout"), help="seconds a revision may take on one sequence")
    parser.add_argument("--sanitize", action="store_true", help="build with -fsanitize=address,undefined")
    add_sandbox_argument(parser)
    add_verbosity_arguments(parser)
    add_fail_on(parser)
    parser.epilog = EPILOG


def add_arguments(parser) -> None:
    add_source_arguments(parser)
    add_run_arguments(parser)
    parser.add_argument("--revisions", action="append", help="only these commits (prefixes, comma-separated)")
    add_json_argument(parser)


def config_from(args):
    from ..difftest import Settings
    from ..errors import ArcheoError
    from ..pipeline import RunConfig

    jobs = jobs_of(args)
    if args.seeds < 1 or args.ops < 1:
        raise ArcheoError(f"--seeds {args.seeds} --ops {args.ops} is out of range: use 1 or more of each")
    if not (0 < args.timeout < float("inf")):  # also refuses nan
        raise ArcheoError(f"--timeout {args.timeout} is out of range: use a positive number of seconds")
    settings = Settings(seeds=args.seeds, ops=args.ops, first_seed=args.first_seed)
    return RunConfig(settings=settings, jobs=jobs, sanitize=args.sanitize, timeout=args.timeout,
                     sandbox=not args.no_sandbox)


def run(args) -> int:
    from ..cache import Cache
    from ..difftest import to_json
    from ..mine import default_cache_dir, mine, open_repo
    from ..pipeline import build_all, difftest_all, parse_all
    from ..releases import ReleaseIndex
    from pathlib import Path

    from .common import resolve_target

    config = config_from(args)
    target = resolve_target(args)
    cache_root = Path(args.cache) if args.cache else default_cache_dir()
    repository = open_repo(args.repo, target, cache_root)
    revisions = parse_revision_filter(mine(target, repo=repository, rev=args.rev), args.revisions)
    cache = Cache(cache_root / "stages")
    with progress_of(args) as progress:
        models = parse_all(revisions, cache, config.jobs, progress)
        programs = build_all(revisions, models, cache_root, config, progress)
        result = difftest_all(revisions, programs, config, cache, ReleaseIndex(repository, target.release_pattern).carrying, progress)
    if args.json:
        print_json(to_json(result))
    else:
        rows = [
            (v.commit[:12], v.status, v.vs_reference.level if v.vs_reference else "-", v.vs_previous.level if v.vs_previous else "-")
            for v in result.revisions
        ]
        print(table(rows, ("commit", "status", "vs reference", "vs previous")))
        print()
        rows = [
            (c.introduced_by[:12], c.level, c.ended_by[:12] if c.ended_by else "-", len(c.witness.ops) if c.witness else "-", (c.releases or ("-",))[0])
            for c in result.changes
        ]
        print(table(rows, ("introduced by", "level", "ended by", "witness ops", "first release")))
        print(f"\n{len(result.classes)} equivalence classes over {len(result.revisions)} revisions")
    code, why = exit_code(result, args.fail_on)
    if why:
        import sys

        print(f"archeo: {why}", file=sys.stderr)
    return code
