"""The `archeo` command: one subcommand per stage, plus `run` for all of them.

Bad input ends in one line on stderr (`archeo: ...`) and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .commands import COMMANDS
from .commands.common import Parser
from .errors import ArcheoError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="archeo",
        description="Across its whole history, when and how did this C code change behaviour?",
    )
    parser.add_argument("--version", action="version", version=f"archeo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.commands.{name}":
                raise
            continue  # a stage not built yet
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except ArcheoError as exc:
        print(f"archeo: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("archeo: interrupted; finished stages are cached, run again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
