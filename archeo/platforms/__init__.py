"""Platforms: how a project's code is compiled — include layout, stubs, defines, standard.

A revision of a kernel-style file is compiled unmodified; what differs between projects is
the world around it. Xen's copy includes `<xen/config.h>` and friends, so it is compiled with
`-nostdinc` against archeo's stub kernel headers (`xen`); a userland copy (fio, btrfs-progs)
includes `<stdlib.h>` and a few kernel-style headers, so it is compiled against the system's
C headers plus small stubs written here (`userland`).

Every stage that hands the revision to gcc — parse (archeo/parse), build and the mutation tester —
asks `plan(rev)` for one `CompilePlan` and stages the files with `stage`, so the model
describes exactly what gets compiled, whatever the platform.

    >>> p = plan(rev)
    >>> p.platform, p.cflags()
    ('userland', ['-std=gnu99', '-I', 'lib', '-I', 'archeo-stubs'])
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ArcheoError
from ..records import Revision
from .base import (  # noqa: F401 (the package's names)
    INCLUDE_DIRECTIVE,
    CompilePlan,
    STUB_STAGE,
    header_dirs,
    includes,
    revision_files,
    safe_relative,
    search_dirs,
    write_exact,
)


# ---------------------------------------------------------------- choosing
def choose(rev: Revision) -> tuple[str, str]:
    """(platform name, why) for a revision: the target's choice, or what its files include."""
    if rev.compile.platform:
        return rev.compile.platform, f"platform {rev.compile.platform} (named by the target)"
    for path, text in sorted(revision_files(rev).items()):
        for line, kind, name in includes(text):
            if kind == "<" and name.split("/", 1)[0] in ("xen", "xeno"):
                return "xen", f"platform xen (chosen: {path}:{line} includes <{name}>)"
    return "userland", "platform userland (chosen: no file includes Xen's kernel headers)"


def plan(rev: Revision) -> CompilePlan:
    """The CompilePlan of one revision (see `choose`); the note says which platform and why."""
    from . import userland, xen

    name, why = choose(rev)
    module = {"xen": xen, "userland": userland}.get(name)
    if module is None:
        raise ArcheoError(f"unknown platform {name!r}: use one of {', '.join(sorted(PLATFORMS))}")
    made = module.plan(rev)
    return CompilePlan(**{**made.__dict__, "notes": (why, *made.notes)})


def stage(rev: Revision, compile_plan: CompilePlan, dest: str | Path) -> list[str]:
    """Write the revision's files (unmodified, read back and compared) and the plan's stubs
    under `dest`; returns the paths written, relative to `dest`."""
    dest = Path(dest)
    written = []
    files = revision_files(rev)
    files.update({f"{STUB_STAGE}/{n}": t for n, t in compile_plan.stub_texts().items()})
    for rel, text in files.items():
        if not safe_relative(rel):
            raise ArcheoError(f"revision {rev.short}: unsafe file path {rel!r}")
        write_exact(dest / rel, text)
        written.append(rel)
    return written


PLATFORMS = ("xen", "userland")
