"""Measure the system calls a harness program makes once its sandbox is in place, under strace.

The allowlist in archeo/shim/sandbox_rt.c comes from here, not from guessing. The programs
are built with -DARCHEO_SANDBOX_MEASURE: the seccomp filter is installed where it always is
(so strace shows where it begins) but allows everything. Every kind of run is
traced: small and large batches, digest mode, segments joined by `w`, a crash (SIGSEGV), a
hang caught by the watchdog and by the CPU budget, `--info`, a run joining the executor's
network namespace (`--net-fd`); with `--sanitize`, the
sanitizer build of the same fixtures (an ASan report included).

    python bench/measure_syscalls.py              # the plain build
    python bench/measure_syscalls.py --sanitize   # ASan + UBSan

Prints, per run, the calls made before the filter (setting up: the session, the limits, the
network; not filtered) and after it, which of the latter the C list lacks (`MISSING`), and the
listed calls never seen (`unused`: allowed for paths a trace did not take, e.g. EINTR).
Exit status 1 when anything is missing.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from common import help_or_run  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from archeo import ops  # noqa: E402
from archeo.subjects.rbtree import generate as gen  # noqa: E402
from archeo.build import SANDBOX_RUNTIME, Builder  # noqa: E402
from archeo.parse import parse_revision  # noqa: E402
from archeo.execute import Executor  # noqa: E402
from archeo.records import Revision  # noqa: E402
from histories import FIXTURES  # noqa: E402

_CALL = re.compile(r"^(?:\[pid\s+\d+\]\s+)?(?:\d+\s+)?([a-z_0-9]+)\(")


def build(name: str, cache: str, sanitize: bool):
    fx = FIXTURES[name]
    rev = Revision("5" * 40, "2020-01-01T00:00:00+00:00", "a", "s", "modified", "xen/common/rbtree.c",
                   f"xen/include/{fx.include}", 1, 0, text=fx.c_text(), header_text=fx.h_text())
    builder = Builder(cache, sanitize=sanitize)
    builder.runtime_defines = ("-DARCHEO_SANDBOX_MEASURE",)
    program = builder.build(rev, parse_revision(rev))
    if not program.ok:
        raise SystemExit(f"{name}: {program.error}")
    return program


def trace(argv: list[str], batch: str, cwd: str, pass_fds: tuple[int, ...] = ()) -> list[str]:
    """The system calls of one run, in order (strace -f, the calls' names only)."""
    with tempfile.NamedTemporaryFile("w+") as log, tempfile.TemporaryFile("w+") as stdin:
        stdin.write(batch)
        stdin.seek(0)
        subprocess.run(["strace", "-f", "-qq", "-o", log.name, *argv], stdin=stdin, capture_output=True,
                       cwd=cwd, env={}, timeout=120, pass_fds=pass_fds)
        return [m.group(1) for line in Path(log.name).read_text().splitlines() if (m := _CALL.match(line))]


def stages(calls: list[str]) -> tuple[set[str], set[str]]:
    """(calls before the filter: setting up, not filtered; calls after it)."""
    marks = [i for i, c in enumerate(calls) if c == "seccomp"]
    if not marks:
        return set(calls), set()
    return set(calls[: marks[0]]), set(calls[marks[0] + 1 :])


def listed(sanitize: bool) -> set[str]:
    """The calls sandbox_rt.c allows, read from its rule table."""
    text = SANDBOX_RUNTIME.read_text()
    run_part = text[text.index("run_rules[] = {") : text.index("};", text.index("run_rules[] = {"))]
    if not sanitize:
        run_part = run_part.split("#ifdef ARCHEO_SANITIZE")[0]
    return {a or b for a, b in re.findall(r"R\((\w+)\)|\{SYS_(\w+)", run_part)}


def main() -> int:
    help_or_run(__doc__, '[--sanitize]')
    sanitize = "--sanitize" in sys.argv
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as cwd:
        good, crash, hang = (build(n, cache, sanitize) for n in ("era2009", "crash", "hang"))
        ex = Executor()
        small = ops.encode(gen.generate(1, 200, profile="small"))
        large = ops.encode(gen.generate(2, 20000, profile="large"))
        joined = small.rstrip("\n") + "\nw\n" + "\n".join(small.splitlines()[1:]) + "\n"
        limits = lambda batch: ex._command(good.path, ex.limits, sanitize, True, 20000, 2)[0][1:]  # noqa: E731
        net_fds = ex._shared_net(good.path)  # the executor's network namespace, as its runs join it
        shared = ["--net-fd", str(net_fds[0])] + (["--user-fd", str(net_fds[1])] if len(net_fds) > 1 else []) if net_fds else []
        runs = {
            "info": ([good.path, "--info", "--no-net"], ""),
            "small": ([good.path, *limits(small)], small),
            "small, shared netns": ([good.path, *limits(small), *shared], small),
            "large": ([good.path, *limits(large)], large),
            "digest+segments": ([good.path, *limits(joined), "--digest"], joined),
            "crash": ([crash.path, *limits(large)], large),
            "hang (watchdog)": ([hang.path, *limits(large)], large),
            "hang (budget)": ([hang.path, "--cpu-ms", "30", "--cpu", "2"], large),
            "budget+segments": ([good.path, "--cpu-ms", "1000", "--cpu", "2", "--segments", "2"], joined),
        }
        seen_before, seen_run = set(), set()
        for name, (argv, batch) in runs.items():
            before, run = stages(trace(argv, batch, cwd, tuple(net_fds)))
            print(f"{name:18} before the filter: {' '.join(sorted(before))}\n{'':18} after it:          {' '.join(sorted(run))}")
            seen_before |= before
            seen_run |= run
        ex.close()
    run_list = listed(sanitize)
    missing = seen_run - run_list
    print(f"\n{'sanitizer' if sanitize else 'plain'} build: {len(seen_run)} calls once the filter is in place")
    print("after the filter: ", " ".join(sorted(seen_run)))
    print("before it only:   ", " ".join(sorted(seen_before - seen_run)))
    print("MISSING:", " ".join(sorted(missing)) or "none")
    print("unused (listed, not seen):", " ".join(sorted(run_list - seen_run)) or "none")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
