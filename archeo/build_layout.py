"""Where a revision's files go in its build directory, and how the harness includes them.

Split from build.py (which compiles): the .c at its own path, the header where the .c's
`#include` finds it (`xen/include/xeno/rbtree.h` -> `-I xen/include`, included as
`<xeno/rbtree.h>`), the include closure and the platform's stubs, and the generated
`archeo_config.h`; plus the rule every staged text must pass first: no absolute, `..` or
computed `#include`, so nothing outside the build directory can be reached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from .errors import ArcheoError
from .platforms import INCLUDE_DIRECTIVE, CompilePlan, includes, plan, safe_relative, stage, write_exact
from .records import Revision

CONFIG_PATH = "archeo-gen/archeo_config.h"


@dataclass(frozen=True)
class _Layout:
    """Where the revision's files go in the build directory, and how they are included."""

    source: str  # relative path of the .c
    header: str  # relative path of the header
    include_root: str  # relative directory passed with -I
    includes: tuple[str, ...]  # what archeo_config.h includes, e.g. ("<xen/types.h>", "<xen/rbtree.h>")


def check_includes(text: str, path: str) -> str | None:
    """Why the revision may not be compiled, or None: an `#include` must name a relative path
    without `..` (no reaching outside the build directory), and must not be computed."""
    for match in INCLUDE_DIRECTIVE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        rest = match.group(2).strip()
        directive = f"#{match.group(1)} {rest}".strip()
        m = re.match(r'^(<([^>]*)>|"([^"]*)")', rest)
        if not m:
            return f"{path}:{line}: computed include is not allowed: {directive}"
        target = m.group(2) if m.group(2) is not None else m.group(3)
        if target.startswith("/") or target.startswith("\\") or re.match(r"^[A-Za-z]:", target):
            return f"{path}:{line}: absolute include path is not allowed: {directive}"
        if ".." in re.split(r"[/\\]", target):
            return f"{path}:{line}: include path with '..' is not allowed: {directive}"
    return None


def _include_targets(text: str) -> list[str]:
    """The `<...>`/`"..."` include targets of a text, in order, brackets kept."""
    return [f"<{name}>" if kind == "<" else f'"{name}"' for _, kind, name in includes(text)]


def layout_for(rev: Revision) -> _Layout:
    """Place the .c at its own path and the header where the .c's `#include` finds it."""
    if not safe_relative(rev.path) or not safe_relative(rev.header_path or "x"):
        raise ArcheoError(f"revision {rev.short}: unsafe file path {rev.path!r} / {rev.header_path!r}")
    header_path = rev.header_path or "rbtree.h"
    base = PurePosixPath(header_path).name
    targets = _include_targets(rev.text or "")
    own = next((t for t in targets if PurePosixPath(t[1:-1]).name == base), None)
    if own is None:  # the .c does not include its header by name: use its historical include path
        name = header_path.split("include/", 1)[1] if "include/" in header_path else base
        own = f"<{name}>"
        prelude = targets
    else:
        prelude = targets[: targets.index(own)]
    name = own[1:-1]
    if header_path.endswith("/" + name) and header_path != rev.path:
        root = header_path[: -len(name) - 1]
        header = header_path
    else:
        root, header = "archeo-include", f"archeo-include/{name}"
    if header == rev.path:
        raise ArcheoError(f"revision {rev.short}: header and source share the path {header}")
    # the .c's other rbtree headers after its own (rbtree_augmented.h): the harness needs them too
    after = targets[targets.index(own) + 1 :] if own in targets else []
    later = tuple(t for t in after if PurePosixPath(t[1:-1]).name.startswith("rbtree"))
    return _Layout(rev.path, header, root, tuple(prelude) + (own,) + later)



def _with_root(compile_plan: CompilePlan, layout: _Layout) -> CompilePlan:
    """The plan with the layout's include root first (where the staged headers are)."""
    if layout.include_root in compile_plan.include_dirs:
        return compile_plan
    return replace(compile_plan, include_dirs=(layout.include_root, *compile_plan.include_dirs))


def stage_sources(rev: Revision, layout: _Layout, config: str, dest: Path, compile_plan: CompilePlan | None = None) -> None:
    """Write the revision's .c, header and include closure, unmodified, the plan's stubs, and
    the generated config under `dest` (platforms.stage).

    Read back and compared, so "the revision compiled is byte for byte the revision mined"
    is checked on every build rather than assumed (no newline or encoding translation).
    """
    stage(rev, compile_plan or plan(rev), dest)
    if layout.header != rev.header_path:  # the header where the .c's include finds it
        write_exact(dest / layout.header, rev.header_text or "")
    write_exact(dest / CONFIG_PATH, config)
