"""False alarms under load, and what confirmation costs when the machine is idle (issue 11).

Part 1 — trust under load: RUNS fresh-cache runs of

    archeo difftest --repo $XEN_REPO --seeds 20 --ops 10000 --json

each while BURNERS CPU-bound processes (one per core by default) keep the machine busy. The
burners are started and stopped by this script around each run, and each is bounded by
`timeout` so none can outlive it. Prints, per run and in total: how many revisions known to be
correct were judged anything but `same`/`api` (a false alarm), whether the 2017 `rb_erase`
window (introduced by e95def2cb97d, ended by bd9cc37a0404) was found with its witness, how many
behavioural changes the run counts, and whether every run's JSON is byte-identical.

Part 2 — idle cost: with no burners, the programs built once, `pipeline.difftest_all` with
confirmation on and off (RunConfig.confirm; no difftest cache), interleaved REPEAT times; the
ratio of the median wall times and of the median CPU times (this process and its children),
on / off, with the load average the rounds saw. An unconfirmed run believes a false hang when
the machine is busy, and then shrinks it: the ratio is also given against the off runs whose
findings are the true ones. And, per confirmed run, what no load changes: how many confirming
runs it made and the CPU seconds they took (`ConfirmingTally`).

    XEN_REPO=/path/to/xen python bench/bench_false_alarms.py [--runs 20] [--repeat 5] [--burners N]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from common import xen_repo_or_exit  # noqa: E402

from archeo.cache import Cache  # noqa: E402
from archeo.confirm import CONFIRM_FACTOR  # noqa: E402
from archeo.difftest import Settings, to_json  # noqa: E402
from archeo.execute import Executor, Limits  # noqa: E402
from archeo.mine import mine  # noqa: E402
from archeo.pipeline import RunConfig, build_all, difftest_all, parse_all  # noqa: E402
from archeo.target import load_target  # noqa: E402

WINDOW = ("e95def2cb97d", "bd9cc37a0404")  # the 2017-2018 rb_erase regression: introduced, ended
ARCHEO = [sys.executable, "-m", "archeo.cli"]
QUIET = lambda stage, done, total: None  # noqa: E731


def start_burners(n: int, bound_s: int) -> list[subprocess.Popen]:
    """n CPU-bound processes, each ended by `timeout` after bound_s at the latest."""
    return [
        subprocess.Popen(["timeout", str(bound_s), sys.executable, "-c", "while True: pass"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(n)
    ]


def stop(burners: list[subprocess.Popen]) -> None:
    for proc in burners:  # our own children, by their pid
        proc.terminate()
    for proc in burners:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def judge(doc: dict) -> tuple[list[str], bool, int]:
    """(false alarms as 'commit:side=level', window found with its witness, changes counted)."""
    commits = [r["commit"] for r in doc["revisions"]]
    start = next(i for i, c in enumerate(commits) if c.startswith(WINDOW[0]))
    end = next(i for i, c in enumerate(commits) if c.startswith(WINDOW[1]))
    broken = set(commits[start:end])  # the revisions that carry the regression
    alarms = []
    for r in doc["revisions"]:
        if r["commit"] in broken or r["status"] != "tested":
            continue
        if r["vs_reference"] not in ("same", "api"):
            alarms.append(f"{r['commit'][:12]}:vs_reference={r['vs_reference']}")
        if r["previous"] not in broken and r["vs_previous"] not in (None, "same", "api"):
            alarms.append(f"{r['commit'][:12]}:vs_previous={r['vs_previous']}")
    window = any(
        c["introduced_by"].startswith(WINDOW[0]) and (c["ended_by"] or "").startswith(WINDOW[1]) and c["witness"]
        for c in doc["changes"]
    )
    return alarms, window, len(doc["changes"])


def loaded_runs(repo: str, runs: int, burners: int) -> None:
    outputs = []
    total_alarms = 0
    windows = 0
    print(f"part 1: {runs} fresh-cache runs of `archeo difftest --repo $XEN_REPO --seeds 20 --ops 10000 --json`, "
          f"{burners} CPU burners each")
    for i in range(1, runs + 1):
        with tempfile.TemporaryDirectory(prefix="archeo-bench-fa-") as cache:
            before = os.getloadavg()[0]  # the machine's load as the run starts, burners not yet counted
            load = start_burners(burners, bound_s=3600)
            try:
                start = time.perf_counter()
                proc = subprocess.run(
                    [*ARCHEO, "difftest", "--repo", repo, "--seeds", "20", "--ops", "10000", "--json", "--quiet", "--cache", cache],
                    capture_output=True, timeout=3000,
                )
                seconds = time.perf_counter() - start
            finally:
                stop(load)
        if proc.returncode != 0:
            print(f"  run {i:2d}: exit {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[-300:]}")
            outputs.append(b"")
            continue
        outputs.append(proc.stdout)
        alarms, window, changes = judge(json.loads(proc.stdout))
        total_alarms += bool(alarms)
        windows += window
        print(f"  run {i:2d}: {seconds:6.1f} s  load {before:4.1f}  false alarms {len(alarms)}{' ' + ', '.join(alarms) if alarms else ''}  "
              f"2017 window {'found' if window else 'MISSING'}  changes {changes}  json {hashlib.sha256(proc.stdout).hexdigest()[:12]}")
        sys.stdout.flush()
    identical = len(set(outputs)) == 1 and outputs[0] != b""
    print(f"runs with a false alarm: {total_alarms} of {runs}")
    print(f"2017 window found with its witness: {windows} of {runs}")
    print(f"JSON byte-identical across all {runs} runs: {'yes' if identical else 'NO'}")


class ConfirmingTally:
    """Counts the confirming runs (those of an executor with the confirming CPU budget: the
    real program's, and the counted variant's that confirm hangs, `counted`) and the CPU
    seconds each child took, read from its rusage as it is reaped (os.waitpid is wrapped with
    os.wait4 for the tally's span, in this script only)."""

    def __init__(self):
        self.runs, self.counted, self.cpu = 0, 0, 0.0
        self._mine = threading.local()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def counting(self):
        real_run, real_waitpid = Executor.run, os.waitpid
        confirming_budget = Limits().cpu_ms_base * CONFIRM_FACTOR
        tally = self

        def waitpid(pid, options):
            if pid <= 0:
                return real_waitpid(pid, options)
            got, status, usage = os.wait4(pid, options)
            if got:
                tally._mine.cpu = usage.ru_utime + usage.ru_stime
            return got, status

        def run(self, program, batch, **kw):
            if self.limits.cpu_ms_base != confirming_budget:
                return real_run(self, program, batch, **kw)
            tally._mine.cpu = 0.0
            result = real_run(self, program, batch, **kw)
            with tally._lock:
                tally.runs += 1
                tally.counted += bool(self.limits.step_limit)
                tally.cpu += tally._mine.cpu
            return result

        Executor.run, os.waitpid = run, waitpid
        try:
            yield self
        finally:
            Executor.run, os.waitpid = real_run, real_waitpid


def _cpu() -> float:
    """CPU seconds of this process and of its waited-for children (the programs, the reference)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def idle_cost(repo: str, repeat: int) -> None:
    target = load_target("xen-rbtree")
    settings = Settings(seeds=20, ops=10_000)
    with tempfile.TemporaryDirectory(prefix="archeo-bench-fa-") as root:
        revisions = mine(target, repo=repo)
        models = parse_all(revisions, Cache(None), 2, QUIET)
        on = RunConfig(settings=settings, jobs=2)
        off = RunConfig(settings=settings, jobs=2, confirm=False)
        programs = build_all(revisions, models, Path(root), on, QUIET)
        samples = {"on": [], "off": []}  # (wall, cpu, json)
        loads = []
        tallies = []
        for _ in range(repeat):
            for name, config in (("off", off), ("on", on)):
                loads.append(os.getloadavg()[0])
                with ConfirmingTally().counting() as tally:
                    start, cpu = time.perf_counter(), _cpu()
                    result = difftest_all(revisions, programs, config, Cache(None), None, QUIET)
                    samples[name].append((time.perf_counter() - start, _cpu() - cpu, json.dumps(to_json(result))))
                if name == "on":
                    tallies.append(tally)
    truth = samples["on"][0][2]
    print(f"part 2: the cost of confirmation, difftest of every Xen revision (programs built), "
          f"off/on interleaved x{repeat}, 1-min load {min(loads):.1f}-{max(loads):.1f}")
    for name in ("off", "on"):
        walls, cpus = [w for w, _, _ in samples[name]], [c for _, c, _ in samples[name]]
        differing = sum(doc != truth for _, _, doc in samples[name])
        print(f"  confirmation {name + ':':4s} wall median {statistics.median(walls):6.2f} s ({', '.join(f'{t:.2f}' for t in walls)})  "
              f"CPU median {statistics.median(cpus):6.2f} s  findings differ from the first confirmed run's: {differing}")
    same_on = all(doc == truth for _, _, doc in samples["on"])
    clean = [s for s in samples["off"] if s[2] == truth]  # off runs that no false hang sent elsewhere
    med = {name: (statistics.median(w for w, _, _ in ss), statistics.median(c for _, c, _ in ss)) for name, ss in samples.items()}
    print(f"  cost ratio on/off: wall {med['on'][0] / med['off'][0]:.3f}  CPU {med['on'][1] / med['off'][1]:.3f}")
    if clean and len(clean) < len(samples["off"]):
        wall, cpu = statistics.median(w for w, _, _ in clean), statistics.median(c for _, c, _ in clean)
        print(f"  against the {len(clean)} off runs with the true findings only (a false hang makes an off run shrink "
              f"more): wall {med['on'][0] / wall:.3f}  CPU {med['on'][1] / cpu:.3f}")
    print(f"  every confirmed run gave the same findings: {'yes' if same_on else 'NO'}")
    print(f"  confirming runs per confirmed difftest: {', '.join(str(t.runs) for t in tallies)} (of which by a counted "
          f"variant: {', '.join(str(t.counted) for t in tallies)}); their CPU seconds: "
          f"{', '.join(f'{t.cpu:.2f}' for t in tallies)} (no load changes these much: they are what confirming costs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--skip-load", action="store_true", help="only part 2")
    parser.add_argument("--skip-idle", action="store_true", help="only part 1")
    args = parser.parse_args()
    repo = xen_repo_or_exit()
    if not args.skip_load:
        loaded_runs(repo, args.runs, args.burners)
    if not args.skip_idle:
        idle_cost(repo, args.repeat)


if __name__ == "__main__":
    main()
