"""`archeo run`: the whole job — mine, parse, build, difftest, report."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .common import add_source_arguments, resolve_target
from .difftest import add_run_arguments, config_from

HELP = "mine, parse, build and difftest every revision, then write the report under reports/<target>/"


def add_arguments(parser) -> None:
    add_source_arguments(parser)
    add_run_arguments(parser)
    parser.add_argument("--out", help="report directory (default: reports/<target>, or reports/<target>-mutation with --mutate)")
    parser.add_argument("--mutate", action="append", metavar="COMMITS",
                        help="also measure the tester's power by mutation on these revisions (commit prefixes, comma-separated)")
    parser.add_argument("--max-mutants", type=int, default=200, help="mutants per mutated revision (default: %(default)s)")


def run(args) -> int:
    from ..pipeline import run_study
    from ..progress import Progress
    from ..report import print_summary, write_report

    from dataclasses import replace

    config = config_from(args)
    if args.mutate:
        if args.max_mutants < 1:
            from ..errors import ArcheoError

            raise ArcheoError(f"--max-mutants {args.max_mutants} is out of range: use 1 or more")
        config = replace(config, mutate=tuple(args.mutate), max_mutants=args.max_mutants)
    target = resolve_target(args)
    # A report with mutation analysis goes beside the plain one by default, so `archeo run`
    # always reproduces reports/<target>/ exactly and the slower mutation run has its own.
    default_out = Path("reports") / (target.name + ("-mutation" if config.mutate else ""))
    out_dir = Path(args.out) if args.out else default_out
    start = time.perf_counter()
    with Progress(enabled=None if not args.quiet else False) as progress:
        study = run_study(target, args.repo, config, cache_dir=args.cache, progress=progress, rev=args.rev)
        progress("report", 0, 1)
        write_report(study, out_dir)
        progress("report", 1, 1)
    for message in study.messages:
        print(f"archeo: note: {message}", file=sys.stderr)
    if not args.quiet:
        print_summary(study, out_dir)
        print(f"done in {time.perf_counter() - start:.1f} s")
    from .exits import exit_code

    code, why = exit_code(study.difftest, args.fail_on)
    if why:
        print(f"archeo: {why}", file=sys.stderr)
    return code
