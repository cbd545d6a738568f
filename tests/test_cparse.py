"""The parse stage: gcc -E against the shim, pycparserext, and the visitors on top.

All C here is written for these tests. The last tests read the real Xen history when
XEN_REPO names a local clone, and skip otherwise.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from pycparser import c_ast
from pycparser.c_parser import CParser
from pycparser.c_parser import ParseError as PycParseError

from archeo.parse import history_runs, parse_history, parse_revision
from archeo.parse.frontend import parse_c, split_preprocessed
from archeo.parse.macros import macro_normal_forms
from archeo.parse.rawtext import identifiers
from archeo.parse.visitors import ComplexityCounter, StatementCounter
from archeo.errors import ArcheoError
from archeo.records import Revision

sys.path.insert(0, str(Path(__file__).resolve().parent))
import histories as H  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="the parse stage needs gcc")

C_PATH = "lib/tree.c"
H_PATH = "include/xen/tree.h"


def rev(c: str, h: str | None = None, commit: str = "c0ffee" * 6 + "abcd", path=C_PATH, header_path=H_PATH, status="modified"):
    return Revision(
        commit=commit,
        date="2020-01-01T00:00:00+00:00",
        author="t",
        subject="s",
        status=status,
        path=path,
        header_path=header_path if h is not None else None,
        added=0,
        removed=0,
        text=c,
        header_text=h,
    )


HEADER = """\
/* A header written for the tests. */
#ifndef TREE_H
#define TREE_H

struct node {
    unsigned long parent_colour;
    struct node *right, *left;
} __attribute__((aligned(sizeof(long))));

typedef struct { struct node *top; } tree_t;

#define node_parent(n) ((struct node *)((n)->parent_colour & ~3UL))
#define TREE_EMPTY (tree_t) { NULL }
#define tree_entry(ptr, type, member) container_of(ptr, type, member)

extern void tree_insert(struct node *, tree_t *);
extern struct node *tree_first(const tree_t *);

static inline void node_link(struct node *n, struct node *parent, struct node **link)
{
    n->parent_colour = (unsigned long)parent;
    n->left = n->right = NULL;
    *link = n;
}
#endif
"""

SOURCE = """\
/* The source, written for the tests. */
#include <xen/types.h>
#include <xen/tree.h>

#define RED 0

static int depth(const struct node *n)
{
    int d = 0;
    while (n) {
        if (n->left && n->right)
            d++;
        else
            d += 2;
        n = n->left;
    }
    return d > 3 ? 3 : d;
}

void tree_insert(struct node *n, tree_t *t)
{
    if (!t->top)
        t->top = n;
}
EXPORT_SYMBOL(tree_insert);

