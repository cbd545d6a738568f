"""Structural diffs between models: every change kind, on C written for these tests.

The fixture histories (tests/histories.py) are mined, parsed and diffed end to end;
the last tests check the issue's "must show" items on the real Xen history when
XEN_REPO names a local clone, and skip otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from archeo.parse.astdiff import describe_text_change, diff_history, diff_models, pair_structs, summary
from archeo.cli import main
from archeo.parse import parse_history, parse_revision
from archeo.records import Field, Model, Revision, Struct

sys.path.insert(0, str(Path(__file__).resolve().parent))
import histories as H  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="the parse stage needs gcc")


def rev(c, h=None, commit="a" * 40, path="lib/tree.c", header_path="include/xen/tree.h"):
    return Revision(commit, "2020-01-01T00:00:00+00:00", "t", "s", "modified", path,
                    header_path if h is not None else None, 0, 0, text=c, header_text=h)


USES_HEADER = "#include <xen/tree.h>\nint x;\n"


def changes(old_c, new_c, old_h=None, new_h=None, **kw):
    old = rev(old_c, old_h, commit="a" * 40)
    new = rev(new_c, new_h, commit="b" * 40, **kw)
    a, b = parse_revision(old), parse_revision(new)
    assert a.ok and b.ok, (a.error, b.error)
    return diff_models(a, b, old, new)


def kinds(found):
    return sorted((c.kind, c.name) for c in found)


BASE = """\
struct n { struct n *l, *r; };
static int walk(struct n *x)
{
    int k = 0;
    while (x) {
        k++;
        x = x->l;
    }
    return k;
}
int first(struct n *x) { return walk(x); }
"""


# ---------------------------------------------------------------- functions
def test_function_added_and_removed():
    found = changes(BASE, BASE.replace("int first(", "int last(struct n *x) { return 0; }\nint first("))
    assert kinds(found) == [("function-added", "last")]
    found = changes(BASE, BASE.replace("int first(struct n *x) { return walk(x); }\n", ""))
    assert kinds(found) == [("function-removed", "first")]


def test_function_renamed_when_the_body_is_the_same():
    found = changes(BASE, BASE.replace("walk", "descend"))
    # the caller's body names the helper, so it changes too
    assert ("function-renamed", "descend") in kinds(found)
    renamed = next(c for c in found if c.kind == "function-renamed")
    assert renamed.detail.startswith("walk -> descend")
    assert not any(c.kind in ("function-added", "function-removed") for c in found)


def test_signature_changed_by_a_const_is_reported_with_what():
    found = changes(BASE, BASE.replace("int first(struct n *x)", "int first(const struct n *x)").replace("walk(x)", "walk((struct n *)x)"))
    sig = next(c for c in found if c.kind == "signature-changed")
    assert sig.name == "first"
    assert "parameter 1 (x) struct n * -> const struct n * (const added)" in sig.detail


def test_storage_change_is_a_signature_change():
    found = changes(BASE, BASE.replace("static int walk", "static inline int walk"))
    assert kinds(found) == [("signature-changed", "walk")]
    assert "storage static -> static inline" in found[0].detail


def test_body_changed_says_how_many_statements():
    found = changes(BASE, BASE.replace("        k++;\n", "        k++;\n        k++;\n"))
    assert kinds(found) == [("body-changed", "walk")]
    assert found[0].detail.startswith("statements 5 -> 6")


# ---------------------------------------------------------------- structs and typedefs
OLD_NODE = """\
typedef struct node_s {
    struct node_s *parent;
    int colour;
    struct node_s *right;
    struct node_s *left;
} node_t;
"""
NEW_NODE = """\
struct node {
    unsigned long parent_colour;
    struct node *right;
    struct node *left;
} __attribute__((aligned(sizeof(long))));
"""


def test_node_struct_pairs_across_the_typedef_and_name_change():
    found = changes(USES_HEADER, USES_HEADER, OLD_NODE, NEW_NODE)
    structs = [c for c in found if c.kind.startswith("struct-")]
    assert [(c.kind, c.name) for c in structs] == [("struct-changed", "struct node")]
    detail = structs[0].detail
    assert "renamed struct node_s -> struct node" in detail
    assert "fields removed: parent, colour" in detail
    assert "fields added: parent_colour" in detail
    assert "retyped" not in detail  # right/left only follow the rename
    assert ("typedef-removed", "node_t") in kinds(found)


def test_pair_structs_by_name_then_alias_then_shared_fields():
    a = Struct("struct a", "struct", (Field("x", "int"),))
    b = Struct("struct b_s", "struct", (Field("y", "int"),), typedefs=("b_t",))
    c = Struct("struct c", "struct", (Field("left", "int"), Field("right", "int")))
    a2 = Struct("struct a", "struct", (Field("x", "long"),))
    b2 = Struct("b_t", "struct", (Field("z", "int"),), typedefs=("b_t",))
    c2 = Struct("struct c2", "struct", (Field("right", "int"), Field("left", "int"), Field("up", "int")))
    pairs = pair_structs((a, b, c), (c2, b2, a2))
    assert [(x.name, y.name) for x, y in pairs] == [("struct c", "struct c2"), ("struct b_s", "b_t"), ("struct a", "struct a")]


def test_struct_field_retyped_added_and_reordered():
    found = changes("struct s { int a; long b; };\n", "struct s { long b; unsigned a; char c; };\n")
    assert kinds(found) == [("struct-changed", "struct s")]
    detail = found[0].detail
    assert "fields added: c" in detail and "fields retyped: a int -> unsigned" in detail
    assert "fields reordered" in detail


def test_typedef_added_changed_removed():
    found = changes("typedef int a_t;\ntypedef int b_t;\n", "typedef long a_t;\ntypedef int c_t;\n")
    assert kinds(found) == [("typedef-added", "c_t"), ("typedef-changed", "a_t"), ("typedef-removed", "b_t")]


# ---------------------------------------------------------------- macros, api, text
HDR = """\
#define TREE_RED 0
#define tree_parent(n) ((struct n *)((n)->pc & ~3))
extern int first(void *);
"""


def test_macro_added_removed_changed():
    new = HDR.replace("#define TREE_RED 0\n", "#define TREE_BLACK 1\n").replace("~3", "~7")
    found = changes(USES_HEADER, USES_HEADER, HDR, new)
    assert ("macro-added", "TREE_BLACK") in kinds(found)
    assert ("macro-removed", "TREE_RED") in kinds(found)
    changed = next(c for c in found if c.kind == "macro-changed")
    assert changed.name == "tree_parent"
    # the detail names the change and digests both expansions, without quoting either body
    before, after = changed.detail.split(" -> ")
    assert before.startswith("tree_parent(n) [expansion ") and after.startswith("tree_parent(n) [expansion ")
    assert before != after and "~3" not in changed.detail and "~7" not in changed.detail


def test_macro_parentheses_that_change_no_expansion_are_text_only():
    new = HDR.replace("((n)->pc & ~3)", "(((n)->pc) & ~3)")
    found = changes(USES_HEADER, USES_HEADER, HDR, new)
    assert [c.kind for c in found] == ["text-only"]
    assert "1 macro definition changed (tree_parent)" in found[0].detail


def test_macro_parentheses_that_do_change_the_parse_are_a_change():
    old = "#define twice(a) a * 2\n"
    found = changes(USES_HEADER, USES_HEADER, old, old.replace("a * 2", "(a) * 2"))
    assert [c.kind for c in found] == ["text-only"]  # `a * 2` and `(a) * 2` parse alike
    found = changes(USES_HEADER, USES_HEADER, "#define twice(a) (a + 1) * 2\n", "#define twice(a) a + 1 * 2\n")
    assert [c.kind for c in found] == ["macro-changed"]


def test_api_changed_when_a_macro_moves_out_of_the_header():
    c_old = "#include <xen/tree.h>\nint x;\n"
    c_new = "#include <xen/tree.h>\n#define TREE_RED 0\nint x;\n"
    found = changes(c_old, c_new, HDR, HDR.replace("#define TREE_RED 0\n", ""))
    assert kinds(found) == [("api-changed", "include/xen/tree.h")]
    assert "no longer in the header: TREE_RED" in found[0].detail


def test_text_only_for_comments_licence_and_includes():
    c = "#include <xen/types.h>\nint f(void) { return 0; }\n"
    found = changes(c, "/* Licence: see COPYING. */\n" + c.replace("return 0;", "return 0;   /* zero */"))
    assert [c.kind for c in found] == ["text-only"]
    assert "comments or whitespace only" in found[0].detail
    found = changes(c, "#include <xen/config.h>\n" + c)  # types.h already brings config.h
    assert [c.kind for c in found] == ["text-only"]
    assert "1 #include line added" in found[0].detail


def test_identical_texts_give_no_change_and_a_move_is_reported():
    c = "int f(void) { return 0; }\n"
    assert changes(c, c) == []
    found = changes(c, c, path="lib/moved.c")
    assert [(x.kind, x.detail) for x in found] == [("file-moved", "lib/tree.c -> lib/moved.c")]


def test_describe_text_change_names_removed_code_lines():
    before = "int a;\nEXPORT_SYMBOL(a);\nint b;\n"
    assert describe_text_change(before, "int a;\nint b;\n") == "1 code line removed (EXPORT_SYMBOL)"


def test_diff_history_skips_failures_and_bridges_gaps():
    good1 = rev("int f(void) { return 0; }\n", commit="1" * 40)
    broken = rev("int f(void) { return ; ; +; }\n", commit="2" * 40)
    good2 = rev("int f(void) { return 0; }\nint g(void) { return 1; }\n", commit="3" * 40)
    models = parse_history([good1, broken, good2])
    found = diff_history(models, [good1, broken, good2])
    assert found[0] == [] and found[1] == []
    assert kinds(found[2]) == [("function-added", "g")]
    assert summary(found[2]) == "1 function-added"
    assert diff_models(models[0], Model(commit="x", error=models[1].error)) == []


# ---------------------------------------------------------------- fixture histories, end to end
def _history_changes(path):
    from archeo.mine import mine

    revisions = [r for r in mine("xen-rbtree", repo=path) if r.present]
    models = parse_history(revisions)
    assert all(m.ok for m in models), [m.error for m in models]
    return revisions, dict(zip((r.commit for r in revisions), diff_history(models, revisions)))


def test_standard_history(tmp_path):
    built = H.standard_history(tmp_path)
    revisions, by_commit = _history_changes(built.path)
    at = {label: by_commit.get(commit) for label, commit in built.labels.items()}
    assert [c.kind for c in at["header-move"]] == ["text-only"]
    readd = at["re-add"]  # across the 2004 gap, against the header-move revision
    assert {"rb_first", "rb_last", "rb_next", "rb_prev", "rb_replace_node"} <= {c.name for c in readd if c.kind == "function-added"}
    node = next(c for c in readd if c.kind == "struct-changed" and c.name == "struct rb_node")
    assert "rb_parent_color" in node.detail and "rb_color" in node.detail
    assert [c.kind for c in at["header-only"]] == ["text-only"]
    assert [c.kind for c in at["text-only"]] == ["text-only"]
    consts = {c.name for c in at["const"] if c.kind == "signature-changed" and "const added" in c.detail}
    assert {"rb_first", "rb_last", "rb_next", "rb_prev"} <= consts
    assert [c.kind for c in at["macro-parens"]] == ["text-only"]
    assert [c.kind for c in at["move"]] == ["file-moved"]


def test_planted_history_model_changes(tmp_path):
    built = H.planted_history(tmp_path)
    revisions, by_commit = _history_changes(built.path)
    for plant in built.plants:
        found = by_commit[built.commits[plant.index]]
        for kind in plant.model:
            assert any(c.kind == kind and (not plant.names or c.name in plant.names) for c in found), (plant.label, found)


def _run_cli(capsys, *args):
    code = main(["parse", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_is_deterministic_and_failures_set_the_exit_status(tmp_path, capsys):
    steps = [
        H.Step("add", "2009-01-01", writes={H.C_PATH_2004: "era2009.c", H.H_PATH_XEN: "era2009.h"}),
        H.Step("break", "2009-01-02", writes={H.C_PATH_2004: "int broken( {\n"}),
        H.Step("fix", "2009-01-03", writes={H.C_PATH_2004: "era2009.c"}),
    ]
    repo = H.build_history(tmp_path, steps).path
    code, first, _ = _run_cli(capsys, "--repo", str(repo), "--json")
    code2, second, err = _run_cli(capsys, "--repo", str(repo), "--json", "--jobs", "2")
    assert first == second
    assert code == code2 == 1
    doc = json.loads(first)
    entries = doc["revisions"]
    assert [e["error"] is None for e in entries] == [True, False, True]
    assert entries[1]["error"]["stage"] == "parse" and entries[1]["error"]["line"] == 1
    assert set(entries[0]["functions"][0]) >= {"name", "storage", "signature", "lines", "statements", "complexity", "fingerprint"}
    assert [c["kind"] for c in entries[2]["changes"]] == []  # compared with the last revision that parsed
    assert "does not parse" in err
    code, table, _ = _run_cli(capsys, "--repo", str(repo))
    assert code == 1 and "1 failed" in table


# ---------------------------------------------------------------- the real history
XEN_REPO = os.environ.get("XEN_REPO")
xen = pytest.mark.skipif(not XEN_REPO, reason="XEN_REPO (a local Xen clone) is not set")


@pytest.fixture(scope="module")
def xen_changes():
    from archeo.mine import mine

    revisions = [r for r in mine("xen-rbtree", repo=XEN_REPO) if r.present]
    models = parse_history(revisions, jobs=0)
    return {r.commit[:12]: c for r, c in zip(revisions, diff_history(models, revisions))}


@xen
@pytest.mark.xen
def test_xen_2009_readd_adds_the_walkers_and_packs_the_node(xen_changes):
    readd = xen_changes["6009f4ddb2cd"]
    added = {c.name for c in readd if c.kind == "function-added"}
    assert {"rb_first", "rb_last", "rb_next", "rb_prev", "rb_replace_node"} <= added
    node = [c for c in readd if c.kind == "struct-changed" and c.name == "struct rb_node"]
    assert len(node) == 1
    assert "renamed struct rb_node_s -> struct rb_node" in node[0].detail
    assert "fields removed: rb_parent, rb_color" in node[0].detail
    assert "fields added: rb_parent_color" in node[0].detail


@xen
@pytest.mark.xen
def test_xen_const_signature_change(xen_changes):
    found = xen_changes["b2f178fb3576"]
    consts = {c.name for c in found if c.kind == "signature-changed" and "(const added)" in c.detail}
    assert consts == {"rb_first", "rb_last", "rb_next", "rb_prev"}


@xen
@pytest.mark.xen
@pytest.mark.parametrize("commit", ["443701ef0c7f", "c636a5fe5957", "7762c2d6f438", "d89f48f58ee5", "696ee5ca9f4e"])
def test_xen_text_only_revisions(xen_changes, commit):
    assert [c.kind for c in xen_changes[commit]] == ["text-only"]


@xen
@pytest.mark.xen
def test_xen_2020_move_is_reported_truthfully(xen_changes):
    found = xen_changes["c54212261dc3"]
    assert [c.kind for c in found] == ["file-moved", "text-only"]
    assert "EXPORT_SYMBOL" in found[1].detail
