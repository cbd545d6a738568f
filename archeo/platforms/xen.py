"""The Xen platform: `-nostdinc` against archeo's stub kernel headers (`archeo/shim/include`).

Xen's rbtree.c includes `<xen/config.h>`, `<xen/types.h>`, `<xen/lib.h>`... and nothing of
libc; the shim gives just enough of those (types, NULL, container_of) for the file and the
harness to compile, and nothing else can be reached: no system header, no other Xen file.
"""

from __future__ import annotations

from pathlib import Path

from ..records import Revision
from .base import CompilePlan, search_dirs

SHIM_INCLUDE = Path(__file__).resolve().parent.parent / "shim" / "include"


def plan(rev: Revision) -> CompilePlan:
    return CompilePlan(
        platform="xen",
        std=rev.compile.std or "gnu99",
        nostdinc=True,
        include_dirs=search_dirs(rev, rev.compile),
        defines=rev.compile.defines,
        stub_dir=str(SHIM_INCLUDE),
    )
