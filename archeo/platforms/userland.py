"""The userland platform: the system's C headers, plus stubs for what no system provides.

Copies of the kernel's rbtree in user-space projects (fio, btrfs-progs) include `<stdlib.h>`
and `<stdint.h>`, so they compile against the system's headers, without `-nostdinc`. Early
copies still include kernel headers (`<linux/kernel.h>` for container_of, ...) and many
include autoconf's `config.h`, generated at build time and in no commit. For those archeo
has small stubs written here (`archeo/shim/userland/`); a revision gets only the stubs it
asks for and its build notes say which, so a stub never shadows a system header that a
revision did not ask for (the system's `linux/stddef.h` is included by `linux/types.h`).

A quoted include that the revision's own tree resolves is never replaced by a stub.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ..records import Revision
from .base import CompilePlan, includes, revision_files, search_dirs

STUB_SOURCE = Path(__file__).resolve().parent.parent / "shim" / "userland"


def available_stubs() -> set[str]:
    return {p.relative_to(STUB_SOURCE).as_posix() for p in STUB_SOURCE.rglob("*.h")}


def plan(rev: Revision) -> CompilePlan:
    dirs = search_dirs(rev, rev.compile)
    files = revision_files(rev)
    stubs, notes = {}, []
    offered = available_stubs()
    for path, text in sorted(files.items()):
        for line, kind, name in includes(text):
            if name not in offered or name in stubs:
                continue
            if kind == '"' and _resolves(name, path, dirs, files):
                continue  # the project's own file wins
            stubs[name] = f"{path}:{line}"
    pending = list(stubs)
    while pending:  # a stub may include another stub (linux/kernel.h -> linux/compiler.h)
        name = pending.pop()
        for _, _, inner in includes((STUB_SOURCE / name).read_text()):
            if inner in offered and inner not in stubs:
                stubs[inner] = f"archeo's {name}"
                pending.append(inner)
    for name, where in sorted(stubs.items()):
        notes.append(f"stub {name} (archeo's stand-in, asked for by {where})")
    return CompilePlan(
        platform="userland",
        std=rev.compile.std or "gnu99",
        nostdinc=False,
        include_dirs=dirs,
        defines=rev.compile.defines,
        stubs=tuple(sorted(stubs)),
        stub_source=str(STUB_SOURCE),
        notes=tuple(notes),
    )


def _resolves(name: str, includer: str, dirs, files: dict[str, str]) -> bool:
    """Does a quoted include find a staged file, as gcc searches (includer's dir, then -I)?"""
    for d in (str(PurePosixPath(includer).parent), *dirs):
        candidate = PurePosixPath(d, name).as_posix() if d not in ("", ".") else name
        if candidate in files:
            return True
    return False
