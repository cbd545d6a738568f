"""Progress goes to stderr only (stdout stays clean for JSON and tables), one bar per stage."""

from __future__ import annotations

from archeo.progress import Progress


def test_progress_writes_to_stderr_never_stdout(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    with Progress(enabled=True) as progress:
        progress("parse", 0, 2)
        progress("parse", 2, 2)
        progress("build", 0, 3)  # a new stage stops the clock of the one before
        progress("build", 3, 3)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "parse" in captured.err and "build" in captured.err
    assert "\x1b[3" not in captured.err  # NO_COLOR: no colour codes


def test_no_progress_when_disabled(capsys):
    with Progress(enabled=False) as progress:
        progress("parse", 1, 2)
    assert capsys.readouterr() == ("", "")