struct node *tree_first(const tree_t *t)
{
    struct node *n = t->top;
    if (!n)
        return NULL;
    for (; n->left; n = n->left)
        ;
    return n;
}
"""


@pytest.fixture(scope="module")
def model():
    return parse_revision(rev(SOURCE, HEADER))


# ---------------------------------------------------------------- the pin
GCC_SNIPPET = """\
struct s { int a; } __attribute__((packed));
static inline __attribute__((always_inline)) int f(int x)
{
    __typeof__(x) y = x;
    typeof(x) z = ({ int q = y; q + 1; });
    return z + offsetof(struct s, a);
}
"""


def test_pycparserext_pin_still_parses_gcc_syntax():
    """pycparserext 2026.1 breaks on pycparser 3.12 (TypeError in _add_declaration_specifier).

    This goes through our own entry point with __attribute__, typeof and a statement
    expression, so a pin that stops working fails here first.
    """
    ast = parse_c(GCC_SNIPPET, "snippet.c")
    func = next(e for e in ast.ext if isinstance(e, c_ast.FuncDef))
    assert func.decl.name == "f"
    assert type(func.body.block_items[0].type.type).__name__ == "TypeOfExpression"
    assert isinstance(func.body.block_items[1].init, c_ast.Compound)  # the statement expression


def test_plain_pycparser_rejects_what_we_accept():
    with pytest.raises(PycParseError):
        CParser().parse(GCC_SNIPPET, "snippet.c")


# ---------------------------------------------------------------- functions
def test_functions_with_storage_signature_and_origin(model):
    assert model.ok, model.error
    names = [f.name for f in model.functions]
    assert names == ["node_link", "depth", "tree_insert", "tree_first"]
    link, depth, insert, first = model.functions
    assert link.origin == "header" and link.storage == ("static", "inline")
    assert depth.storage == ("static",) and insert.storage == ()
    assert first.signature == "struct node *tree_first(const tree_t *t)"
    assert [(p.name, p.type) for p in first.params] == [("t", "const tree_t *")]
    assert first.returns == "struct node *"


def test_lines_are_those_of_the_original_files(model):
    src = SOURCE.split("\n")
    for f in model.functions:
        text = (SOURCE if f.origin == "source" else HEADER).split("\n")
        assert f.name in text[f.first_line - 1]
        assert text[f.last_line - 1] == "}"
    depth = model.function("depth")
    assert src[depth.first_line - 1].startswith("static int depth(")


def test_statements_and_complexity(model):
    depth = model.function("depth")
    # int d = 0; while; if; d++; d += 2; n = n->left; return
    assert depth.statements == 7
    # 1 + while + if + && + ?:
    assert depth.complexity == 5
    first = model.function("tree_first")
    # decl; if; return NULL; for; empty statement; return n
    assert first.statements == 6
    assert first.complexity == 3


def test_statement_counter_ignores_braces():
    a = parse_c("void f(int x) { if (x) { x++; } else { { x--; } } }")
    b = parse_c("void f(int x) { if (x) x++; else x--; }")
    counts = []
    for ast in (a, b):
        counter, cyclo = StatementCounter(), ComplexityCounter()
        counter.visit(ast.ext[0].body)
        cyclo.visit(ast.ext[0].body)
        counts.append((counter.count, cyclo.complexity))
    assert counts == [(3, 2), (3, 2)]


def test_fingerprint_ignores_comments_layout_and_redundant_parentheses():
    one = parse_revision(rev("int f(int a)\n{\n  /* hi */ return (a + 1);\n}\n"))
    two = parse_revision(rev("int f(int a) { return a + 1; }\n"))
    three = parse_revision(rev("int f(int a) { return a + 2; }\n"))
    assert one.functions[0].fingerprint == two.functions[0].fingerprint
    assert one.functions[0].fingerprint != three.functions[0].fingerprint


# ---------------------------------------------------------------- types
def test_structs_typedefs_and_aliases(model):
    node = next(s for s in model.structs if s.name == "struct node")
    assert [(f.name, f.type) for f in node.fields] == [
        ("parent_colour", "unsigned long"),
        ("right", "struct node *"),
        ("left", "struct node *"),
    ]
    tree = next(s for s in model.structs if s.name == "tree_t")  # anonymous, named by its typedef
    assert tree.typedefs == ("tree_t",) and tree.fields[0].type == "struct node *"
    assert model.typedefs == {"tree_t": "struct <anonymous>"}


def test_typedef_of_a_named_struct_and_unions():
    m = parse_revision(rev("typedef struct a_s { int x; union { int i; char c; } u; int bits : 3; } a_t;\n"))
    a = m.structs[0]
    assert a.name == "struct a_s" and a.typedefs == ("a_t",)
    assert [(f.name, f.type) for f in a.fields] == [("x", "int"), ("u", "union <anonymous>"), ("bits", "int : 3")]
    assert m.structs[1].kind == "union"
    assert m.typedefs == {"a_t": "struct a_s"}


# ---------------------------------------------------------------- macros and api
def test_macros_come_from_gcc_with_params_body_origin(model):
    by_name = {m.name: m for m in model.macros}
    assert set(by_name) == {"TREE_H", "node_parent", "TREE_EMPTY", "tree_entry", "RED"}  # no shim macro
    assert by_name["node_parent"].params == ("n",)
    assert by_name["node_parent"].body == "((struct node *)((n)->parent_colour & ~3UL))"
    assert by_name["tree_entry"].params == ("ptr", "type", "member")
    assert by_name["TREE_EMPTY"].params is None
    assert by_name["RED"].origin == "source" and by_name["node_parent"].origin == "header"
    assert HEADER.split("\n")[by_name["node_parent"].line - 1].startswith("#define node_parent")


def test_api_is_what_the_header_declares(model):
    # prototypes, the inline function and the macros with a body; not the include guard
    assert model.api == ("tree_insert", "tree_first", "node_link", "node_parent", "TREE_EMPTY", "tree_entry")


def test_macro_normal_forms_drop_only_parentheses_that_change_no_parse():
    forms = macro_normal_forms(
        [
            (("pc",), "((struct rb *)(pc & ~3))"),
            (("pc",), "((struct rb *)((pc) & ~3))"),
            (("pc",), "((struct rb *)(pc & ~7))"),
            (("a", "b"), "(a) * (b + 1)"),
            (("a", "b"), "a * b + 1"),
            (("ptr", "type", "m"), "((type *)((char *)(ptr) - 8))"),
            (("ptr", "type", "m"), "((type *)((char *)ptr - 8))"),
            (None, ""),
            (("x",), "#x"),
        ]
    )
    assert forms[0] == forms[1] != forms[2]
    assert forms[3] != forms[4]
    assert forms[5] == forms[6]
    assert forms[7] == ""
    assert forms[8] == "# x"


def test_neutralised_says_what_gcc_syntax_was_handled_and_how():
    c = """\
