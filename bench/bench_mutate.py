"""The mutation must-show on Xen: four revisions across the eras, 200 mutants each.

One from 2004, the 2009 re-add, one from 2017 and the newest, with the usual seeds
(`archeo difftest`'s defaults), witnesses shrunk, 2 jobs, into a fresh build cache, so the time
includes compiling every mutant. Prints the per-revision table and the total time, and exits
non-zero unless every round trip is identical and every revision's kill score is at least 95%.

    XEN_REPO=/path/to/xen python bench/bench_mutate.py [--max-mutants N] [--no-witness] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import xen_repo_or_exit  # noqa: E402

from tabulate import tabulate  # noqa: E402

from archeo.parse import parse_revision  # noqa: E402
from archeo.mine import mine  # noqa: E402
from archeo.mutate import SUMMARY_HEADERS, MutateSettings, mutate_history, summary_rows, to_json, totals  # noqa: E402
from archeo.target import load_target  # noqa: E402


def pick(revisions):
    present = [r for r in revisions if r.present]
    y2004 = next(r for r in present if r.date.startswith("2004"))
    y2009 = next(r for r in present if r.date.startswith("2009"))
    y2017 = [r for r in present if r.date.startswith("2017")]
    return [y2004, y2009, y2017[len(y2017) // 2], present[-1]]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-mutants", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-witness", action="store_true")
    parser.add_argument("--json", help="write the archeo-mutate/1 document here")
    args = parser.parse_args()
    repo = xen_repo_or_exit()
    chosen = pick(mine(load_target(), repo=repo))
    models = {r.commit: parse_revision(r) for r in chosen}
    settings = MutateSettings(max_mutants=args.max_mutants, witness=not args.no_witness)
    with tempfile.TemporaryDirectory(prefix="archeo-bench-mutate-") as cache:
        start = time.perf_counter()
        results = mutate_history(chosen, models, cache, settings, jobs=args.jobs)
        seconds = time.perf_counter() - start
    print(tabulate(summary_rows(results), headers=SUMMARY_HEADERS))
    t = totals(results)
    print(f"\n{t['made']} mutants, kill score {100 * t['kill_score']:.1f}% overall, {seconds:.0f}s with {args.jobs} jobs")
    for r in results:
        shown = [m.equivalence for m in r.mutants if m.equivalent]
        against = [m for m in r.survivors if not m.equivalent]
        built = r.counts["made"] - r.counts["stillborn"]
        raw = (r.counts["killed"] + r.counts["crashed"] + r.counts["hung"]) / built if built else float("nan")
        print(f"  {r.commit[:12]}: {r.seconds:.0f}s; equivalent shown: {shown.count('object-code')} by object code, "
              f"{shown.count('bounded')} by the bounded check; survivors counted against: {len(against)}; "
              f"raw score {100 * raw:.1f}%")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(to_json(results, settings, seconds), f, indent=1)
    ok = all(r.round_trip.identical and r.kill_score is not None and r.kill_score >= 0.95 for r in results)
    print("must-show:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
