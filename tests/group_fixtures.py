"""The later-API-groups fixtures (tests/fixtures/groups.* and their variants) and the planted
history the group tests run on.

Kept beside tests/histories.py rather than in its FIXTURES table: these are user-space
layouts (`lib/rbtree.c`, `#include "rbtree.h"`, system headers), compiled by the userland
platform, while FIXTURES are Xen-shaped and compiled with the Xen stubs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from histories import Step, build_history, read_fixture

C_PATH = "lib/rbtree.c"
H_PATH = "lib/rbtree.h"


@dataclass(frozen=True)
class GroupFixture:
    name: str
    source: str  # file in FIXTURE_DIR (maybe stored as a .diff)
    header: str
    group: str  # the API group the variant touches ("" for the base)
    trace: str  # what difftest should say against the base
    op: str  # the protocol ops a witness must use one of ("" for the base)
    note: str

    def files(self) -> dict[str, str]:
        return {C_PATH: read_fixture(self.source), H_PATH: read_fixture(self.header)}


GROUP_FIXTURES = {
    f.name: f
    for f in (
        GroupFixture("groups", "groups.c", "groups.h", "", "same", "",
                     "every later API group, written from the documented semantics"),
        GroupFixture("cachedleft", "cachedleft.c", "groups.h", "cached", "invariant", "E",
                     "rb_erase_cached forgets to move the leftmost on"),
        GroupFixture("augrotate", "augrotate.c", "groups.h", "augmented", "invariant", "AB",  # both rebalance by rotating
                     "the augment rotate callback is not called on a left rotation"),
        GroupFixture("postskip", "postskip.c", "groups.h", "postorder", "observable", "P",
                     "rb_next_postorder skips a right sibling's subtree"),
        GroupFixture("findlast", "groups.c", "findlast.h", "search", "observable", "[]",
                     "rb_find_first keeps looking right and returns the last equal node"),
        GroupFixture("augerase2010", "augerase2010.c", "groups.h", "augment2010", "invariant", "b",
                     "rb_augment_erase_begin names the successor, so erase-end starts too high"),
        GroupFixture("norcu", "norcu.c", "norcu.h", "rcu", "api", "u",
                     "no rb_replace_node_rcu: `u K` answers NA, every other line the same"),
    )
}
PLANTS = [name for name in GROUP_FIXTURES if name != "groups"]


def files() -> set[str]:
    """Every fixture file name the group fixtures use."""
    return {f.source for f in GROUP_FIXTURES.values()} | {f.header for f in GROUP_FIXTURES.values()}


def planted_history(tmp_path: Path | str):
    """base, then for each plant: the plant, then the base again (so each fix ends it)."""
    base = GROUP_FIXTURES["groups"].files()
    steps = [Step("groups: base", "2022-01-03", writes=base, label="groups")]
    day = 4
    for name in PLANTS:
        steps.append(Step(f"plant {name}", f"2022-01-{day:02d}", writes=GROUP_FIXTURES[name].files(), label=name))
        steps.append(Step(f"fix {name}", f"2022-01-{day + 1:02d}", writes=base, label=f"fix-{name}"))
        day += 2
    return build_history(tmp_path, steps, name="groups"), steps
