"""Build small, deterministic git histories from our own red-black tree fixtures.

The C in ``tests/fixtures/`` is written for archeo's tests (MIT); no Xen or Linux
source is used here.  ``tests/fixtures/README.md`` says what each file is.

Three layers:

* ``FIXTURES`` - every fixture by name (``era2009``, ``crash``, ...): its ``.c`` and
  ``.h`` text, the include path its header lives at, and what it demonstrates.
* ``build_history(tmp_path, steps)`` - a git repository from a list of ``Step``s.
  Trees and commits are written straight into the object store with gitpython, with
  fixed names and dates, so the same steps give the same commit ids on every run and
  machine (no hooks, no index, no user config involved).
* ``standard_history`` and ``planted_history`` - ready-made histories for the mine,
  parse, diff and difftest tests, returned with their steps' labels and (for the
  planted one) what each commit is expected to change, as data.

``write_target`` writes a corpus TOML file in the format of ``corpus/xen-rbtree.toml``.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import git
from git.objects.fun import tree_to_stream
from gitdb.base import IStream

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"

AUTHOR_NAME = "Ada Fixture"
AUTHOR_EMAIL = "ada@fixtures.archeo.invalid"
COMMITTER_NAME = "Archeo Tests"
COMMITTER_EMAIL = "tests@fixtures.archeo.invalid"

# The paths the real file and its header had; the histories use the same ones.
C_PATH_2004 = "xen/common/rbtree.c"
C_PATH_2020 = "xen/lib/rbtree.c"
H_PATH_XENO = "xen/include/xeno/rbtree.h"
H_PATH_XEN = "xen/include/xen/rbtree.h"
TARGET_PATHS = (C_PATH_2004, C_PATH_2020)
TARGET_HEADER_PATHS = (H_PATH_XENO, H_PATH_XEN)
# Files with the same base name that are *not* the target.
DECOY_PATHS = ("xen/include/asm-ia64/linux/rbtree.h", "tools/rbtree.c")


# ----------------------------------------------------------------------------- fixtures
def xeno_to_xen(text: str) -> str:
    """The 2004 header move: ``<xeno/...>`` includes become ``<xen/...>``."""
    return text.replace("<xeno/", "<xen/")


@dataclass(frozen=True)
class Fixture:
    """One rbtree implementation: a ``.c`` and the header it is compiled against."""

    name: str
    source: str  # file in FIXTURE_DIR
    header: str  # file in FIXTURE_DIR
    include: str  # where the header must sit on the include path: xeno/rbtree.h | xen/rbtree.h
    era: str  # 2004 | 2009 | 2017: the API shape
    base: str  # the correct fixture it is a variant of (itself for a correct one)
    kind: str  # correct | crash | hang | corrupt | invariant | structural | observable | api | text
    trace: str  # expected difftest class against `base` (docs/protocol.md), "" if unpredictable
    api: tuple[str, ...]  # functions it defines (inline ones from the header included)
    note: str
    xen_paths: bool = False  # the 2004 shape after the xeno -> xen move (texts rewritten)

    def c_text(self) -> str:
        text = read_fixture(self.source)
        return xeno_to_xen(text) if self.xen_paths else text

    def h_text(self) -> str:
        text = read_fixture(self.header)
        return xeno_to_xen(text) if self.xen_paths else text

    def text(self, ext: str) -> str:
        return {"c": self.c_text, "h": self.h_text}[ext]()

    @property
    def sound(self) -> bool:
        """Builds valid red-black trees and answers every walk correctly."""
        return self.kind in ("correct", "text", "api", "structural")


_API_2004 = ("rb_insert_color", "rb_erase", "rb_link_node")
_API_2009 = _API_2004 + ("rb_first", "rb_last", "rb_next", "rb_prev", "rb_replace_node")


def _fx(name, source, header, era, base, kind, trace, note, api=_API_2009, **kw) -> Fixture:
    include = "xeno/rbtree.h" if era == "2004" and not kw.get("xen_paths") else "xen/rbtree.h"
    return Fixture(name, source, header, include, era, base, kind, trace, api, note, **kw)


FIXTURES: dict[str, Fixture] = {
    f.name: f
    for f in (
        _fx("era2004", "era2004.c", "era2004.h", "2004", "era2004", "correct", "same",
            "typedef'd rb_node_t/rb_root_t, parent and colour fields; insert and erase only",
            api=_API_2004),
        _fx("era2004xen", "era2004.c", "era2004.h", "2004", "era2004", "correct", "same",
            "era2004 after the xeno -> xen header move (includes rewritten, nothing else)",
            api=_API_2004, xen_paths=True),
        _fx("era2009", "era2009.c", "era2009.h", "2009", "era2009", "correct", "same",
            "packed rb_parent_color, colour macros in the header, walkers and replace"),
        _fx("era2017", "era2017.c", "era2017.h", "2017", "era2017", "correct", "same",
            "const walkers, __rb_parent_color, colour helpers private to the .c, "
            "erase settles easy cases early (same trees as the classic algorithm)"),
        _fx("crash", "crash.c", "era2009.h", "2009", "era2009", "crash", "crash",
            "rb_erase dereferences NULL when the successor of a two-child node "
            "is not its right child and has no right child"),
        _fx("hang", "hang.c", "era2009.h", "2009", "era2009", "hang", "hang",
            "rb_insert_color loops forever when the new node ends at depth >= 2 after "
            "the repair (the 5th ascending insert, a handful of random ones)"),
        _fx("corrupt", "corrupt.c", "era2009.h", "2009", "era2009", "corrupt", "",
            "rb_erase writes node[1].rb_left = NULL, past the end of the erased node; "
            "AddressSanitizer sees it, a plain build may or may not misbehave"),
        _fx("aslr", "aslr.c", "era2009.h", "2009", "era2009", "flaky", "flaky",
            "rb_erase dereferences NULL when the erased node's address has bit 12 set; "
            "ASLR moves the pool, so two runs of one batch crash at different erases"),
        _fx("invariant", "invariant.c", "era2009.h", "2009", "era2009", "invariant", "invariant",
            "rb_insert_color skips the red-uncle recolouring on the right side: red-red "
            "after 4 ascending inserts (later erases may then crash on a NULL sibling)"),
        _fx("structural", "structural.c", "era2009.h", "2009", "era2009", "structural",
            "structural",
            "rb_erase splices the in-order predecessor instead of the successor: valid "
            "trees, different shapes and colours"),
        _fx("observable", "observable.c", "era2009.h", "2009", "era2009", "observable",
            "observable",
            "rb_next returns the right child itself instead of its leftmost descendant"),
        _fx("api", "api.c", "api.h", "2009", "era2009", "api", "same",
            "era2009 plus an exported rb_first_postorder (declared in its header); the "
            "protocol has no op for it, so traces are the same and only the model differs",
            api=_API_2009 + ("rb_first_postorder",)),
        _fx("noprev", "noprev.c", "noprev.h", "2009", "era2009", "api", "api",
            "era2009 without rb_prev: `p K` is NA on this side",
            api=tuple(n for n in _API_2009 if n != "rb_prev")),
        _fx("textonly", "textonly.c", "textonly.h", "2009", "era2009", "text", "same",
            "era2009 with only comments, whitespace and licence wording changed"),
        _fx("macroparens", "era2017.c", "macroparens.h", "2017", "era2017", "text", "same",
            "era2017 header with redundant parentheses added inside rb_parent(): "
            "different tokens, same AST, same behaviour"),
    )
}


def fixture_files() -> list[Path]:
    """Every C and header fixture, whether stored whole or as a diff (read with `read_fixture`)."""
    names = {p.name.removesuffix(".diff") for p in FIXTURE_DIR.iterdir() if p.suffix in (".c", ".h", ".diff")}
    return sorted(FIXTURE_DIR / n for n in names)


def read_fixture(name: str) -> str:
    """A fixture's text. The correct eras are stored whole; each broken or edited variant is
    stored as `<name>.diff` against its base, so the fault is the diff and nothing else."""
    whole = FIXTURE_DIR / name
    if whole.is_file():
        return whole.read_text()
    return apply_diff((FIXTURE_DIR / f"{name}.diff").read_text())


def apply_diff(diff: str) -> str:
    """Apply a unified diff (as difflib writes it) to the base file its `---` line names.

    Every context and removed line is checked against the base, so a base edited since the
    diff was made fails loudly instead of producing a different variant.
    """
    lines = diff.splitlines(keepends=True)
    base_name = lines[0][4:].strip()
    base = read_fixture(base_name).splitlines(keepends=True)
    out: list[str] = []
    pos = 0  # next base line to copy
    i = 2
    while i < len(lines):
        header = lines[i]
        assert header.startswith("@@ "), f"bad hunk header in diff of {base_name}: {header!r}"
        start = int(header.split()[1][1:].split(",")[0]) - 1
        start = max(start, 0)
        out += base[pos:start]
        pos = start
        i += 1
        while i < len(lines) and not lines[i].startswith("@@ "):
            tag, text = lines[i][0], lines[i][1:]
            if tag in " -":
                assert base[pos] == text, f"diff against {base_name} does not apply at line {pos + 1}"
                pos += 1
                if tag == " ":
                    out.append(text)
            elif tag == "+":
                out.append(text)
            i += 1
    return "".join(out + base[pos:])


def resolve_text(value: str) -> str:
    """What a ``Step.writes`` value stands for.

    ``"<fixture>.c"`` / ``"<fixture>.h"`` (a name in ``FIXTURES``, e.g. ``"crash.h"``,
    which is era2009.h) gives that fixture's source or header; any other single-line
    value naming a file in ``tests/fixtures/`` gives that file; anything else is the
    text itself.
    """
    if "\n" not in value:
        stem, dot, ext = value.rpartition(".")
        if dot and ext in ("c", "h") and stem in FIXTURES:
            return FIXTURES[stem].text(ext)
        if value and FIXTURE_DIR / value in fixture_files():
            return read_fixture(value)
    return value


# ----------------------------------------------------------------------------- histories
@dataclass(frozen=True)
class Step:
    """One commit.

    Applied in this order: ``renames`` (content kept), then ``writes`` (path -> fixture
    reference or text, see ``resolve_text``), then ``deletes``.  ``branch`` is the branch
    committed to; a branch not seen before starts at the current head of ``start``.
    ``merge`` names a branch merged into ``branch`` by this commit (a second parent);
    the merged tree is a file-level three-way merge, and a file changed on both sides
    must be given in ``writes``.  ``tag`` adds a lightweight tag.  ``date`` is
    ``YYYY-MM-DD`` (noon UTC) or an ISO 8601 time.
    """

    message: str
    date: str
    writes: Mapping[str, str] = field(default_factory=dict)
    deletes: tuple[str, ...] = ()
    renames: Mapping[str, str] = field(default_factory=dict)
    branch: str = "main"
    start: str = "main"
    merge: str | None = None
    tag: str = ""
    label: str = ""
    author: str = AUTHOR_NAME


class History(NamedTuple):
    """``build_history``'s result; unpacks as ``repo_path, commits``."""

    path: Path
    commits: list[str]  # full ids, one per step, in step order


