"""Running batches: a built program behind the text protocol vs the same operations in C.

Side by side, on the same 100,000-op batch (the "large" profile: thousands of keys, checked
every 500 ops):

- **archeo**: `Executor.run(program, batch)`: spawn, confine (limits, empty environment, temp
  directory, new network namespace when allowed), parse the batch text, run it, write and read
  back the trace, classify. Everything the difftester pays per batch.
- **direct C**: a tiny driver generated here, linked with the same revision's object code, that
  performs the same operations (search + rb_link_node + rb_insert_color, rb_erase, walks, the
  dump and verify walks) from an in-memory array in one loop, timed inside the process.

Goal (issue 4): archeo at least half the direct rate. Also printed: the per-run overhead on a
tiny batch, harness-side confinement vs the classic preexec_fn + `unshare` wrapper; and (issue 12)
the executor now, sandboxed, against today's before the sandbox (`sandbox_cost`).

    python bench/bench_execute.py                 # our era2009 fixture tree
    XEN_REPO=/path/to/xen python bench/bench_execute.py   # Xen's newest rbtree.c
"""

from __future__ import annotations

import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved  # noqa: E402

from archeo import ops  # noqa: E402
from archeo.subjects.rbtree import generate as gen  # noqa: E402
from archeo.subjects.rbtree.api import config_header, derive_api  # noqa: E402
from archeo.build import BASE_FLAGS, SHIM_INCLUDE, Builder, layout_for  # noqa: E402
from archeo.parse import parse_revision  # noqa: E402
from archeo.execute import Executor  # noqa: E402
from archeo.records import Revision  # noqa: E402

N_OPS = 100_000
ROOT = Path(__file__).resolve().parent.parent

# The driver: our own C, the same operations as archeo/shim/harness.c minus the text.
DRIVER = r"""
#include "archeo_config.h"

struct item { unsigned int key; archeo_node_t node; };
#define KEY(n) (ARCHEO_ENTRY((n), struct item, node)->key)
#define NODE(k) (&pool[2UL * (k) + cur[k]].node)

unsigned long direct_run(const unsigned char *codes, const unsigned int *keys, unsigned long n,
                         unsigned long keyspace, struct item *pool, unsigned char *cur,
                         unsigned char *present, archeo_node_t **stack)
{
    archeo_root_t root;
    unsigned long i, sum = 0;
    root.rb_node = (archeo_node_t *)0;
    for (i = 0; i < 2 * keyspace; i++)
        pool[i].key = (unsigned int)(i >> 1);
    for (i = 0; i < n; i++) {
        unsigned int k = keys[i];
        archeo_node_t *x, **link, *parent;
        unsigned long sp, count;
        switch (codes[i]) {
        case 'i':
            link = &root.rb_node; parent = (archeo_node_t *)0;
            while (*link) {
                parent = *link;
                if (k < KEY(parent)) link = &parent->rb_left;
                else if (k > KEY(parent)) link = &parent->rb_right;
                else break;
            }
            if (*link) { sum += 1; break; }
            rb_link_node(NODE(k), parent, link);
            rb_insert_color(NODE(k), &root);
            present[k] = 1; sum += 2;
            break;
        case 'e':
            if (present[k]) { rb_erase(NODE(k), &root); present[k] = 0; sum += 3; }
            break;
        case 'f':
            x = root.rb_node;
            while (x && KEY(x) != k) x = k < KEY(x) ? x->rb_left : x->rb_right;
            sum += x != 0;
            break;
#ifdef ARCHEO_HAS_FIRST
        case '<': x = rb_first(&root); sum += x ? KEY(x) : 7; break;
        case '>': x = rb_last(&root); sum += x ? KEY(x) : 7; break;
        case 'n': if (present[k]) { x = rb_next(NODE(k)); sum += x ? KEY(x) : 7; } break;
        case 'p': if (present[k]) { x = rb_prev(NODE(k)); sum += x ? KEY(x) : 7; } break;
        case 'r':
            if (present[k]) { rb_replace_node(NODE(k), &pool[2UL * k + (cur[k] ^ 1)].node, &root); cur[k] ^= 1; }
            break;
#endif
#ifdef ARCHEO_HAS_CLEAR
        case 'c': if (!present[k]) ARCHEO_CLEAR(NODE(k)); break;
        case 'z': sum += ARCHEO_EMPTY(NODE(k)) ? 1 : 0; break;
#endif
        case 'd':   /* preorder walk, as the dump */
            sp = 0; stack[sp++] = root.rb_node;
            while (sp) {
                x = stack[--sp];
                if (!x) continue;
                sum += KEY(x) * 2 + (ARCHEO_IS_RED(x) ? 1 : 0);
                stack[sp++] = x->rb_right; stack[sp++] = x->rb_left;
            }
            break;
        case 'v':   /* in-order walk with the parent, colour and order checks */
            sp = 0; count = 0; x = root.rb_node; parent = (archeo_node_t *)0;
            for (;;) {
                while (x) {
                    count++;
                    if (x->rb_left && ARCHEO_PARENT(x->rb_left) != x) sum++;
                    if (x->rb_right && ARCHEO_PARENT(x->rb_right) != x) sum++;
                    if (ARCHEO_IS_RED(x) && x->rb_left && ARCHEO_IS_RED(x->rb_left)) sum++;
                    stack[sp++] = x; x = x->rb_left;
                }
                if (!sp) break;
                x = stack[--sp];
                if (parent && KEY(parent) >= KEY(x)) sum++;
                parent = x; x = x->rb_right;
            }
            sum += count;
            break;
        case 'x':
            root.rb_node = (archeo_node_t *)0;
            for (sp = 0; sp < keyspace; sp++) present[sp] = 0;
            break;
        }
    }
    return sum;
}
"""

MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
unsigned long direct_run(const unsigned char *, const unsigned int *, unsigned long, unsigned long,
                         void *, unsigned char *, unsigned char *, void **);
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    unsigned int head[2];
    struct timespec a, b;
    if (!f || fread(head, 4, 2, f) != 2) return 2;
    unsigned long n = head[0], keyspace = head[1], size = strtoul(argv[2], 0, 10);
    unsigned char *codes = malloc(n);
    unsigned int *keys = malloc(4 * n);
    if (fread(codes, 1, n, f) != n || fread(keys, 4, n, f) != n) return 2;
    clock_gettime(CLOCK_MONOTONIC, &a);
    void *pool = calloc(2 * keyspace, size);
    unsigned char *cur = calloc(keyspace, 1), *present = calloc(keyspace, 1);
    void **stack = calloc(2 * keyspace + 2, sizeof(void *));
    unsigned long sum = direct_run(codes, keys, n, keyspace, pool, cur, present, stack);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.9f %lu\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9, sum);
    return 0;
}
"""


def subject() -> Revision:
    """Xen's newest rbtree.c when XEN_REPO is set, else our own era2009 fixture."""
    repo = os.environ.get("XEN_REPO")
    if repo:
        from archeo.mine import mine

        return [r for r in mine("xen-rbtree", repo=repo) if r.present][-1]
    fixtures = ROOT / "tests" / "fixtures"
    return Revision(
        commit="fixture-era2009".ljust(40, "0"), date="2009-01-01T00:00:00+00:00", author="fixtures", subject="era2009",
        status="added", path="xen/common/rbtree.c", header_path="xen/include/xen/rbtree.h", added=0, removed=0,
        text=(fixtures / "era2009.c").read_text(), header_text=(fixtures / "era2009.h").read_text(),
    )


def build_direct(rev: Revision, model, tmp: Path) -> Path:
    """Compile the revision, the driver and its main into one executable (same flags as build.py)."""
    layout = layout_for(rev)
    files = {
        layout.source: rev.text,
        layout.header: rev.header_text,
        "gen/archeo_config.h": config_header(derive_api(model), layout.includes),
        "driver.c": DRIVER,
        "main.c": MAIN,
    }
    for rel, text in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    kernel = [*BASE_FLAGS, "-nostdinc", "-I", "gen", "-I", layout.include_root, "-I", str(SHIM_INCLUDE)]
    for argv in (
        ["gcc", *kernel, "-c", layout.source, "-o", "revision.o"],
        ["gcc", *kernel, "-c", "driver.c", "-o", "driver.o"],
        ["gcc", *BASE_FLAGS, "-o", "direct", "main.c", "driver.o", "revision.o"],
    ):
        subprocess.run(argv, cwd=tmp, check=True)
    return tmp / "direct"


