"""Compare two traces of the same batch and say how strongly they differ.

A trace is the stdout of a harness run (or of the Python reference) together with how the run
ended; line *i* is the result of operation *i*. How strongly two differing result lines differ
is the subject's to say (it knows which op prints its structure and which checks it:
`Subject.line_level`); how runs end, and which difference is strongest, is the engine's. The
levels are one ordered enum, `archeo.levels.Level`; `LEVELS`, `rank` and `strongest` read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .levels import ENDING_LEVEL, Level
from .records import RunResult

LEVELS = tuple(Level)
LineLevel = Callable[[str, str, str], Level]  # (op code, line a, line b) -> level; the subject's


def rank(level: str) -> int:
    return Level(level).rank


def strongest(levels: Iterable[str]) -> Level:
    return Level.strongest(levels)


def ending_level(status: str) -> Level:
    """The level of a run that ended with `status` (not `ok`) beside one that ended otherwise."""
    return ENDING_LEVEL[status]


@dataclass(frozen=True)
class Outcome:
    """How one side ran a batch: the result lines (END and SIGNAL stripped) and the ending."""

    status: str  # ok | crash | hang | error | flaky
    lines: tuple[str, ...]  # flaky: the lines both runs agree on
    kind: str = ""
    runs: tuple["Outcome", ...] = ()  # flaky: the two runs that disagreed (confirm.py)

    @classmethod
    def of_trace(cls, text: str) -> "Outcome":
        """A complete trace text (the Python reference's), known to have ended well."""
        return cls.of_run(RunResult(status="ok", stdout=text, lines=0))

    @classmethod
    def of_run(cls, run: RunResult) -> "Outcome":
        """The result lines before `END` or `SIGNAL`, and how the run ended.

        Millions of trace lines go through here while the reference runs in the same
        interpreter, so the cut is found with `list.index` and `str.find`, not a loop over lines.
        """
        text = run.stdout
        lines = text.split("\n")
        try:
            end = lines.index("END")
        except ValueError:
            end = -1
        cut = end if end >= 0 else len(lines)
        signal = 0 if text.startswith("SIGNAL ") else text.find("\nSIGNAL ") + 1  # 0: none, unless first
        if signal or text.startswith("SIGNAL "):
            cut = min(cut, text.count("\n", 0, signal))  # the line where it begins
        if cut < len(lines):
            del lines[cut:]
        elif lines[-1] == "":
            lines.pop()
        status = "error" if run.status == "ok" and end < 0 else run.status  # finished without saying so
        return cls(status=status, lines=tuple(lines), kind=run.kind)

    def describe(self) -> str:
        if self.status == "flaky" and len(self.runs) == 2:
            return f"flaky: {self.runs[0].describe()}, then {self.runs[1].describe()}"
        return "ran to the end" if self.status == "ok" else f"{self.status} ({self.kind or 'no detail'}) after {len(self.lines)} operations"


@dataclass(frozen=True)
class Verdict:
    level: Level
    index: int | None  # the first operation whose result shows that level (None when same)
    detail: str = ""
    firsts: dict = field(default_factory=dict)  # every level seen -> the first operation showing it


def compare(op_codes: list[str], a: Outcome, b: Outcome, line_level: LineLevel | None = None) -> Verdict:
    """The strongest difference between two outcomes of the same batch, with where it first shows.

    `line_level` reads two differing result lines (default: the default subject's).
    """
    if line_level is None:
        from .subjects import default

        line_level = default().line_level
    best, where, detail = Level.SAME, None, ""
    firsts: dict[str, int] = {}
    a_lines, b_lines = a.lines, b.lines
    # The differing lines first, in one comprehension (traces run to 10,000s of lines, most equal).
    differ = [i for i, la, lb in zip(range(len(a_lines)), a_lines, b_lines) if la != lb]
    for i in differ:
        la, lb = a_lines[i], b_lines[i]
        level = line_level(op_codes[i] if i < len(op_codes) else "", la, lb)
        if level not in firsts:
            firsts[level] = i
            if level > best:
                best, where, detail = level, i, f"operation {i}: {la!r} vs {lb!r}"
    end = min(len(a.lines), len(b.lines))
    # Two hangs are the same behaviour however they were cut off (CPU budget or wall clock);
    # two crashes are the same only with the same signal at the same operation.
    if (
        a.status != b.status
        or (a.status == "crash" and (a.kind != b.kind or len(a.lines) != len(b.lines)))
        or (a.status == "flaky" and a != b)
    ):
        # the stronger ending when neither side ran to the end (the first side on a tie)
        bad = max((o for o in (a, b) if o.status != "ok"), key=lambda o: ENDING_LEVEL[o.status])
        level = ending_level(bad.status)
        side = "first" if bad is a else "second"
        firsts.setdefault(level, end)
        return Verdict(level, end, f"{side} side {bad.describe()}", firsts)
    if len(a.lines) != len(b.lines) and best == Level.SAME and not (a.status == b.status == "hang"):
        firsts[Level.OBSERVABLE] = end
        return Verdict(Level.OBSERVABLE, end, "traces differ in length", firsts)
    return Verdict(best, where, detail, firsts)


def swapped(verdict: Verdict, a: Outcome, b: Outcome) -> Verdict | None:
    """`compare(codes, b, a)` from `verdict = compare(codes, a, b)`, where that is sure to be the
    same but for the order of the two sides in `detail`: both ran to the end (a crash beside a
    hang is not symmetric). None otherwise: compare again."""
    if a.status != "ok" or b.status != "ok":
        return None
    detail = verdict.detail
    if detail.startswith("operation ") and verdict.index is not None:
        i = verdict.index
        detail = f"operation {i}: {b.lines[i]!r} vs {a.lines[i]!r}"
    return Verdict(verdict.level, verdict.index, detail, dict(verdict.firsts))

