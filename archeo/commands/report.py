"""`archeo report FINDINGS.json`: the report again, from saved findings alone (no repository, no cache).

Like coverage.py's `report`/`html`/`json`, which render from saved data: the findings document
holds everything the report shows, so the same document gives the same files byte for byte.
"""

from __future__ import annotations

HELP = "render a report again from a saved findings.json (no repository needed)"
FORMATS = ("html", "md", "json", "terminal")


def add_arguments(parser) -> None:
    parser.add_argument("findings", metavar="FINDINGS.json", help="a report's findings.json (or the report directory)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="one format only: html (index.html), md (index.md, revisions/, figures/), json (findings.json, witnesses/), "
        "terminal (the table of changes); default: every file format with -o, else terminal",
    )
    parser.add_argument("-o", "--out", metavar="DIR", help="directory to write into (a whole report is swapped in atomically)")


def run(args) -> int:
    from ..errors import ArcheoError
    from ..report import load_findings, print_summary, write_findings, write_formats

    fmt = args.format or ("all" if args.out else "terminal")
    if fmt not in ("all", "terminal") and not args.out:
        raise ArcheoError(f"--format {fmt} writes files: give -o DIR")
    findings = load_findings(args.findings)
    if fmt == "terminal":
        print_summary(findings, args.out)
    elif fmt == "all":
        files = write_findings(findings, args.out)
        print(f"report: {files.index_html} (also index.md, findings.json)")
    else:
        written = write_formats(findings, args.out, (fmt,))
        print(f"wrote {len(written)} files into {args.out}")
    return 0
