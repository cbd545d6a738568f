"""`archeo mutate`: how sharp the differential tester is, measured with mutants of every revision."""

from __future__ import annotations

import time

from ..tables import table
from .common import MUTATION, SEQUENCES, SettingDefault, add_jobs_argument, add_json_argument, add_sandbox_argument, add_source_arguments, add_verbosity_arguments, jobs_of, parse_revision_filter, print_json, progress_of

HELP = "make mutants of every present revision, difftest each against its revision, and report the kill score"


def add_arguments(parser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--revisions", action="append", help="only these commits (prefixes, comma-separated)")
    parser.add_argument("--max-mutants", type=int, default=SettingDefault(MUTATION, "max_mutants"), help="mutants per revision at most (default: %(default)s)")
    parser.add_argument("--mutant-seed", type=int, default=SettingDefault(MUTATION, "seed"), help="seed that chooses the mutants (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=SettingDefault(SEQUENCES, "seeds"), help="the usual operation sequences per mutant (default: %(default)s)")
    parser.add_argument("--ops", type=int, default=SettingDefault(SEQUENCES, "ops"), help="operations per usual sequence (default: %(default)s)")
    parser.add_argument("--first-seed", type=int, default=SettingDefault(SEQUENCES, "first_seed"), help="seed of the first sequence (default: %(default)s)")
    parser.add_argument("--deep-factor", type=int, default=SettingDefault(MUTATION, "deep_factor"), help="survivors: this many times the usual seeds, longer and larger (default: %(default)s)")
    add_jobs_argument(parser, "mutants built and run")
    parser.add_argument("--timeout", type=float, default=SettingDefault(MUTATION, "timeout"), help="seconds a program may take on one sequence")
    parser.add_argument("--no-witness", action="store_true", help="do not shrink a witness for each killed mutant (faster)")
    parser.add_argument("--round-trip-only", action="store_true", help="only check that every revision, printed back from its AST, behaves identically")
    add_verbosity_arguments(parser)
    add_sandbox_argument(parser)
    add_json_argument(parser)


def settings_from(args):
    from ..difftest import Settings
    from ..errors import ArcheoError
    from ..mutate import MutateSettings

    jobs_of(args)
    if args.deep_factor < 1:
        raise ArcheoError(f"--deep-factor {args.deep_factor} is out of range: use 1 or more")
    usual = Settings(seeds=args.seeds, ops=args.ops, first_seed=args.first_seed)
    return MutateSettings(
        max_mutants=args.max_mutants,
        seed=args.mutant_seed,
        usual=usual,
        quick_ops=min(2_000, args.ops),
        deep_factor=args.deep_factor,
        deep_ops=max(2 * args.ops, 1_000),
        timeout=args.timeout,
        witness=not args.no_witness,
        sandbox=not args.no_sandbox,
    )


def run(args) -> int:
    from pathlib import Path

    from ..cache import Cache
    from ..mine import default_cache_dir, mine, open_repo
    from ..mutate import SUMMARY_HEADERS, by_group, mutate_history, with_model_groups, round_trip_json, round_trips, summary_rows, to_json, totals
    from ..pipeline import parse_all
    from .common import resolve_target

    settings = settings_from(args)
    jobs = jobs_of(args)
    start = time.perf_counter()
    target = resolve_target(args)
    cache_root = Path(args.cache) if args.cache else default_cache_dir()
    repository = open_repo(args.repo, target, cache_root)
    revisions = [r for r in parse_revision_filter(mine(target, repo=repository, rev=args.rev), args.revisions) if r.present]
    with progress_of(args) as progress:
        models = parse_all(revisions, Cache(cache_root / "stages"), jobs, progress)
        settings = with_model_groups(settings, [models.get(r.commit) for r in revisions])
        if args.round_trip_only:
            trips = round_trips(revisions, models, cache_root, settings, jobs, progress)
        else:
            results = mutate_history(revisions, models, cache_root, settings, jobs, progress)
    seconds = time.perf_counter() - start

    if args.round_trip_only:
        bad = [t for t in trips if not (t.built and t.identical)]
        if args.json:
            print_json({"settings": settings.usual.as_dict(), "round_trips": [round_trip_json(t) for t in trips], "seconds": round(seconds, 1)})
        else:
            dates = {r.commit: r.date[:10] for r in revisions}
            rows = [(t.commit[:12], dates[t.commit], "identical" if t.identical else "differs", t.error or t.detail[:80]) for t in trips]
            print(table(rows, ("commit", "date", "round trip", "detail"), flexible=(3,)))
            print(f"\n{len(trips) - len(bad)} of {len(trips)} revisions behave identically after parse, regenerate and build ({seconds:.0f}s)")
        return 1 if bad else 0

    if args.json:
        print_json(to_json(results, settings, seconds))
    else:
        print(table(summary_rows(results), SUMMARY_HEADERS))
        t = totals(results)
        score = "-" if t["kill_score"] is None else f"{100 * t['kill_score']:.1f}%"
        print(f"\n{t.get('made', 0)} mutants over {len(results)} revisions, kill score {score}, raw score {_raw(t)} ({seconds:.0f}s)")
        groups = by_group(results)
        if set(groups) - {"core"}:
            for group, g in groups.items():
                gs = "-" if g["kill_score"] is None else f"{100 * g['kill_score']:.1f}%"
                print(f"  {group}: {g.get('made', 0)} mutants ({g.get('stillborn', 0)} stillborn, {g.get('equivalent', 0)} equivalent), "
                      f"kill score {gs}, raw score {_raw(g)}")
        survivors = [(r, m) for r in results for m in r.survivors]
        if survivors:
            print("\nsurvivors:")
            rows = [
                (
                    r.commit[:12],
                    m.mutant.function,
                    m.mutant.line,
                    m.mutant.operator,
                    (f"equivalent ({m.equivalence})" if m.equivalent
                     else f"{m.phase}: {m.deep_level}" + (f" on {'; '.join(m.escapes)}" if m.escapes else "")),
                    f"{m.mutant.before[:50]}  ->  {m.mutant.after[:50]}",
                )
                for r, m in survivors
            ]
            print(table(rows, ("commit", "function", "line", "operator", "standing", "change"), flexible=(1, 5)))
        for r in results:
            if r.error:
                print(f"archeo: {r.commit[:12]}: {r.error}")
    return 1 if any(not r.round_trip.identical for r in results) else 0


def _raw(counts: dict) -> str:
    """Killed over every mutant that built, no equivalence assumed (as the report's raw score)."""
    built = counts.get("made", 0) - counts.get("stillborn", 0)
    killed = counts.get("killed", 0) + counts.get("crashed", 0) + counts.get("hung", 0)
    return f"{100 * killed / built:.1f}%" if built else "-"
