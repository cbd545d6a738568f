"""`archeo demo`: a history built here, studied end to end offline, with the planted regression found;
and the committed reports are what archeo makes today."""

from __future__ import annotations

import json
import os

import pytest

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


def _files(root) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_committed_demo_report_is_what_archeo_demo_makes(tmp_path):
    """reports/demo-rbtree is what `make demo` makes today, byte for byte: a change that moves
    a report must regenerate it (it went stale once, unnoticed, for a day)."""
    from pathlib import Path

    committed = Path(__file__).resolve().parent.parent / "reports" / "demo-rbtree"
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--cache", str(tmp_path / "cache"), "-q"]) == 0
    made, kept = _files(out), _files(committed)
    assert sorted(made) == sorted(kept)
    assert [name for name in made if made[name] != kept[name]] == []


@pytest.mark.skipif(not os.environ.get("XEN_REPO"), reason="XEN_REPO is not set to a local clone of xen-project/xen")
def test_the_committed_xen_report_is_what_archeo_run_makes(tmp_path):
    """reports/xen-rbtree is what `make run REPO=$XEN_REPO` makes today, byte for byte."""
    from pathlib import Path

    committed = Path(__file__).resolve().parent.parent / "reports" / "xen-rbtree"
    out = tmp_path / "xen"
    assert main(["run", "--repo", os.environ["XEN_REPO"], "-o", str(out), "--cache", str(tmp_path / "cache"), "-q"]) == 0
    made, kept = _files(out), _files(committed)
    assert sorted(made) == sorted(kept)
    assert [name for name in made if made[name] != kept[name]] == []
