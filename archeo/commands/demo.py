"""`archeo demo`: the whole pipeline on a small history written here, offline, in seconds."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from .common import add_jobs_argument, add_verbosity_arguments, jobs_of, progress_of

HELP = "build a small rbtree history of our own (three API eras, a planted regression and its fix) and report on it"


def add_arguments(parser) -> None:
    parser.add_argument("-o", "--out", default="reports/demo-rbtree", help="report directory (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=10, help="operation sequences per revision (default: %(default)s)")
    parser.add_argument("--ops", type=int, default=2_000, help="operations per sequence (default: %(default)s)")
    parser.add_argument("--cache", help="cache directory (default: $XDG_CACHE_HOME/archeo or ~/.cache/archeo)")
    add_jobs_argument(parser, "revisions built and run")
    add_verbosity_arguments(parser)


def run(args) -> int:
    from ..demo import build_demo, demo_target
    from ..difftest import Settings
    from ..errors import ArcheoError
    from ..pipeline import RunConfig, run_study
    from ..report import build_findings, check_out_dir, print_summary, write_findings

    jobs = jobs_of(args)
    if args.seeds < 1 or args.ops < 1:
        raise ArcheoError(f"--seeds {args.seeds} --ops {args.ops} is out of range: use 1 or more of each")
    out_dir = Path(args.out)
    check_out_dir(out_dir)
    config = RunConfig(settings=Settings(seeds=args.seeds, ops=args.ops), jobs=jobs)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="archeo-demo-") as tmp:
        history = build_demo(tmp)
        print(f"demo history: {len(history.commits)} commits built in a temporary repository", file=sys.stderr)
        with progress_of(args) as progress:
            study = run_study(demo_target(), str(history.path), config, cache_dir=args.cache, progress=progress)
            findings = build_findings(study)
            write_findings(findings, out_dir)
    print_summary(findings, out_dir)
    if args.verbose:
        print("stages: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in study.timings.items()))
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0
