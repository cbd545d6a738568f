"""The JSON documents archeo writes, each named by a `schema` key and described by a JSON Schema here.

Every JSON output starts with `"schema": "<name>/<version>"`; the version changes when a key
changes meaning or goes away (new keys may be added without a change). The schema files ship
with the package (`<name>.schema.json` beside this module) so a user can validate a saved
document without archeo; the tests validate every output against them. This module imports
nothing from archeo, so any stage can name its schema without an import cycle.
"""

from __future__ import annotations

import json
from importlib import resources

FINDINGS = "archeo-findings/2"
DIFFTEST = "archeo-difftest/1"
MINE = "archeo-mine/1"
PARSE = "archeo-parse/1"
BUILD = "archeo-build/1"
WITNESS = "archeo-witness/2"

ALL = (FINDINGS, DIFFTEST, MINE, PARSE, BUILD, WITNESS)


def file_name(schema: str) -> str:
    """`archeo-findings/2` -> `findings.schema.json` (one file per document kind)."""
    kind = schema.split("/")[0].removeprefix("archeo-")
    return f"{kind}.schema.json"


def load(schema: str) -> dict:
    """The JSON Schema (draft 2020-12) of one document kind, as shipped in the package."""
    text = resources.files(__package__).joinpath(file_name(schema)).read_text(encoding="utf-8")
    return json.loads(text)
