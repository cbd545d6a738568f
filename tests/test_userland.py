"""A userland copy of a kernel-style tree: the userland platform, the include closure at each
commit, side branches and reverts, the API found by role, and precise failures.

The history is built here from our own fixtures (tests/fixtures, MIT) rewritten the way
userland projects rewrote the kernel's tree: `<stdlib.h>` and `<stdint.h>` instead of kernel
headers, a local `compat.h` that a later commit changes alone, autoconf's `config.h` included
but never committed, a move done on a side branch, a one-line change reverted the next day,
and at last a project prefix on every function and a renamed node type.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace

import pytest

from archeo.build import Builder
from archeo.cli import main
from archeo.parse import parse_revision
from archeo.mine import mine
from archeo.platforms import choose, plan
from archeo.records import CompileSettings, Revision
from archeo.target import target_from_paths
from histories import FIXTURES, Step, build_history

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="the userland platform needs gcc")

PATHS = ["src/rbtree.c", "lib/rbtree.c"]
HEADERS = ["src/rbtree.h", "lib/rbtree.h"]

COMPAT = """/* SPDX-License-Identifier: MIT -- written for archeo's tests. */
#ifndef COMPAT_H
#define COMPAT_H
#define EXPORT_SYMBOL(sym) extern int compat_exported_##sym
#endif
"""
COMPAT_2 = COMPAT.replace("#endif", "#define COMPAT_LEVEL 2\n#endif")


def userland_c(text: str) -> str:
    """Our 2017-era .c with the includes of a userland copy (config.h first, as autoconf asks)."""
    text = re.sub(r"(#include <xen/[a-z]+\.h>\n)+", '#include "config.h"\n#include "rbtree.h"\n', text)
    assert '"rbtree.h"' in text
    return text


def userland_h(text: str, extra: str = "") -> str:
    guard = "#define ARCHEO_FIXTURE_RBTREE_H\n"
    assert guard in text
    return text.replace(guard, guard + '\n#include <stdlib.h>\n#include <stdint.h>\n#include "compat.h"\n' + extra)


def prefixed(text: str) -> str:
    """A project's spelling: `foo_` on every function, the node type renamed."""
    text = re.sub(r"\brb_(insert_color|erase|first|last|next|prev|replace_node|link_node)\b", r"foo_rb_\1", text)
    return text.replace("struct rb_node", "struct foo_rb_node")


C17, H17 = userland_c(FIXTURES["era2017"].c_text()), userland_h(FIXTURES["era2017"].h_text())
ONE_LINE = C17.replace("/* @top's right child climbs above it. */", "/* @top's right child rises. */", 1)
assert ONE_LINE != C17


def steps() -> list[Step]:
    return [
        Step("rbtree: import", "2010-01-01", label="add",
             writes={"src/rbtree.c": C17, "src/rbtree.h": H17, "src/compat.h": COMPAT, "README": "userland\n"}),
        Step("compat: a level macro", "2011-01-01", label="compat-only", writes={"src/compat.h": COMPAT_2}),
        Step("README: more words", "2011-02-01", label="unrelated", writes={"README": "userland tree\n"}),
        Step("move to lib/", "2011-03-01", label="side-move", branch="move",
             renames={"src/rbtree.c": "lib/rbtree.c", "src/rbtree.h": "lib/rbtree.h", "src/compat.h": "lib/compat.h"}),
        Step("rbtree: shorter comment", "2011-04-01", label="one-line", writes={"src/rbtree.c": ONE_LINE}),
        Step("Revert \"rbtree: shorter comment\"", "2011-04-02", label="revert", writes={"src/rbtree.c": C17}),
        Step("Merge branch 'move'", "2011-05-01", label="merge", merge="move"),
        Step("rbtree: project prefix", "2012-01-01", label="prefixed",
             writes={"lib/rbtree.c": prefixed(C17), "lib/rbtree.h": prefixed(H17)}),
    ]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return build_history(tmp_path_factory.mktemp("userland"), steps())


