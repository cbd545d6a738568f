"""Small, deterministic git histories from our own red-black tree fixtures, for the tests.

The C (``archeo/demo/fixtures/``, also reachable as ``tests/fixtures/``) is written for
archeo (MIT); no Xen or Linux source is used here. The fixtures table and the git builder
live in the package (``archeo.demo.fixtures``, ``archeo.demo.gitbuild``) because
``archeo demo`` builds its history from them too; they are re-exported here so tests keep
one import.

* ``FIXTURES`` - every fixture by name (``era2009``, ``crash``, ...): its ``.c`` and
  ``.h`` text, the include path its header lives at, and what it demonstrates.
* ``build_history(tmp_path, steps)`` - a git repository from a list of ``Step``s, with
  fixed names and dates: same steps, same commit ids on every machine.
* ``standard_history`` and ``planted_history`` - ready-made histories for the mine,
  parse, diff and difftest tests, returned with their steps' labels and (for the
  planted one) what each commit is expected to change, as data.

``write_target`` writes a corpus TOML file in the format of ``corpus/xen-rbtree.toml``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from archeo.demo.fixtures import (  # noqa: F401  (re-exported for the tests)
    AUTHOR_EMAIL,
    AUTHOR_NAME,
    C_PATH_2004,
    C_PATH_2020,
    COMMITTER_EMAIL,
    COMMITTER_NAME,
    DECOY_PATHS,
    FIXTURE_DIR,
    FIXTURES,
    H_PATH_XEN,
    H_PATH_XENO,
    TARGET_HEADER_PATHS,
    TARGET_PATHS,
    Fixture,
    apply_diff,
    fixture_files,
    read_fixture,
    resolve_text,
    xeno_to_xen,
)
from archeo.demo.gitbuild import History, Step, build_history  # noqa: F401

@dataclass(frozen=True)
class BuiltHistory:
    """A ready-made history: where it is, its commits and the steps that made them."""

    path: Path
    commits: tuple[str, ...]  # one per step, in step order
    steps: tuple[Step, ...]

    def commit(self, label: str) -> str:
        """The id of the commit whose step has this label."""
        for step, commit in zip(self.steps, self.commits):
            if step.label == label:
                return commit
        raise KeyError(label)

    def index(self, label: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.label == label)

    @property
    def labels(self) -> dict[str, str]:
        """label -> commit id, for every labelled step."""
        return {s.label: c for s, c in zip(self.steps, self.commits) if s.label}


# ----------------------------------------------------------------------------- standard
def _modify_2004(text: str) -> str:
    """The 'modify' step: a one-line, behaviour-preserving edit to era2004.c."""
    old = "\tif (!parent)\n\t\troot->rb_node = new;"
    assert text.count(old) == 1
    return text.replace(old, "\tif (parent == NULL)\n\t\troot->rb_node = new;")


def _side_comment_2017(text: str) -> str:
    """The side branch's edit to era2017.c: a comment, nothing else."""
    old = "void rb_erase(struct rb_node *node, struct rb_root *root)\n"
    assert text.count(old) == 1
    return text.replace(old, "/* Unlink @node; the caller owns its memory afterwards. */\n" + old)


_README = "A tree of files for archeo's tests.\n"
_TOOLS_RBTREE = """\
/* SPDX-License-Identifier: MIT -- written for archeo's tests.
 * An unrelated program that happens to be called rbtree.c. */
int main(void)
{
    return 0;
}
"""


