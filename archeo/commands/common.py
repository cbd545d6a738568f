"""Options every subcommand shares, and turning them into a target and its revisions."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from dataclasses import replace

from ..errors import ArcheoError
from ..records import Revision, Target
from ..selection import parse_revision_filter  # noqa: F401 (the commands' name for it)
from ..target import DEFAULT_TARGET, compile_settings, load_target, target_from_paths


# The settings objects options read their defaults from (see SettingDefault).
SEQUENCES = "archeo.difftest:Settings"  # which operation sequences are run
RUN = "archeo.pipeline:RunConfig"  # how `archeo run` runs them
MUTATION = "archeo.mutate:MutateSettings"  # which mutants are made and how they are tested


class SettingDefault:
    """An option's default read from a field of a settings dataclass, so it is defined once.

    The settings objects (`archeo.difftest:Settings`, `archeo.pipeline:RunConfig`,
    `archeo.mutate:MutateSettings`) own their defaults; an option only points at one. Named by
    import path and read when needed, because those modules are slow to import and the
    parser is built for every command: `--help` reads it (`%(default)s` is `str(self)`) and
    `Parser` puts the value in place after parsing.
    """

    def __init__(self, where: str, field: str):
        self.where, self.field = where, field  # "module:Class", field name

    @property
    def value(self):
        module, _, name = self.where.partition(":")
        return field_default(getattr(importlib.import_module(module), name), self.field)

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"SettingDefault({self.where!r}, {self.field!r})"


def field_default(cls, name: str):
    """The default of field `name` of dataclass `cls` (an error if it has none)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            break
    raise LookupError(f"{cls.__name__} has no field {name!r} with a default")


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose `SettingDefault`s become their values once the arguments are parsed."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        for key, value in vars(namespace).items():
            if isinstance(value, SettingDefault):
                setattr(namespace, key, value.value)
        return namespace, extras


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """--repo/--target/--path/--header/--rev/--cache: where the history comes from."""
    parser.add_argument("--repo", help="local git clone (bare or not) or URL; default: the target's URL, cloned into the cache")
    parser.add_argument("--target", default=DEFAULT_TARGET, help="corpus name or target .toml file (default: %(default)s)")
    parser.add_argument("--path", action="append", help="study this file instead of a corpus target (repeat for every path it had)")
    parser.add_argument("--header", action="append", help="its companion header (repeat for every path it had)")
    parser.add_argument("--platform", choices=("xen", "userland"),
                        help="how the file is compiled (default: the target's, or chosen per revision from its includes)")
    parser.add_argument("--include-dir", action="append", metavar="DIR",
                        help="an include directory of the project's build, relative to the repository's top (repeat)")
    parser.add_argument("--define", action="append", metavar="NAME[=VALUE]", help="a define of the project's build (repeat)")
    parser.add_argument("--std", help="the C standard of the project's build, e.g. gnu11 (default: gnu99)")
    parser.add_argument("--rev", default="HEAD", help="history up to this revision (default: %(default)s)")
    parser.add_argument("--cache", help="cache directory (default: $XDG_CACHE_HOME/archeo or ~/.cache/archeo)")


def add_sandbox_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run the code under test without its system-call filter and file-system layer "
                             "(it can then do anything you can; docs/security.md)")


def add_jobs_argument(parser: argparse.ArgumentParser, what: str = "revisions handled") -> None:
    """-j/--jobs N, the same in every command: 0 (the default) is one per CPU; negative is refused."""
    parser.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help=f"{what} at once (0: one per CPU; default: %(default)s)")


def add_verbosity_arguments(parser: argparse.ArgumentParser) -> None:
    """-q/--quiet (no progress display) and -v/--verbose (more detail), the same in every command."""
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail: stage timings, cache notes")


def jobs_of(args) -> int:
    """The number of workers `--jobs` asks for, checked: 0 means one per CPU."""
    import os

    jobs = getattr(args, "jobs", 0)
    if jobs < 0:
        raise ArcheoError(f"--jobs {jobs} is out of range: use 0 (one per CPU) or more")
    return jobs or (os.cpu_count() or 1)


def progress_of(args):
    """The progress display `--quiet` asks for (none when stderr is not a terminal)."""
    from ..progress import Progress

    return Progress(enabled=False if getattr(args, "quiet", False) else None)


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def resolve_target(args) -> Target:
    """The target of `--path`/`--header`, or the named one; compile flags given override its settings."""
    flags = {
        "platform": getattr(args, "platform", None),
        "include_dirs": getattr(args, "include_dir", None),
        "defines": getattr(args, "define", None),
        "std": getattr(args, "std", None),
    }
    if getattr(args, "path", None):
        target = target_from_paths(args.path, args.header)
    else:
        target = load_target(args.target)
    if not any(flags.values()):
        return target
    base = target.compile
    settings = compile_settings(
        flags["platform"] or base.platform,
        flags["include_dirs"] or base.include_dirs,
        flags["defines"] or base.defines,
        flags["std"] or base.std,
        source="command line",
    )
    return replace(target, compile=settings)


def mined(args) -> tuple[Target, list[Revision]]:
    from ..mine import mine

    target = resolve_target(args)
    return target, mine(target, repo=args.repo, rev=args.rev, cache_dir=args.cache)


def print_json(document) -> None:
    """Stable JSON: sorted keys are not used, insertion order is the schema's order."""
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
