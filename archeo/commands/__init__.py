"""One module per `archeo` subcommand: `add_arguments(parser)` and `run(args) -> int`.

`archeo/cli.py` finds them by name (COMMANDS), so a stage's command lives beside nothing
but its own argument handling; the work itself stays in the stage module.
"""

COMMANDS = ("mine", "parse", "build", "difftest", "replay", "mutate", "report", "run", "lineage", "demo")
