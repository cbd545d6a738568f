"""`archeo parse`: the model of every present revision, and what changed structurally."""

from __future__ import annotations

import sys


from .. import schemas
from ..tables import table
from .common import add_jobs_argument, add_json_argument, add_source_arguments, add_verbosity_arguments, jobs_of, mined, print_json, progress_of

HELP = "parse every present revision with pycparser: functions, types, macros, and what changed"


def add_arguments(parser) -> None:
    add_source_arguments(parser)
    add_json_argument(parser)
    add_jobs_argument(parser, "revisions parsed (the output is the same)")
    add_verbosity_arguments(parser)


def run(args) -> int:
    from ..parse.astdiff import diff_history, summary
    from ..parse import parse_history

    jobs = jobs_of(args)
    target, revisions = mined(args)
    present = [r for r in revisions if r.present]
    with progress_of(args) as progress:
        models = parse_history(present, jobs=jobs, progress=progress)
    changes = diff_history(models, present)
    dates = {r.commit: r.date for r in present}
    if args.json:
        print_json({"schema": schemas.PARSE, "target": target.name, "revisions": [revision_json(m, dates[m.commit], c) for m, c in zip(models, changes)]})
    else:
        rows = [
            (
                m.commit[:12],
                dates[m.commit][:10],
                len(m.functions),
                len(m.structs),
                len(m.macros),
                summary(c),
                _error_text(m.error) if m.error else "",
            )
            for m, c in zip(models, changes)
        ]
        print(table(rows, ("commit", "date", "functions", "structs", "macros", "changes", "error"), flexible=(5, 6)))
        failed = sum(not m.ok for m in models)
        print(f"\n{len(models)} present revisions of {target.name} parsed, {failed} failed")
    bad = [m for m in models if not m.ok]
    for m in bad:
        print(f"archeo: {m.commit[:12]} does not parse: {_error_text(m.error)}", file=sys.stderr)
    return 1 if bad else 0


def _error_text(error) -> str:
    return f"{error.stage}: {error.file}:{error.line}: {error.message}"


def revision_json(model, date: str, changes) -> dict:
    """One entry of `archeo parse --json` (schema order, no machine-specific paths)."""
    return {
        "commit": model.commit,
        "date": date,
        "path": model.path,
        "header_path": model.header_path,
        "functions": [
            {
                "name": f.name,
                "storage": list(f.storage),
                "signature": f.signature,
                "lines": [f.first_line, f.last_line],
                "statements": f.statements,
                "complexity": f.complexity,
                "fingerprint": f.fingerprint,
                "origin": f.origin,
            }
            for f in model.functions
        ],
        "structs": [
            {
                "name": s.name,
                "kind": s.kind,
                "fields": [{"name": fl.name, "type": fl.type} for fl in s.fields],
                "typedefs": list(s.typedefs),
            }
            for s in model.structs
        ],
        "typedefs": dict(model.typedefs),
        "macros": [
            {"name": m.name, "params": None if m.params is None else list(m.params), "body": m.body, "origin": m.origin}
            for m in model.macros
        ],
        "api": list(model.api),
        "neutralised": list(model.neutralised),
        "changes": [{"kind": c.kind, "name": c.name, "detail": c.detail} for c in changes],
        "error": None
        if model.error is None
        else {"stage": model.error.stage, "file": model.error.file, "line": model.error.line, "message": model.error.message},
    }