@pytest.fixture(scope="module")
def revisions(history):
    return mine(target_from_paths(PATHS, HEADERS), repo=str(history.path))


def label_of(history, commit: str) -> str:
    return steps()[history.commits.index(commit)].label


@pytest.fixture(scope="module")
def by_label(history, revisions):
    return {label_of(history, r.commit): r for r in revisions}


# ---------------------------------------------------------------- mining
def test_every_revision_of_the_file_and_its_closure_and_no_other(history, by_label):
    assert set(by_label) == {"add", "compat-only", "side-move", "one-line", "revert", "prefixed"}
    assert list(by_label)[:2] == ["add", "compat-only"] and list(by_label)[-1] == "prefixed"
    assert by_label["compat-only"].touched == ("closure",)
    assert "file" in by_label["one-line"].touched and "file" in by_label["revert"].touched


def test_the_closure_is_taken_at_each_commit(by_label):
    assert by_label["add"].closure == {"src/compat.h": COMPAT}
    assert by_label["compat-only"].closure == {"src/compat.h": COMPAT_2}
    assert set(by_label["prefixed"].closure) == {"lib/compat.h"}
    assert "config.h" not in by_label["add"].closure  # never committed


def test_side_branch_merge_and_revert_in_the_graph(by_label):
    move, prefixed_rev = by_label["side-move"], by_label["prefixed"]
    assert move.status == "renamed" and move.parents == (by_label["compat-only"].commit,)
    assert by_label["revert"].parents == (by_label["one-line"].commit,)
    # the merge took the side branch's files as they were: it stands for the move
    assert prefixed_rev.parents == (move.commit,)


# ---------------------------------------------------------------- the platform
def test_the_platform_is_chosen_from_the_includes_and_the_stub_is_named(by_label):
    rev = by_label["add"]
    name, why = choose(rev)
    assert name == "userland" and "chosen" in why
    p = plan(rev)
    assert not p.nostdinc and p.stubs == ("config.h",)
    assert "-nostdinc" not in p.cflags()
    assert any("stub config.h" in n and "src/rbtree.c:" in n for n in p.notes)
    named = plan(replace(rev, compile=CompileSettings(platform="userland")))
    assert "named by the target" in named.notes[0]


def test_a_project_config_h_wins_over_the_stub(by_label):
    rev = by_label["add"]
    own = replace(rev, closure={**rev.closure, "src/config.h": "/* ours */\n"})
    assert plan(own).stubs == ()


def test_xen_revisions_keep_the_kernel_shim():
    rev = Revision("0" * 40, "", "", "", "added", "xen/common/rbtree.c", "xen/include/xen/rbtree.h", 1, 0,
                   text="#include <xen/rbtree.h>\n", header_text="")
    p = plan(rev)
    assert p.platform == "xen" and p.nostdinc and p.stub_dir.endswith("shim/include")


# ---------------------------------------------------------------- parse and build
@pytest.fixture(scope="module")
def programs(by_label, tmp_path_factory):
    builder = Builder(tmp_path_factory.mktemp("userland-cache"))
    return {label: (parse_revision(rev), builder.build(rev, parse_revision(rev))) for label, rev in by_label.items()}


def test_every_revision_parses_and_builds(programs):
    for label, (model, program) in programs.items():
        assert model.ok, (label, model.error)
        assert program.ok, (label, program.error)


def test_the_closure_header_is_part_of_the_model(programs):
    model, _ = programs["compat-only"]
    assert model.macro("COMPAT_LEVEL") is not None and model.macro("COMPAT_LEVEL").origin == "header"


def test_the_prefixed_api_is_found_by_role(programs):
    model, program = programs["prefixed"]
    assert model.function("foo_rb_insert_color") is not None and model.function("rb_insert_color") is None
    assert any("foo_rb_insert_color" in n for n in program.notes)
    assert set("<>npr") <= set(program.ops)
    assert program.node_size == programs["add"][1].node_size


