"""Every JSON document archeo writes names its schema and validates against the shipped JSON Schema."""

from __future__ import annotations

import json

import pytest

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

from archeo import schemas  # noqa: E402
from archeo.cli import main  # noqa: E402
from histories import planted_history, write_target  # noqa: E402


def _registry():
    resources = [
        (doc["$id"], referencing.Resource.from_contents(doc))
        for doc in (schemas.load(name) for name in schemas.ALL)
    ]
    return referencing.Registry().with_resources(resources)


def validate(document: dict) -> None:
    """Validate against the schema the document names (its `schema` key)."""
    assert document["schema"] in schemas.ALL, document.get("schema")
    schema = schemas.load(document["schema"])
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5])


@pytest.mark.parametrize("name", schemas.ALL)
def test_every_schema_ships_and_is_a_valid_json_schema(name):
    schema = schemas.load(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "urn:archeo:" + name.split("/")[0].removeprefix("archeo-")


def test_a_document_of_another_version_is_refused():
    with pytest.raises(AssertionError):
        validate({"schema": "archeo-findings/1", "inputs": {}})
    bad = {"schema": schemas.MINE, "target": "t", "revisions": [{"commit": "nothex"}]}
    with pytest.raises(AssertionError):
        validate(bad)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("schemas")
    history = planted_history(root)
    return history, write_target(root, "planted"), root


def _source(planted) -> list[str]:
    history, target, root = planted
    return ["--repo", str(history.path), "--target", str(target), "--cache", str(root / "cache")]


@pytest.mark.parametrize("command", ["mine", "parse", "build"])
def test_stage_json_validates(planted, command, capsys):
    main([command, *_source(planted), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert next(iter(document)) == "schema"  # the first key, so `head` shows it
    validate(document)


def test_difftest_json_validates(planted, capsys):
    main(["difftest", *_source(planted), "--json", "--seeds", "2", "--ops", "400", "--quiet"])
    document = json.loads(capsys.readouterr().out)
    validate(document)
    assert document["changes"], "the planted history has behavioural changes"


def test_findings_and_witness_files_validate(planted, tmp_path):
    out = tmp_path / "report"
    main(["run", *_source(planted), "--out", str(out), "--seeds", "2", "--ops", "400", "--quiet"])
    findings = json.loads((out / "findings.json").read_text())
    validate(findings)
    witnesses = sorted((out / "witnesses").iterdir())
    assert witnesses
    for path in witnesses:
        validate(json.loads(path.read_text()))
