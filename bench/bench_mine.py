"""Mining the Xen history: archeo vs the plain git command line vs PyDriller, side by side.

Plain git does the same work a person would script: `git log` for the commits that touch the
file or its header, then `git show <commit>:<path>` for the file and the header of each.
Goal (issue 2): archeo within 1.5x of plain git, and faster than PyDriller.

    XEN_REPO=/path/to/xen python bench/bench_mine.py
"""

from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import help_or_run, interleaved, xen_repo_or_exit  # noqa: E402

from archeo.mine import mine, open_repo  # noqa: E402
from archeo.target import load_target  # noqa: E402


def plain_git(repo: str, target) -> int:
    env = {**os.environ, "GIT_DIR": repo}
    paths = [*target.paths, *target.header_paths]
    log = subprocess.run(
        ["git", "log", "--reverse", "--format=%H", "--", *paths], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    texts = 0
    for sha in log:
        for path in paths:
            proc = subprocess.run(["git", "show", f"{sha}:{path}"], env=env, capture_output=True)
            texts += proc.returncode == 0
    return texts


def pydriller_mine(repo: str, target) -> int:
    from pydriller import Repository

    count = 0
    for path in target.paths:
        for commit in Repository(repo, filepath=path).traverse_commits():
            for mod in commit.modified_files:
                if mod.new_path in target.paths or mod.old_path in target.paths:
                    _ = mod.source_code
                    count += 1
    return count


def main() -> None:
    help_or_run(__doc__)
    repo = xen_repo_or_exit()
    # Some mirrors are bare directories without a `config` file; naming the git dir lets
    # every contender (PyDriller included) open them.
    os.environ["GIT_DIR"] = os.path.abspath(repo)
    target = load_target("xen-rbtree")
    repository = open_repo(repo, target)
    contenders = {
        "archeo mine": lambda: mine(target, repo=repository),
        "plain git (log + show)": lambda: plain_git(repo, target),
    }
    try:
        import pydriller  # noqa: F401

        contenders["PyDriller Repository(filepath=...)"] = lambda: pydriller_mine(repo, target)
    except ImportError:
        print("PyDriller not installed (pip install '.[bench]'); comparing with git only")
    times = interleaved(contenders, repeat=3)
    base = times["plain git (log + show)"]
    print(f"{'contender':40} {'seconds':>8} {'x plain git':>12}")
    for name, seconds in times.items():
        print(f"{name:40} {seconds:8.3f} {seconds / base:12.2f}")
    revisions = mine(target, repo=repository)
    print(f"\n{len(revisions)} revisions mined; goal: archeo <= 1.5x plain git and faster than PyDriller")


if __name__ == "__main__":
    main()
