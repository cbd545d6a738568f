"""`archeo lineage` over the corpus histories that have a local clone: cold and warm.

Cold: a fresh cache, so every revision of every history is mined, parsed, built and
difftested, then compared. Warm: the same command again, reading every stage from the cache
`archeo run` (or the cold lineage) filled. Goal (issue 17): warm < 10 s, cold < 90 s on a
2-core machine; both runs must give byte-identical lineage.json.

    XEN_REPO=... FIO_REPO=... BTRFS_REPO=... python bench/bench_lineage.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import help_or_run  # noqa: E402

REPOS = {"xen-rbtree": "XEN_REPO", "fio": "FIO_REPO", "btrfs-progs": "BTRFS_REPO"}
CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def main() -> int:
    help_or_run(__doc__)
    chosen = [(name, os.environ[var]) for name, var in REPOS.items() if os.environ.get(var) and (CORPUS / f"{name}.toml").exists()]
    if not chosen:
        print("skipped: set XEN_REPO (and FIO_REPO, BTRFS_REPO) to local clones", file=sys.stderr)
        return 0
    args = []
    for name, repo in chosen:
        args += ["--target", name, "--repo", f"{name}={repo}"]
    with tempfile.TemporaryDirectory() as tmp:
        outs, times = [], []
        for run in ("cold", "warm"):
            out = Path(tmp) / run
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "archeo.cli", "lineage", *args, "--cache", f"{tmp}/cache",
                            "--out", str(out), "--quiet"], check=True)
            times.append(time.perf_counter() - start)
            outs.append((out / "lineage.json").read_bytes())
    cold, warm = times
    print(f"targets: {', '.join(name for name, _ in chosen)}")
    print(f"cold: {cold:.1f} s (goal < 90 s: {'met' if cold < 90 else 'NOT met'})")
    print(f"warm: {warm:.1f} s (goal < 10 s: {'met' if warm < 10 else 'NOT met'}); warm/cold = {warm / cold:.3f}")
    print(f"lineage.json byte-identical cold and warm: {outs[0] == outs[1]}")
    return 0 if outs[0] == outs[1] else 1


if __name__ == "__main__":
    sys.exit(main())
