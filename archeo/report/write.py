"""Writing `reports/<target>/`: every file rendered into a staging directory, then swapped in."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArcheoError
from ..study import Study
from . import figures as figs
from .findings import build_findings
from .html import render_html
from .markdown import render_index_md, render_revision_md
from .words import MARKER


@dataclass(frozen=True)
class ReportFiles:
    """Where `write_report` put everything (paths inside the final out_dir)."""

    out_dir: Path
    index_md: Path
    index_html: Path
    findings_json: Path
    figures: tuple[Path, ...]
    revisions: tuple[Path, ...]


def dumps(findings: dict) -> str:
    return json.dumps(findings, indent=2, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _cannot(out_dir: Path, reason: str) -> ArcheoError:
    return ArcheoError(f"cannot write the report to {out_dir} ({reason}): choose another --out")


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def write_report(study: Study, out_dir: Path | str) -> ReportFiles:
    """Render the whole report into a temporary directory beside `out_dir`, then swap it in.

    An interrupted run leaves the previous report (or nothing) in place, never half a report.
    An existing `out_dir` is replaced only when it is empty or an earlier archeo report.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise _cannot(out_dir, "it is a file")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise _cannot(out_dir, "it exists and is not an archeo report")
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise _cannot(out_dir, _reason(exc)) from None

    findings = build_findings(study)
    try:
        figures = figs.render(findings)
        for name, svg in figures.items():
            _write(staging / "figures" / f"{name}.svg", svg)
        revision_pages = []
        for r in findings["revisions"]:
            page = Path("revisions") / f"{r['commit']}.md"
            _write(staging / page, render_revision_md(findings, r))
            revision_pages.append(page)
        if study.difftest is not None:  # replayable witnesses, inside the same atomic swap
            from ..witness import write_witness

            for i, change in enumerate(study.difftest.changes, 1):
                for witness in change.witnesses or ((change.witness,) if change.witness else ()):  # one file per level
                    name = f"{i:02d}-{change.introduced_by[:12]}-{witness.level}.json"
                    write_witness(staging / "witnesses" / name, witness, study.target.name)
        _write(staging / "index.md", render_index_md(findings, figures))
        _write(staging / "index.html", render_html(findings, figures))
        _write(staging / MARKER, dumps(findings))  # last: its presence marks a complete report
        _swap(staging, out_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _cannot(out_dir, _reason(exc)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ReportFiles(
        out_dir=out_dir,
        index_md=out_dir / "index.md",
        index_html=out_dir / "index.html",
        findings_json=out_dir / MARKER,
        figures=tuple(out_dir / "figures" / f"{name}.svg" for name in figures),
        revisions=tuple(out_dir / p for p in revision_pages),
    )


def _swap(staging: Path, out_dir: Path) -> None:
    """Put `staging` where `out_dir` is: rename the old one aside, rename the new one in."""
    os.chmod(staging, 0o755)
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
        os.rmdir(old)
        os.rename(out_dir, old)
    try:
        os.rename(staging, out_dir)
    except OSError:
        if old is not None:
            os.rename(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