def standard_steps() -> list[Step]:
    """The steps of ``standard_history`` (labels in brackets in its docstring)."""
    c04 = FIXTURES["era2004"].c_text()
    mod04 = _modify_2004(c04)
    return [
        Step("rbtree: new file", "2004-01-15", label="add",
             writes={C_PATH_2004: "era2004.c", H_PATH_XENO: "era2004.h", "README": _README}),
        Step("rbtree: compare with NULL explicitly", "2004-02-02", label="modify",
             writes={C_PATH_2004: mod04}),
        Step("xeno -> xen renames", "2004-03-23", label="header-move",
             renames={H_PATH_XENO: H_PATH_XEN},
             writes={H_PATH_XEN: "era2004xen.h", C_PATH_2004: xeno_to_xen(mod04)}),
        Step("rbtree: removed", "2004-06-10", label="delete",
             deletes=(C_PATH_2004, H_PATH_XEN)),
        Step("ia64: import linux rbtree.h; tools: add rbtree", "2005-03-01", label="decoys",
             writes={DECOY_PATHS[0]: "era2004.h", DECOY_PATHS[1]: _TOOLS_RBTREE}),
        Step("rbtree: bring it back, new API", "2009-05-26", label="re-add", tag="RELEASE-3.4.0",
             writes={C_PATH_2004: "era2009.c", H_PATH_XEN: "era2009.h"}),
        Step("rbtree.h: reword comments", "2010-04-01", label="header-only",
             writes={H_PATH_XEN: "textonly.h"}),
        Step("rbtree: reword comments", "2012-01-10", label="text-only",
             writes={C_PATH_2004: "textonly.c"}),
        Step("tools: touch the other rbtree.c", "2013-02-02", label="decoy-change",
             writes={DECOY_PATHS[1]: _TOOLS_RBTREE.replace("return 0;", "return 1;")}),
        Step("rbtree: add const qualifier to the walkers", "2017-06-20", label="const",
             writes={C_PATH_2004: "era2017.c", H_PATH_XEN: "era2017.h"}),
        Step("rbtree.h: parenthesise rb_parent()", "2017-12-20", label="macro-parens",
             writes={H_PATH_XEN: "macroparens.h"}),
        Step("rbtree: document rb_erase", "2018-01-03", label="side", branch="side",
             writes={C_PATH_2004: _side_comment_2017(FIXTURES["era2017"].c_text())}),
        Step("README: mention the tree", "2018-01-05", label="main-only",
             writes={"README": _README + "It has a red-black tree.\n"}),
        Step("Merge branch 'side'", "2018-01-10", label="merge", merge="side",
             tag="RELEASE-4.11.0"),
        Step("lib: move rbtree code", "2020-05-01", label="move",
             renames={C_PATH_2004: C_PATH_2020}),
        Step("tools: touch the other rbtree.c again", "2021-03-03", label="decoy-change-2",
             writes={DECOY_PATHS[1]: _TOOLS_RBTREE.replace("return 0;", "return 2;")}),
    ]


def standard_history(tmp_path: Path | str) -> BuiltHistory:
    """A history shaped like the real file's, made from our fixtures.

    Commit (index, label): what happens to the target (.c) and its header.

    0  add            era2004 at xen/common/rbtree.c + header at xen/include/xeno/rbtree.h
    1  modify         the .c: one line, ``if (!parent)`` -> ``if (parent == NULL)``
    2  header-move    header renamed xeno/ -> xen/ (its includes rewritten), the .c's
                      ``#include <xeno/rbtree.h>`` and nothing else changed
    3  delete         .c and header deleted
    4  decoys         not the target: xen/include/asm-ia64/linux/rbtree.h (era2004's
                      header text) and tools/rbtree.c appear
    5  re-add         era2009 (.c + header), tag RELEASE-3.4.0
    6  header-only    header becomes textonly.h (comments/whitespace only)
    7  text-only      .c becomes textonly.c (comments/whitespace only)
    8  decoy-change   only tools/rbtree.c changes
    9  const          era2017 (.c + header)
    10 macro-parens   header becomes macroparens.h
    11 side           on branch ``side`` (from 10): a comment added to the .c
    12 main-only      on main: only README changes
    13 merge          merge of ``side`` into main (parents 12, 11); tag RELEASE-4.11.0
    14 move           xen/common/rbtree.c -> xen/lib/rbtree.c, content unchanged
    15 decoy-change-2 only tools/rbtree.c changes

    Commit 11 is not on main's first-parent line; 13 brings its change in.
    """
    steps = standard_steps()
    built = build_history(tmp_path, steps, name="standard")
    return BuiltHistory(built.path, tuple(built.commits), tuple(steps))


