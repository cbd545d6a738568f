"""Run every bench/bench_*.py in turn (`make bench`), each in its own process.

    XEN_REPO=/path/to/xen python bench/run_all.py            # all of them
    XEN_REPO=/path/to/xen python bench/run_all.py difftest   # those whose name contains "difftest"

Without XEN_REPO the benchmarks that need Xen's history say so and are skipped (exit 0).
Exits non-zero when any benchmark failed, after running the others.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(word in s.stem for word in argv)]
        if not scripts:
            print(f"no benchmark matches {' '.join(argv)}", file=sys.stderr)
            return 2
    failed = []
    for script in scripts:
        print(f"==> {script.name}", flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, stderr=subprocess.STDOUT).returncode
        print(f"<== {script.name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {time.perf_counter() - start:.0f} s\n",
              flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"failed: {' '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
