"""`archeo demo`: a small history written here, studied end to end, offline, in seconds.

Without a Xen clone and without a network a newcomer can still see what archeo does: this
package builds a git history of our own kernel-style red-black tree (C written for archeo,
MIT, in `fixtures/`) in a temporary directory — three API eras (2004, 2009, 2017), a file
move, a header move, a planted regression in `rb_erase` that crashes, and the commit that
fixes it — then runs the whole pipeline on it and writes the report. The commit ids are the
same on every machine (fixed names and dates), so the report is reproducible too.
"""

from __future__ import annotations

from pathlib import Path

from ..records import CompileSettings, Target
from .fixtures import C_PATH_2004, C_PATH_2020, H_PATH_XEN, H_PATH_XENO, TARGET_HEADER_PATHS, TARGET_PATHS
from .gitbuild import History, Step, build_history

NAME = "demo-rbtree"

#: one commit each: what happens to the file and its header (fixture names: fixtures/README.md)
STEPS: tuple[Step, ...] = (
    Step("rbtree: new file", "2004-01-15", writes={C_PATH_2004: "era2004.c", H_PATH_XENO: "era2004.h"}, label="add"),
    Step("xeno -> xen renames", "2004-03-23", renames={H_PATH_XENO: H_PATH_XEN},
         writes={H_PATH_XEN: "era2004xen.h", C_PATH_2004: "era2004xen.c"}, label="header-move"),
    Step("rbtree: first, last, next, prev and replace", "2009-05-26",
         writes={C_PATH_2004: "era2009.c", H_PATH_XEN: "era2009.h"}, tag="RELEASE-1.0", label="era2009"),
    Step("rbtree: reword comments", "2010-04-01", writes={C_PATH_2004: "textonly.c"}, label="text-only"),
    Step("rbtree: const walkers, private colour helpers", "2017-06-20",
         writes={C_PATH_2004: "era2017.c", H_PATH_XEN: "era2017.h"}, tag="RELEASE-2.0", label="era2017"),
    Step("rbtree: a shorter rb_erase", "2018-02-01",
         writes={C_PATH_2004: "crash.c", H_PATH_XEN: "crash.h"}, tag="RELEASE-2.1", label="regression"),
    Step("rbtree: rb_erase must follow the successor's parent", "2018-09-03",
         writes={C_PATH_2004: "era2017.c", H_PATH_XEN: "era2017.h"}, tag="RELEASE-2.2", label="fix"),
    Step("lib: move rbtree code", "2020-05-01", renames={C_PATH_2004: C_PATH_2020}, label="move"),
)


def demo_target() -> Target:
    return Target(
        name=NAME,
        paths=TARGET_PATHS,
        header_paths=TARGET_HEADER_PATHS,
        subject="rbtree",
        release_pattern="RELEASE-*",
        description="archeo's demo: our own kernel-style red-black tree (C written for archeo, MIT) in three API eras, "
        "with a regression planted in rb_erase in 2018 and its fix",
        source="archeo demo",
        compile=CompileSettings(platform="xen"),
    )


def build_demo(directory: Path | str) -> History:
    """The demo history as a git repository in `directory/demo` (same commit ids everywhere)."""
    return build_history(directory, STEPS, name="demo")
