"""Mining a history built here: every event the real history has, and the bad inputs."""

import json
import os
import subprocess

import git
import pytest

from archeo.cli import main
from archeo.errors import ArcheoError
from archeo.mine import check_expectations, mine
from archeo.records import Expectation, Target
from archeo.target import load_target
from histories import standard_history

TARGET = Target(
    name="fixture-rbtree",
    paths=("xen/common/rbtree.c", "xen/lib/rbtree.c"),
    header_paths=("xen/include/xeno/rbtree.h", "xen/include/xen/rbtree.h"),
)


def LABEL(history, commit):
    return {c: label for label, c in history.labels.items()}[commit]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return standard_history(tmp_path_factory.mktemp("standard"))


@pytest.fixture(scope="module")
def revisions(history):
    return mine(TARGET, repo=history.path)


def test_every_event_in_order(history, revisions):
    labels = [LABEL(history, r.commit) for r in revisions]
    assert labels == [
        "add", "modify", "header-move", "delete", "re-add", "header-only", "text-only",
        "const", "macro-parens", "side", "move",
    ]
    assert [r.status for r in revisions] == [
        "added", "modified", "modified", "deleted", "added", "modified", "modified",
        "modified", "modified", "modified", "renamed",
    ]


def test_headers_follow_the_file(history, revisions):
    by = {LABEL(history, r.commit): r for r in revisions}
    assert by["add"].header_path == "xen/include/xeno/rbtree.h"
    assert by["header-move"].header_path == "xen/include/xen/rbtree.h"
    assert by["delete"].header_path is None and by["delete"].text is None and not by["delete"].present
    assert by["header-only"].touched == ("header",)
    assert by["macro-parens"].touched == ("header",)
    assert by["move"].path == "xen/lib/rbtree.c" and by["move"].old_path == "xen/common/rbtree.c"
    assert by["move"].text == by["side"].text  # a pure move
    for rev in revisions:
        if rev.present:
            assert rev.header_text is not None
            blob = git.Repo(history.path).commit(rev.commit).tree / rev.path
            assert blob.data_stream.read().decode() == rev.text


def test_line_counts_and_texts(history, revisions):
    first, modify = revisions[0], revisions[1]
    assert first.added == len(first.text.splitlines()) and first.removed == 0
    assert (modify.added, modify.removed) == (1, 1)
    assert revisions[3].removed == len(revisions[2].text.splitlines())


def test_decoys_of_the_same_name_are_not_the_target(revisions):
    assert all(r.path in TARGET.paths for r in revisions)
    assert all("asm-ia64" not in (r.header_path or "") for r in revisions)


def test_expectations_confirm_and_disagree(revisions):
    good = Expectation(revisions[0].commit[:12], revisions[0].date[:10], revisions[0].added, 0)
    bad = Expectation(revisions[1].commit[:12], "1999-01-01", 5, 5)
    missing = Expectation("deadbeef0000", "2004-01-01", 1, 0)
    target = Target(**{**TARGET.__dict__, "expectations": (good, bad, missing)})
    checks = check_expectations(target, revisions)
    assert [c.ok for c in checks] == [True, False, False]
    assert "expected 1999-01-01" in checks[1].message and "not in the mined history" in checks[2].message