def _git_time(date: str) -> str:
    """``YYYY-MM-DD`` or ISO 8601 -> git's internal ``<epoch> <+hhmm>`` form."""
    if len(date) == 10:
        date += "T12:00:00+00:00"
    when = _dt.datetime.fromisoformat(date)
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    minutes = int(when.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{int(when.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _store(repo: git.Repo, kind: bytes, data: bytes) -> bytes:
    return repo.odb.store(IStream(kind, len(data), io.BytesIO(data))).binsha


def _write_tree(repo: git.Repo, files: Mapping[str, bytes]) -> bytes:
    """Write a (nested) tree for {path: content}; returns its binary id."""
    blobs: dict[str, bytes] = {}
    subdirs: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            subdirs.setdefault(head, {})[rest] = data
        else:
            blobs[head] = data
    entries = [(_store(repo, b"blob", data), 0o100644, name) for name, data in blobs.items()]
    entries += [(_write_tree(repo, sub), 0o040000, name) for name, sub in subdirs.items()]
    # git orders tree entries by name, a directory as if its name ended in "/".
    entries.sort(key=lambda e: (e[2] + ("/" if e[1] == 0o040000 else "")).encode())
    buf = io.BytesIO()
    tree_to_stream(entries, buf.write)
    return _store(repo, b"tree", buf.getvalue())


def _merge_trees(base, ours, theirs, resolved) -> dict[str, bytes]:
    merged: dict[str, bytes] = {}
    for path in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if o == t or t == b:
            pick = o
        elif o == b:
            pick = t
        elif path in resolved:
            continue  # the step writes it
        else:
            raise ValueError(f"merge conflict on {path}: give its merged text in Step.writes")
        if pick is not None:
            merged[path] = pick
    return merged


def build_history(tmp_path: Path | str, steps: Iterable[Step], name: str = "repo") -> History:
    """Create ``tmp_path/name`` as a git repository with one commit per step.

    Returns the repository path and the full commit ids in step order.  The working
    tree is checked out at the head of ``main``.  Same steps, same ids.
    """
    path = Path(tmp_path) / name
    path.mkdir(parents=True, exist_ok=False)
    repo = git.Repo.init(path, initial_branch="main")
    heads: dict[str, git.Commit] = {}
    trees: dict[str, dict[str, bytes]] = {}
    fork: dict[str, dict[str, bytes]] = {}  # tree a branch started from (its merge base)
    commits: list[str] = []
    try:
        for step in steps:
            if step.branch not in trees:
                if step.branch != "main" and step.start not in trees:
                    raise ValueError(f"branch {step.branch!r} starts from unknown {step.start!r}")
                trees[step.branch] = dict(trees.get(step.start, {}))
                fork[step.branch] = dict(trees.get(step.start, {}))
                if step.start in heads:
                    heads[step.branch] = heads[step.start]
            files = trees[step.branch]
            parents = [heads[step.branch]] if step.branch in heads else []
            if step.merge is not None:
                if step.merge not in heads:
                    raise ValueError(f"cannot merge unknown branch {step.merge!r}")
                files = _merge_trees(fork[step.merge], files, trees[step.merge], step.writes)
                parents.append(heads[step.merge])
            files = dict(files)
            for old, new in step.renames.items():
                files[new] = files.pop(old)
            for p, value in step.writes.items():
                files[p] = resolve_text(value).encode()
            for p in step.deletes:
                del files[p]
            tree = git.Tree(repo, _write_tree(repo, files))
            when = _git_time(step.date)
            message = step.message if step.message.endswith("\n") else step.message + "\n"
            commit = git.Commit.create_from_tree(
                repo,
                tree,
                message,
                parent_commits=parents,
                head=False,
                author=git.Actor(step.author, AUTHOR_EMAIL),
                committer=git.Actor(COMMITTER_NAME, COMMITTER_EMAIL),
                author_date=when,
                commit_date=when,
            )
            heads[step.branch] = commit
            trees[step.branch] = files
            if step.tag:
                repo.create_tag(step.tag, ref=commit)
            commits.append(commit.hexsha)
        for branch, commit in heads.items():
            repo.create_head(branch, commit, force=True)
        if "main" in heads:
            repo.head.reset(index=True, working_tree=True)
    finally:
        repo.close()
    return History(path, commits)


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
    reference: str = "rbtree",
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
        f"reference = {_toml_str(reference)}",
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
