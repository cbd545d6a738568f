"""Compare two traces of the same batch and say how strongly they differ.

The levels, weakest to strongest, follow docs/protocol.md: `same` < `api` < `structural` <
`observable` < `invariant` < `flaky` < `hang` < `crash`. A trace is the stdout of a harness run
(or of the Python reference) together with how the run ended; line *i* is the result of
operation *i*.

`LEVELS` is the one ordered table of levels; everything else ranks through `rank`. Why `flaky`
sits where it does: a run that does not reproduce (confirm.py) says the C depends on something
other than its input (uninitialised memory, its own addresses) — worse than any wrong answer
that reproduces, since no answer of it can be trusted — but a crash or a hang that reproduces
every time is a stronger finding still, and is what a flaky crash is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .records import RunResult

LEVELS = ("same", "api", "structural", "observable", "invariant", "flaky", "hang", "crash")
_RANK = {name: i for i, name in enumerate(LEVELS)}
# The level a run's ending shows beside a run that ended otherwise (an `error` ranks as a crash).
_ENDING_LEVEL = {"hang": "hang", "crash": "crash", "error": "crash", "flaky": "flaky"}


def rank(level: str) -> int:
    return _RANK[level]


def strongest(levels) -> str:
    return max(levels, key=rank, default="same")


def ending_level(status: str) -> str:
    """The level of a run that ended with `status` (not `ok`) beside one that ended otherwise."""
    return _ENDING_LEVEL[status]


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
    level: str
    index: int | None  # the first operation whose result shows that level (None when same)
    detail: str = ""
    firsts: dict = field(default_factory=dict)  # every level seen -> the first operation showing it


def line_level(op_code: str, a: str, b: str) -> str:
    """The level of one differing result line for an operation of kind `op_code`."""
    if a == b:
        return "same"
    if a == "NA" or b == "NA":
        return "api"
    if op_code == "v":
        if a.startswith("bad") or b.startswith("bad"):
            return "invariant"
        a_nodes, b_nodes = a.split()[1:2], b.split()[1:2]
        return "observable" if a_nodes != b_nodes else "structural"
    if op_code == "d":
        return "structural"
    return "observable"


def compare(op_codes: list[str], a: Outcome, b: Outcome) -> Verdict:
    """The strongest difference between two outcomes of the same batch, with where it first shows."""
    best, where, detail = "same", None, ""
    firsts: dict[str, int] = {}
    a_lines, b_lines = a.lines, b.lines
    # The differing lines first, in one comprehension (traces run to 10,000s of lines, most equal).
    differ = [i for i, la, lb in zip(range(len(a_lines)), a_lines, b_lines) if la != lb]
    for i in differ:
        la, lb = a_lines[i], b_lines[i]
        level = line_level(op_codes[i] if i < len(op_codes) else "", la, lb)
        if level not in firsts:
            firsts[level] = i
            if rank(level) > rank(best):
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
        bad = max((o for o in (a, b) if o.status != "ok"), key=lambda o: rank(ending_level(o.status)))
        level = ending_level(bad.status)
        side = "first" if bad is a else "second"
        firsts.setdefault(level, end)
        return Verdict(level, end, f"{side} side {bad.describe()}", firsts)
    if len(a.lines) != len(b.lines) and best == "same" and not (a.status == b.status == "hang"):
        firsts["observable"] = end
        return Verdict("observable", end, "traces differ in length", firsts)
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