def test_cli_json(history, tmp_path, capsys):
    toml = tmp_path / "t.toml"
    toml.write_text(
        'name = "fixture-rbtree"\npaths = ["xen/common/rbtree.c", "xen/lib/rbtree.c"]\n'
        'header_paths = ["xen/include/xeno/rbtree.h", "xen/include/xen/rbtree.h"]\n'
    )
    assert main(["mine", "--repo", str(history.path), "--target", str(toml), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"] == "fixture-rbtree" and len(doc["revisions"]) == 11
    assert set(doc["revisions"][0]) >= {"commit", "date", "author", "subject", "status", "path", "header_path", "added", "removed"}
    assert "text" not in doc["revisions"][0]


def test_path_option_studies_any_file(history, capsys):
    assert main(["mine", "--repo", str(history.path), "--path", "xen/common/rbtree.c", "--path", "xen/lib/rbtree.c", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"] == "rbtree" and len(doc["revisions"]) >= 9


def error_of(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and err.startswith("archeo: ") and "Traceback" not in err
    return err


def test_not_a_git_repository(tmp_path, capsys):
    assert "not a git repository" in error_of(["mine", "--repo", str(tmp_path)], capsys)
    assert "does not exist" in error_of(["mine", "--repo", str(tmp_path / "nope")], capsys)


def test_path_never_in_history(history, capsys):
    assert "appears in the history" in error_of(["mine", "--repo", str(history.path), "--path", "no/such.c"], capsys)


def test_shallow_clone_says_how_to_deepen(history, tmp_path, capsys):
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{history.path}", str(shallow)], check=True)
    err = error_of(["mine", "--repo", str(shallow)], capsys)
    assert "shallow" in err and "--unshallow" in err


def test_unknown_target_and_bad_toml(history, tmp_path, capsys):
    assert "unknown target" in error_of(["mine", "--repo", str(history.path), "--target", "nope"], capsys)
    bad = tmp_path / "bad.toml"
    bad.write_text("paths = [")
    assert "not valid TOML" in error_of(["mine", "--repo", str(history.path), "--target", str(bad)], capsys)


def test_unreachable_url_says_pass_repo(tmp_path, capsys):
    err = error_of(["mine", "--repo", "file:///nonexistent/repo.git", "--cache", str(tmp_path)], capsys)
    assert "cannot clone" in err and "--repo" in err


def test_url_is_cloned_once_into_the_cache(history, tmp_path):
    url = f"file://{history.path}"
    first = mine(TARGET, repo=url, cache_dir=tmp_path)
    clones = list((tmp_path / "repos").iterdir())
    second = mine(TARGET, repo=url, cache_dir=tmp_path)
    assert [r.commit for r in first] == [r.commit for r in second]
    assert list((tmp_path / "repos").iterdir()) == clones and len(clones) == 1


XEN_REPO = os.environ.get("XEN_REPO")


@pytest.mark.skipif(not XEN_REPO, reason="XEN_REPO is not set to a local clone of xen-project/xen")
def test_xen_history():
    revs = mine("xen-rbtree", repo=XEN_REPO)
    upto = [r for r in revs]
    cut = next(i for i, r in enumerate(upto) if r.commit.startswith("696ee5ca9f4e"))
    upto = upto[: cut + 1]
    assert len(upto) == 30
    assert sum(r.present for r in upto) == 29
    assert [r.short for r in upto if r.status == "deleted"] == ["3e820c5daef9"]
    assert [r.short for r in upto if r.status == "renamed"] == ["c54212261dc3"]
    assert upto[0].header_path == "xen/include/xeno/rbtree.h"
    assert all(r.header_path == "xen/include/xen/rbtree.h" for r in upto[1:] if r.present)
    assert [r.date[:10] for r in upto] == sorted(r.date[:10] for r in upto)
    assert all(c.ok for c in check_expectations(load_target("xen-rbtree"), revs))


def test_paths_are_normalised(history):
    from archeo.target import target_from_paths

    one_off = target_from_paths(["./xen/common/rbtree.c", "xen//lib/rbtree.c"], list(TARGET.header_paths))
    assert one_off.paths == TARGET.paths
    assert [r.status for r in mine(one_off, repo=history.path)] == [r.status for r in mine(TARGET, repo=history.path)]


def test_a_revision_that_looks_like_an_option_is_refused(history, capsys):
    err = error_of(["mine", "--repo", str(history.path), "--rev=--output=/tmp/archeo-x"], capsys)
    assert "is not a revision" in err
    assert "bad revision" in error_of(["mine", "--repo", str(history.path), "--rev", "nope"], capsys)


def test_target_file_type_errors_are_one_line(tmp_path, capsys):
    f = tmp_path / "t.toml"
    f.write_text('name = "x"\npaths = ["a.c"]\nheader_paths = "a.h"\n')
    assert "'header_paths' must be a list of strings" in error_of(["mine", "--target", str(f)], capsys)
    d = tmp_path / "dir.toml"
    d.mkdir()
    assert "cannot read target file" in error_of(["mine", "--target", str(d)], capsys)


def test_parents_follow_the_graph_not_the_list(history, revisions):
    by = {LABEL(history, r.commit): r for r in revisions}
    assert by["add"].parents == ()
    assert by["modify"].parents == (by["add"].commit,)
    assert by["re-add"].parents == (by["delete"].commit,)
    assert by["side"].parents == (by["macro-parens"].commit,)
    # the merge brought nothing of its own, so the move descends from the side commit
    assert by["move"].parents == (by["side"].commit,)
    listed = {r.commit for r in revisions}
    assert all(p in listed for r in revisions for p in r.parents)
