"""Reading a saved findings.json back, so a report can be rendered again without the repository."""

from __future__ import annotations

import json
from pathlib import Path

from .. import schemas
from ..errors import ArcheoError


def load_findings(path: str | Path) -> dict:
    """The findings document at `path`; every problem is one line naming the file and the fix."""
    path = Path(path)
    if path.is_dir():
        path = path / "findings.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArcheoError(f"{path} does not exist: give the findings.json of a report (reports/<target>/findings.json)") from None
    except OSError as exc:
        raise ArcheoError(f"cannot read {path} ({exc.strerror}): give the findings.json of a report") from None
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArcheoError(f"{path} is not valid JSON ({exc}): give the findings.json of a report") from None
    found = doc.get("schema") if isinstance(doc, dict) else None
    if found != schemas.FINDINGS:
        what = f"schema {found}" if found else "not an archeo findings document"
        raise ArcheoError(f"{path} is {what}; this archeo reads {schemas.FINDINGS}: regenerate it with `archeo run`")
    return doc
