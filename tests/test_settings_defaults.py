"""Every option that sets a field of a settings object takes its default from that field.

The defaults are defined once, on the dataclasses (`difftest.Settings`, `pipeline.RunConfig`,
`mutate.MutateSettings`); the command line points at them (commands/common.SettingDefault).
A default written again in argparse would drift the day the dataclass changes: these tests
fail on any option whose parsed default differs from its field's.
"""

from __future__ import annotations

import argparse

import pytest

from archeo.cli import build_parser
from archeo.commands.common import SettingDefault, field_default
from archeo.difftest import Settings
from archeo.mutate import MutateSettings
from archeo.pipeline import RunConfig

# (command, option's dest, settings class, field): every option that stands for a settings field.
OPTIONS = [
    *((cmd, dest, Settings, dest) for cmd in ("difftest", "run", "mutate") for dest in ("seeds", "ops", "first_seed")),
    ("difftest", "timeout", RunConfig, "timeout"),
    ("run", "timeout", RunConfig, "timeout"),
    ("replay", "timeout", RunConfig, "timeout"),
    ("run", "max_mutants", RunConfig, "max_mutants"),
    ("mutate", "max_mutants", MutateSettings, "max_mutants"),
    ("mutate", "mutant_seed", MutateSettings, "seed"),
    ("mutate", "deep_factor", MutateSettings, "deep_factor"),
    ("mutate", "timeout", MutateSettings, "timeout"),
]

# What each command needs besides its defaults, to parse at all.
REQUIRED = {"replay": ["witness.json"]}


def _subparser(command: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


@pytest.mark.parametrize(("command", "dest", "cls", "field"), OPTIONS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_an_option_defaults_to_its_settings_field(command, dest, cls, field):
    args = build_parser().parse_args([command, *REQUIRED.get(command, [])])
    assert getattr(args, dest) == field_default(cls, field)
    assert type(getattr(args, dest)) is type(field_default(cls, field))  # the value, not the pointer to it


def test_the_table_above_names_every_option_that_points_at_a_setting():
    """An option given a SettingDefault but missing from OPTIONS would go unchecked."""
    pointing = set()
    for command in ("difftest", "run", "mutate", "replay"):
        for action in _subparser(command)._actions:
            if isinstance(action.default, SettingDefault):
                pointing.add((command, action.dest))
    assert pointing == {(c, d) for c, d, _, _ in OPTIONS}


def test_help_shows_the_settings_default():
    text = _subparser("difftest").format_help()
    assert f"(default: {Settings.seeds})" in " ".join(text.split())


def test_a_changed_field_default_changes_the_option(monkeypatch):
    """The option reads the field each time: nothing copied it."""
    import dataclasses

    fields = [(f.name, f.type, dataclasses.field(default=7 if f.name == "seeds" else f.default)) for f in dataclasses.fields(Settings)]
    monkeypatch.setattr("archeo.difftest.Settings", dataclasses.make_dataclass("Settings", fields))
    assert build_parser().parse_args(["difftest"]).seeds == 7 != Settings.seeds


def test_a_pointer_to_a_missing_field_fails_naming_it():
    with pytest.raises(LookupError, match="no field 'nope'"):
        SettingDefault("archeo.difftest:Settings", "nope").value


def test_every_command_with_a_report_directory_spells_it_alike():
    """`-o DIR` and `--out DIR` wherever a command writes a report (a newcomer's `-o` on
    `lineage` was an error while `run`, `demo` and `report` took it)."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    spelled = {name: next((a.option_strings for a in parser._actions if a.dest == "out"), None) for name, parser in sub.choices.items()}
    with_out = {name: strings for name, strings in spelled.items() if strings is not None}
    assert {"run", "demo", "report", "lineage"} <= set(with_out)
    assert all(sorted(strings) == ["--out", "-o"] for strings in with_out.values()), with_out
