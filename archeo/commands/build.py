"""`archeo build`: one standalone program per present revision (cached), and what each supports."""

from __future__ import annotations

import sys
from pathlib import Path


from .. import schemas
from ..tables import table
from .common import add_jobs_argument, add_json_argument, add_sandbox_argument, add_source_arguments, add_verbosity_arguments, jobs_of, mined, print_json, progress_of

HELP = "compile every present revision with its own header and a generated harness (cached by content)"


def add_arguments(parser) -> None:
    add_source_arguments(parser)
    add_json_argument(parser)
    parser.add_argument("--sanitize", action="store_true", help="build with AddressSanitizer and UBSan")
    add_jobs_argument(parser, "revisions compiled")
    add_verbosity_arguments(parser)
    parser.add_argument("--cc", default="gcc", help="the C compiler (default: %(default)s)")
    add_sandbox_argument(parser)


def run(args) -> int:
    from ..build import Toolchain, build_history
    from ..parse import parse_history
    from ..mine import default_cache_dir

    jobs = jobs_of(args)
    target, revisions = mined(args)
    present = [r for r in revisions if r.present]
    cache_dir = Path(args.cache) if args.cache else default_cache_dir()
    toolchain = Toolchain.probe(args.cc)
    with progress_of(args) as progress:
        models = parse_history(present, gcc=args.cc, jobs=jobs, progress=progress)
        programs = build_history(present, models, cache_dir, sanitize=args.sanitize, jobs=jobs, toolchain=toolchain, progress=progress,
                                 sandbox=not args.no_sandbox)
    if args.json:
        print_json({"schema": schemas.BUILD, "target": target.name, "sanitize": args.sanitize, "programs": [program_json(p) for p in programs]})
    else:
        rows = [
            (
                p.commit[:12],
                rev.date[:10],
                "ok" if p.ok else "error",
                p.node_size if p.node_size is not None else "-",
                " ".join(p.ops) if p.ok else (p.error or ""),
            )
            for rev, p in zip(present, programs)
        ]
        print(table(rows, ("commit", "date", "build", "sizeof node", "ops / error"), flexible=(4,)))
        failed = sum(not p.ok for p in programs)
        fresh = sum(p.ok and not p.cached for p in programs)
        flavour = " with sanitizers" if args.sanitize else ""
        print(
            f"\n{len(programs)} present revisions of {target.name} built{flavour}: {len(programs) - failed} ok "
            f"({fresh} compiled, {len(programs) - failed - fresh} from the cache), {failed} failed"
        )
    bad = [p for p in programs if not p.ok]
    for p in bad:
        print(f"archeo: {p.commit[:12]} does not build: {p.error}", file=sys.stderr)
    return 1 if bad else 0


def program_json(p) -> dict:
    """One entry of `archeo build --json` (schema order)."""
    return {
        "commit": p.commit,
        "ok": p.ok,
        "error": p.error,
        "node_size": p.node_size,
        "ops": "".join(p.ops),
        "key": p.key,
        "path": p.path,
        "notes": list(p.notes),
    }
