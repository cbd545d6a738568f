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

FORMATS = ("md", "html", "json")


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
    """The whole report of a Study (see `write_findings`)."""
    return write_findings(build_findings(study), out_dir)


def check_out_dir(out_dir: Path) -> None:
    """Refuse an --out that is a file, or a directory holding something other than a report."""
    if out_dir.exists() and not out_dir.is_dir():
        raise _cannot(out_dir, "it is a file")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise _cannot(out_dir, "it exists and is not an archeo report")


def witness_files(findings: dict) -> list[tuple[str, dict]]:
    """(file name, document) of every replayable witness: one per change that has one."""
    from ..witness import witness_file_document

    target = findings["inputs"]["target"]
    out = []
    for i, change in enumerate(findings["changes"], 1):
        for witness in change.get("witnesses") or ([change["outcomes"]] if change.get("outcomes") else []):  # one per level
            name = f"{i:02d}-{change['introduced_by'][:12]}-{witness['level']}.json"
            out.append((name, witness_file_document(witness, target)))
    return out


def render_files(findings: dict, formats: tuple[str, ...] = FORMATS) -> dict[str, str]:
    """Every file of the report as relative path -> text, for the formats asked for.

    html: index.html (figures inline); md: index.md, revisions/*.md, figures/*.svg;
    json: findings.json and witnesses/*.json. A pure function of the findings document.
    """
    from ..witness import witness_text

    files: dict[str, str] = {}
    figures = figs.render(findings) if ("md" in formats or "html" in formats) else {}
    if "md" in formats:
        for name, svg in figures.items():
            files[f"figures/{name}.svg"] = svg
        for r in findings["revisions"]:
            files[f"revisions/{r['commit']}.md"] = render_revision_md(findings, r)
        files["index.md"] = render_index_md(findings, figures)
    if "html" in formats:
        files["index.html"] = render_html(findings, figures)
    if "json" in formats:
        for name, doc in witness_files(findings):
            files[f"witnesses/{name}"] = witness_text(doc)
        files[MARKER] = dumps(findings)  # last: its presence marks a complete report
    return files


def write_findings(findings: dict, out_dir: Path | str) -> ReportFiles:
    """Render the whole report into a temporary directory beside `out_dir`, then swap it in.

    An interrupted run leaves the previous report (or nothing) in place, never half a report.
    An existing `out_dir` is replaced only when it is empty or an earlier archeo report.
    """
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise _cannot(out_dir, _reason(exc)) from None
    try:
        files = render_files(findings)
        for rel, text in files.items():
            _write(staging / rel, text)
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
        figures=tuple(out_dir / rel for rel in files if rel.startswith("figures/")),
        revisions=tuple(out_dir / rel for rel in files if rel.startswith("revisions/")),
    )


def write_formats(findings: dict, out_dir: Path | str, formats: tuple[str, ...]) -> list[Path]:
    """Only some formats' files, written in place into `out_dir` (created when missing)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise _cannot(out_dir, "it is a file")
    written = []
    try:
        for rel, text in render_files(findings, formats).items():
            _write(out_dir / rel, text)
            written.append(out_dir / rel)
    except OSError as exc:
        raise _cannot(out_dir, _reason(exc)) from None
    return written


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
