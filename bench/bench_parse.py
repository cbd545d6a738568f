"""Parsing every Xen revision: archeo's parse stage vs `gcc -E` alone, side by side.

`gcc -E alone` is the same preprocessor command the parse stage runs (same flags, same
shim, same temp layout of the revision's two files), and nothing else. The parse stage
adds splitting gcc's output, the chunk scan, pycparser(ext) and the model visitors.
All contenders are timed in one run, interleaved, on the same inputs:

- `archeo parse` is `parse_history(revisions, jobs=1)`: what `archeo parse` and the
  pipeline do. One run of revisions shares a `parse.Reuse`, created afresh by every
  call, so each timing starts cold: the first revision parses every top-level chunk,
  the next ones only the chunks the previous ones did not have (`parse/reuse.py`).
- `archeo parse, no reuse` parses every revision's whole unit on its own (`reuse=False`),
  as the stage did before, for context.
- the same with one process (or thread, for gcc) per CPU.

There is no on-disk cache in the parse stage, so every number here is uncached.
Goal (issue 3): parsing under 3x gcc -E alone, like for like (1 process).

The breakdown is one more sequential pass with reuse, stage by stage: "pycparserext
parse" is the chunks not seen before (plus the memo's lookups), "visitors" the facts
read off those chunks' ASTs, "assemble + macros" the model built from all the facts.

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
from common import help_or_run, interleaved, xen_repo_or_exit  # noqa: E402

from archeo import parse  # noqa: E402
from archeo.parse import facts as parse_facts, frontend, model  # noqa: E402
from archeo.parse.astdiff import diff_history  # noqa: E402
from archeo.parse.chunks import scan_unit  # noqa: E402
from archeo.mine import mine  # noqa: E402


def gcc_alone(revisions, jobs: int = 1) -> int:
    """Lay each revision out and run the parse stage's gcc command on it; nothing more."""

    def one(rev) -> int:
        with tempfile.TemporaryDirectory(prefix="archeo-bench-") as tmp:
            dirs = frontend.layout_revision(rev, tmp)
            cmd = frontend.preprocess_command(rev.path, dirs)
            return len(subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=True).stdout)

    if jobs == 1:
        return sum(one(r) for r in revisions)
    with ThreadPoolExecutor(jobs) as pool:
        return sum(pool.map(one, revisions))


def breakdown(revisions) -> tuple[dict[str, float], int, int]:
    """One sequential pass with reuse, stage by stage, to say what dominates; and the chunks parsed and reused."""
    spent = dict.fromkeys(
        ("gcc -E (+ layout)", "split -dD output", "scan chunks", "pycparserext parse", "visitors", "assemble + macros"), 0.0
    )
    shared = parse.Reuse()
    for rev in revisions:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="archeo-bench-") as tmp:
            dirs = frontend.layout_revision(rev, tmp)
            out = frontend.preprocess(rev.path, dirs, cwd=tmp)
        t1 = time.perf_counter()
        unit = frontend.split_preprocessed(out)
        t2 = time.perf_counter()
        scan = scan_unit(unit.code, rev.path)
        t3 = time.perf_counter()
        ctx = parse_facts.RevisionContext.of(rev)
        visiting = [0.0]

        def facts_of(exts, ctx=ctx, visiting=visiting):
            start = time.perf_counter()
            found = tuple(parse_facts.ext_facts(ext, ctx) for ext in exts)
            visiting[0] += time.perf_counter() - start
            return found

        per_chunk = shared.chunks.results(scan.chunks, compute=facts_of, variant=lambda c, ctx=ctx: ctx.file_origin(c.file))
        t4 = time.perf_counter()
        model.build_model(rev, [f for chunk in per_chunk for f in chunk], scan.braces, unit, ctx, shared.normaliser)
        t5 = time.perf_counter()
        steps = (t1 - t0, t2 - t1, t3 - t2, t4 - t3 - visiting[0], visiting[0], t5 - t4)
        for key, seconds in zip(spent, steps):
            spent[key] += seconds
    return spent, shared.chunks.misses, shared.chunks.hits


def main() -> None:
    help_or_run(__doc__)
    repo = xen_repo_or_exit()
    revisions = [r for r in mine("xen-rbtree", repo=repo) if r.present]
    jobs = os.cpu_count() or 1
    models = parse.parse_history(revisions)
    failed = sum(not m.ok for m in models)
    same = models == parse.parse_history(revisions, reuse=False)
    times = interleaved(
        {
            "gcc -E alone": lambda: gcc_alone(revisions),
            "archeo parse": lambda: parse.parse_history(revisions, jobs=1),
            "archeo parse, no reuse": lambda: parse.parse_history(revisions, jobs=1, reuse=False),
            f"gcc -E alone, {jobs} threads": lambda: gcc_alone(revisions, jobs),
            f"archeo parse, {jobs} processes": lambda: parse.parse_history(revisions, jobs=jobs),
        },
        repeat=5,
    )
    start = time.perf_counter()
    diff_history(models, revisions)
    diff_seconds = time.perf_counter() - start

    base, par_base = times["gcc -E alone"], times[f"gcc -E alone, {jobs} threads"]
    print(f"{len(revisions)} present revisions of xen-rbtree, {failed} failed to parse; median of 5, interleaved")
    print(f"models with reuse and without: {'identical' if same else 'DIFFERENT'}\n")
    for name, seconds in times.items():
        print(f"  {name:<32} {seconds * 1000:8.1f} ms")
    print(f"  {'diff_history (all pairs)':<32} {diff_seconds * 1000:8.1f} ms")
    seq = times["archeo parse"] / base
    par = times[f"archeo parse, {jobs} processes"]
    print(f"\nratio, like for like (1 process vs sequential gcc -E): {seq:.2f}x  (goal < 3x: {'met' if seq < 3 else 'NOT met'})")
    print(f"ratio, no reuse (1 process vs sequential gcc -E):       {times['archeo parse, no reuse'] / base:.2f}x")
    print(f"ratio, {jobs} processes vs sequential gcc -E:            {par / base:.2f}x")
    print(f"ratio, {jobs} processes vs gcc -E on {jobs} threads:      {par / par_base:.2f}x")

    spent, parsed, reused = breakdown(revisions)
    total = sum(spent.values())
    print(f"\nwhere one sequential pass goes ({parsed} chunks parsed, {reused} reused):")
    for key, seconds in spent.items():
        print(f"  {key:<24} {seconds * 1000:8.1f} ms  {100 * seconds / total:5.1f}%")


if __name__ == "__main__":
    main()
