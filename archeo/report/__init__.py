"""The report stage: a Study becomes `reports/<target>/`.

    index.md, index.html      the report (the HTML is one self-contained file)
    revisions/<commit>.md     one page per revision
    figures/*.svg             timeline and equivalence matrix
    findings.json             everything above as data (docs/findings-schema.md)

Two steps, one module each: `findings.build_findings(study)` turns the Study into one plain,
ordered, deterministic document; every format reads that document only — `markdown`, `html`,
`figures`, `terminal` — with the words they share in `words`. `write` puts the files in place.
Nothing here imports a renderer from another renderer, and nothing imports this package's
`__init__`, so the package has no import cycle.
"""

from __future__ import annotations

from .findings import SCHEMA, build_findings
from .load import load_findings
from .markdown import render_index_md, render_revision_md
from .terminal import SUMMARY_HEADERS, print_summary, summary_rows
from .words import MARKER, REFERENCE, describe_op
from .write import FORMATS, ReportFiles, check_out_dir, dumps, render_files, write_findings, write_formats, write_report

__all__ = [
    "MARKER",
    "REFERENCE",
    "SCHEMA",
    "SUMMARY_HEADERS",
    "ReportFiles",
    "FORMATS",
    "build_findings",
    "check_out_dir",
    "load_findings",
    "render_files",
    "write_findings",
    "write_formats",
    "describe_op",
    "dumps",
    "print_summary",
    "render_index_md",
    "render_revision_md",
    "summary_rows",
    "write_report",
]
