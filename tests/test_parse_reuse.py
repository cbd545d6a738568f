"""Reusing each chunk's parse across revisions: never a different result, only a faster one.

The C here is written for these tests; the fixture histories come from tests/histories.py.
The last test reads the real Xen history when XEN_REPO names a local clone, and skips
otherwise.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from pycparser import c_ast
from pycparserext.ext_c_parser import GnuCParser

from archeo.parse.chunks import scan_unit
from archeo.parse import Reuse, parse_revision, parse_run
from archeo.parse.reuse import ChunkMemo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import histories as H  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="the parse stage needs gcc")


def dump(node: c_ast.Node) -> tuple:
    """A node and everything under it, coords included, as comparable values."""
    attrs = tuple((name, repr(getattr(node, name))) for name in node.attr_names)
    coord = (node.coord.file, node.coord.line, node.coord.column) if node.coord is not None else None
    return (type(node).__name__, coord, attrs, tuple((name, dump(child)) for name, child in node.children()))


def shifted(dumps: tuple, shift: int, file: str) -> tuple:
    def move(d):
        kind, coord, attrs, children = d
        coord = (file, coord[1] + shift, coord[2]) if coord is not None else None
        return (kind, coord, attrs, tuple((name, move(child)) for name, child in children))

    return tuple(move(d) for d in dumps)


def by_chunks(memo: ChunkMemo, code: str) -> list | None:
    scan = scan_unit(code, "t.c")
    assert scan.chunks is not None
    results = memo.results(scan.chunks, compute=lambda exts: tuple(dump(e) for e in exts))
    return None if results is None else [d for chunk in results for d in chunk]


def whole(code: str) -> list:
    return [dump(e) for e in GnuCParser().parse(code, "t.c").ext]


TYPEDEF_THEN_USE = """\
# 1 "t.c"
typedef struct node { struct node *left; } node_t;
static inline node_t *first(node_t *n)
{
  while (n->left) n = n->left;
  return n;
}
int use(void) { node_t *p = 0; return first(p) != 0; }
"""


def test_chunk_by_chunk_is_the_whole_parse_coords_included():
    from test_chunks import TRICKY

    for code in (TRICKY, TYPEDEF_THEN_USE):
        assert by_chunks(ChunkMemo(shifted), code) == whole(code)


def test_a_chunk_seen_before_is_not_parsed_again_and_lands_at_its_new_lines():
    memo = ChunkMemo(shifted)
    assert by_chunks(memo, TYPEDEF_THEN_USE) == whole(TYPEDEF_THEN_USE)
    assert (memo.hits, memo.misses) == (0, 3)
    moved = TYPEDEF_THEN_USE.replace('# 1 "t.c"\n', '# 1 "t.c"\nint added;\n\n')
    assert by_chunks(memo, moved) == whole(moved)
    assert (memo.hits, memo.misses) == (3, 4)  # only `int added;` is new


def test_a_chunk_of_a_moved_file_is_reused_under_its_new_name():
    memo = ChunkMemo(shifted)
    moved = TYPEDEF_THEN_USE.replace('"t.c"', '"lib/t.c"')
    for code in (TYPEDEF_THEN_USE, moved):
        assert by_chunks(memo, code) == whole(code)
    assert (memo.hits, memo.misses) == (3, 3)


def test_the_same_text_under_other_typedef_names_is_parsed_again():
    """`T * p;` declares p where T is a type and multiplies where T is a variable."""
    as_type = '# 1 "t.c"\ntypedef int T;\nvoid f(void) { T * p; }\n'
    as_variable = '# 1 "t.c"\nint T, p;\nvoid f(void) { T * p; }\n'
    memo = ChunkMemo(shifted)
    for code in (as_type, as_variable, as_type):
        assert by_chunks(memo, code) == whole(code)
    assert memo.hits == 2 and memo.misses == 4


@pytest.mark.parametrize(
    "code",
    [
        '# 1 "t.c"\nint T;\ntypedef int T;\n',  # the whole parse fails: so must the chunks
        '# 1 "t.c"\ntypedef int T;\nint T;\n',
        '# 1 "t.c"\nint old(a)\nint a;\n{ return a; }\nint b;\n',  # K&R, cut at `int a;`: no chunk parses alone
        '# 1 "t.c"\nint f(void) { return 1 +; }\n',
    ],
)
def test_a_chunk_that_does_not_parse_alone_gives_up_on_the_unit(code):
    assert by_chunks(ChunkMemo(shifted), code) is None


# ---------------------------------------------------------------- models, with reuse and without
def _present(path):
    from archeo.mine import mine

    return [r for r in mine("xen-rbtree", repo=path) if r.present]


def assert_same_models(revisions):
    shared = Reuse()
    with_reuse = [parse_revision(rev, reuse=shared) for rev in revisions]
    assert with_reuse == parse_run(revisions, reuse=False)
    assert shared.chunks.hits > shared.chunks.misses  # the reuse really happened
    return with_reuse


@pytest.mark.parametrize("history", [H.standard_history, H.planted_history])
def test_fixture_histories_give_the_same_models_with_reuse_and_without(history, tmp_path):
    models = assert_same_models(_present(history(tmp_path).path))
    assert all(m.ok for m in models)


def test_a_failing_revision_in_a_run_fails_alike_and_the_next_one_is_fine(tmp_path):
    from archeo.records import Revision

    def rev(text, commit):
        return Revision(commit=commit * 40, date="2020-01-01T00:00:00+00:00", author="t", subject="s",
                        status="modified", path="lib/t.c", header_path=None, added=0, removed=0, text=text)

    good = "typedef int T;\nT f(void)\n{\n  return 1;\n}\n"
    revisions = [rev(good, "a"), rev(good.replace("return 1;", "return 1 +;"), "b"), rev("\n" + good, "c")]
    shared = Reuse()
    models = [parse_revision(r, reuse=shared) for r in revisions]
    assert models == parse_run(revisions, reuse=False)
    assert [m.ok for m in models] == [True, False, True]
    assert models[2].function("f").first_line == 3 and shared.chunks.hits > 0


XEN_REPO = os.environ.get("XEN_REPO")


@pytest.mark.xen
@pytest.mark.skipif(not XEN_REPO, reason="XEN_REPO (a local Xen clone) is not set")
def test_xen_gives_the_same_models_with_reuse_and_without():
    models = assert_same_models(_present(XEN_REPO))
    assert len(models) == 29 and all(m.ok for m in models)
