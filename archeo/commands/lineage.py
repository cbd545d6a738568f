"""`archeo lineage`: every corpus history (or the ones named) on one map."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .difftest import add_run_arguments, config_from

HELP = "compare every history of the same code: behaviour classes, copies and their sources, known-bad carriers"


def add_arguments(parser) -> None:
    parser.add_argument("--target", action="append", help="corpus name or target .toml (repeat; default: every corpus target)")
    parser.add_argument("--repo", action="append", default=[], metavar="NAME=PATH",
                        help="local clone for target NAME (repeat); a target without one is cloned from its URL")
    parser.add_argument("--cache", help="cache directory (default: $XDG_CACHE_HOME/archeo or ~/.cache/archeo)")
    parser.add_argument("-o", "--out", default="reports/lineage", help="report directory (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="also print the lineage JSON")
    add_run_arguments(parser)


def parse_repos(items: list[str], names: list[str]) -> dict[str, str]:
    from ..errors import ArcheoError

    repos = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ArcheoError(f"--repo {item!r} is not NAME=PATH: give e.g. --repo fio=/src/fio")
        if name not in names:
            raise ArcheoError(f"--repo names target '{name}', which is not studied: targets are {', '.join(names)}")
        repos[name] = path
    return repos


def run(args) -> int:
    from ..errors import ArcheoError
    from ..progress import Progress
    from ..target import available_targets, load_target
    from ..lineage.document import to_json
    from ..lineage.report import write
    from ..lineage.study import run_lineage
    from .common import print_json

    config = config_from(args)
    targets = [load_target(name) for name in (args.target or available_targets())]
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise ArcheoError(f"a target is named twice ({', '.join(names)}): name each once")
    repos = parse_repos(args.repo, names)
    start = time.perf_counter()
    with Progress(enabled=None if not args.quiet else False) as progress:
        lineage = run_lineage(targets, repos, config, cache_dir=args.cache, progress=progress)
    out = Path(args.out)
    write(lineage, out)
    for note in lineage.notes:
        print(f"archeo: note: {note}", file=sys.stderr)
    if args.json:
        print_json(to_json(lineage))
    elif not args.quiet:
        tested = sum(1 for m in lineage.members if m.status == "tested")
        print(f"{len(lineage.members)} revisions of {len(targets)} histories, {tested} tested, "
              f"{len(lineage.classes)} behaviour classes")
        for search in lineage.searches:
            print(search.statement)
        print(f"report: {out}/index.html  (done in {time.perf_counter() - start:.1f} s)")
    if not any(m.status == "tested" for m in lineage.members):
        print(f"archeo: 0 of {len(lineage.members)} present revisions were tested: no lineage to draw", file=sys.stderr)
        return 3
    return 0
