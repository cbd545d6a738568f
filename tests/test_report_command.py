"""`archeo report FINDINGS.json`: the report again from saved findings, byte for byte; and the
options every command shares (-j, -q, -v), checked before any work starts."""

from __future__ import annotations

import json

import pytest

from archeo.cli import main
from histories import planted_history, write_target


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_command")
    history = planted_history(root)
    target = write_target(root, "planted")
    out = root / "report"
    source = ["--repo", str(history.path), "--target", str(target), "--cache", str(root / "cache")]
    assert main(["run", *source, "-o", str(out), "--seeds", "2", "--ops", "400", "-q"]) == 0
    return out, source


def _tree(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_report_reproduces_every_file_byte_for_byte(report, tmp_path, capsys):
    out, _ = report
    assert main(["report", str(out / "findings.json"), "-o", str(tmp_path / "again")]) == 0
    assert _tree(tmp_path / "again") == _tree(out)
    assert "index.html" in capsys.readouterr().out


@pytest.mark.parametrize("fmt, files", [("html", {"index.html"}), ("json", {"findings.json"}), ("md", {"index.md"})])
def test_report_one_format(report, tmp_path, fmt, files):
    out, _ = report
    assert main(["report", str(out / "findings.json"), "--format", fmt, "-o", str(tmp_path / fmt)]) == 0
    written = _tree(tmp_path / fmt)
    assert files <= set(written)
    for name in files:
        assert written[name] == (out / name).read_bytes()


def test_report_terminal_fits_100_columns(report, capsys):
    out, _ = report
    assert main(["report", str(out / "findings.json")]) == 0
    text = capsys.readouterr().out
    assert "introduced" in text and "level" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_report_refuses_what_it_cannot_read(report, tmp_path, capsys):
    out, _ = report
    old = json.loads((out / "findings.json").read_text())
    old["schema"] = "archeo-findings/1"
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "bad.json").write_text("{")
    for path, words in ((tmp_path / "old.json", "this archeo reads archeo-findings/2"), (tmp_path / "bad.json", "is not valid JSON"),
                        (tmp_path / "none.json", "does not exist")):
        assert main(["report", str(path)]) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1
    assert main(["report", str(out / "findings.json"), "--format", "html"]) == 2
    assert "give -o DIR" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["parse", "build", "difftest", "run", "mutate"])
def test_negative_jobs_are_refused_everywhere(report, command, capsys):
    _, source = report
    assert main([command, *source, "-j", "-1", "-q"]) == 2
    assert "--jobs -1 is out of range: use 0 (one per CPU) or more" in capsys.readouterr().err


def test_run_checks_out_and_mutate_before_any_work(report, tmp_path, capsys, monkeypatch):
    _, source = report
    import archeo.pipeline

    def no_work(*args, **kwargs):
        raise AssertionError("the pipeline ran before the arguments were checked")

    monkeypatch.setattr(archeo.pipeline, "run_study", no_work)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["run", *source, "-o", str(a_file), "-q"]) == 2
    assert "it is a file" in capsys.readouterr().err
    assert main(["run", *source, "-o", str(tmp_path / "r"), "--mutate", "zz-not-hex", "-q"]) == 2
    assert "is not a commit prefix" in capsys.readouterr().err