def main() -> None:
    import argparse

    # No options: the parser is there so that --help prints the docstring instead of running.
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    rev = subject()
    model = parse_revision(rev)
    with tempfile.TemporaryDirectory(prefix="archeo-bench-") as tmp_name:
        tmp = Path(tmp_name)
        program = Builder(tmp / "cache").build(rev, model)
        if not program.ok:
            sys.exit(f"build failed: {program.error}")
        direct = build_direct(rev, model, tmp)
        keyspace = 16384
        batch_ops = gen.generate(1, N_OPS, profile="large", keyspace=keyspace)
        batch = ops.encode(batch_ops, keyspace)
        with open(tmp / "ops.bin", "wb") as fh:
            fh.write(struct.pack("<II", len(batch_ops), keyspace))
            fh.write(bytes(ord(op.code) for op in batch_ops))
            fh.write(struct.pack(f"<{len(batch_ops)}I", *(op.key or 0 for op in batch_ops)))
        item_size = str(((4 + 7) // 8) * 8 + program.node_size)  # struct item { unsigned key; node }

        executor = Executor()
        first = executor.run(program, batch)
        assert first.status == "ok", (first.status, first.kind, first.stderr[:300])
        inner: list[float] = []

        def run_direct() -> None:
            out = subprocess.run([str(direct), str(tmp / "ops.bin"), item_size], capture_output=True, text=True, check=True)
            inner.append(float(out.stdout.split()[0]))

        times = interleaved({"archeo": lambda: executor.run(program, batch), "direct C": run_direct}, repeat=7)
        direct_loop = sorted(inner)[len(inner) // 2]

        print(f"subject: {rev.short} ({'Xen' if os.environ.get('XEN_REPO') else 'our era2009 fixture'}), "
              f"{N_OPS:,} ops, keyspace {keyspace}, network {executor.network}")
        archeo_rate = N_OPS / times["archeo"]
        direct_rate = N_OPS / direct_loop
        print(f"  archeo (spawn + confine + text batch + trace + classify): {times['archeo'] * 1e3:7.1f} ms  {archeo_rate:12,.0f} ops/s")
        print(f"  direct C loop (in-process time):                          {direct_loop * 1e3:7.1f} ms  {direct_rate:12,.0f} ops/s")
        print(f"  direct C process, wall (spawn + load ops + loop):         {times['direct C'] * 1e3:7.1f} ms")
        ratio = archeo_rate / direct_rate
        print(f"  ratio archeo / direct: {ratio:.2f}  (goal >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})")

        tiny = ops.encode(gen.generate(2, 50, profile="small"))
        for confine in ("harness", "preexec"):
            ex = Executor(confine=confine)
            ex.run(program, tiny)
            n = 100
            start = time.perf_counter()
            for _ in range(n):
                ex.run(program, tiny)
            print(f"  per-run overhead, 50-op batch, confine={confine}: {(time.perf_counter() - start) / n * 1e3:.2f} ms")
            ex.close()
        executor.close()
        sandbox_cost(program, tiny, batch)


def sandbox_cost(program, tiny: str, large: str, rounds: int = 15, tiny_runs: int = 40) -> None:
    """The executor now (seccomp + Landlock, docs/security.md, in the executor's one network
    namespace) against today's, i.e. before the sandbox (`--no-sandbox`, a fresh network
    namespace made and torn down per run): the goal of issue 12, within 5 %. Beside them, so
    the sandbox's own cost is not hidden by the namespace's saving, the two other corners:
    the sandbox with a namespace per run, and no sandbox in the shared namespace.

    Rounds alternate the executors, so load hits all alike; medians of the rounds. Per run:
    wall time and the child's CPU time (user + system; the kernel's teardown of a namespace is
    charged to no child, so today's CPU is if anything understated) on the 50-op batch;
    throughput on the large batch."""
    executors = {
        "now": Executor(),
        "today": Executor(sandbox=False, shared_network=False),
        "sandbox, netns per run": Executor(shared_network=False),
        "no sandbox, shared netns": Executor(sandbox=False),
    }
    wall: dict[str, list[float]] = {k: [] for k in executors}
    cpu: dict[str, list[float]] = {k: [] for k in executors}
    rate: dict[str, list[float]] = {k: [] for k in executors}
    for ex in executors.values():
        ex.run(program, tiny)
    load = [os.getloadavg()[0]]
    for _ in range(rounds):
        for name, ex in executors.items():
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            for _ in range(tiny_runs):
                ex.run(program, tiny)
            wall[name].append((time.perf_counter() - start) / tiny_runs)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append((after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime) / tiny_runs)
            start = time.perf_counter()
            ex.run(program, large)
            rate[name].append(N_OPS / (time.perf_counter() - start))
        load.append(os.getloadavg()[0])
    med = {k: {m: statistics.median(v[k]) for m, v in (("wall", wall), ("cpu", cpu), ("rate", rate))} for k in executors}
    print(f"  the executor now vs today's (before the sandbox), {rounds} interleaved rounds, medians, "
          f"1-minute load {min(load):.1f}-{max(load):.1f}:")
    for name, ex in executors.items():
        m = med[name]
        netns = "netns per run" if not ex.shared_network else "shared netns"
        print(f"    {name:24} ({ex.confinement}, {netns})  per run {m['wall'] * 1e3:.3f} ms wall, "
              f"{m['cpu'] * 1e3:.3f} ms CPU;  {m['rate']:12,.0f} ops/s")

    def ratios(on: str, off: str, goal: bool) -> None:
        a, b = med[on], med[off]
        for label, ratio in (("per-run wall", a["wall"] / b["wall"]), ("per-run CPU", a["cpu"] / b["cpu"]),
                             ("throughput", b["rate"] / a["rate"])):
            verdict = f"  (goal within 5 %: {'met' if ratio <= 1.05 else 'NOT met'})" if goal else ""
            print(f"    {label:12}  {on} / {off} {ratio:.3f}{verdict}")

    ratios("now", "today", goal=True)
    print("    the sandbox's own cost, same network set-up on both sides:")
    ratios("sandbox, netns per run", "today", goal=False)
    ratios("now", "no sandbox, shared netns", goal=False)
    for ex in executors.values():
        ex.close()


if __name__ == "__main__":
    main()
