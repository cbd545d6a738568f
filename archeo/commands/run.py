"""`archeo run`: the whole job — mine, parse, build, difftest, report."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from .common import RUN, SettingDefault, add_source_arguments, progress_of, resolve_target
from .difftest import add_run_arguments, config_from

HELP = "mine, parse, build and difftest every revision, then write the report under reports/<target>/"


def add_arguments(parser) -> None:
    add_source_arguments(parser)
    add_run_arguments(parser)
    parser.add_argument("-o", "--out", help="report directory (default: reports/<target>, or reports/<target>-mutation with --mutate)")
    parser.add_argument("--mutate", action="append", metavar="COMMITS",
                        help="also measure the tester's power by mutation on these revisions (commit prefixes, comma-separated)")
    parser.add_argument("--max-mutants", type=int, default=SettingDefault(RUN, "max_mutants"), help="mutants per mutated revision (default: %(default)s)")


def check_mutate(values: list[str] | None) -> tuple[str, ...]:
    """--mutate prefixes, checked before any work: hex commit prefixes of 4 or more digits."""
    from ..errors import ArcheoError

    prefixes = tuple(p.strip() for v in values or () for p in v.split(",") if p.strip())
    for p in prefixes:
        if not re.fullmatch(r"[0-9a-fA-F]{4,40}", p):
            raise ArcheoError(f"--mutate {p!r} is not a commit prefix: give 4 to 40 hex digits (`archeo mine` lists them)")
    return prefixes


def run(args) -> int:
    from dataclasses import replace

    from ..errors import ArcheoError
    from ..pipeline import run_study
    from ..report import build_findings, check_out_dir, print_summary, write_findings

    # Every argument is checked before the first stage runs (a cold cache takes a minute).
    config = config_from(args)
    mutate = check_mutate(args.mutate)
    if mutate:
        if args.max_mutants < 1:
            raise ArcheoError(f"--max-mutants {args.max_mutants} is out of range: use 1 or more")
        config = replace(config, mutate=mutate, max_mutants=args.max_mutants)
    target = resolve_target(args)
    # A report with mutation analysis goes beside the plain one by default, so `archeo run`
    # always reproduces reports/<target>/ exactly and the slower mutation run has its own.
    default_out = Path("reports") / (target.name + ("-mutation" if config.mutate else ""))
    out_dir = Path(args.out) if args.out else default_out
    check_out_dir(out_dir)
    start = time.perf_counter()
    with progress_of(args) as progress:
        study = run_study(target, args.repo, config, cache_dir=args.cache, progress=progress, rev=args.rev)
        progress("report", 0, 1)
        findings = build_findings(study)
        write_findings(findings, out_dir)
        progress("report", 1, 1)
    for message in study.messages:
        print(f"archeo: note: {message}", file=sys.stderr)
    print_summary(findings, out_dir)
    if args.verbose:
        print("stages: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in study.timings.items()))
    print(f"done in {time.perf_counter() - start:.1f} s")
    from .exits import exit_code

    code, why = exit_code(study.difftest, args.fail_on)
    if why:
        print(f"archeo: {why}", file=sys.stderr)
    return code
