"""The differential run with the later API groups' operations mixed in, against the reference
alone on the same operations, side by side with Xen's core-only run (issue 15).

Two histories, each difftested exactly as `archeo run` wires it (`pipeline.shared_runners`: one
runner per distinct program, one shared `Executor`; `pipeline.with_groups`: the groups any
built revision has, mixed into every sequence), no shrinking, with its sequences generated once
before the timing:

- **xen-rbtree, core ops**: every present revision on `Settings()` (20 seeds x 10,000 ops,
  profiles small/large); Xen's revisions have no later group, so its sequences carry none.
- **btrfs-progs, groups mixed in**: every present revision on `Settings()` with the groups its
  revisions have (cached, postorder, augmented, search): the 2007-2014 revisions answer NA for
  the ops they lack, the later ones run them.
- **reference alone** on each history's own batches: `interp.run_batch`, as difftest's reference.
- **difftest, a runner per code identity**: the same, with the runners shared only between
  revisions built from the same code (`Program.code`), as before they were shared by machine
  code too (`runners.object_identity`): what that sharing saves, side by side.

All four interleaved (median of REPEAT rounds), so machine load hits every contender alike.
The two ratios -- difftest / reference alone on the same operations -- are the claim: the groups
history's is no worse than Xen's. Also printed: btrfs-progs on core ops only, to show what the
mixed-in ops cost the programs and the reference.

    XEN_REPO=/path/to/xen BTRFS_REPO=/path/to/btrfs-progs python bench/bench_groups.py [--repeat N] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved, xen_repo_or_exit  # noqa: E402

from archeo import ops as opslib  # noqa: E402
from archeo.cache import Cache  # noqa: E402
from archeo.difftest import Settings, difftest, to_json  # noqa: E402
from archeo.execute import Executor, Limits  # noqa: E402
from archeo.mine import mine  # noqa: E402
from archeo.pipeline import RunConfig, build_all, parse_all, program_runner, shared_runners, with_groups  # noqa: E402
from archeo.subjects.rbtree import vocabulary as vocab  # noqa: E402
from archeo.subjects.rbtree.interp import run_batch  # noqa: E402

QUIET = lambda stage, done, total: None  # noqa: E731
GROUP_OPS = set("".join(vocab.GROUP_CODES.values()))


class History:
    """One target's programs, built untimed, and its operations, generated untimed."""

    def __init__(self, target: str, repo: str, tmp: Path, config: RunConfig, executor: Executor, groups: bool = True):
        revisions = mine(target, repo=repo)
        models = parse_all(revisions, Cache(tmp / "stages"), config.jobs, QUIET)
        programs = build_all(revisions, models, tmp, config, QUIET)
        self.present = [r for r in revisions if r.present]
        failed = [r.short for r in self.present if not programs[r.commit].ok]
        if failed:
            sys.exit(f"{target}: build failed for {failed}")
        self.settings = with_groups(Settings(), programs.values()) if groups else Settings()
        self.subjects = shared_runners(revisions, programs, config.timeout, executor)
        self.programs = len({id(run) for _, run in self.subjects})
        by_code: dict[str, object] = {}  # the sharing before machine code counted: Program.code only
        self.by_code = [(r.commit, by_code.setdefault(programs[r.commit].code or r.commit, program_runner(programs[r.commit], config.timeout, executor)))
                        for r in self.present]
        self.code_programs = len({id(run) for _, run in self.by_code})
        self.sequences = self.settings.sequences()
        self.batches = [opslib.encode(ops) for _, ops in self.sequences]
        self.ops = sum(len(ops) for _, ops in self.sequences)
        self.group_ops = sum(1 for _, ops in self.sequences for op in ops if op.code in GROUP_OPS)
        self.jobs = config.jobs

    def reference(self) -> None:
        for batch in self.batches:
            run_batch(batch)

    def difftest(self, subjects=None):
        return difftest(subjects or self.subjects, self.settings, jobs=self.jobs, progress=QUIET, shrink=False,
                        sequences=self.sequences)

    def difftest_by_code(self):
        return self.difftest(self.by_code)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (median; default: %(default)s)")
    parser.add_argument("--cache", help="build into this cache directory (default: a temporary one; the builds are untimed)")
    args = parser.parse_args()
    xen_repo = xen_repo_or_exit()
    btrfs_repo = os.environ.get("BTRFS_REPO")
    if not btrfs_repo:
        print("skipped: set BTRFS_REPO to a local clone of kdave/btrfs-progs", file=sys.stderr)
        sys.exit(0)
    config = RunConfig()  # jobs=2, timeout 10 s, as `archeo run`
    executor = Executor(Limits(timeout=config.timeout, cpu_seconds=max(1, int(config.timeout * 0.8))))
    with tempfile.TemporaryDirectory(prefix="archeo-bench-groups-") as tmp_name:
        tmp = Path(args.cache or tmp_name)
        t0 = time.perf_counter()
        xen = History("xen-rbtree", xen_repo, tmp / "xen", config, executor)
        btrfs = History("btrfs-progs", btrfs_repo, tmp / "btrfs", config, executor)
        core = History("btrfs-progs", btrfs_repo, tmp / "btrfs", config, executor, groups=False)
        setup = time.perf_counter() - t0
        if xen.settings.groups or not btrfs.settings.groups:
            sys.exit(f"unexpected groups: xen {xen.settings.groups}, btrfs-progs {btrfs.settings.groups}")
        load_before = os.getloadavg()
        times = interleaved(
            {
                "xen: reference alone": xen.reference,
                "xen: difftest": xen.difftest,
                "xen: difftest, a runner per code identity": xen.difftest_by_code,
                "btrfs-progs+groups: reference alone": btrfs.reference,
                "btrfs-progs+groups: difftest": btrfs.difftest,
                "btrfs-progs+groups: difftest, a runner per code identity": btrfs.difftest_by_code,
                "btrfs-progs core only: reference alone": core.reference,
                "btrfs-progs core only: difftest": core.difftest,
            },
            repeat=args.repeat,
        )
        verdicts = {name: h.difftest() for name, h in (("xen", xen), ("btrfs-progs+groups", btrfs))}
        same_json = all(json.dumps(to_json(h.difftest())) == json.dumps(to_json(h.difftest_by_code())) for h in (xen, btrfs))
    executor.close()
    load_after = os.getloadavg()

    print(f"machine: {os.cpu_count()} cores, load average (1/5/15 min) {'/'.join(f'{x:.2f}' for x in load_before)} "
          f"before the timing, {'/'.join(f'{x:.2f}' for x in load_after)} after")
    print(f"programs built and sequences generated untimed ({setup:.1f} s); jobs={config.jobs}; "
          f"median of {args.repeat}, interleaved\n")
    for name, h in (("xen-rbtree", xen), ("btrfs-progs+groups", btrfs), ("btrfs-progs core only", core)):
        print(f"  {name:<24} {len(h.present)} revisions, {h.programs} programs ({h.code_programs} code identities), {h.settings.seeds} seeds, "
              f"{h.ops:,} ops ({h.group_ops:,} group ops), groups: {', '.join(h.settings.groups) or 'none'}")
    print(f"\n  {'contender':<58} {'seconds':>8}")
    for name, seconds in times.items():
        print(f"  {name:<58} {seconds:8.3f}")
    ratio_xen = times["xen: difftest"] / times["xen: reference alone"]
    ratio_groups = times["btrfs-progs+groups: difftest"] / times["btrfs-progs+groups: reference alone"]
    ratio_core = times["btrfs-progs core only: difftest"] / times["btrfs-progs core only: reference alone"]
    print("\nratio difftest / reference alone, same operations:")
    print(f"  xen-rbtree, core ops:               {ratio_xen:.2f}x")
    print(f"  btrfs-progs, groups mixed in:       {ratio_groups:.2f}x "
          f"(goal: no worse than Xen's: {'met' if ratio_groups <= ratio_xen else 'NOT met'})")
    print(f"  btrfs-progs, core ops only:         {ratio_core:.2f}x (context)")
    for name in ("xen", "btrfs-progs+groups"):
        print(f"  {name}, a runner per code identity (before machine code was shared): "
              f"{times[f'{name}: difftest, a runner per code identity'] / times[f'{name}: reference alone']:.2f}x")
    print(f"  JSON with machine-code sharing byte-identical to a runner per code identity: {same_json}")
    print(f"  the groups' cost: reference {times['btrfs-progs+groups: reference alone'] / times['btrfs-progs core only: reference alone']:.2f}x, "
          f"difftest {times['btrfs-progs+groups: difftest'] / times['btrfs-progs core only: difftest']:.2f}x the core-only run")
    for name, result in verdicts.items():
        levels: dict[str, int] = {}
        for v in result.revisions:
            levels[v.vs_reference.level] = levels.get(v.vs_reference.level, 0) + 1
        print(f"  {name} verdicts vs reference: { {str(getattr(k, 'value', k)): n for k, n in levels.items()} }; {len(result.changes)} behaviour changes")


if __name__ == "__main__":
    main()