#include <xen/lib.h>
#include <xen/tree.h>
static int g(struct node *n)
{
    int v = ({ int t = 1; t + 1; });
    __typeof__(v) w = v;
    __asm__ __volatile__("" : : : "memory");
    return w + (int)offsetof(struct node, left) + (tree_entry(n, struct node, left) != NULL);
}
"""
    m = parse_revision(rev(c, HEADER))
    assert m.ok, m.error
    text = "\n".join(m.neutralised)
    for expected in (
        "__attribute__((...)) on struct node",
        "inline on node_link",
        "typeof in g",
        "asm in g",
        "statement expression ({ ... }) in g",
        "__builtin_offsetof in g",
        "container_of(ptr, type, member): defined by the shim",
    ):
        assert expected in text, (expected, m.neutralised)


def test_identifiers_skip_comments_and_literals():
    text = 'int a; /* EXPORT_SYMBOL(x) */ char *s = "NULL"; // likely\nfoo(\'x\'); 0x1f;'
    assert identifiers(text) == {"int", "a", "char", "s", "foo"}


def test_split_keeps_line_numbers_and_reads_defines():
    out = '# 1 "a.c"\n#define X 1\nint x;\n# 10 "a.c"\n#define F(a,b) ((a)+(b))\nint y;\n'
    unit = split_preprocessed(out)
    assert [(d.name, d.params, d.body, d.line) for d in unit.defines] == [("X", None, "1", 1), ("F", ("a", "b"), "((a)+(b))", 10)]
    assert "#define" not in unit.code and unit.code.count("\n") == out.count("\n")


# ---------------------------------------------------------------- errors
def test_parse_error_names_file_and_line_and_the_others_go_on():
    bad = rev("int f(void)\n{\n  return 1 +;\n}\n", commit="b" * 40)
    good = rev("int g(void) { return 2; }\n", commit="a" * 40)
    missing = rev("#include <xen/nothere.h>\nint h;\n", commit="c" * 40)
    models = parse_history([good, bad, missing])
    assert [m.ok for m in models] == [True, False, False]
    assert models[1].error.stage == "parse"
    assert (models[1].error.file, models[1].error.line) == (C_PATH, 3)
    assert models[2].error.stage == "preprocess"
    assert (models[2].error.file, models[2].error.line) == (C_PATH, 1)
    assert "nothere.h" in models[2].error.message


def test_an_error_without_a_line_names_the_last_token_read():
    m = parse_revision(rev("int f(void)\n{\n  return 1;\n\n\n"))
    assert (m.error.stage, m.error.file, m.error.line, m.error.message) == ("parse", C_PATH, 3, "At end of input")


def test_a_deleted_revision_is_refused_with_a_clear_message():
    gone = rev(None, status="deleted")
    with pytest.raises(ArcheoError, match="deleted"):
        parse_revision(gone)
    assert parse_history([gone]) == []


def test_parallel_and_sequential_give_the_same_models():
    revs = [rev(SOURCE, HEADER, commit=f"{i:040d}") for i in range(3)]
    assert parse_history(revs, jobs=2) == parse_history(revs, jobs=1) == parse_history(revs, reuse=False)


def test_history_runs_are_contiguous_and_cover_the_history():
    items = list(range(7))
    assert history_runs(items, 2) == [[0, 1, 2, 3], [4, 5, 6]]
    assert history_runs(items, 1) == [items]
    assert history_runs(items, 20) == [[i] for i in items]
    assert history_runs([], 2) == []


# ---------------------------------------------------------------- our fixtures
@pytest.mark.parametrize("name", ["era2004", "era2009", "era2017"])
def test_fixture_eras_parse_with_their_api(name):
    fx = H.FIXTURES[name]
    header_path = "xen/include/" + fx.include
    m = parse_revision(rev(fx.c_text(), fx.h_text(), path="xen/common/rbtree.c", header_path=header_path))
    assert m.ok, m.error
    assert set(fx.api) <= {f.name for f in m.functions}
    node = next(s for s in m.structs if {"rb_left", "rb_right"} <= {f.name for f in s.fields})
    assert node.name in ("struct rb_node", "struct rb_node_s")


# ---------------------------------------------------------------- the real history
XEN_REPO = os.environ.get("XEN_REPO")
xen = pytest.mark.skipif(not XEN_REPO, reason="XEN_REPO (a local Xen clone) is not set")


@pytest.fixture(scope="module")
def xen_models():
    from archeo.mine import mine

    revisions = [r for r in mine("xen-rbtree", repo=XEN_REPO) if r.present]
    return revisions, parse_history(revisions, jobs=0)


@xen
@pytest.mark.xen
def test_xen_all_present_revisions_parse(xen_models):
    revisions, models = xen_models
    assert len(models) == 29
    assert [m.commit for m in models if not m.ok] == []


@xen
@pytest.mark.xen
def test_xen_2004_functions(xen_models):
    revisions, models = xen_models
    early = [m for r, m in zip(revisions, models) if r.date.startswith("2004")]
    assert len(early) == 2
    for m in early:
        assert {"rb_insert_color", "rb_erase"} <= {f.name for f in m.functions}
        for name in ("__rb_rotate_left", "__rb_rotate_right", "__rb_erase_color"):
            assert m.function(name).storage == ("static",)


def test_old_style_definitions_get_their_parameter_types():
    """K&R: bare names typed by the declarations before the body, `int` when undeclared."""
    code = "int kr(a, b)\n    int a;\n    char *b;\n{\n    return a + *b;\n}\nint implicit(n)\n{\n    return n;\n}\n"
    model = parse_revision(rev(code))
    assert model.ok, model.error
    assert [f.signature for f in model.functions] == ["int kr(int a, char *b)", "int implicit(int n)"]


def test_code_the_visitors_do_not_expect_fails_its_revision_only(monkeypatch):
    """An exception inside archeo's own visitors is that revision's error (stage `model`),
    not the end of the run: the next revision parses."""
    import archeo.parse.facts as facts

    real = facts._function_facts

    def picky(fd, origin, ctx):
        if fd.decl.name == "odd":
            raise RuntimeError("a construct nobody planned for")
        return real(fd, origin, ctx)

    monkeypatch.setattr(facts, "_function_facts", picky)
    bad = parse_revision(rev("int odd(void) { return 1; }\n"))
    assert not bad.ok and bad.error.stage == "model" and "RuntimeError" in bad.error.message
    assert parse_revision(rev("int fine(void) { return 1; }\n", commit="ab" * 20)).ok