# ----------------------------------------------------------------------------- planted
def _ins(*keys: int) -> tuple[str, ...]:
    return tuple(f"i {k}" for k in keys)


@dataclass(frozen=True)
class Plant:
    """What one commit of ``planted_history`` does, relative to the commit before it.

    ``witness`` is a short batch (docs/protocol.md op lines) that shows the change, and
    ``trace`` the difftest class it gives against the previous commit (and against the
    reference for a plant): same | api | structural | observable | invariant | crash.
    ``generated`` is the class a long generated batch gives by the protocol's "strongest
    difference" rule; it differs from ``trace`` only for the invariant plant, whose
    broken trees later crash an erase (red-red spreads into black-height errors, then
    the erase repair meets a NULL sibling).  ``model`` lists astdiff Change kinds that
    must be among the changes found (others, e.g. text-only noise, may come too).
    """

    index: int
    label: str
    fixture: str  # what the target (and its header) became at this commit
    role: str  # base | control | plant | fix
    trace: str
    generated: str
    witness: tuple[str, ...]
    model: tuple[str, ...]
    names: tuple[str, ...]  # functions concerned
    note: str = ""


_W_CRASH = _ins(0, 1, 2, 3, 4, 5, 6) + ("e 3",)
_W_STRUCT = _W_CRASH + ("d",)
_W_NEXT = _ins(0, 1, 2, 3, 4) + ("n 1",)
_W_INV = _ins(0, 1, 2, 3) + ("v",)
_W_PREV = ("i 0", "p 0")

PLANTS: tuple[Plant, ...] = (
    Plant(0, "base", "era2009", "base", "same", "same", (), (), (),
          "correct 2009 tree, same as the reference"),
    Plant(1, "text-only", "textonly", "control", "same", "same", (), ("text-only",), (),
          "comments and whitespace only"),
    Plant(2, "api-added", "api", "plant", "same", "same", (), ("function-added",),
          ("rb_first_postorder",),
          "a new exported function; no protocol op uses it, so only the model sees it"),
    Plant(3, "api-added-fix", "era2009", "fix", "same", "same", (), ("function-removed",),
          ("rb_first_postorder",)),
    Plant(4, "api-removed", "noprev", "plant", "api", "api", _W_PREV, ("function-removed",),
          ("rb_prev",), "rb_prev gone: `p 0` answers NA instead of nil"),
    Plant(5, "api-removed-fix", "era2009", "fix", "api", "api", _W_PREV, ("function-added",),
          ("rb_prev",)),
    Plant(6, "structural", "structural", "plant", "structural", "structural", _W_STRUCT,
          ("body-changed",), ("rb_erase",),
          "erase splices the predecessor: valid trees, other shapes "
          "(dump after the witness: T 1:b 0:b . . 5:r 2:b . 4:r . . 6:b . .)"),
    Plant(7, "structural-fix", "era2009", "fix", "structural", "structural", _W_STRUCT,
          ("body-changed",), ("rb_erase",)),
    Plant(8, "observable", "observable", "plant", "observable", "observable", _W_NEXT,
          ("body-changed",), ("rb_next",),
          "rb_next skips the right child's left subtree: `n 1` gives 3, not 2"),
    Plant(9, "observable-fix", "era2009", "fix", "observable", "observable", _W_NEXT,
          ("body-changed",), ("rb_next",)),
    Plant(10, "invariant", "invariant", "plant", "invariant", "crash", _W_INV,
          ("body-changed",), ("rb_insert_color",),
          "`v` says `bad red-red` after four ascending inserts; longer batches go on to "
          "crash, so a generated batch reports crash"),
    Plant(11, "invariant-fix", "era2009", "fix", "invariant", "crash", _W_INV,
          ("body-changed",), ("rb_insert_color",)),
    Plant(12, "crash", "crash", "plant", "crash", "crash", _W_CRASH, ("body-changed",),
          ("rb_erase",), "SIGSEGV on `e 3`: its successor 4 is deeper than its right child "
          "and has no right child"),
    Plant(13, "crash-fix", "era2009", "fix", "crash", "crash", _W_CRASH, ("body-changed",),
          ("rb_erase",)),
)


