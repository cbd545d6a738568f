"""The build stage: API derivation, include checks, the program cache, compile errors, Xen.

C compiled here is our own (tests/fixtures, or a few lines inline); the Xen tests read a
local clone named by XEN_REPO and skip without it. Programs go to one cache per test session
(under pytest's base temp), shared with tests/test_execute.py, so each is compiled once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import histories as H
from archeo.subjects.rbtree.api import ApiError, config_header, derive_api
from archeo.build import (
    Builder,
    Toolchain,
    build_history,
    build_revision,
    check_includes,
    first_error,
    layout_for,
    stage_sources,
)
from archeo.records import Field, Function, Macro, Model, Param, Revision, Struct

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="the build stage needs gcc")

XEN_REPO = os.environ.get("XEN_REPO")


# ---------------------------------------------------------------- helpers
def fixture_revision(name: str, *, text: str | None = None, header: str | None = None, commit: str | None = None) -> Revision:
    """A Revision of one of our fixtures, at the paths the real file had."""
    fx = H.FIXTURES[name]
    header_path = "xen/include/" + fx.include
    return Revision(
        commit=commit or (name.encode().hex() + "0" * 40)[:40],
        date="2009-05-26T00:00:00+00:00",
        author="fixtures",
        subject=name,
        status="modified",
        path=H.C_PATH_2004,
        header_path=header_path,
        added=0,
        removed=0,
        text=fx.c_text() if text is None else text,
        header_text=fx.h_text() if header is None else header,
    )


def model_of(rev: Revision) -> Model:
    from archeo.parse import parse_revision

    return parse_revision(rev)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "archeo-programs"


@pytest.fixture(scope="session")
def toolchain() -> Toolchain:
    return Toolchain.probe()


def fn(name, params, returns="void", storage=(), origin="source"):
    ps = tuple(Param(f"a{i}", t) for i, t in enumerate(params))
    return Function(name, storage, returns, ps, f"{returns} {name}(...)", 1, 2, 1, 1, "fp", origin)


def node_model(era: str, **kw) -> Model:
    """Hand-built models of the three API eras, as the parse stage would give them."""
    if era == "2004":
        node, root = "rb_node_t", "rb_root_t"
        structs = (
            Struct("struct rb_node_s", "struct", (Field("rb_parent", "struct rb_node_s *"), Field("rb_color", "int"),
                                                  Field("rb_right", "struct rb_node_s *"), Field("rb_left", "struct rb_node_s *")),
                   ("rb_node_t",)),
            Struct("struct rb_root_s", "struct", (Field("rb_node", "struct rb_node_s *"),), ("rb_root_t",)),
        )
        macros = (Macro("RB_RED", None, "0"), Macro("RB_BLACK", None, "1"),
                  Macro("rb_entry", ("ptr", "type", "member"), "((type *)((char *)(ptr)-(unsigned long)(&((type *)0)->member)))"))
        functions = (fn("rb_insert_color", (f"{node} *", f"{root} *")), fn("rb_erase", (f"{node} *", f"{root} *")),
                     fn("rb_link_node", (f"{node} *", f"{node} *", f"{node} **"), storage=("static", "inline"), origin="header"))
        api = ("rb_insert_color", "rb_erase", "rb_link_node", "rb_entry", "RB_RED", "RB_BLACK")
    else:
        field = "rb_parent_color" if era == "2009" else "__rb_parent_color"
        node, root = "struct rb_node", "struct rb_root"
        const = "const " if era == "2017" else ""
        structs = (
            Struct("struct rb_node", "struct", (Field(field, "unsigned long"), Field("rb_right", "struct rb_node *"),
                                                Field("rb_left", "struct rb_node *"))),
            Struct("struct rb_root", "struct", (Field("rb_node", "struct rb_node *"),)),
        )
        macros = [Macro("rb_parent", ("r",), f"((struct rb_node *)((r)->{field} & ~3))"),
                  Macro("rb_entry", ("ptr", "type", "member"), "container_of(ptr, type, member)"),
                  Macro("RB_EMPTY_NODE", ("node",), "..."), Macro("RB_CLEAR_NODE", ("node",), "...")]
        if era == "2009":
            macros += [Macro("RB_RED", None, "0"), Macro("rb_color", ("r",), "((r)->rb_parent_color & 1)"),
                       Macro("rb_is_red", ("r",), "(!rb_color(r))")]
        else:
            macros += [Macro("RB_RED", None, "0", origin="source"), Macro("rb_is_red", ("rb",), "...", origin="source")]
        macros = tuple(macros)
        functions = (fn("rb_insert_color", (f"{node} *", f"{root} *")), fn("rb_erase", (f"{node} *", f"{root} *")),
                     fn("rb_link_node", (f"{node} *", f"{node} *", f"{node} **"), storage=("static", "inline"), origin="header"),
                     fn("rb_first", (f"{const}{root} *",), f"{node} *"), fn("rb_last", (f"{const}{root} *",), f"{node} *"),
                     fn("rb_next", (f"{const}{node} *",), f"{node} *"), fn("rb_prev", (f"{const}{node} *",), f"{node} *"),
                     fn("rb_replace_node", (f"{node} *", f"{node} *", f"{root} *")))
        api = tuple(f.name for f in functions) + tuple(m.name for m in macros if m.origin == "header")
    fields = dict(commit=f"era{era}".ljust(40, "0"), functions=functions, structs=structs, macros=macros, api=api)
    fields.update(kw)
    return Model(**fields)


# ---------------------------------------------------------------- subjects/rbtree/api.py on hand-built models
def test_api_2004_reads_the_fields():
    api = derive_api(node_model("2004"))
    assert (api.node_type, api.root_type, api.layout) == ("rb_node_t", "rb_root_t", "fields")
    assert api.parent == "(n)->rb_parent"
    assert api.is_red == "((n)->rb_color == 0)"
    assert api.entry == "rb_entry"
    assert "".join(api.ops) == "iefdvx"  # no walkers, no RB_CLEAR_NODE/RB_EMPTY_NODE


def test_api_2009_uses_the_header_macros():
    api = derive_api(node_model("2009"))
    assert (api.node_type, api.root_type, api.layout) == ("struct rb_node", "struct rb_root", "rb_parent_color")
    assert api.parent == "rb_parent(n)"
    assert api.is_red == "rb_is_red(n)"
    assert "".join(api.ops) == "ief<>nprczdvx"


def test_api_2017_reads_the_colour_bit_when_the_header_has_no_accessor():
    api = derive_api(node_model("2017"))
    assert api.layout == "__rb_parent_color"
    assert api.parent == "rb_parent(n)"  # still in the header
    assert api.is_red == "((int)((n)->__rb_parent_color & 1UL) == 0)"  # rb_is_red moved to the .c
    assert api.rb_red == 0 and any("RB_RED=0 read from the revision's .c" in n for n in api.notes)
    assert "".join(api.ops) == "ief<>nprczdvx"


def test_api_ops_follow_what_the_revision_offers():
    base = node_model("2009")
    no_prev = Model(**{**base.__dict__, "functions": tuple(f for f in base.functions if f.name != "rb_prev")})
    assert "p" not in derive_api(no_prev).ops
    static_first = Model(**{**base.__dict__, "functions": tuple(
        fn("rb_first", ("struct rb_root *",), "struct rb_node *", storage=("static",)) if f.name == "rb_first" else f
        for f in base.functions)})
    assert "<" not in derive_api(static_first).ops  # a static helper in the .c is not callable from outside
    no_clear = Model(**{**base.__dict__, "macros": tuple(m for m in base.macros if m.name != "RB_CLEAR_NODE")})
    assert "c" not in derive_api(no_clear).ops and "z" in derive_api(no_clear).ops


def test_api_errors_name_what_is_missing():
    base = node_model("2009")
    with pytest.raises(ApiError, match="rb_insert_color"):
        derive_api(Model(**{**base.__dict__, "functions": tuple(f for f in base.functions if f.name != "rb_insert_color")}))
    with pytest.raises(ApiError, match="node type struct rb_node"):
        derive_api(Model(**{**base.__dict__, "structs": base.structs[1:]}))


def test_config_header_spells_the_api():
    text = config_header(derive_api(node_model("2004")), ("<xeno/rbtree.h>",))
    assert "#include <xeno/rbtree.h>" in text
    assert "typedef rb_node_t archeo_node_t;" in text
    assert "#define ARCHEO_IS_RED(n) (((n)->rb_color == 0))" in text
    assert "ARCHEO_HAS_FIRST" not in text and "ARCHEO_CLEAR" not in text
    text = config_header(derive_api(node_model("2009")), ("<xen/types.h>", "<xen/rbtree.h>"))
    assert text.index("<xen/types.h>") < text.index("<xen/rbtree.h>")
    for flag in ("FIRST", "LAST", "NEXT", "PREV", "REPLACE_NODE", "CLEAR", "EMPTY"):
        assert f"#define ARCHEO_HAS_{flag} 1" in text


# ---------------------------------------------------------------- includes
@pytest.mark.parametrize(
    "line, problem",
    [
        ("#include <xen/rbtree.h>", None),
        ('#include "local.h"', None),
        ("  #  include <xen/types.h>  /* ok */", None),
        ("#include </etc/passwd>", "absolute include path"),
        ('#include "/etc/passwd"', "absolute include path"),
        ('#include "../x.h"', "with '..'"),
        ("#include <xen/../../x.h>", "with '..'"),
        ("#include_next <../x.h>", "with '..'"),
        ("%:include \"/etc/passwd\"", "absolute include path"),
        ("#include HEADER", "computed include"),
    ],
)
def test_check_includes(line, problem):
    found = check_includes(f"int a;\n{line}\nint b;\n", "xen/common/rbtree.c")
    if problem is None:
        assert found is None
    else:
        assert problem in found and found.startswith("xen/common/rbtree.c:2:")


def test_a_bad_include_is_rejected_before_compiling(cache_dir, toolchain):
    rev = fixture_revision("era2009", text='#include "../x.h"\n' + H.FIXTURES["era2009"].c_text())
    program = build_revision(rev, model_of(fixture_revision("era2009")), cache_dir, toolchain=toolchain)
    assert not program.ok
    assert "xen/common/rbtree.c:1:" in program.error and "'..'" in program.error and '"../x.h"' in program.error
    rev = fixture_revision("era2009", header="#include </etc/passwd>\n" + H.FIXTURES["era2009"].h_text())
    program = build_revision(rev, model_of(fixture_revision("era2009")), cache_dir, toolchain=toolchain)
    assert "absolute include path" in program.error and "xen/include/xen/rbtree.h:1:" in program.error


def test_layout_puts_the_header_at_its_historical_include_path():
    layout = layout_for(fixture_revision("era2004"))
    assert (layout.source, layout.header, layout.include_root) == ("xen/common/rbtree.c", "xen/include/xeno/rbtree.h", "xen/include")
    assert layout.includes == ("<xeno/rbtree.h>",)
    layout = layout_for(fixture_revision("era2009"))
    assert layout.header == "xen/include/xen/rbtree.h"
    assert layout.includes == ("<xen/config.h>", "<xen/types.h>", "<xen/lib.h>", "<xen/rbtree.h>")


def test_staged_sources_are_the_revision_byte_for_byte(tmp_path):
    text = H.FIXTURES["era2009"].c_text().replace("\n", "\r\n", 3) + "/* caf\u00e9 */\n"
    rev = fixture_revision("era2009", text=text)
    layout = layout_for(rev)
    stage_sources(rev, layout, "/* config */\n", tmp_path)
    assert (tmp_path / layout.source).read_bytes() == text.encode()
    assert (tmp_path / layout.header).read_bytes() == rev.header_text.encode()


# ---------------------------------------------------------------- building the fixtures
@pytest.mark.parametrize("name, size, ops", [("era2004", 32, "iefdvx"), ("era2009", 24, "ief<>nprczdvx"),
                                             ("era2017", 24, "ief<>nprczdvx"), ("noprev", 24, "ief<>nrczdvx")])
def test_each_era_builds(name, size, ops, cache_dir, toolchain):
    program = build_revision(fixture_revision(name), model_of(fixture_revision(name)), cache_dir, toolchain=toolchain)
    assert program.ok, program.error
    assert program.node_size == size
    assert "".join(program.ops) == ops
    assert os.access(program.path, os.X_OK)
    info = subprocess.run([program.path, "--info"], capture_output=True, text=True, check=True).stdout
    assert f"node_size {size}" in info and f"ops {ops}" in info


def test_the_cache_reuses_a_program_and_rebuilds_when_an_input_changes(tmp_path, toolchain):
    rev = fixture_revision("era2009")
    model = model_of(rev)
    builder = Builder(tmp_path / "cache", toolchain=toolchain)
    first = builder.build(rev, model)
    again = builder.build(rev, model)
    assert first.ok and not first.cached
    assert again.cached and again.key == first.key and again.path == first.path
    changed = fixture_revision("era2009", header=rev.header_text + "/* one more comment */\n")
    rebuilt = builder.build(changed, model)
    assert rebuilt.ok and not rebuilt.cached and rebuilt.key != first.key
    sanitized = Builder(tmp_path / "cache", sanitize=True, toolchain=toolchain).key(rev, layout_for(rev), "x")
    assert sanitized != builder.key(rev, layout_for(rev), "x")
    other_cc = Builder(tmp_path / "cache", toolchain=Toolchain("gcc", "gcc 99.0")).key(rev, layout_for(rev), "x")
    assert other_cc != builder.key(rev, layout_for(rev), "x")
    # Only finished entries in the cache: a directory per key, each complete.
    entries = list((tmp_path / "cache" / "programs").iterdir())
    assert sorted(e.name for e in entries) == sorted({first.key, rebuilt.key})
    for entry in entries:
        assert json.loads((entry / "program.json").read_text())["ok"] is True
        assert (entry / "program").exists()


def test_an_interrupted_build_leaves_no_half_program(tmp_path, toolchain, monkeypatch):
    rev = fixture_revision("era2009")
    model = model_of(rev)
    builder = Builder(tmp_path / "cache", toolchain=toolchain)
    import archeo.build as build_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module.shutil, "copy2", interrupted)
    with pytest.raises(KeyboardInterrupt):
        builder.build(rev, model)
    programs = tmp_path / "cache" / "programs"
    assert not programs.exists() or not any(programs.iterdir())  # staging removed, nothing renamed into place
    objects = tmp_path / "cache" / "objects"  # nor a half-copied shared object
    assert not [p.name for p in objects.iterdir() if p.name.startswith(".")]
    monkeypatch.undo()
    assert builder.build(rev, model).ok


def test_a_compile_error_is_the_first_error_line(cache_dir, toolchain):
    good = fixture_revision("era2009")
    broken = fixture_revision("era2009", text=good.text.replace("void rb_erase(", "void rb_erase(int oops", 1))
    program = build_revision(broken, model_of(good), cache_dir, toolchain=toolchain)
    assert not program.ok and program.path is None
    assert re.match(r"xen/common/rbtree\.c:\d+:\d+: error: ", program.error), program.error
    assert "archeo-build-" not in program.error  # no temporary directory in the message


def test_first_error_prefers_error_lines():
    stderr = "x.c: In function 'f':\nx.c:3:5: warning: unused\nx.c:4:1: error: expected ';'\nx.c:9:1: error: later\n"
    assert first_error(stderr) == "x.c:4:1: error: expected ';'"
    assert first_error("/usr/bin/ld: a.o: in function `main':\nh.c:(.text+0x1): undefined reference to `rb_first'\n").endswith(
        "undefined reference to `rb_first'")


def test_build_history_goes_on_after_a_failure(tmp_path, toolchain):
    good = [fixture_revision("era2004"), fixture_revision("era2017")]
    bad = fixture_revision("era2009", text="this is not C\n", commit="b" * 40)
    revisions = [good[0], bad, good[1]]
    models = [model_of(good[0]), model_of(fixture_revision("era2009")), model_of(good[1])]
    programs = build_history(revisions, models, tmp_path / "cache", jobs=2, toolchain=toolchain)
    assert [p.commit for p in programs] == [r.commit for r in revisions]
    assert [p.ok for p in programs] == [True, False, True]
    assert "error" in programs[1].error
    by_commit = build_history(revisions, {m.commit if m.commit != models[1].commit else bad.commit: m for m in models} | {bad.commit: models[1]},
                              tmp_path / "cache", jobs=2, toolchain=toolchain)
    assert [p.cached for p in by_commit] == [True, True, True]  # failures are cached too


def test_a_deleted_revision_is_an_error_not_an_exception(cache_dir, toolchain):
    rev = Revision("d" * 40, "2004-06-10T00:00:00+00:00", "a", "s", "deleted", H.C_PATH_2004, None, 0, 295)
    program = build_revision(rev, Model("d" * 40), cache_dir, toolchain=toolchain)
    assert not program.ok and "deleted" in program.error


def test_archeo_build_command(tmp_path, cache_dir, capsys):
    from archeo.cli import main

    history = H.standard_history(tmp_path / "repo")
    target = H.write_target(tmp_path, "fixture-rbtree")
    argv = ["build", "--repo", str(history.path), "--target", str(target), "--cache", str(cache_dir), "--jobs", "2"]
    assert main(argv + ["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    programs = doc["programs"]
    assert all(p["ok"] for p in programs)
    assert list(programs[0]) == ["commit", "ok", "error", "node_size", "ops", "key", "path", "notes"]
    sizes = {p["commit"]: p["node_size"] for p in programs}
    assert sizes[history.commit("add")] == 32 and sizes[history.commit("re-add")] == 24
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "sizeof node" in table and "0 failed" in table and "from the cache" in table


# ---------------------------------------------------------------- the real history
@pytest.fixture(scope="session")
def xen_programs(tmp_path_factory):
    if not XEN_REPO:
        pytest.skip("set XEN_REPO to a local clone of xen-project/xen")
    from archeo.parse import parse_history
    from archeo.mine import mine

    revisions = [r for r in mine("xen-rbtree", repo=XEN_REPO) if r.present]
    models = parse_history(revisions)
    programs = build_history(revisions, models, tmp_path_factory.getbasetemp() / "archeo-xen-programs", jobs=2)
    return revisions, models, programs


@pytest.mark.xen
def test_xen_every_present_revision_builds_unmodified(xen_programs, tmp_path):
    revisions, models, programs = xen_programs
    assert len(revisions) == 29
    failed = [(p.commit[:12], p.error) for p in programs if not p.ok]
    assert failed == []
    for rev, model in zip(revisions, models):  # what is compiled is the mined text, byte for byte
        layout = layout_for(rev)
        dest = tmp_path / rev.short
        stage_sources(rev, layout, config_header(derive_api(model), layout.includes), dest)
        assert (dest / rev.path).read_bytes() == rev.text.encode("utf-8", "surrogateescape")
        assert (dest / rev.header_path).read_bytes() == rev.header_text.encode("utf-8", "surrogateescape")


@pytest.mark.xen
def test_xen_node_size_and_ops_follow_the_api_eras(xen_programs):
    revisions, _, programs = xen_programs
    by_short = {r.short: p for r, p in zip(revisions, programs)}
    assert by_short["628c2a958eb5"].node_size == 32 and by_short["2a5f90e8e883"].node_size == 32
    assert "".join(by_short["628c2a958eb5"].ops) == "iefdvx"
    later = [p for r, p in zip(revisions, programs) if r.date >= "2009"]
    assert {p.node_size for p in later} == {24}
    assert {"".join(p.ops) for p in later} == {"ief<>nprczdvx"}
    # after 33dcdc8ae0b3 the colour accessors left the header: the harness reads the bit itself
    assert any("__rb_parent_color & 1" in n for n in by_short["33dcdc8ae0b3"].notes)
    assert any("rb_is_red()" in n for n in by_short["5c94f9163fe1"].notes)


def test_a_killed_compiler_is_not_cached_as_a_failure(tmp_path, monkeypatch):
    """Ctrl-C kills gcc mid-build; the next run must compile again, not replay the failure."""
    import subprocess as sp

    from archeo import build as buildmod
    from archeo.parse import parse_revision

    history = H.planted_history(tmp_path / "h")
    from archeo.mine import mine
    from archeo.records import Target

    rev = next(r for r in mine(Target("t", H.TARGET_PATHS, H.TARGET_HEADER_PATHS), repo=history.path) if r.present)
    model = parse_revision(rev)
    real_run = sp.run

    def killed(argv, *a, **kw):
        if "-c" in argv and any(str(x).endswith(".c") and "harness" not in str(x) and "shim" not in str(x) for x in argv):
            return sp.CompletedProcess(argv, -2, "", "")
        return real_run(argv, *a, **kw)

    monkeypatch.setattr(buildmod.subprocess, "run", killed)
    first = buildmod.build_revision(rev, model, tmp_path / "cache")
    assert not first.ok and "killed by signal 2" in first.error
    monkeypatch.setattr(buildmod.subprocess, "run", real_run)
    second = buildmod.build_revision(rev, model, tmp_path / "cache")
    assert second.ok and not second.cached


def test_code_identity_ignores_white_space_but_not_literals_or_tokens():
    """Line breaks and doubled spaces are the same code; spaces inside a string, or between
    `&` `&` and `&&`, are not."""
    from archeo.build import _tokens_only

    assert _tokens_only(b"while ( a != 0\n        &&  b )\n") == _tokens_only(b"while ( a != 0 && b )")
    assert _tokens_only(b'puts("a  b");') != _tokens_only(b'puts("a b");')
    assert _tokens_only(b"char c = '  ';") != _tokens_only(b"char c = ' ';")
    assert _tokens_only(b'x = "q\\"  r"  ;') == b'x = "q\\"  r" ;'
    assert _tokens_only(b"a & &b") != _tokens_only(b"a && b")
