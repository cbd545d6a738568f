"""`archeo demo`: a history built here, studied end to end offline, with the planted regression found."""

from __future__ import annotations

import json

from archeo.cli import main
from archeo.demo import STEPS, build_demo


def test_the_demo_history_has_the_same_commit_ids_everywhere(tmp_path):
    a = build_demo(tmp_path / "a")
    b = build_demo(tmp_path / "b")
    assert a.commits == b.commits and len(a.commits) == len(STEPS)


def test_demo_reports_the_planted_regression_and_its_fix(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["demo", "-o", str(out), "--seeds", "3", "--ops", "500", "--cache", str(tmp_path / "cache"), "-q"]) == 0
    findings = json.loads((out / "findings.json").read_text())
    labels = {s.label: c for s, c in zip(STEPS, build_demo(tmp_path / "ids").commits)}
    crash = [c for c in findings["changes"] if c["level"] == "crash"]
    assert crash and crash[0]["introduced_by"] == labels["regression"] and crash[0]["ended_by"] == labels["fix"]
    assert crash[0]["outcomes"]["trees"] is not None  # drawn with the tree it crashed on
    assert (out / "index.html").is_file() and "introduced" in capsys.readouterr().out
