"""Progress on long work: one bar per stage on stderr when it is a terminal, silence elsewhere.

Stages report through one callback, `progress(stage, done, total)`, so they know nothing of
how (or whether) it is shown. A stage's bar starts at its first report (stages report
`(stage, 0, total)` before the work starts) and its clock stops when the next stage starts,
so each bar's time is that stage's own. Output goes to stderr, never stdout (JSON and tables
stay clean for pipes), and `NO_COLOR` turns colours off.
"""

from __future__ import annotations

import os
import sys


class Progress:
    def __init__(self, enabled: bool | None = None):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.enabled = enabled
        self._bar = None
        self._tasks: dict[str, int] = {}
        self._current: str | None = None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

            console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
            self._bar = RichProgress(
                TextColumn("{task.description:>14}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._stop_current()
            self._bar.__exit__(*exc)
            self._bar = None

    def _stop_current(self) -> None:
        if self._current is not None:
            self._bar.stop_task(self._tasks[self._current])
            self._current = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._bar is None:
            return
        if stage not in self._tasks:
            self._stop_current()
            self._tasks[stage] = self._bar.add_task(stage, total=total)
            self._current = stage
        self._bar.update(self._tasks[stage], completed=done, total=total)
        if done >= total and stage == self._current:
            self._stop_current()

    def note(self, message: str) -> None:
        if self._bar is not None:
            self._bar.console.print(message)
        elif self.enabled:
            print(message, file=sys.stderr)