def test_build_notes_say_which_platform_and_stub(programs):
    notes = programs["add"][1].notes
    assert any(n.startswith("platform userland") for n in notes)
    assert any("stub config.h" in n for n in notes)


def test_early_kernel_headers_get_stubs(tmp_path, by_label):
    rev = by_label["add"]
    header = rev.header_text.replace('#include "compat.h"\n', '#include "compat.h"\n#include <linux/kernel.h>\n#include <linux/stddef.h>\n')
    header = header.replace("#define rb_entry(ptr, type, member)  container_of(ptr, type, member)", "")
    early = replace(rev, header_text=header)
    p = plan(early)
    assert set(p.stubs) >= {"linux/kernel.h", "linux/stddef.h", "linux/compiler.h"}
    program = Builder(tmp_path).build(early, parse_revision(early))
    assert program.ok, program.error
    assert any("stub linux/kernel.h" in n and "src/rbtree.h:" in n for n in program.notes)


# ---------------------------------------------------------------- precise failures
def test_an_include_escaping_the_tree_is_refused_with_file_and_line(tmp_path, by_label):
    rev = by_label["add"]
    escaping = replace(rev, header_text=rev.header_text.replace('#include "compat.h"', '#include "../outside.h"'))
    program = Builder(tmp_path).build(escaping, parse_revision(rev))
    assert not program.ok
    line = escaping.header_text.splitlines().index('#include "../outside.h"') + 1
    assert program.error.startswith(f"src/rbtree.h:{line}:") and "'..'" in program.error


def test_a_missing_include_names_who_included_it(tmp_path, by_label):
    rev = by_label["add"]
    missing = replace(rev, closure={})  # compat.h not staged
    model = parse_revision(missing)
    assert not model.ok and model.error.file == "src/rbtree.h" and "compat.h" in model.error.message
    program = Builder(tmp_path).build(missing, model)
    assert not program.ok and "src/rbtree.h" in program.error and "compat.h" in program.error


def test_a_missing_role_is_named(tmp_path, by_label):
    rev = by_label["add"]
    model = parse_revision(rev)
    gutted = replace(model, functions=tuple(f for f in model.functions if f.name != "rb_erase"))
    program = Builder(tmp_path).build(rev, gutted)
    assert not program.ok and "rb_erase" in program.error


# ---------------------------------------------------------------- end to end, no target file
def test_run_with_paths_and_flags_and_no_target_file(history, tmp_path):
    argv = ["run", "--repo", str(history.path), "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out"),
            "--seeds", "2", "--ops", "300", "--quiet", "--platform", "userland", "--std", "gnu11"]
    for p in PATHS:
        argv += ["--path", p]
    for h in HEADERS:
        argv += ["--header", h]
    assert main(argv) == 0
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    revisions = findings["revisions"]
    assert len(revisions) == 6
    assert all(r["build"]["ok"] for r in revisions)
    assert {(r["vs_reference"] or {}).get("level") for r in revisions} <= {"same", "api"}


def test_a_suffix_and_an_inline_accessor_are_found_by_role(tmp_path, by_label):
    rev = by_label["add"]
    macro = "#define rb_parent(r)  ((struct rb_node *)((r)->__rb_parent_color & ~3UL))"
    inline = ("static inline struct rb_node *rb_parent(const struct rb_node *r)\n"
              "{\n    return (struct rb_node *)(r->__rb_parent_color & ~3UL);\n}")
    assert macro in rev.header_text

    def suffixed(text: str) -> str:
        return re.sub(r"\b(rb_(?:insert_color|erase|first|last|next|prev|replace_node|link_node))\b", r"\1_v2", text)

    variant = replace(rev, text=suffixed(rev.text), header_text=suffixed(rev.header_text.replace(macro, inline)))
    model = parse_revision(variant)
    assert model.ok, model.error
    program = Builder(tmp_path).build(variant, model)
    assert program.ok, program.error
    assert any("rb_insert_color_v2" in n for n in program.notes)
    assert "parent via the header's rb_parent()" in program.notes
