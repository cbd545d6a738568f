"""`archeo run` end to end on a fixture history: the report, its cache, and its mutation section."""

import json

import pytest

from archeo.cli import main
from histories import planted_history, write_target


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    history = planted_history(root)
    return history, write_target(root, "planted"), root


def run(planted, out, *extra):
    history, target, root = planted
    return main([
        "run", "--repo", str(history.path), "--target", str(target), "--cache", str(root / "cache"),
        "--out", str(out), "--seeds", "3", "--ops", "600", "--quiet", *extra,
    ])


def test_run_writes_the_report_and_is_reproducible(planted, tmp_path):
    history, *_ = planted
    assert run(planted, tmp_path / "a") == 0
    assert run(planted, tmp_path / "b") == 0
    a = (tmp_path / "a" / "findings.json").read_bytes()
    assert a == (tmp_path / "b" / "findings.json").read_bytes()
    doc = json.loads(a)
    assert [r["commit"] for r in doc["revisions"]] == list(history.commits)
    assert {c["introduced_by"] for c in doc["changes"]} >= {history.commits[p.index] for p in history.plants if p.role == "plant" and p.trace != "same"}
    assert sorted(p.name for p in (tmp_path / "a" / "witnesses").iterdir())
    assert "mutation" not in doc


def test_run_with_mutation_adds_the_section(planted, tmp_path):
    history, *_ = planted
    base = history.commits[0][:12]
    assert run(planted, tmp_path / "m", "--mutate", base, "--max-mutants", "6") == 0
    doc = json.loads((tmp_path / "m" / "findings.json").read_text())
    (rev,) = doc["mutation"]["revisions"]
    assert rev["commit"].startswith(base) and rev["round_trip"] == "identical"
    assert rev["counts"]["made"] == 6
    assert doc["mutation"]["total"]["kill_score"] is not None
    md = (tmp_path / "m" / "index.md").read_text()
    html = (tmp_path / "m" / "index.html").read_text()
    assert "## 7. Mutation analysis" in md and 'id="mutation"' in html
    assert "before" not in json.dumps(doc["mutation"])  # no mutated code in the report


def test_run_rejects_bad_numbers(planted, tmp_path, capsys):
    assert run(planted, tmp_path / "x", "--mutate", "0000", "--max-mutants", "0") == 2
    assert "--max-mutants 0 is out of range" in capsys.readouterr().err


def test_replay_refuses_ambiguous_or_deleted_sides(planted, tmp_path, capsys):
    history, target, root = planted
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"schema": "archeo-witness/2", "a": "reference", "b": "", "level": "same", "ops": ["i 1", "d"]}))
    argv = ["replay", str(path), "--repo", str(history.path), "--target", str(target), "--cache", str(root / "cache")]
    assert main(argv) == 2
    assert "give a longer commit id" in capsys.readouterr().err
    assert main(argv + ["--timeout", "nan"]) == 2
    assert "--timeout nan is out of range" in capsys.readouterr().err


def test_replay_of_the_reference_against_a_revision(planted, tmp_path, capsys):
    history, target, root = planted
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"a": "reference", "b": history.commits[0][:12], "level": "same", "ops": ["i 1", "i 2", "i 3", "d"]}))
    assert main(["replay", str(path), "--repo", str(history.path), "--target", str(target), "--cache", str(root / "cache")]) == 0
    assert "T 2:b 1:r . . 3:r . ." in capsys.readouterr().out


def test_a_mutation_run_defaults_to_its_own_report_directory(planted, tmp_path, monkeypatch):
    history, target, root = planted
    monkeypatch.chdir(tmp_path)
    argv = ["run", "--repo", str(history.path), "--target", str(target), "--cache", str(root / "cache"),
            "--seeds", "2", "--ops", "300", "--quiet"]
    assert main(argv) == 0
    assert main(argv + ["--mutate", history.commits[0][:12], "--max-mutants", "3"]) == 0
    plain, mutated = tmp_path / "reports" / "planted", tmp_path / "reports" / "planted-mutation"
    assert "mutation" not in json.loads((plain / "findings.json").read_text())
    assert "mutation" in json.loads((mutated / "findings.json").read_text())


def test_report_names_untested_revisions_a_change_may_come_from(tmp_path):
    """The report says a change may come from a revision in between that did not build."""
    from archeo.difftest import Settings, difftest
    from archeo.records import Revision, Target
    from archeo.report import write_report
    from archeo.study import Study
    from test_difftest import recoloured, reference

    result = difftest([("a" * 40, reference), ("f" * 40, None), ("b" * 40, recoloured)], Settings(seeds=2, ops=200, profiles=("small",)), reference=reference)
    revs = [Revision(c * 40, f"2020-01-0{i + 1}T00:00:00+00:00", "x", "s", "modified", "t.c", "t.h", 1, 1, text="", header_text="") for i, c in enumerate("afb")]
    study = Study(Target("t", ("t.c",), ("t.h",)), "repo", "h" * 40, revs, {}, {}, {}, {}, result, "0")
    write_report(study, tmp_path / "r")
    md = (tmp_path / "r" / "index.md").read_text()
    html = (tmp_path / "r" / "index.html").read_text()
    assert "could not be tested: `ffffffffffff`" in md
    assert "could not be tested" in html and "ffffffffffff" in html


# ---------------------------------------------------------------- exit codes
def test_a_history_where_nothing_builds_exits_3_and_says_so(tmp_path, capsys):
    import histories as H

    broken = "/* SPDX-License-Identifier: MIT */\nvoid rb_erase(struct rb_node *node, {\n"
    history = H.build_history(tmp_path, [
        H.Step("rbtree: new", "2009-05-26", writes={H.C_PATH_2004: broken, H.H_PATH_XEN: "era2009.h"}),
        H.Step("rbtree: still broken", "2009-06-01", writes={H.C_PATH_2004: broken + "}\n"}),
    ])
    target = write_target(tmp_path, "broken")
    common = ["--repo", str(history.path), "--target", str(target), "--cache", str(tmp_path / "cache"), "--seeds", "2", "--ops", "100"]
    assert main(["run", *common, "--out", str(tmp_path / "r")]) == 3
    captured = capsys.readouterr()
    line = "0 of 2 present revisions built — nothing was tested; see the build column"
    assert f"archeo: {line}" in captured.err and line in captured.out
    assert "no behavioural change" not in (captured.out + captured.err).lower()
    summary = json.loads((tmp_path / "r" / "findings.json").read_text())["summary"]
    assert summary["tested"] == 0 and summary["text"].endswith("0 of 2 present revisions built; see the build column. Nothing was tested.")
    assert main(["difftest", *common, "--json"]) == 3
    assert line in capsys.readouterr().err


def test_fail_on_turns_findings_into_exit_1(planted, tmp_path, capsys):
    assert run(planted, tmp_path / "f", "--fail-on", "crash") == 1
    assert "findings at or above --fail-on crash: the strongest is crash" in capsys.readouterr().err
    assert run(planted, tmp_path / "g", "--fail-on", "hang") == 1  # crash is above hang
    with pytest.raises(SystemExit) as exit:  # argparse: a usage error
        run(planted, tmp_path / "h", "--fail-on", "bogus")
    assert exit.value.code == 2
