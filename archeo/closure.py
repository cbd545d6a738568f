"""The include closure of a revision: the repository's files its code reaches, at that commit.

Behaviour lives in headers too: inline functions and macros. Later copies of the kernel's
red-black tree split its header in several (`rbtree_types.h`, `rbtree_augmented.h`, a
project's own `container.h` or `kerncompat.h`), and a commit may change one of them alone.
So a revision is compiled with every file that its .c and header reach through quoted
`#include`s, each as it was at that same commit — never today's copy of a header.

A quoted include is resolved as gcc resolves it: in the includer's own directory, then in
each include directory of the revision (the project's, then its header's ancestors), the
first file that exists at that commit wins. Angle-bracket includes are the platform's
business (system headers, archeo's stubs), and a name with `..` or an absolute path is not
followed (the build refuses it, naming the file and line).

All commits are resolved together, one `git cat-file --batch` per level of nesting, so the
cost does not grow with the number of git processes per revision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath

from .platforms import includes, safe_relative

Reader = Callable[[list[str]], Mapping[str, str | None]]  # ["<commit>:<path>"] -> text or None


def candidates(name: str, includer: str, dirs: Iterable[str]) -> list[str]:
    """Where a quoted `#include "name"` in `includer` may be found, in gcc's order."""
    if not safe_relative(name):
        return []
    out = []
    for d in (str(PurePosixPath(includer).parent), *dirs):
        path = name if d in ("", ".") else PurePosixPath(d, name).as_posix()
        if path not in out:
            out.append(path)
    return out


def closures(
    roots: Mapping[str, Mapping[str, str]],
    dirs: Mapping[str, tuple[str, ...]],
    read: Reader,
) -> dict[str, dict[str, str]]:
    """For each commit, the files its roots (path -> text) reach through quoted includes,
    path -> text as at that commit, the roots themselves left out."""
    found: dict[str, dict[str, str]] = {c: {} for c in roots}
    seen: dict[str, str | None] = {}  # "<commit>:<path>" -> text or None, read once
    frontier = {c: list(files.items()) for c, files in roots.items()}
    while any(frontier.values()):
        asks: dict[str, list[list[str]]] = {}
        for commit, items in frontier.items():
            for includer, text in items:
                for _, kind, name in includes(text):
                    if kind == '"':
                        asks.setdefault(commit, []).append(candidates(name, includer, dirs.get(commit, ())))
        wanted = sorted({f"{c}:{p}" for c, lists in asks.items() for cands in lists for p in cands} - set(seen))
        seen.update(read(wanted) if wanted else {})
        frontier = {}
        for commit, lists in asks.items():
            for cands in lists:
                path = next((p for p in cands if seen.get(f"{commit}:{p}") is not None), None)
                if path is None or path in roots[commit] or path in found[commit]:
                    continue  # missing (the compiler will say so), or already in
                found[commit][path] = seen[f"{commit}:{path}"]
                frontier.setdefault(commit, []).append((path, found[commit][path]))
    return found