@dataclass(frozen=True)
class PlantedHistory(BuiltHistory):
    plants: tuple[Plant, ...] = PLANTS

    def plant_at(self, commit: str) -> Plant:
        return self.plants[self.commits.index(commit)]

    @property
    def introduced(self) -> dict[str, str]:
        """commit id -> class of its witness, for the commits that plant a change."""
        return {self.commits[p.index]: p.trace for p in self.plants if p.role == "plant"}

    @property
    def reported(self) -> dict[str, str]:
        """commit id -> class a generated batch gives against the previous commit,
        for every commit after the first (what ``archeo difftest`` lists as "vs previous")."""
        return {self.commits[p.index]: p.generated for p in self.plants[1:]}


def planted_steps() -> list[Step]:
    steps = []
    for p in PLANTS:
        fx = FIXTURES[p.fixture]
        steps.append(Step(
            f"rbtree: {p.label}", f"2009-{6 + p.index // 28:02d}-{1 + p.index % 28:02d}",
            writes={C_PATH_2004: f"{fx.name}.c", H_PATH_XEN: f"{fx.name}.h"},
            label=p.label,
        ))
    return steps


def planted_history(tmp_path: Path | str) -> PlantedHistory:
    """One deliberate change per commit, each followed by a commit restoring era2009.

    The target is xen/common/rbtree.c with its header at xen/include/xen/rbtree.h;
    ``PLANTS`` (also ``.plants`` on the result) says, per commit index, which fixture
    the file became and what a difftest / astdiff against the previous commit must find.
    """
    steps = planted_steps()
    built = build_history(tmp_path, steps, name="planted")
    return PlantedHistory(built.path, tuple(built.commits), tuple(steps), PLANTS)


# ----------------------------------------------------------------------------- corpus
def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def write_target(
    tmp_path: Path | str,
    name: str,
    paths: Iterable[str] = TARGET_PATHS,
    header_paths: Iterable[str] = TARGET_HEADER_PATHS,
    *,
    description: str = "",
    urls: Iterable[str] = (),
    subject: str = "rbtree",
    platform: str = "xen",
    release_pattern: str = "RELEASE-*",
    expectations: Iterable[object] = (),
) -> Path:
    """Write ``tmp_path/<name>.toml`` in the corpus format and return its path.

    ``expectations`` are ``archeo.records.Expectation``s or dicts with the keys
    commit, date, added, removed and optionally note.
    """
    def arr(items: Iterable[str]) -> str:
        return "[" + ", ".join(_toml_str(i) for i in items) + "]"

    lines = [
        f"name = {_toml_str(name)}",
        f"description = {_toml_str(description or f'test target {name}')}",
        f"urls = {arr(urls)}",
        f"paths = {arr(paths)}",
        f"header_paths = {arr(header_paths)}",
        f"subject = {_toml_str(subject)}",
        f"platform = {_toml_str(platform)}",
        f"release_pattern = {_toml_str(release_pattern)}",
    ]
    for e in expectations:
        get = e.get if isinstance(e, Mapping) else lambda k, d=None, e=e: getattr(e, k, d)
        lines += [
            "",
            "[[expectations]]",
            f"commit = {_toml_str(get('commit'))}",
            f"date = {_toml_str(get('date'))}",
            f"added = {int(get('added'))}",
            f"removed = {int(get('removed'))}",
            f"note = {_toml_str(get('note', '') or '')}",
        ]
    out = Path(tmp_path) / f"{name}.toml"
    out.write_text("\n".join(lines) + "\n")
    return out
