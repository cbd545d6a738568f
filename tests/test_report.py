"""The report stage on a Study built by hand: files, contents, determinism, safety, and a browser check."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess

import pytest

from archeo.difftest import BehaviourChange, DifftestResult, PairVerdict, RevisionVerdict, Settings, Witness
from archeo.errors import ArcheoError
from archeo.records import Change, Field, Function, Macro, Model, Param, ParseError, Program, Revision, Struct, Target
from archeo.report import build_findings, describe_op, print_summary, summary_rows, write_report
from archeo.study import Study
from archeo.subjects.rbtree.draw import draw_svg, draw_text, last_dump, parse_dump

C1 = "628c2a958eb5" + "a" * 28
C2 = "2a5f90e8e883" + "b" * 28
C3 = "3e820c5daef9" + "c" * 28
C4 = "6009f4ddb2cd" + "d" * 28
C5 = "9f2c1e0b7a66" + "e" * 28

# Lines of "studied source": none of them may reach the report (signatures are facts and may).
SECRET_BODY = "node->rb_parent_color = (unsigned long)parent | SECRET_BODY_LINE;"
SECRET_COMMENT = "/* a comment from the studied source that must never be quoted */"
SECRET_MACRO = "((struct rb_node *)((ptr)->secret_macro_body & ~3))"
SOURCE = "\n".join(
    [
        SECRET_COMMENT,
        '#include "rbtree.h"',
        "void rb_insert_color(struct rb_node *node, struct rb_root *root)",
        "{",
        "    " + SECRET_BODY,
        "}",
        "void rb_erase(struct rb_node *node, struct rb_root *root)",
        "{",
        "    while (node) node = node->rb_left; /* another line of the source */",
        "}",
    ]
)
HEADER = f"#define rb_parent(r) {SECRET_MACRO}\nstruct rb_node {{ unsigned long rb_parent_color; }};\n"


def fn(name: str, params: str, first: int, last: int, statements: int = 3, complexity: int = 2) -> Function:
    ps = tuple(Param(p.split()[-1].lstrip("*"), " ".join(p.split()[:-1]) + " *") for p in params.split(", "))
    return Function(
        name=name,
        storage=(),
        returns="void",
        params=ps,
        signature=f"void {name}({params})",
        first_line=first,
        last_line=last,
        statements=statements,
        complexity=complexity,
        fingerprint=f"fp-{name}-{statements}",
    )


def model(commit: str, with_first: bool) -> Model:
    functions = [
        fn("rb_insert_color", "struct rb_node *node, struct rb_root *root", 3, 6),
        fn("rb_erase", "struct rb_node *node, struct rb_root *root", 7, 10, 5, 4),
    ]
    if with_first:
        functions.append(fn("rb_first", "struct rb_root *root", 11, 14, 4, 2))
    return Model(
        commit=commit,
        functions=tuple(functions),
        structs=(
            Struct("struct rb_node", "struct", (Field("rb_parent_color", "unsigned long"), Field("rb_right", "struct rb_node *"), Field("rb_left", "struct rb_node *"))),
            Struct("struct rb_root", "struct", (Field("rb_node", "struct rb_node *"),), ("rb_root_t",)),
        ),
        macros=(Macro("rb_parent", ("r",), SECRET_MACRO),) + ((Macro("RB_ROOT", None, "(struct rb_root) { NULL, }"),) if with_first else ()),
        api=("rb_insert_color", "rb_erase", "rb_parent") + (("rb_first", "RB_ROOT") if with_first else ()),
    )


def revision(commit, date, status, path, subject, added, removed, text=SOURCE, old_path=None, header="xen/include/xen/rbtree.h"):
    return Revision(
        commit=commit,
        date=f"{date}T10:00:00+00:00",
        author="Keir Fraser",
        subject=subject,
        status=status,
        path=path,
        header_path=header if text is not None else None,
        added=added,
        removed=removed,
        text=text,
        header_text=HEADER if text is not None else None,
        old_path=old_path,
        touched=("file",),
    )


# The witness: on the same four inserts and a dump, the two revisions colour the tree differently.
WITNESS_OPS = ("i 5", "i 3", "i 7", "e 9", "n 3", "d")
BEFORE = ("ok", "ok", "ok", "absent", "NA", "T 5:b 3:r . . 7:r . .")
AFTER = ("ok", "ok", "ok", "absent", "5", "T 5:b 3:b . . 7:b . .")


def make_study(difftest: bool = True) -> Study:
    target = Target(
        name="toy-rbtree",
        paths=("xen/common/rbtree.c", "xen/lib/rbtree.c"),
        header_paths=("xen/include/xeno/rbtree.h", "xen/include/xen/rbtree.h"),
        urls=("https://example.invalid/xen.git",),
        release_pattern="RELEASE-*",
        description="A toy history shaped like Xen's red-black tree",
    )
    revisions = [
        revision(C1, "2004-01-15", "added", "xen/common/rbtree.c", "bitkeeper revision 1.674: new file", 295, 0, header="xen/include/xeno/rbtree.h"),
        revision(C2, "2004-03-23", "modified", "xen/common/rbtree.c", "xeno -> xen renames | and a pipe", 1, 1),
        revision(C3, "2004-06-10", "deleted", "xen/common/rbtree.c", "remove unused rbtree", 0, 295, text=None),
        revision(C4, "2009-05-26", "added", "xen/common/rbtree.c", "Transcendent memory for Xen", 398, 0),
        revision(C5, "2020-05-05", "renamed", "xen/lib/rbtree.c", "move rbtree to xen/lib <one>", 0, 0, old_path="xen/common/rbtree.c"),
    ]
    models = {
        C1: model(C1, False),
        C2: Model(commit=C2, error=ParseError("parse", "xen/common/rbtree.c", 12, "before: {")),
        C4: model(C4, True),
        C5: model(C5, True),
    }
    structural = {
        C4: [Change("function-added", "rb_first"), Change("body-changed", "rb_erase", "5 -> 7 statements"), Change("macro-added", "RB_ROOT")],
        C5: [Change("text-only", "")],
    }
    previous = {C2: C1, C4: C2, C5: C4}
    programs = {
        C1: Program(C1, "/tmp/cache/c1/harness", "key1", ops=tuple("iefdvx"), node_size=24),
        C2: Program(C2, None, "key2", error="rbtree.c:12:5: error: unknown type name 'rb_node_t'\n   12 | secret line"),
        C4: Program(C4, "/tmp/cache/c4/harness", "key4", ops=tuple("iefnprczdvx<>"), node_size=24),
        C5: Program(C5, "/tmp/cache/c5/harness", "key5", ops=tuple("iefnprczdvx<>"), node_size=32),
    }
    result = None
    if difftest:
        witness = Witness(a=C1, b=C4, level="structural", seed=3, ops=WITNESS_OPS, a_lines=BEFORE, b_lines=AFTER, original_length=10000)
        ref_witness = Witness(a="reference", b=C1, level="api", seed=0, ops=("i 1", "<"), a_lines=("ok", "1"), b_lines=("ok", "NA"), original_length=10000)
        verdicts = [
            RevisionVerdict(C1, "tested", PairVerdict("reference", "api", 0, "operation 1: '1' vs 'NA'", (("api", 0),), (ref_witness,)), None, "beh1"),
            RevisionVerdict(C2, "build-failed", None, None, error="did not build"),
            RevisionVerdict(C4, "tested", PairVerdict("reference", "observable", 1, "operation 7: '4' vs 'nil'"), PairVerdict(C1, "structural", 3, "operation 5: 'T 5:b 3:r . . 7:r . .' vs 'T 5:b 3:b . . 7:b . .'", (("structural", 3), ("api", 3)), (witness,)), "beh4"),
            RevisionVerdict(C5, "tested", PairVerdict("reference", "observable", 1, "operation 7: '4' vs 'nil'"), PairVerdict(C4, "same"), "beh4"),
        ]
        change = BehaviourChange(C4, "structural", C1, None, witness, releases=("RELEASE-3.4.0", "RELEASE-3.4.1", "RELEASE-4.0.0"), detail=verdicts[2].vs_previous.detail)
        result = DifftestResult(Settings(seeds=4, ops=200), verdicts, [change], [[C1], [C4, C5]], reference_runs=4, program_runs=12)
    return Study(
        target=target,
        repo="/home/someone/clones/xen",  # the clone: in no report file
        repo_head="f" * 40,
        revisions=revisions,
        models=models,
        structural=structural,
        previous=previous,
        programs=programs,
        difftest=result,
        archeo_version="0.1.0",
        timings={"mine": 1.25, "build": 3.5},
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "toy-rbtree"
    return write_report(make_study(), out)


# ---------------------------------------------------------------- the tree drawer
def test_tree_drawer_draws_a_known_three_node_dump_exactly():
    assert draw_text("T 5:b 3:r . . 7:r . .") == "     5(B)\n ┌────┴────┐\n3(R)      7(R)"


def test_tree_drawer_one_sided_empty_and_malformed():
    assert draw_text("T 1:b . 2:r . .") == "1(B)\n └────┐\n     2(R)"
    assert draw_text("T .") == "(empty tree)"
    assert draw_text("T 1:b").startswith("(not a tree")
    assert parse_dump("T 2:b 1:r . . .").right is None
    svg = draw_svg("T 5:b 3:r . . 7:r . .", {"3"})
    assert svg.count("<rect") == 3 and svg.count("<line") == 2 and "#f9a825" in svg and "id=" not in svg


def test_last_dump_and_op_words():
    assert last_dump(WITNESS_OPS, AFTER) == AFTER[-1]
    assert last_dump(("i 1", "d"), ("ok",)) is None  # cut short before its dump
    assert [describe_op(t) for t in ("i 5", "e 3", "<", ">", "n 4", "p 4", "d", "v", "x", "f 2")] == [
        "insert 5", "erase 3", "first", "last", "next of 4", "prev of 4", "dump", "verify", "reset", "find 2"
    ]


# ---------------------------------------------------------------- the files
def test_files_exist(report):
    for path in (report.index_md, report.index_html, report.findings_json, *report.figures, *report.revisions):
        assert path.is_file() and path.stat().st_size > 0, path
    assert {p.name for p in report.figures} == {"timeline.svg", "matrix.svg"}
    assert {p.name for p in report.revisions} == {f"{c}.md" for c in (C1, C2, C3, C4, C5)}
    leftovers = [p.name for p in report.out_dir.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no staging or old directory left behind


def test_index_md_has_a_row_per_revision_and_the_witness(report):
    md = report.index_md.read_text()
    for c in (C1, C2, C3, C4, C5):
        assert re.search(rf"^\| \[`{c[:12]}`\]\(revisions/{c}\.md\) \|", md, re.M), c
    assert "toy-rbtree" in md and "https://example.invalid/xen.git" in md and "4 seeds × 200 ops" in md
    assert "5 revisions from 2004-01-15 to 2020-05-05" in md
    for words in ("insert 5", "insert 3", "insert 7", "erase 9", "next of 3", "dump"):
        assert f"| {words} |" in md
    # both trees drawn, side by side, colours marked
    assert "     5(B)" in md and "3(R)      7(R)" in md and "3(B)      7(B)" in md
    assert "first `RELEASE-3.4.0`, 3 releases" in md
    assert "did not build" in md and "parse error" in md and "file removed" in md
    assert "xeno -> xen renames \\| and a pipe" in md  # table cells escaped
    assert "moved from xen/common/rbtree.c to xen/lib/rbtree.c" in md
    assert "re-added as xen/common/rbtree.c" in md
    assert "header moved from xen/include/xeno/rbtree.h to xen/include/xen/rbtree.h" in md
    assert "![File size" in md and "(figures/timeline.svg)" in md and "(figures/matrix.svg)" in md
    assert "| 2020-05-05 | [`9f2c1e0b7a66`]" in md and "| 32 |" in md  # sizeof(node) change


def test_revision_pages(report):
    page = (report.out_dir / "revisions" / f"{C4}.md").read_text()
    assert "Transcendent memory for Xen" in page
    assert "`void rb_first(struct rb_root *root)`" in page  # a signature is a fact
    assert "function-added" in page and "rb_first" in page
    assert "3(B)      7(B)" in page  # its witness, drawn
    assert "`struct rb_node`" in page and "`rb_root_t`" in page and "`rb_parent(r)`" in page
    failed = (report.out_dir / "revisions" / f"{C2}.md").read_text()
    assert "unknown type name" in failed and "parse error at xen/common/rbtree.c:12" in failed
    gone = (report.out_dir / "revisions" / f"{C3}.md").read_text()
    assert "deleted" in gone and "No model" in gone


def test_no_line_of_the_studied_source_appears(report):
    secrets = [SECRET_BODY, SECRET_COMMENT, SECRET_MACRO, "another line of the source", "secret line", "secret_macro_body"]
    for path in report.out_dir.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for secret in secrets:
                assert secret not in text, (path.name, secret)
            assert json.dumps(SECRET_BODY)[1:-1] not in text


# ---------------------------------------------------------------- findings.json
def test_findings_json_keys_and_revisions(report):
    data = json.loads(report.findings_json.read_text())
    for key in ("schema", "inputs", "summary", "timeline", "revisions", "changes", "classes", "matrix", "history"):
        assert key in data
    assert data["schema"] == "archeo-findings/2"
    assert data["inputs"] == {
        "target": "toy-rbtree",
        "description": "A toy history shaped like Xen's red-black tree",
        "paths": ["xen/common/rbtree.c", "xen/lib/rbtree.c"],
        "header_paths": ["xen/include/xeno/rbtree.h", "xen/include/xen/rbtree.h"],
        "reference": "rbtree",
        "release_pattern": "RELEASE-*",
        "urls": ["https://example.invalid/xen.git"],
        "last_commit": C5,
        "last_date": data["revisions"][-1]["date"],
        "archeo_version": "0.1.0",
        "seeds": 4,
        "ops": 200,
        "first_seed": 0,
        "profiles": ["small", "large"],
        "confinement": "",
    }
    assert [r["commit"] for r in data["revisions"]] == [C1, C2, C3, C4, C5]
    # nothing of the clone: another path or another HEAD of the same history gives the same bytes
    for path in (report.findings_json, report.index_md, report.index_html, *report.revisions):
        assert "/home/someone/clones" not in path.read_text() and "f" * 40 not in path.read_text()
    keys = {"commit", "date", "author", "subject", "status", "path", "header_path", "added", "removed", "functions", "node_size",
            "build", "vs_reference", "vs_previous", "behaviour", "changes"}
    assert all(keys <= set(r) for r in data["revisions"])
    r1, r2, r3, r4, r5 = data["revisions"]
    assert r3["status"] == "deleted" and r3["build"] is None and r3["functions"] == [] and r3["lines"] is None
    assert r2["build"]["ok"] is False and r2["build"]["error"].startswith("rbtree.c:12:5") and "\n" not in r2["build"]["error"]
    assert r2["vs_reference"] is None and r2["difftest"] == "build-failed"
    assert r4["vs_previous"]["level"] == "structural" and r4["vs_previous"]["witnesses"][0]["ops"] == list(WITNESS_OPS)
    assert r4["vs_previous"]["levels"] == [{"level": "structural", "seed": 3}, {"level": "api", "seed": 3}]
    assert r5["node_size"] == 32 and r5["class"] == 2 and r4["behaviour"] == r5["behaviour"]
    assert [c["kind"] for c in r4["changes"]] == ["function-added", "body-changed", "macro-added"]
    assert "timings" not in json.dumps(data) and "/tmp/cache" not in json.dumps(data)
    (change,) = data["changes"]
    assert change["introduced_by"] == C4 and change["level"] == "structural" and change["ended_by"] is None
    assert change["releases"] == ["RELEASE-3.4.0", "RELEASE-3.4.1", "RELEASE-4.0.0"] and change["first_release"] == "RELEASE-3.4.0"
    assert change["witness"] == list(WITNESS_OPS) and change["outcomes"]["b_outcome"]["results"] == list(AFTER)
    assert data["classes"] == [[C1], [C4, C5]]
    m = data["matrix"]
    assert m["order"] == ["reference", C1, C4, C5]
    assert m["levels"][1][2] == "structural" and m["levels"][0][1] == "api" and m["levels"][0][3] == "observable"
    assert m["levels"][2][3] == "same" and m["levels"][3][3] == "same" and m["levels"][3][1] == "structural"
    fns = {f["name"]: f for f in data["history"]["functions"]}
    assert fns["rb_first"]["spans"] == [{"from": C4, "to": None}]
    assert fns["rb_erase"]["spans"] == [{"from": C1, "to": C3}, {"from": C4, "to": None}]
    assert [s["node_size"] for s in data["history"]["node_size"]] == [24, 24, 32]


def test_findings_and_report_are_byte_identical_across_writes(tmp_path, report):
    again = write_report(make_study(), tmp_path / "toy-rbtree")
    for name in ("findings.json", "index.md", "index.html", "figures/timeline.svg", "figures/matrix.svg", f"revisions/{C4}.md"):
        assert (again.out_dir / name).read_bytes() == (report.out_dir / name).read_bytes(), name
    text = again.findings_json.read_text()
    assert text.endswith("}\n") and text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_rewrite_replaces_an_old_report_but_not_a_foreign_directory(tmp_path):
    out = tmp_path / "r"
    write_report(make_study(), out)
    (out / "stale.txt").write_text("from an older run")
    write_report(make_study(difftest=False), out)
    assert not (out / "stale.txt").exists()
    data = json.loads((out / "findings.json").read_text())
    assert data["changes"] == [] and data["inputs"]["seeds"] is None and data["matrix"] is None
    assert "No differential test was run" in (out / "index.md").read_text()
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ArcheoError, match="not an archeo report"):
        write_report(make_study(), foreign)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_an_interrupted_write_leaves_the_previous_report_whole(tmp_path, monkeypatch):
    import archeo.report.write

    out = tmp_path / "r"
    write_report(make_study(), out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(archeo.report.write, "render_html", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(make_study(difftest=False), out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no staging directory left behind


def test_unwritable_out_dir_is_an_archeo_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ArcheoError, match=r"cannot write the report to .*a-file/report \(.*\): choose another --out"):
        write_report(make_study(), blocker / "report")
    with pytest.raises(ArcheoError, match="choose another --out"):
        write_report(make_study(), blocker)


# ---------------------------------------------------------------- HTML
def test_html_is_self_contained(report):
    html = report.index_html.read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"""\b(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(?!#)", html)  # only url(#local-id)
    for src in re.findall(r"""<img\b[^>]*\bsrc=["']([^"']*)""", html):
        assert src.startswith("data:")
        base64.b64decode(src.split(",", 1)[1], validate=True)
    assert html.count('class="figure"') == 2
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="tree"') >= 2  # both trees of the witness, drawn
    for words in ("insert 5", "erase 9", "next of 3", "dump"):
        assert f"<td>{words}</td>" in html
    for c in (C1, C2, C3, C4, C5):
        assert f'id="rev-{c[:12]}"' in html and f'href="#rev-{c[:12]}"' in html
    assert "&lt;one&gt;" in html  # subjects escaped


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_html_renders_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium, chromium-browser or google-chrome on PATH")
    common = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    shot = tmp_path / "shot.png"
    run = subprocess.run(
        common + [f"--screenshot={shot}", "--window-size=1280,2000", report.index_html.as_uri()],
        capture_output=True, text=True, timeout=90,
    )
    dom = subprocess.run(common + ["--dump-dom", report.index_html.as_uri()], capture_output=True, text=True, timeout=90)
    for r in (run, dom):
        # The page has no script, so any console message at all is a fault (e.g. "INFO:CONSOLE ... Uncaught").
        errors = [line for line in r.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
        assert errors == []
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert "archeo report: toy-rbtree" in dom.stdout and dom.stdout.count("<svg") >= 4


# ---------------------------------------------------------------- terminal
def test_summary_rows_and_print_summary(tmp_path):
    study = make_study()
    rows = summary_rows(build_findings(study))
    assert rows == [
        (C4[:12], "2009-05-26", "structural", "—", "RELEASE-3.4.0 +2", "6 ops: insert 5, insert 3, insert 7, erase 9, next of 3, dump")
    ]
    buf = io.StringIO()
    print_summary(build_findings(study), tmp_path / "toy-rbtree", file=buf)
    text = buf.getvalue()
    assert "structural" in text and "RELEASE-3.4.0" in text and str(tmp_path / "toy-rbtree" / "index.html") in text
    assert max(len(line) for line in text.splitlines() if "report:" not in line) <= 100
    assert summary_rows(build_findings(make_study(difftest=False))) == []


def test_findings_tolerate_missing_pieces(tmp_path):
    study = make_study()
    study.models.pop(C4)
    study.programs.pop(C5)
    study.difftest.revisions.pop()  # C5 has no verdict at all
    data = build_findings(study)
    r4, r5 = data["revisions"][3], data["revisions"][4]
    assert r4["parse"] is None and r4["functions"] == []
    assert r5["build"] is None and r5["vs_reference"] is None and r5["difftest"] is None
    files = write_report(study, tmp_path / "partial")
    assert f"| [`{C5[:12]}`]" in files.index_md.read_text()
    empty = Study(make_study().target, "", "", [], {}, {}, {}, {}, None, "0.1.0")
    assert build_findings(empty)["summary"]["text"].startswith("No revisions")
    files = write_report(empty, tmp_path / "empty")
    assert files.figures == () and files.revisions == () and "No revisions" in files.index_md.read_text()
