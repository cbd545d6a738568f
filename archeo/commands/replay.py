"""`archeo replay WITNESS.json`: run a saved witness again on both sides and show both outcomes."""

from __future__ import annotations

from itertools import zip_longest

from ..report.words import describe_op, legend
from ..tables import table

from .common import RUN, SettingDefault, add_source_arguments

HELP = "replay a witness file on its two sides (revisions or the reference) and show both outcomes"


def add_arguments(parser) -> None:
    parser.add_argument("witness", help="a witness .json written by archeo (reports/<target>/witnesses/)")
    add_source_arguments(parser)
    parser.add_argument("--timeout", type=float, default=SettingDefault(RUN, "timeout"), help="seconds each side may take")


def run(args) -> int:
    from pathlib import Path

    from .. import ops as opslib
    from ..cache import Cache
    from ..compare import compare
    from ..confirm import Confirmed, Confirmer
    from ..execute import Executor, Limits
    from ..difftest import REFERENCE, reference_runner
    from ..errors import ArcheoError
    from ..mine import default_cache_dir, mine, open_repo
    from ..pipeline import build_all, parse_all, program_runner, RunConfig
    from ..witness import read_witness
    from .common import parse_revision_filter, resolve_target

    if not (0 < args.timeout < float("inf")):
        raise ArcheoError(f"--timeout {args.timeout} is out of range: use a positive number of seconds")
    data = read_witness(args.witness)
    if data.get("target") and not args.path and args.target == "xen-rbtree":
        args.target = data["target"]
    ops = data["parsed_ops"]
    sides = [data["a"], data["b"]]
    # One executor for both sides (its network namespace and directories released at the end)
    with Executor(Limits(timeout=args.timeout, cpu_seconds=max(1, int(args.timeout * 0.8)))) as executor, \
            Confirmer() as confirmer:
        runners = {}
        commits = [s for s in sides if s != REFERENCE]
        if commits:
            target = resolve_target(args)
            cache_root = Path(args.cache) if args.cache else default_cache_dir()
            history = mine(target, repo=open_repo(args.repo, target, cache_root), rev=args.rev)
            for side in commits:
                hits = [r for r in history if r.commit.startswith(side)]
                if len(hits) != 1:
                    found = "no revision" if not hits else f"{len(hits)} revisions ({', '.join(r.short for r in hits[:4])})"
                    raise ArcheoError(f"witness side '{side}' names {found} of {target.name}: give a longer commit id")
                if not hits[0].present:
                    raise ArcheoError(f"witness side '{side}' is {hits[0].short}, where the file is deleted: nothing to run")
            revisions = parse_revision_filter(history, commits)
            cache = Cache(cache_root / "stages")
            models = parse_all(revisions, cache, 1, lambda *a: None)
            programs = build_all(revisions, models, cache_root, RunConfig(timeout=args.timeout), lambda *a: None)
            for rev in revisions:
                program = programs[rev.commit]
                if not program.ok:
                    raise ArcheoError(f"revision {rev.short} does not build ({program.error}): it cannot be replayed")
                # confirmed (confirm.py): a timing limit or a crash is run again before it is shown
                runners[rev.commit] = Confirmed(program_runner(program, args.timeout, executor), confirmer)
        runners[REFERENCE] = reference_runner()
        resolved = [next(k for k in runners if k == s or (s != REFERENCE and k.startswith(s))) for s in sides]
        batch = opslib.encode(ops)
        a, b = (runners[s](batch) for s in resolved)
    verdict = compare([op.code for op in ops], a, b)
    rows = [(n, describe_op(str(op)), ra if ra is not None else "—", rb if rb is not None else "—", "" if ra == rb else "◀ differs")
            for n, (op, ra, rb) in enumerate(zip_longest(ops, a.lines, b.lines), 1)]
    print(table(rows, ("#", "operation", resolved[0][:12], resolved[1][:12], "differs"), flexible=(2, 3)))
    for line in legend(ops, (a.lines, b.lines)):
        print(f"  {line}")
    print(f"\n{resolved[0][:12]}: {a.describe()}; {resolved[1][:12]}: {b.describe()}")
    expected = data.get("level")
    print(f"level: {verdict.level}" + (f" (recorded: {expected})" if expected else ""))
    return 0 if expected in (None, verdict.level) else 1
