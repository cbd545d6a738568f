"""Parsing every Xen revision: archeo's parse stage vs `gcc -E` alone, side by side.

`gcc -E alone` is the same preprocessor command the parse stage runs (same flags, same
shim, same temp layout of the revision's two files), and nothing else. The parse stage
adds pycparser(ext) and the model visitors. Both are timed in one run, interleaved, on
the same inputs. There is no on-disk cache in the parse stage, so every number here is
uncached; the only reuse is within one `parse_history` call (macro bodies that repeat
from revision to revision are normalised once).
Goal (issue 3): parsing under 3x gcc -E alone.

    XEN_REPO=/path/to/xen python bench/bench_parse.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved, xen_repo_or_exit  # noqa: E402

from archeo import cparse  # noqa: E402
from archeo.astdiff import diff_history  # noqa: E402
from archeo.mine import mine  # noqa: E402


def gcc_alone(revisions, jobs: int = 1) -> int:
    """Lay each revision out and run the parse stage's gcc command on it; nothing more."""

    def one(rev) -> int:
        with tempfile.TemporaryDirectory(prefix="archeo-bench-") as tmp:
            dirs = cparse.layout_revision(rev, tmp)
            cmd = cparse.preprocess_command(rev.path, dirs)
            return len(subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=True).stdout)

    if jobs == 1:
        return sum(one(r) for r in revisions)
    with ThreadPoolExecutor(jobs) as pool:
        return sum(pool.map(one, revisions))


def breakdown(revisions) -> dict[str, float]:
    """One sequential pass, stage by stage, to say what dominates."""
    spent = dict.fromkeys(("gcc -E (+ layout)", "split -dD output", "pycparserext parse", "visitors + macros"), 0.0)
    normaliser = cparse.MacroNormaliser()
    for rev in revisions:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="archeo-bench-") as tmp:
            dirs = cparse.layout_revision(rev, tmp)
            out = cparse.preprocess(rev.path, dirs, cwd=tmp)
        t1 = time.perf_counter()
        unit = cparse.split_preprocessed(out)
        t2 = time.perf_counter()
        ast, tokens = cparse.parse_c(unit.code, rev.path)
        t3 = time.perf_counter()
        cparse.build_model(rev, ast, tokens, unit, cparse._own_files(rev), normaliser)
        t4 = time.perf_counter()
        for key, a, b in zip(spent, (t0, t1, t2, t3), (t1, t2, t3, t4)):
            spent[key] += b - a
    return spent


def main() -> None:
    repo = xen_repo_or_exit()
    revisions = [r for r in mine("xen-rbtree", repo=repo) if r.present]
    jobs = os.cpu_count() or 1
    models = cparse.parse_history(revisions)
    failed = sum(not m.ok for m in models)
    times = interleaved(
        {
            "gcc -E alone": lambda: gcc_alone(revisions),
            "archeo parse": lambda: cparse.parse_history(revisions, jobs=1),
            f"gcc -E alone, {jobs} threads": lambda: gcc_alone(revisions, jobs),
            f"archeo parse, {jobs} processes": lambda: cparse.parse_history(revisions, jobs=jobs),
        },
        repeat=5,
    )
    start = time.perf_counter()
    diff_history(models, revisions)
    diff_seconds = time.perf_counter() - start

    base, par_base = times["gcc -E alone"], times[f"gcc -E alone, {jobs} threads"]
    print(f"{len(revisions)} present revisions of xen-rbtree, {failed} failed to parse; median of 5, interleaved\n")
    for name, seconds in times.items():
        print(f"  {name:<32} {seconds * 1000:8.1f} ms")
    print(f"  {'diff_history (all pairs)':<32} {diff_seconds * 1000:8.1f} ms")
    seq = times["archeo parse"] / base
    par = times[f"archeo parse, {jobs} processes"]
    print(f"\nratio, like for like (1 process vs sequential gcc -E): {seq:.2f}x  (goal < 3x: {'met' if seq < 3 else 'NOT met'})")
    print(f"ratio, {jobs} processes vs sequential gcc -E:            {par / base:.2f}x")
    print(f"ratio, {jobs} processes vs gcc -E on {jobs} threads:      {par / par_base:.2f}x")

    spent = breakdown(revisions)
    total = sum(spent.values())
    print("\nwhere one sequential pass goes:")
    for key, seconds in spent.items():
        print(f"  {key:<24} {seconds * 1000:8.1f} ms  {100 * seconds / total:5.1f}%")


if __name__ == "__main__":
    main()
