"""Witness files: a minimal difference, saved so anyone can replay it (`archeo replay`)."""

from __future__ import annotations

import json
from pathlib import Path

from . import ops as opslib
from . import schemas
from .difftest import Witness
from .errors import ArcheoError

FORMAT = schemas.WITNESS


def witness_file_document(witness: dict, target: str) -> dict:
    """A witness file: its schema, the target, then the witness as `Witness.as_dict()` gives it."""
    return {"schema": FORMAT, "target": target, **witness}


def witness_document(witness: Witness, target: str) -> dict:
    return witness_file_document(witness.as_dict(), target)


def witness_text(document: dict) -> str:
    return json.dumps(document, indent=2) + "\n"


def write_witness(path: Path, witness: Witness, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(witness_text(witness_document(witness, target)), encoding="utf-8")


def read_witness(path: str | Path) -> dict:
    """Load and check a witness file; every problem is one line naming the file and the fix."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArcheoError(f"witness file {path} does not exist: give the path of a witness .json") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArcheoError(f"witness file {path} is not valid JSON ({exc}): regenerate it with archeo difftest") from None
    if not isinstance(data, dict) or "ops" not in data or "a" not in data or "b" not in data:
        raise ArcheoError(f"witness file {path} lacks 'a', 'b' or 'ops': it is not an archeo witness")
    try:
        data["parsed_ops"] = opslib.from_json(data["ops"])
    except (ValueError, TypeError) as exc:
        raise ArcheoError(f"witness file {path} has a bad operation ({exc}): fix or regenerate it") from None
    return data
